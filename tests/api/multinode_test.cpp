// Several `trellis serve` processes on one PostgreSQL database (issue 15,
// docs/operations.md#running-several-nodes): three nodes take events over
// HTTP (round-robin) and from one Redis stream (one consumer group), while
// one node is killed with SIGKILL and restarted again and again. Afterwards
// every acknowledged event has been applied once, every due timer has fired
// once, no step has two deliveries, and the journeys and deliveries equal
// those of one uninterrupted node given the same events.
//
// Tagged [.multinode] (hidden from a plain run of test_api); CTest runs it as
// api.multinode with a private PostgreSQL cluster (scripts/pg-cluster.sh).
#include <httplib.h>
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "tests/api/test_support.h"
#include "tests/runtime/postgres/pg_cluster.h"

using nlohmann::json;
using trellis::api::testing::free_port;
using trellis::api::testing::RedisServer;
using trellis::api::testing::ServeProcess;
using trellis::api::testing::TempDir;
using trellis::api::testing::wait_healthy;
using trellis::api::testing::write_file;

namespace {

constexpr int kNodes = 3;
constexpr int kKills = 20;
constexpr int kUsersPerBatch = 3;

// One journey per signup number (keyed: stream entries of one user may be
// applied in any order by different nodes). Re-entry on: an event applied
// again after its journey ended (a retried batch, a stream entry claimed by
// another node) would start a second journey. The wait is a real timer
// every node may fire.
const char* kFlow = R"(flow: remind
trigger:
  event: signup
  key: event.n
re_entry: always
start: hello
nodes:
  hello: {type: email, subject: "Hi {{event.n}}", body: "Welcome", next: pause}
  pause: {type: wait, for: 1s, next: later}
  later: {type: sms, text: "Still there? {{event.n}}", next: done}
  done: {type: exit}
)";

// What each user ends with: two journeys, each with its two messages.
const std::multiset<std::string> kPerUser = {"hello|Hi 1", "hello|Hi 2", "later|Still there? 1",
                                             "later|Still there? 2"};

// The profile (email and sms need addresses), before the user's signups.
json identify(const std::string& user) {
  return {{"type", "identify"},
          {"userId", user},
          {"messageId", "i-" + user},
          {"traits", {{"email", user + "@example.com"}, {"phone", "+4790000000"}}}};
}

json signups(const std::string& user) {
  json events = json::array();
  for (const char* n : {"1", "2"})
    events.push_back({{"id", std::string("s") + n + "-" + user},
                      {"type", "signup"},
                      {"user_id", user},
                      {"properties", {{"n", n}}}});
  return events;
}

json user_events(const std::string& user) {
  json events = signups(user);
  events.insert(events.begin(), identify(user));
  return events;
}

// One `trellis serve` child process with its own log and deliveries file.
class Node {
 public:
  Node(const TempDir& dir, const std::string& name, const std::string& db,
       const std::string& redis_url)
      : dir_(dir), name_(name), db_(db), redis_url_(redis_url) {}

  // Starts the process on a fresh free port; true once /healthz answers.
  bool start() {
    port_ = free_port();
    std::vector<std::string> args = {"--db",
                                     db_,
                                     "--flows",
                                     dir_.file("flows"),
                                     "--deliveries",
                                     deliveries(),
                                     "--port",
                                     std::to_string(port_),
                                     "--log-requests",
                                     "off",
                                     "--delivery-lease-ms",
                                     "2000"};
    if (!redis_url_.empty())
      args.insert(args.end(),
                  {"--redis", redis_url_, "--consumer", name_, "--claim-idle-ms", "1500"});
    process_.start(args, dir_.file(name_ + ".log"));
    return wait_healthy(port_, 15);
  }
  void kill_now() { process_.kill_now(); }
  // SIGTERM, bounded; SIGKILL after 15 s. Returns the exit status or -1.
  int terminate() { return process_.terminate(15); }
  int port() const { return port_; }
  std::string deliveries() const { return dir_.file(name_ + "-deliveries.jsonl"); }

 private:
  const TempDir& dir_;
  std::string name_, db_, redis_url_;
  int port_ = 0;
  ServeProcess process_;
};

bool post_events(int port, const json& events) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 300000);
  client.set_read_timeout(10, 0);
  auto r = client.Post("/v1/events", events.dump(), "application/json");
  return r && r->status == 202;
}

json get_json(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(10, 0);
  auto r = client.Get(path.c_str());
  if (!r || r->status != 200) return nullptr;
  return json::parse(r->body, nullptr, false);
}

// A counter's value in a node's /metrics (Prometheus text); -1 when absent.
double metric(int port, const std::string& name) {
  httplib::Client client("127.0.0.1", port);
  auto r = client.Get("/metrics");
  if (!r || r->status != 200) return -1;
  const size_t at = r->body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(r->body.substr(at + name.size() + 2));
}

// A flow's stats once every journey and delivery is in (journeys started,
// every message sent): what every node, and the reference, must answer.
bool stats_settled(const json& stats, size_t users) {
  if (!stats.is_object() || stats.value("journeys", -1) != static_cast<int64_t>(2 * users))
    return false;
  int64_t sent = 0;
  for (const json& m : stats.value("messages", json::array())) sent += m.value("sent", 0);
  return sent == static_cast<int64_t>(4 * users);
}

json batch_of(const std::vector<std::string>& users) {
  json batch = json::array();
  for (const auto& u : users)
    for (auto& e : user_events(u)) batch.push_back(e);
  return batch;
}

// The union of the nodes' deliveries files: each step's messages and how
// often the provider saw each idempotency key.
struct Sent {
  std::map<std::string, std::multiset<std::string>> by_user;  // user -> "node|text"
  std::map<std::string, std::string> step_of_key;             // key -> user|node|text
  std::map<std::string, std::set<std::string>> keys_of_step;  // user|node|text -> keys
  int repeated_keys = 0;  // a key sent again (the same delivery, after a kill)
  // Keys sent again where no copy came from the killed node's file, or sent
  // more than twice: a lease that ended while its node was alive.
  int repeats_without_kill = 0;
  int bad_lines = 0;
};

// `files[0]` is the killed node's: a delivery it handed to the provider but
// had not recorded as sent when killed is sent again by another node when
// its lease ends, with the same idempotency key (the provider's dedupe key).
Sent read_sent(const std::vector<std::string>& files) {
  Sent out;
  std::map<std::string, std::vector<size_t>> files_of_key;
  for (size_t f = 0; f < files.size(); ++f) {
    const std::string& path = files[f];
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      json d = json::parse(line, nullptr, false);
      if (d.is_discarded() || !d.contains("key")) {
        ++out.bad_lines;
        continue;
      }
      const std::string text = d.value("subject", d.value("body", ""));
      const std::string user = d["user_id"], key = d["key"];
      const std::string step = user + "|" + d["node"].get<std::string>() + "|" + text;
      files_of_key[key].push_back(f);
      if (out.step_of_key.count(key)) {
        ++out.repeated_keys;
        continue;
      }
      out.step_of_key[key] = step;
      out.keys_of_step[step].insert(key);
      out.by_user[user].insert(d["node"].get<std::string>() + "|" + text);
    }
  }
  for (const auto& [key, in_files] : files_of_key)
    if (in_files.size() > 2 ||
        (in_files.size() == 2 && std::count(in_files.begin(), in_files.end(), 0) != 1))
      ++out.repeats_without_kill;
  return out;
}

bool all_done(const Sent& sent, const std::set<std::string>& users) {
  for (const auto& u : users) {
    auto it = sent.by_user.find(u);
    if (it == sent.by_user.end() || it->second != kPerUser) return false;
  }
  return true;
}

// Rows of a query, columns joined by '|', sorted: a dump to compare.
std::vector<std::string> dump(const std::string& url, const std::string& sql) {
  PGconn* conn = PQconnectdb(url.c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* r = PQexec(conn, sql.c_str());
  REQUIRE(PQresultStatus(r) == PGRES_TUPLES_OK);
  std::vector<std::string> rows;
  for (int i = 0; i < PQntuples(r); ++i) {
    std::string row;
    for (int c = 0; c < PQnfields(r); ++c)
      row += (c ? "|" : "") + std::string(PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c));
    rows.push_back(row);
  }
  PQclear(r);
  PQfinish(conn);
  std::sort(rows.begin(), rows.end());
  return rows;
}

// What must match the reference: no ids, no times (journey ids and delivery
// keys are allocated per run; the key, event.n, tells a user's two journeys
// apart). Not the trigger event's stored bytes either: they name the event
// type by its number in the database's own word dictionary (step_words),
// which each database numbers in the order it first met the words.
const char* kJourneysDump =
    "SELECT user_id, flow, version, key, state, node, steps, timer_due IS NULL FROM journeys";
const char* kDeliveriesDump =
    "SELECT user_id, flow, flow_version, node, channel, to_addr, subject, body, status "
    "FROM deliveries";

template <class Done>
bool eventually(Done done, int seconds) {
  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

}  // namespace

TEST_CASE("three serve nodes on PostgreSQL, one killed 20 times, equal one uninterrupted node",
          "[.multinode]") {
  TempDir dir;
  write_file(dir.file("flows/remind.yaml"), kFlow);
  RedisServer redis;
  auto& cluster = trellis::testing::PgCluster::shared();
  const std::string shared_db = cluster.fresh_url(), reference_db = cluster.fresh_url();

  std::vector<std::unique_ptr<Node>> nodes;
  std::vector<std::atomic<int>> ports(kNodes);
  for (int n = 0; n < kNodes; ++n) {
    nodes.push_back(
        std::make_unique<Node>(dir, "node" + std::to_string(n), shared_db, redis.url()));
    REQUIRE(nodes[n]->start());
    ports[n] = nodes[n]->port();
  }

  // HTTP: batches round-robin over the nodes; one refused or cut by a kill
  // is kept for the producer's retry at the end.
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::vector<std::string>> http_batches, unacked;
  std::set<std::string> users;
  std::thread http_load([&] {
    for (int b = 0; !stop; ++b) {
      std::vector<std::string> batch;
      for (int i = 0; i < kUsersPerBatch; ++i)
        batch.push_back("h" + std::to_string(b) + "-" + std::to_string(i));
      const bool acked = post_events(ports[b % kNodes], batch_of(batch));
      {
        std::lock_guard<std::mutex> lock(mu);
        http_batches.push_back(batch);
        users.insert(batch.begin(), batch.end());
        if (!acked) unacked.push_back(batch);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(80));
    }
  });
  // Redis: each user's profile over HTTP first (entries of one user may go
  // to different nodes, in any order), then the signups as stream entries,
  // read by the shared consumer group.
  std::vector<std::string> stream_users;
  std::atomic<int> stream_errors{0};  // Catch2 asserts on the test's thread only
  std::thread stream_load([&] {
    for (int k = 0; !stop; ++k) {
      const std::string user = "r" + std::to_string(k);
      bool profiled = false;
      for (int attempt = 0; attempt < 10 && !profiled; ++attempt)
        profiled = post_events(ports[(k + attempt) % kNodes], json::array({identify(user)}));
      if (!profiled) ++stream_errors;
      for (const auto& e : signups(user))
        if (redis.command({"XADD", "trellis:events", "*", "event", e.dump()})[0].rfind("ERR", 0) ==
            0)
          ++stream_errors;
      {
        std::lock_guard<std::mutex> lock(mu);
        stream_users.push_back(user);
        users.insert(user);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(60));
    }
  });

  // Node 0 dies mid-load kKills times and comes back (its consumer name too).
  std::mt19937 rng(15);
  int restarts = 0;
  for (int k = 0; k < kKills; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 600));
    nodes[0]->kill_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    if (nodes[0]->start()) ++restarts;
    ports[0] = nodes[0]->port();
  }
  stop = true;
  http_load.join();
  stream_load.join();
  CHECK(restarts == kKills);
  REQUIRE(stream_errors == 0);

  // The producer retries what was not acknowledged, on another node: applied
  // once whether or not the first attempt had been.
  for (const auto& batch : unacked) {
    bool acked = false;
    for (int attempt = 0; attempt < 20 && !acked; ++attempt)
      acked = post_events(ports[1 + attempt % 2], batch_of(batch));
    REQUIRE(acked);
  }
  std::vector<std::string> files;
  for (auto& node : nodes) files.push_back(node->deliveries());
  Sent sent;
  const bool settled = eventually(
      [&] {
        sent = read_sent(files);
        return all_done(sent, users);
      },
      60);
  std::vector<std::string> pending = redis.command({"XPENDING", "trellis:events", "trellis"});
  // Any node answers for the whole database: the same stats from each. And
  // each has its own /metrics; the two never killed were woken by the
  // others' commits (timers due in a second: LISTEN/NOTIFY).
  json stats;
  CHECK(eventually(
      [&] {
        stats = get_json(ports[0], "/v1/flows/remind/stats");
        return stats_settled(stats, users.size()) &&
               get_json(ports[1], "/v1/flows/remind/stats") == stats &&
               get_json(ports[2], "/v1/flows/remind/stats") == stats;
      },
      30));
  for (int n = 0; n < kNodes; ++n) CHECK(metric(ports[n], "trellis_commits_total") > 0);
  for (int n = 1; n < kNodes; ++n) {
    CHECK(metric(ports[n], "trellis_wakeups_total") > 1);
    CHECK(metric(ports[n], "trellis_timers_fired_total") >= 0);
  }
  for (auto& node : nodes) CHECK(node->terminate() == 0);
  sent = read_sent(files);

  INFO("users " << users.size() << " (stream " << stream_users.size() << "), unacked batches "
                << unacked.size() << ", keys sent again after a kill " << sent.repeated_keys);
  CHECK(settled);
  CHECK(sent.bad_lines == 0);
  CHECK(sent.repeats_without_kill == 0);
  CHECK(pending.at(0) == "0");  // every stream entry acknowledged by some node
  // Every event applied once and every timer fired once: each user has
  // exactly its four messages; nobody else has any.
  for (const auto& [user, messages] : sent.by_user) {
    INFO(user);
    CHECK(users.count(user) == 1);
    CHECK(messages == kPerUser);
  }
  CHECK(all_done(sent, users));
  // No step was delivered under two keys (a delivery created twice).
  for (const auto& [step, keys] : sent.keys_of_step) {
    INFO(step);
    CHECK(keys.size() == 1);
  }
  const auto journeys = dump(shared_db, kJourneysDump);
  const auto deliveries = dump(shared_db, kDeliveriesDump);
  CHECK(journeys.size() == 2 * users.size());
  CHECK(deliveries.size() == 4 * users.size());
  CHECK(dump(shared_db,
             "SELECT 1 FROM journeys WHERE timer_due IS NOT NULL OR state <> "
             "(SELECT state FROM journeys LIMIT 1)")
            .empty());

  // The reference: one node, never interrupted, the same events over HTTP.
  Node reference(dir, "reference", reference_db, "");
  REQUIRE(reference.start());
  for (const auto& batch : http_batches) REQUIRE(post_events(reference.port(), batch_of(batch)));
  for (const auto& user : stream_users) {
    REQUIRE(post_events(reference.port(), json::array({identify(user)})));
    REQUIRE(post_events(reference.port(), signups(user)));
  }
  Sent expected;
  CHECK(eventually(
      [&] {
        expected = read_sent({reference.deliveries()});
        return all_done(expected, users);
      },
      60));
  CHECK(eventually([&] { return get_json(reference.port(), "/v1/flows/remind/stats") == stats; },
                   30));
  CHECK(reference.terminate() == 0);
  CHECK(expected.by_user == sent.by_user);
  CHECK(dump(reference_db, kJourneysDump) == journeys);
  CHECK(dump(reference_db, kDeliveriesDump) == deliveries);
}

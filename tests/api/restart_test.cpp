// Crash safety of `trellis serve` as a process: events are posted while timers
// run, the server is killed with SIGKILL mid-load several times and restarted,
// and the deliveries file must hold, for every acknowledged event, exactly the
// deliveries the flow prescribes (the reference), none twice.
#include <httplib.h>

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

using nlohmann::json;
using trellis::api::testing::free_port;
using trellis::api::testing::ServeProcess;
using trellis::api::testing::TempDir;
using trellis::api::testing::write_file;

namespace {

const char* kFlow = R"(flow: remind
trigger:
  event: signup
start: hello
nodes:
  hello: {type: email, subject: "Hi", body: "Welcome", next: pause}
  pause: {type: wait, for: 2s, next: later}
  later: {type: sms, text: "Still there?", next: done}
  done: {type: exit}
)";

// The flow's reference output for one journey.
const std::set<std::string> kPerUser = {"hello", "later"};

// `trellis serve` on `dir`'s database, flows and deliveries file, logging to
// serve.log; `extra` options after the usual ones.
class Serve : public ServeProcess {
 public:
  Serve(const TempDir& dir, int port, const std::vector<std::string>& extra = {}) : port_(port) {
    std::vector<std::string> args = {"--db",           dir.file("serve.db"),
                                     "--flows",        dir.file("flows"),
                                     "--deliveries",   dir.file("deliveries.jsonl"),
                                     "--port",         std::to_string(port),
                                     "--log-requests", "off"};
    args.insert(args.end(), extra.begin(), extra.end());
    start(args, dir.file("serve.log"));
  }
  bool wait_healthy() { return trellis::api::testing::wait_healthy(port_, 10); }
  int terminate() { return ServeProcess::terminate(10); }

 private:
  int port_;
};

// Posts batches of signups for fresh users until `stop`; records what was acknowledged.
struct Loader {
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::set<std::string> acked, sent;
  int next = 0;

  void run(int port) {
    httplib::Client client("127.0.0.1", port);
    client.set_keep_alive(true);
    client.set_read_timeout(2, 0);
    while (!stop) {
      json batch = json::array();
      std::vector<std::string> users;
      for (int i = 0; i < 10; ++i, ++next) {
        std::string user = "u" + std::to_string(next);
        users.push_back(user);
        // The profile first: email and sms nodes need an address.
        batch.push_back({{"type", "identify"},
                         {"userId", user},
                         {"messageId", "i" + user},
                         {"traits", {{"email", user + "@example.com"}, {"phone", "+1555"}}}});
        batch.push_back(
            {{"id", "e" + std::to_string(next)}, {"type", "signup"}, {"user_id", user}});
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        sent.insert(users.begin(), users.end());
      }
      auto r = client.Post("/v1/events", batch.dump(), "application/json");
      if (!r) return;  // the server died
      if (r->status == 202) {
        std::lock_guard<std::mutex> lock(mu);
        acked.insert(users.begin(), users.end());
      }
    }
  }
};

struct FileCheck {
  std::map<std::string, std::set<std::string>> nodes_by_user;
  int duplicates = 0;
  int bad_lines = 0;
  size_t lines = 0;
};

FileCheck read_deliveries(const std::string& path) {
  FileCheck out;
  std::ifstream in(path);
  std::string line;
  std::set<std::string> keys;
  while (std::getline(in, line)) {
    ++out.lines;
    json d = json::parse(line, nullptr, false);
    if (d.is_discarded()) {
      ++out.bad_lines;
      continue;
    }
    if (!keys.insert(d["key"].get<std::string>()).second) ++out.duplicates;
    if (!out.nodes_by_user[d["user_id"]].insert(d["node"].get<std::string>()).second)
      ++out.duplicates;
  }
  return out;
}

bool complete(const FileCheck& check, const std::set<std::string>& users) {
  for (const auto& u : users) {
    auto it = check.nodes_by_user.find(u);
    if (it == check.nodes_by_user.end() || it->second != kPerUser) return false;
  }
  return true;
}

// Every acknowledged user has its full output, and so has every user that has
// any: a batch in flight at a kill may have been applied without its answer,
// and its users' timers fire only after the last start, like everyone's.
bool settled(const FileCheck& check, const std::set<std::string>& acked) {
  if (!complete(check, acked)) return false;
  for (const auto& [user, nodes] : check.nodes_by_user)
    if (nodes != kPerUser) return false;
  return true;
}

}  // namespace

TEST_CASE("SIGKILL mid-load loses no acknowledged event and doubles no delivery") {
  TempDir dir;
  write_file(dir.file("flows/remind.yaml"), kFlow);
  Loader loader;
  std::mt19937 rng(42);
  const int kKills = 4;
  for (int round = 0; round < kKills; ++round) {
    int port = free_port();
    Serve serve(dir, port);
    REQUIRE(serve.wait_healthy());
    loader.stop = false;
    std::thread load([&] { loader.run(port); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 700));
    serve.kill_now();
    loader.stop = true;
    load.join();
  }
  REQUIRE(loader.acked.size() > 0);

  // The last start: timers armed before the kills fire now; wait for every
  // started user's full output (bounded), then stop gracefully.
  int port = free_port();
  Serve serve(dir, port);
  REQUIRE(serve.wait_healthy());
  FileCheck check;
  for (int i = 0; i < 150; ++i) {  // 15 s at most
    check = read_deliveries(dir.file("deliveries.jsonl"));
    if (settled(check, loader.acked)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(serve.terminate() == 0);
  check = read_deliveries(dir.file("deliveries.jsonl"));

  INFO("acked " << loader.acked.size() << ", sent " << loader.sent.size() << ", lines "
                << check.lines);
  CHECK(check.bad_lines == 0);
  CHECK(check.duplicates == 0);
  CHECK(complete(check, loader.acked));
  // Events sent but not acknowledged (in flight at a kill) may have been
  // applied; if so, fully. Nothing else may appear.
  for (const auto& [user, nodes] : check.nodes_by_user) {
    INFO(user);
    CHECK(loader.sent.count(user) == 1);
    CHECK(nodes == kPerUser);
  }
}

namespace {

// A broadcast whose time has come as soon as it is deployed.
const char* kBroadcastFlow = R"(flow: blast
trigger:
  schedule: "2026-01-01 00:00"
  audience: user.vip == true
start: hello
nodes:
  hello: {type: sms, text: "Sale", next: done}
  done: {type: exit}
)";

std::string profile_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "p%05d", i);
  return id;
}

// The blast run's progress as GET /v1/flows/blast/broadcasts answers it; null
// when there is none (yet).
json blast_run(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  auto r = client.Get("/v1/flows/blast/broadcasts");
  if (!r || r->status != 200) return nullptr;
  json body = json::parse(r->body, nullptr, false);
  if (body.is_discarded() || body["broadcasts"].empty()) return nullptr;
  return body["broadcasts"][0];
}

}  // namespace

TEST_CASE("SIGKILL during a broadcast: every matching user entered exactly once") {
  TempDir dir;
  write_file(dir.file("flows/remind.yaml"), kFlow);
  constexpr int kProfiles = 4000;  // every fourth is not a VIP
  std::set<std::string> vips;
  {
    int port = free_port();
    Serve serve(dir, port);
    REQUIRE(serve.wait_healthy());
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(10, 0);
    for (int from = 0; from < kProfiles; from += 250) {
      json batch = json::array();
      for (int i = from; i < from + 250; ++i) {
        const bool vip = i % 4 != 3;
        if (vip) vips.insert(profile_id(i));
        batch.push_back({{"type", "identify"},
                         {"userId", profile_id(i)},
                         {"messageId", "t" + profile_id(i)},
                         {"traits", {{"phone", "+1555"}, {"vip", vip}}}});
      }
      auto r = client.Post("/v1/events", batch.dump(), "application/json");
      REQUIRE(r);
      REQUIRE(r->status == 202);
    }
    REQUIRE(serve.terminate() == 0);
  }

  // The broadcast is deployed by the next start; each start is killed after a
  // while, paced so that the run spans several of them.
  write_file(dir.file("flows/blast.yaml"), kBroadcastFlow);
  std::mt19937 rng(17);
  int kills_mid_run = 0;
  for (int round = 0; round < 3; ++round) {
    int port = free_port();
    Serve serve(dir, port, {"--broadcast-rate", "700"});
    REQUIRE(serve.wait_healthy());
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + rng() % 600));
    json run = blast_run(port);
    serve.kill_now();
    if (run.is_object() && run["state"] == "running") ++kills_mid_run;
  }

  int port = free_port();
  Serve serve(dir, port, {"--broadcast-rate", "0"});
  REQUIRE(serve.wait_healthy());
  FileCheck check;
  json run;
  for (int i = 0; i < 300; ++i) {  // 30 s at most
    run = blast_run(port);
    check = read_deliveries(dir.file("deliveries.jsonl"));
    if (run.is_object() && run["state"] == "done" && check.lines >= vips.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(serve.terminate() == 0);
  check = read_deliveries(dir.file("deliveries.jsonl"));

  INFO("run " << run.dump() << ", lines " << check.lines << ", kills mid-run " << kills_mid_run);
  CHECK(kills_mid_run >= 1);
  REQUIRE(run.is_object());
  CHECK(run["state"] == "done");
  CHECK(run["entered"] == vips.size());
  CHECK(run["total"] == kProfiles);
  CHECK(check.bad_lines == 0);
  CHECK(check.duplicates == 0);
  std::set<std::string> entered;
  for (const auto& [user, nodes] : check.nodes_by_user) {
    CHECK(nodes == std::set<std::string>{"hello"});
    entered.insert(user);
  }
  CHECK(entered == vips);
}

namespace {

// Runs a command line, returns its standard output and exit status.
std::pair<std::string, int> run_command(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return {"", -1};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = pclose(pipe);
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

TEST_CASE("serve --help documents every flag with its environment variable") {
  auto [help, status] = run_command(std::string(TRELLIS_BINARY) + " serve --help");
  CHECK(status == 0);
  for (const char* flag : {"--db",
                           "--flows",
                           "--port",
                           "--host",
                           "--redis",
                           "--stream",
                           "--group",
                           "--consumer",
                           "--token",
                           "--editor-dir",
                           "--dead-letter-stream",
                           "--claim-idle-ms",
                           "--adapter",
                           "--deliveries",
                           "--webhook-url",
                           "--config",
                           "--synchronous",
                           "--max-body",
                           "--max-json-depth",
                           "--threads",
                           "--log-requests"}) {
    INFO(flag);
    CHECK(help.find(std::string("  ") + flag + " ") != std::string::npos);
  }
  for (const char* env : {"TRELLIS_DB", "TRELLIS_FLOWS", "TRELLIS_PORT", "TRELLIS_HOST",
                          "TRELLIS_REDIS", "TRELLIS_TOKEN", "TRELLIS_EDITOR_DIR"}) {
    INFO(env);
    CHECK(help.find(env) != std::string::npos);
  }
  CHECK(help.find("default 127.0.0.1") != std::string::npos);

  auto [bad, bad_status] = run_command(std::string(TRELLIS_BINARY) + " serve --nope 1 2>/dev/null");
  CHECK(bad_status == 2);
  auto [bad_port, port_status] =
      run_command(std::string(TRELLIS_BINARY) + " serve --port 99999 2>/dev/null");
  CHECK(port_status == 2);
}

TEST_CASE("serve refuses a delivery configuration with errors, printing them as check does") {
  TempDir dir;
  write_file(dir.file("flows/trellis.yaml"),
             "channels:\n  sms: {provider: http, url: \"https://sms.example.com\",\n"
             "        headers: {Authorization: \"Bearer literal-secret-1\"}}\n");
  auto [out, status] = run_command(std::string(TRELLIS_BINARY) + " serve --db " + dir.file("t.db") +
                                   " --flows " + dir.file("flows") + " --port 0 2>&1");
  CHECK(status == 1);
  CHECK(out.find("trellis.yaml:3:34: error: header 'Authorization' holds a literal secret") !=
        std::string::npos);
  CHECK(out.find("literal-secret-1") == std::string::npos);
  CHECK(out.find("not starting") != std::string::npos);
}

namespace {

// Results (docs/results.md): an A/B split into two SMS and a goal with a window
// and a value; every third user orders, worth 10 + its number.
const char* kResultsFlow = R"(flow: offer
trigger:
  event: signup
goal: {event: order_paid, within: 1d, value: event.revenue}
start: pick
nodes:
  pick:
    type: ab
    variants:
      a: {weight: 50, next: text_a}
      b: {weight: 50, next: text_b}
  text_a: {type: sms, text: "A", next: done}
  text_b: {type: sms, text: "B", next: done}
  done: {type: exit}
)";

// Ten users per batch, each event with its own id, so a batch posted again
// after a kill is applied at most once (the dedupe table).
std::vector<json> results_batches(int users) {
  std::vector<json> out;
  for (int first = 0; first < users; first += 10) {
    json batch = json::array();
    for (int i = first; i < first + 10 && i < users; ++i) {
      const std::string user = "u" + std::to_string(i);
      batch.push_back({{"id", "p" + user},
                       {"type", "identify"},
                       {"user_id", user},
                       {"properties", {{"phone", "+1555"}}}});
      batch.push_back({{"id", "s" + user}, {"type", "signup"}, {"user_id", user}});
      if (i % 3 == 0)
        batch.push_back({{"id", "o" + user},
                         {"type", "order_paid"},
                         {"user_id", user},
                         {"properties", {{"revenue", 10 + i}}}});
    }
    out.push_back(std::move(batch));
  }
  return out;
}

// Posts batches from `next` on until one is not acknowledged (the server died).
void post_from(int port, const std::vector<json>& batches, size_t& next) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(2, 0);
  for (; next < batches.size(); ++next) {
    auto r = client.Post("/v1/events", batches[next].dump(), "application/json");
    if (!r || r->status != 202) return;
  }
}

json get_json(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5, 0);
  auto r = client.Get(path);
  if (!r || r->status != 200) return nullptr;
  return json::parse(r->body, nullptr, false);
}

// The stats once every journey ended and every message left the outbox
// (bounded), without what depends on when they ran: the series summed over
// its buckets (a run may cross an hour), the A/B figures and the rest as they are.
json settled_stats(int port, int users) {
  const std::string path = "/v1/flows/offer/stats?bucket=day";
  json stats;
  for (int i = 0; i < 300; ++i) {  // 30 s at most
    stats = get_json(port, path);
    bool pending = false;
    if (stats.is_object())
      for (const json& m : stats["messages"]) pending = pending || m["created"] != m["sent"];
    if (stats.is_object() && stats["journeys"] == users && stats["live"] == 0 && !pending) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!stats.is_object()) return nullptr;
  json sums = {{"entered", 0}, {"exited", 0}, {"converted", 0}, {"revenue", 0.0}};
  json messages = json::object();
  for (const json& b : stats["series"]) {
    for (const char* k : {"entered", "exited", "converted"})
      sums[k] = sums[k].get<int64_t>() + b[k].get<int64_t>();
    sums["revenue"] = sums["revenue"].get<double>() + b["revenue"].get<double>();
    for (const auto& [channel, counts] : b["messages"].items()) {
      json& sum = messages[channel];
      if (!sum.is_object()) sum = json::object();
      for (const auto& [status, n] : counts.items())
        sum[status] = sum.value(status, int64_t{0}) + n.get<int64_t>();
    }
  }
  sums["messages"] = messages;
  stats["series"] = sums;
  for (const char* varying : {"from", "to"}) stats.erase(varying);
  return stats;
}

}  // namespace

TEST_CASE("results survive a SIGKILL of serve: the stats equal an uninterrupted run's") {
  const int kUsers = 600;
  const std::vector<json> batches = results_batches(kUsers);

  TempDir reference_dir;
  write_file(reference_dir.file("flows/offer.yaml"), kResultsFlow);
  json reference;
  {
    int port = free_port();
    Serve serve(reference_dir, port);
    REQUIRE(serve.wait_healthy());
    size_t next = 0;
    post_from(port, batches, next);
    REQUIRE(next == batches.size());
    reference = settled_stats(port, kUsers);
    CHECK(serve.terminate() == 0);
  }
  REQUIRE(reference.is_object());
  REQUIRE(reference["conversions"] == 200);
  REQUIRE(reference["series"]["converted"] == 200);

  // The same batches, with SIGKILLs while they are posted; after each restart
  // the batch that got no answer is posted again (it may have been applied).
  TempDir dir;
  write_file(dir.file("flows/offer.yaml"), kResultsFlow);
  std::mt19937 rng(7);
  size_t next = 0;
  int mid_load_kills = 0;  // kills that left batches unposted
  for (int round = 0; round < 4 && next < batches.size(); ++round) {
    int port = free_port();
    Serve serve(dir, port);
    REQUIRE(serve.wait_healthy());
    std::thread load([&] { post_from(port, batches, next); });
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 150));
    serve.kill_now();
    load.join();
    if (next < batches.size()) ++mid_load_kills;
  }
  REQUIRE(mid_load_kills > 0);
  int port = free_port();
  Serve serve(dir, port);
  REQUIRE(serve.wait_healthy());
  post_from(port, batches, next);
  REQUIRE(next == batches.size());
  const json crashed = settled_stats(port, kUsers);
  CHECK(serve.terminate() == 0);
  INFO("reference " << reference.dump());
  INFO("crashed " << crashed.dump());
  CHECK(crashed == reference);
}

// Several engines ("nodes") on one PostgreSQL database, each with its timer
// loop and dispatcher running, as several `trellis serve` processes would:
// events spread over the nodes apply once, a flow deployed on one node runs
// on the others, a timer armed on one node fires on another, and each
// delivery is sent by exactly one node (the outbox lease). A kill-and-restart
// test across processes is not this one (docs/operations.md#running-several-nodes).
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "flow_loader.h"
#include "postgres/pg_cluster.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;

namespace {

constexpr int kNodes = 3;
constexpr int kUsers = 60;
constexpr int kEventsPerNode = 80;

const char* kFlow = R"(flow: hello_nodes
trigger: { event: start }
re_entry: always
start: hello
nodes:
  hello: { type: sms, text: "hi {{event.n}}", next: done }
  done: { type: exit }
)";

// Armed on the node that ingests `arm`; the node that ingests it stops
// (below), so another node must fire it.
const char* kTimerFlow = R"(flow: later_nodes
trigger: { event: arm }
start: w
nodes:
  w: { type: wait, for: 1s, next: bye }
  bye: { type: sms, text: "later", next: done }
  done: { type: exit }
)";

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// An hour: a node that polls so seldom learns what another did before then
// only by a wake-up (LISTEN/NOTIFY) or by its own next transaction.
constexpr TimeMs kHour = 3'600'000;
// A bound on waiting for what a wake-up brings: far above its milliseconds,
// below the minute after which a node's pruning transaction would read the
// flows and the next due timer anyway.
constexpr std::chrono::seconds kWellBeforePoll(20);

std::unique_ptr<Engine> open_node(const std::string& url, const std::string& deliveries,
                                  TimeMs poll_ms = 1'000, bool listen = true) {
  EngineOptions options;
  options.poll_ms = poll_ms;
  options.listen_for_wakes = listen;
  options.store = store_factory(url).value();
  options.parse_flow = testing::parse_stored_flow;
  options.adapter = "file";
  options.deliveries_path = deliveries;
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  return std::move(engine.value());
}

int deploy(Engine& engine, testing::TempDir& dir, const std::string& name, const char* yaml) {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream(path) << yaml;
  auto loaded = testing::load_checked_flow(path);
  REQUIRE(loaded.ok());
  auto version = engine.deploy(loaded->flow, loaded->source);
  REQUIRE(version.ok());
  return version.value();
}

// kFlow with its message text naming version `v`.
std::string flow_version(int v) {
  std::string yaml = kFlow;
  yaml.replace(yaml.find("hi "), 3, "v" + std::to_string(v) + " ");
  return yaml;
}

Event event_of(const std::string& type, const std::string& id, const std::string& user) {
  Event e;
  e.type = type;
  e.id = id;
  e.user_id = user;
  return e;
}

bool sent_to(Engine& node, const std::string& user) {
  const std::vector<DeliveryRecord> d = node.deliveries(user, "", 10);
  return !d.empty() && d.back().status == DeliveryStatus::kSent;
}

// Waits, bounded, until `done` holds.
template <class Done>
bool eventually(Done done, std::chrono::seconds bound = std::chrono::seconds(90)) {
  const auto limit = std::chrono::steady_clock::now() + bound;
  while (!done()) {
    if (std::chrono::steady_clock::now() > limit) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

TEST_CASE("three nodes on one database apply each event once and send each delivery once",
          "[.postgres]") {
  testing::TempDir dir;
  const std::string url = testing::PgCluster::shared().fresh_url();
  std::vector<std::unique_ptr<Engine>> nodes;
  for (int n = 0; n < kNodes; ++n)
    nodes.push_back(open_node(url, dir.file("sent-" + std::to_string(n) + ".jsonl")));
  for (int u = 0; u < kUsers; ++u)
    REQUIRE(
        nodes[u % kNodes]->put_profile("u" + std::to_string(u), R"({"phone":"+4790000000"})").ok());
  // Deployed on node 0 only: the others load it from the database.
  REQUIRE(deploy(*nodes[0], dir, "hello", kFlow) == 1);
  REQUIRE(deploy(*nodes[0], dir, "later", kTimerFlow) == 1);
  for (auto& node : nodes) node->start();
  REQUIRE(eventually(
      [&] { return nodes[2]->stats("hello_nodes").ok() && nodes[1]->stats("later_nodes").ok(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // routes refreshed too

  // Every node ingests its share at once; each event also goes to the next
  // node (a producer's retry): the dedupe set is shared.
  std::vector<std::thread> producers;
  for (int n = 0; n < kNodes; ++n)
    producers.emplace_back([&, n] {
      for (int i = 0; i < kEventsPerNode; ++i) {
        Event e;
        e.type = "start";
        e.id = "e" + std::to_string(n) + "-" + std::to_string(i);
        e.user_id = "u" + std::to_string((n * kEventsPerNode + i) % kUsers);
        e.properties_json = "{\"n\":" + std::to_string(i) + "}";
        REQUIRE(nodes[n]->ingest({e}).ok());
        REQUIRE(nodes[(n + 1) % kNodes]->ingest({e}).ok());
      }
    });
  for (auto& p : producers) p.join();

  // A timer armed through node 1, which then stops: another node fires it.
  Event arm;
  arm.type = "arm";
  arm.id = "arm-1";
  arm.user_id = "u1";
  REQUIRE(nodes[1]->ingest({arm}).ok());
  nodes[1]->stop();

  const size_t expected = kNodes * kEventsPerNode + 1;
  auto sent_count = [&] {
    size_t sent = 0;
    for (const DeliveryRecord& d : nodes[0]->deliveries("", "", 10'000))
      if (d.status == DeliveryStatus::kSent) ++sent;
    return sent;
  };
  CHECK(eventually([&] { return sent_count() == expected; }));
  for (auto& node : nodes) node->stop();

  const std::vector<DeliveryRecord> stored = nodes[0]->deliveries("", "", 10'000);
  CHECK(stored.size() == expected);
  CHECK(nodes[0]->journeys_of_user("u1").size() == 1 + kNodes * kEventsPerNode / kUsers);
  std::map<std::string, int> sends;
  for (int n = 0; n < kNodes; ++n)
    for (const std::string& line : lines_of(dir.file("sent-" + std::to_string(n) + ".jsonl")))
      ++sends[nlohmann::json::parse(line).at("key").get<std::string>()];
  CHECK(sends.size() == expected);
  for (const auto& [key, times] : sends) {
    INFO(key);
    CHECK(times == 1);
  }
  for (const DeliveryRecord& d : stored) CHECK(sends.count(d.key) == 1);
}

// LISTEN/NOTIFY. Node B looks at the database by itself once an hour, so
// what node A deploys reaches B's flow list only by the wake-up A's commit
// sends: three deploys one after the other (B's start-up reads could explain
// the first, not the next ones), then a pause. Node C neither listens nor
// polls within the test, yet each journey it starts right after a deploy on
// A runs the new version: every transaction reads the flows' generation.
TEST_CASE("a deploy on one node reaches the others at once and new journeys run it everywhere",
          "[.postgres]") {
  testing::TempDir dir;
  const std::string url = testing::PgCluster::shared().fresh_url();
  auto a = open_node(url, dir.file("a.jsonl"));
  auto b = open_node(url, dir.file("b.jsonl"), kHour);
  auto c = open_node(url, dir.file("c.jsonl"), kHour, /*listen=*/false);
  b->start();
  c->start();
  REQUIRE(eventually([&] { return b->metrics().wakeups >= 1; }));  // listening
  REQUIRE(a->put_profile("u1", R"({"phone":"+4790000000"})").ok());
  for (int v = 1; v <= 3; ++v) {
    INFO("version " << v);
    REQUIRE(deploy(*a, dir, "hello", flow_version(v).c_str()) == v);
    CHECK(eventually(
        [&] {
          const std::optional<FlowSummary> seen = b->flow("hello_nodes");
          return seen && seen->version == v;
        },
        kWellBeforePoll));
    REQUIRE(c->ingest({event_of("start", "e" + std::to_string(v), "u1")}).ok());
    const std::vector<JourneyRecord> journeys = c->journeys_of_user("u1");
    REQUIRE(journeys.size() == static_cast<size_t>(v));
    CHECK(std::max_element(journeys.begin(), journeys.end(), [](const auto& x, const auto& y) {
            return x.id < y.id;
          })->version == v);
    // Sent and recorded (by B or C) before the next deploy: B's recording
    // transaction would read the flows too.
    REQUIRE(eventually([&] {
      const std::vector<DeliveryRecord> d = c->deliveries("u1", "", 10);
      return d.size() == static_cast<size_t>(v) &&
             std::all_of(d.begin(), d.end(),
                         [](const auto& x) { return x.status == DeliveryStatus::kSent; });
    }));
  }
  LifecycleRequest pause;
  pause.to = FlowState::kPaused;
  REQUIRE(a->change_flow_state("hello_nodes", pause).ok());
  CHECK(eventually([&] { return b->flow("hello_nodes")->state == FlowState::kPaused; },
                   kWellBeforePoll));
  REQUIRE(c->ingest({event_of("start", "e4", "u1")}).ok());
  CHECK(c->journeys_of_user("u1").size() == 3);  // paused on C too: no new journey
  CHECK(b->metrics().wakeups >= 3);
  // Each version's own text, sent by B or C (whichever leased it first).
  std::vector<std::string> sent;
  REQUIRE(eventually([&] {
    sent = lines_of(dir.file("b.jsonl"));
    for (std::string& line : lines_of(dir.file("c.jsonl"))) sent.push_back(std::move(line));
    return sent.size() == 3;
  }));
  for (int v = 1; v <= 3; ++v)
    CHECK(std::count_if(sent.begin(), sent.end(), [&](const std::string& line) {
            return line.find("v" + std::to_string(v) + " ") != std::string::npos;
          }) == 1);
  b->stop();
  c->stop();
}

// Node A arms timers (due in a second) but never runs its loop, so it fires
// none; node B polls once an hour. Each timer is armed after B fired the one
// before, so only the wake-up of A's commit tells B of it in time.
TEST_CASE("a timer armed on one node fires on another woken by NOTIFY, not by its poll",
          "[.postgres]") {
  testing::TempDir dir;
  const std::string url = testing::PgCluster::shared().fresh_url();
  auto a = open_node(url, dir.file("a.jsonl"));
  REQUIRE(deploy(*a, dir, "later", kTimerFlow) == 1);
  auto b = open_node(url, dir.file("b.jsonl"), kHour);
  b->start();
  REQUIRE(eventually([&] { return b->metrics().wakeups >= 1; }));  // listening
  for (int k = 1; k <= 3; ++k) {
    const std::string user = "u" + std::to_string(k);
    INFO(user);
    REQUIRE(a->put_profile(user, R"({"phone":"+4790000000"})").ok());
    REQUIRE(a->ingest({event_of("arm", "arm-" + user, user)}).ok());
    CHECK(eventually([&] { return sent_to(*b, user); }, kWellBeforePoll));
  }
  CHECK(b->metrics().timers_fired == 3);
  CHECK(lines_of(dir.file("b.jsonl")).size() == 3);
  CHECK(lines_of(dir.file("a.jsonl")).empty());
  b->stop();
}

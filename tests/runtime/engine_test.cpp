// The Engine on real SQLite files: durability across restarts, timers in due
// order exactly once, goal conversions and stats, profiles, group commit from
// many threads, dedupe retention.
#include "runtime/engine.h"
#include "runtime/store_url.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <thread>

#include "flow_loader.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;

class Fixture {
 public:
  explicit Fixture(TimeMs start = kT0) : clock(start) {}

  Engine& open(const std::string& adapter = "none") {
    engine.reset();
    EngineOptions options;
    options.store = trellis::runtime::store_factory(dir.file("trellis.db")).value();
    options.clock = &clock;
    options.parse_flow = testing::parse_stored_flow;
    options.adapter = adapter;
    options.deliveries_path = dir.file("deliveries.jsonl");
    auto opened = Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(opened.value());
    return *engine;
  }

  int deploy(const std::string& yaml) {
    const std::string path = dir.file("flow" + std::to_string(++flows_) + ".yaml");
    std::ofstream(path) << yaml;
    auto loaded = testing::load_checked_flow(path);
    INFO((loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    auto version = engine->deploy(loaded->flow, loaded->source);
    REQUIRE(version.ok());
    return version.value();
  }

  void send(const std::string& type, const std::string& user, const std::string& props = "{}",
            const std::string& id = "") {
    Event e;
    e.type = type;
    e.user_id = user;
    e.id = id;
    e.properties_json = props;
    REQUIRE(engine->ingest({e}).ok());
  }

  TempDir dir;
  VirtualClock clock;
  std::unique_ptr<Engine> engine;

 private:
  int flows_ = 0;
};

const char* kWaitFlow = R"(flow: waiter
trigger: { event: start }
re_entry: always
start: w
nodes:
  w: { type: wait, for: 1h, next: hello }
  hello: { type: sms, text: "hi {{event.n}}", next: done }
  done: { type: exit }
)";

}  // namespace

TEST_CASE("due timers fire after a restart, in due order, each exactly once") {
  Fixture f;
  f.open();
  f.deploy(kWaitFlow);  // waits 1h
  std::string slow = kWaitFlow;
  slow.replace(slow.find("waiter"), 6, "slower");
  slow.replace(slow.find("1h"), 2, "2h");
  slow.replace(slow.find("event: start"), 12, "event: start_slow");
  f.deploy(slow);
  // Armed in this order: five 2h timers, then five 1h timers; due order is
  // the reverse of insertion order per flow.
  for (int m = 0; m < 10; ++m) {
    f.clock.set_ms(kT0 + m * 60'000);
    const std::string user = "u" + std::to_string(m);
    REQUIRE(f.engine->put_profile(user, R"({"phone": "+47"})").ok());
    f.send(m < 5 ? "start_slow" : "start", user, "{\"n\":" + std::to_string(m) + "}");
  }
  CHECK(f.engine->next_timer_due().value_or(0) == kT0 + 65 * 60'000);
  f.engine.reset();  // "crash" with ten timers pending

  f.clock.set_ms(kT0 + 10 * 3'600'000);
  Engine& e = f.open();
  auto fired = e.fire_due_timers();
  REQUIRE(fired.ok());
  CHECK(fired.value() == 10);
  CHECK(e.fire_due_timers().value() == 0);
  auto deliveries = e.deliveries("", "");
  REQUIRE(deliveries.size() == 10);
  const std::vector<std::string> order = {"5", "6", "7", "8", "9", "0", "1", "2", "3", "4"};
  for (size_t i = 0; i < order.size(); ++i) CHECK(deliveries[i].body == "hi " + order[i]);
  CHECK_FALSE(e.next_timer_due().has_value());
}

TEST_CASE("after a restart, events still find the journeys made before it") {
  Fixture f;
  f.open();
  f.deploy(R"(flow: once
trigger: { event: start }
re_entry: never
exit_on: [stop]
start: w
nodes:
  w: { type: wait, for: 1h, next: done }
  done: { type: exit }
)");
  f.send("start", "u1");
  f.send("start", "u2");
  f.engine.reset();

  Engine& e = f.open();
  f.send("start", "u1");  // re_entry never: u1 already has a journey
  f.send("stop", "u2");   // exit_on reaches u2's waiting journey
  f.send("start", "u3");  // a new user still starts one
  REQUIRE(e.journeys_of_user("u1").size() == 1);
  REQUIRE(e.journeys_of_user("u2").size() == 1);
  CHECK(e.journeys_of_user("u2")[0].state == Lifecycle::kExited);
  REQUIRE(e.journeys_of_user("u3").size() == 1);
  CHECK(e.journeys_of_user("u3")[0].state == Lifecycle::kWaitingTimer);
}

TEST_CASE("journeys record lifecycle states and step history with reasons") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(R"(flow: life
trigger: { event: start }
exit_on: [stop]
start: w
nodes:
  w: { type: wait, until_event: go, on_event: seg }
  seg: { type: segment, match: user.age > 30, yes: done, no: done }
  done: { type: exit }
)");
  REQUIRE(e.put_profile("u1", R"({"age": 40})").ok());
  f.send("start", "u1");
  f.send("start", "u2");
  auto j1 = e.journeys_of_user("u1");
  REQUIRE(j1.size() == 1);
  CHECK(j1[0].state == Lifecycle::kWaitingEvent);
  CHECK(j1[0].waiting_for == "go");
  f.send("go", "u1");
  f.send("stop", "u2");
  auto detail = e.journey(e.journeys_of_user("u1")[0].id);
  REQUIRE(detail.has_value());
  CHECK(detail->journey.state == Lifecycle::kCompleted);
  REQUIRE(detail->steps.size() == 4);
  CHECK(detail->steps[0].node == "w");
  CHECK(detail->steps[1].input == "event:go");
  CHECK(detail->steps[2].node == "seg");
  CHECK(detail->steps[2].reason.find("user.age = 40") != std::string::npos);
  auto j2 = e.journey(e.journeys_of_user("u2")[0].id);
  CHECK(j2->journey.state == Lifecycle::kExited);
  CHECK(j2->steps.back().input == "exit_on:stop");
}

TEST_CASE("goal conversions count per flow and per A/B variant") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(R"(flow: ab
trigger: { event: start }
goal: bought
start: split
nodes:
  split:
    type: ab
    variants:
      a: { weight: 50, next: done }
      b: { weight: 50, next: done }
  done: { type: exit }
)");
  for (int u = 0; u < 200; ++u) f.send("start", "u" + std::to_string(u));
  for (int u = 0; u < 200; u += 2) f.send("bought", "u" + std::to_string(u));
  f.send("bought", "u0");  // a second purchase converts nothing new
  auto stats = e.stats("ab");
  REQUIRE(stats.ok());
  CHECK(stats->journeys == 200);
  CHECK(stats->conversions == 100);
  REQUIRE(stats->variants.size() == 2);
  int64_t journeys = 0, conversions = 0;
  for (const auto& v : stats->variants) {
    journeys += v.journeys;
    conversions += v.conversions;
    CHECK(v.journeys > 60);  // a 50/50 split of 200
  }
  CHECK(journeys == 200);
  CHECK(conversions == 100);
  bool saw_split = false;
  for (const auto& n : stats->nodes) {
    if (n.node == "split") {
      saw_split = true;
      CHECK(n.entered == 200);
    }
    if (n.node == "done") CHECK(n.exited == 200);
  }
  CHECK(saw_split);
  CHECK_FALSE(e.stats("nope").ok());
}

TEST_CASE("identify events and the profile API merge traits") {
  Fixture f;
  Engine& e = f.open();
  REQUIRE(e.put_profile("u1", R"({"age": 30, "city": "Oslo"})").ok());
  auto events = parse_events(R"({"type": "identify", "userId": "u1", "traits": {"age": 31}})");
  REQUIRE(events.ok());
  REQUIRE(e.ingest(events.value()).ok());
  CHECK(e.profile("u1") == std::optional<std::string>(R"({"age":31,"city":"Oslo"})"));
}

TEST_CASE("concurrent ingest shares commits and applies every event once") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(kWaitFlow);
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Event ev;
        ev.type = "start";
        ev.user_id = "u" + std::to_string(t) + "-" + std::to_string(i);
        ev.id = ev.user_id;
        REQUIRE(e.ingest({ev}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  const EngineMetrics m = e.metrics();
  CHECK(m.events_accepted == kThreads * kPerThread);
  CHECK(m.journeys_started == kThreads * kPerThread);
  CHECK(m.pending_timers == kThreads * kPerThread);
  CHECK(m.commits <= m.events_accepted + 1);
}

TEST_CASE("event ids are forgotten after the retention, by the run loop") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(R"(flow: w
trigger: { event: signup }
re_entry: always
start: hello
nodes:
  hello: { type: sms, text: "hi", next: done }
  done: { type: exit }
)");
  REQUIRE(e.put_profile("u1", R"({"phone": "+47"})").ok());
  f.send("signup", "u1", "{}", "dup");
  f.send("signup", "u1", "{}", "dup");
  CHECK(e.deliveries("u1", "").size() == 1);
  // The run loop prunes ids older than the retention (7 days by default).
  f.clock.advance_ms(8LL * 24 * 3600 * 1000);
  e.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  e.stop();
  f.send("signup", "u1", "{}", "dup");
  CHECK(e.deliveries("u1", "").size() == 2);
}

TEST_CASE("deploying the same source again keeps the version, a change makes a new one") {
  Fixture f;
  f.open();
  CHECK(f.deploy(kWaitFlow) == 1);
  CHECK(f.deploy(kWaitFlow) == 1);
  std::string changed = kWaitFlow;
  changed.replace(changed.find("1h"), 2, "2h");
  CHECK(f.deploy(changed) == 2);
  Engine& e = f.open();  // versions reload from the store
  REQUIRE(e.flow("waiter").has_value());
  CHECK(e.flow("waiter")->version == 2);
}

TEST_CASE("A/B: 10,000 users split 45/45/10 within 2 points, each user always in one variant") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(R"(flow: split
trigger: { event: start }
re_entry: always
start: nudge
nodes:
  nudge:
    type: ab
    variants:
      a: { weight: 45, next: done }
      b: { weight: 45, next: done }
      control: { weight: 10, next: done }
  done: { type: exit }
)");
  constexpr int kUsers = 10000;
  std::vector<Event> batch;
  for (int u = 0; u < kUsers; ++u) {
    Event ev;
    ev.type = "start";
    ev.user_id = "user-" + std::to_string(u);
    batch.push_back(ev);
  }
  REQUIRE(e.ingest(batch).ok());
  auto stats = e.stats("split");
  REQUIRE(stats.ok());
  std::map<std::string, int64_t> by_variant;
  for (const auto& v : stats->variants) by_variant[v.variant] = v.journeys;
  CHECK(std::abs(by_variant["a"] * 100.0 / kUsers - 45) <= 2);
  CHECK(std::abs(by_variant["b"] * 100.0 / kUsers - 45) <= 2);
  CHECK(std::abs(by_variant["control"] * 100.0 / kUsers - 10) <= 2);
  // A second journey of the same users (after a restart, too) takes the same variant.
  Engine& again = f.open();
  std::vector<Event> second(batch.begin(), batch.begin() + 200);
  REQUIRE(again.ingest(second).ok());
  for (int u = 0; u < 200; ++u) {
    auto journeys = again.journeys_of_user("user-" + std::to_string(u));
    REQUIRE(journeys.size() == 2);
    CHECK(journeys[0].variant == journeys[1].variant);
  }
}

TEST_CASE("journey queries show the newest coupon code, not the stored list") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(R"(flow: gift
trigger: { event: start }
start: give
nodes:
  give: { type: coupon, pool: P, next: done, on_exhausted: done }
  done: { type: exit }
)");
  REQUIRE(e.load_coupons("P", {"CODE;1=x"}).ok());
  f.send("start", "u1");
  auto journeys = e.journeys_of_user("u1");
  REQUIRE(journeys.size() == 1);
  CHECK(journeys[0].coupon_code == "CODE;1=x");
  CHECK(e.coupons_left("P") == 0);
}

TEST_CASE("an event id with invalid UTF-8 does not fail the batch it shares") {
  Fixture f;
  Engine& e = f.open();
  f.deploy(kWaitFlow);
  Event bad;
  bad.type = "start";
  bad.user_id = "u1";
  bad.id = std::string("id-\xff\xfe");
  Event good = bad;
  good.user_id = "u2";
  good.id = "fine";
  auto r = e.ingest({bad, good});
  REQUIRE(r.ok());
  CHECK(r->accepted == 2);
  CHECK(e.journeys_of_user("u2").size() == 1);
}

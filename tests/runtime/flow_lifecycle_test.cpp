// A flow's lifecycle on real SQLite files (docs/flows.md#pausing-stopping-and-archiving):
// pause holds journeys and timers, resume fires the held timers in due order
// or shifts them, stop exits every live journey with the reason, archive,
// the state and a stop cut short survive a restart; and who deployed each version.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "flow_loader.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;
constexpr TimeMs kHour = 3'600'000;

class Fixture {
 public:
  Fixture() : clock(kT0) {}

  Engine& open() {
    engine.reset();
    EngineOptions options;
    options.store = trellis::runtime::store_factory(dir.file("trellis.db")).value();
    options.clock = &clock;
    options.parse_flow = testing::parse_stored_flow;
    options.adapter = "none";
    auto opened = Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(opened.value());
    return *engine;
  }

  int deploy(const std::string& yaml, const std::string& author = "") {
    const std::string path = dir.file("flow" + std::to_string(++flows_) + ".yaml");
    std::ofstream(path) << yaml;
    auto loaded = testing::load_checked_flow(path);
    INFO((loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    auto version = engine->deploy(loaded->flow, loaded->source, author);
    REQUIRE(version.ok());
    return version.value();
  }

  void send(const std::string& type, const std::string& user) {
    Event e;
    e.type = type;
    e.user_id = user;
    e.properties_json = "{}";
    REQUIRE(engine->ingest({e}).ok());
  }

  LifecycleOutcome change(FlowState to, HeldTimers timers = HeldTimers::kFire) {
    LifecycleRequest r;
    r.to = to;
    r.by = "ops";
    r.reason = "wrong coupon";
    r.timers = timers;
    auto outcome = engine->change_flow_state("cart", r);
    INFO((outcome.ok() ? "" : outcome.error().message));
    REQUIRE(outcome.ok());
    return outcome.value();
  }

  JourneyRecord journey_of(const std::string& user) {
    auto journeys = engine->journeys_of_user(user);
    REQUIRE(journeys.size() == 1);
    return journeys[0];
  }

  std::vector<StepRecord> steps_of(const std::string& user) {
    return engine->journey(journey_of(user).id)->steps;
  }

  TempDir dir;
  VirtualClock clock;
  std::unique_ptr<Engine> engine;

 private:
  int flows_ = 0;
};

// A timer wait, then an event wait with a timeout, then an SMS.
const char* kCart = R"(flow: cart
trigger: { event: cart_updated }
exit_on: [order_paid]
start: first
nodes:
  first: { type: wait, for: 1h, next: pay }
  pay: { type: wait, until_event: checkout, for: 24h, on_event: thanks, next: nudge }
  thanks: { type: sms, text: "thanks", next: done }
  nudge: { type: sms, text: "come back", next: done }
  done: { type: exit }
)";

bool has_step(const std::vector<StepRecord>& steps, const std::string& input,
              const std::string& reason_part) {
  for (const auto& s : steps)
    if (s.input == input && s.reason.find(reason_part) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST_CASE("a paused flow starts no journeys and holds its timers until resume fires them") {
  Fixture f;
  f.open();
  f.deploy(kCart);
  REQUIRE(f.engine->put_profile("a", R"({"phone": "+4700"})").ok());
  f.send("cart_updated", "a");  // waits 1h at `first`

  LifecycleOutcome paused = f.change(FlowState::kPaused);
  CHECK(paused.from == FlowState::kActive);
  CHECK(paused.journeys == 1);
  CHECK(f.engine->flow("cart")->state == FlowState::kPaused);
  CHECK(has_step(f.steps_of("a"), "pause", "flow paused by ops: wrong coupon"));

  f.send("cart_updated", "b");  // no new journey while paused
  CHECK(f.engine->journeys_of_user("b").empty());

  f.clock.set_ms(kT0 + 2 * kHour);  // the 1h timer falls due during the pause
  CHECK_FALSE(f.engine->next_timer_due().has_value());
  CHECK(f.engine->fire_due_timers().value() == 0);
  CHECK(f.journey_of("a").node == "first");

  // A second pause is refused; the state survives a restart.
  LifecycleRequest again;
  again.to = FlowState::kPaused;
  CHECK_FALSE(f.engine->change_flow_state("cart", again).ok());
  f.open();
  CHECK(f.engine->flow("cart")->state == FlowState::kPaused);
  CHECK(f.engine->fire_due_timers().value() == 0);

  LifecycleOutcome resumed = f.change(FlowState::kActive);
  CHECK(resumed.from == FlowState::kPaused);
  CHECK(resumed.journeys == 1);
  CHECK(has_step(f.steps_of("a"), "resume", "timers due during the pause fire now"));
  CHECK(f.engine->next_timer_due().value_or(0) == kT0 + kHour);  // due time unchanged
  CHECK(f.engine->fire_due_timers().value() == 1);
  CHECK(f.journey_of("a").node == "pay");
  f.send("cart_updated", "b");  // new journeys again
  CHECK(f.engine->journeys_of_user("b").size() == 1);
}

TEST_CASE("resume with shifted timers moves each pending timer by the pause's length") {
  Fixture f;
  f.open();
  f.deploy(kCart);
  f.send("cart_updated", "a");  // due at T0 + 1h
  f.clock.set_ms(kT0 + 30 * 60'000);
  f.change(FlowState::kPaused);
  f.clock.set_ms(kT0 + 3 * kHour);  // paused for 2h30
  f.change(FlowState::kActive, HeldTimers::kShift);
  CHECK(f.journey_of("a").timer->due == kT0 + kHour + 150 * 60'000);
  CHECK(has_step(f.steps_of("a"), "resume", "timers moved 9000 s later"));
  CHECK(f.engine->fire_due_timers().value() == 0);
}

TEST_CASE("an awaited event during a pause is taken and the journey holds before its next node") {
  Fixture f;
  f.open();
  f.deploy(kCart);
  REQUIRE(f.engine->put_profile("a", R"({"phone": "+4700"})").ok());
  f.send("cart_updated", "a");
  f.clock.set_ms(kT0 + kHour);
  REQUIRE(f.engine->fire_due_timers().value() == 1);  // now waits for checkout at `pay`
  f.change(FlowState::kPaused);
  f.send("checkout", "a");
  JourneyRecord held = f.journey_of("a");
  CHECK(held.node == "thanks");
  CHECK(held.state == Lifecycle::kRunning);
  CHECK(f.engine->deliveries("a", "").empty());  // nothing sent while paused
  CHECK(has_step(f.steps_of("a"), "pause", "held before this step"));

  f.change(FlowState::kActive);
  CHECK(f.journey_of("a").state == Lifecycle::kCompleted);
  auto sent = f.engine->deliveries("a", "");
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].body == "thanks");
}

TEST_CASE("stop exits every live journey with the reason, and archive keeps it stopped") {
  Fixture f;
  f.open();
  f.deploy(kCart);
  for (const char* u : {"a", "b", "c"}) f.send("cart_updated", u);
  LifecycleOutcome stopped = f.change(FlowState::kStopped);
  CHECK(stopped.journeys == 3);
  for (const char* u : {"a", "b", "c"}) {
    CHECK(f.journey_of(u).state == Lifecycle::kExited);
    CHECK_FALSE(f.journey_of(u).timer.has_value());
    CHECK(has_step(f.steps_of(u), "stop", "flow stopped by ops: wrong coupon"));
  }
  f.send("cart_updated", "d");
  CHECK(f.engine->journeys_of_user("d").empty());
  CHECK(f.engine->totals("cart").live == 0);

  LifecycleRequest pause;
  pause.to = FlowState::kPaused;
  CHECK_FALSE(f.engine->change_flow_state("cart", pause).ok());  // a stopped flow is not paused
  CHECK(f.change(FlowState::kArchived).journeys == 0);
  f.open();
  CHECK(f.engine->flow("cart")->state == FlowState::kArchived);
  CHECK(f.engine->flow("cart")->state_by == "ops");
  f.change(FlowState::kActive);  // resume: journeys start again
  f.send("cart_updated", "d");
  CHECK(f.engine->journeys_of_user("d").size() == 1);
}

TEST_CASE("a stop cut short by a crash is finished when the engine opens") {
  Fixture f;
  f.open();
  f.deploy(kCart);
  f.send("cart_updated", "a");
  f.engine.reset();
  // The state row committed, the walk not yet run: what a kill between them leaves.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(f.dir.file("trellis.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "INSERT INTO flow_states(name, state, at, by, reason) "
                       "VALUES('cart', 'stopped', 1, 'ops', 'cut short')",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  f.open();
  CHECK(f.journey_of("a").state == Lifecycle::kExited);
  CHECK(has_step(f.steps_of("a"), "stop", "flow stopped by ops: cut short"));
}

TEST_CASE("every version keeps its text and who deployed it") {
  Fixture f;
  f.open();
  f.deploy(kCart, "alice");
  std::string second = kCart;
  second.replace(second.find("for: 1h"), 7, "for: 2h");
  f.deploy(second, "bob");
  f.open();
  auto history = f.engine->flow_history("cart");
  REQUIRE(history.size() == 2);
  CHECK(history[0].version == 1);
  CHECK(history[0].author == "alice");
  CHECK(history[1].author == "bob");
  CHECK(history[1].source.find("for: 2h") != std::string::npos);
}

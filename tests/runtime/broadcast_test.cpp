// Broadcasts on real SQLite files (docs/flows.md#broadcasts): a run walks the
// profiles in windows, each committed with its cursor; a run cut short (here
// by the pacing, then a reopen, as after a crash) resumes at the cursor, and a
// window applied again (its cursor lost) enters nobody twice; the next run of
// a recurring schedule is written when a run ends and survives a restart.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <map>

#include "flow_loader.h"
#include "runtime/broadcast.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;  // 2026-01-01T00:00:00Z
constexpr TimeMs kHour = 3'600'000;

const char* const kFlow = R"(flow: blast
trigger:
  schedule: "2026-01-01 10:00"
  every: day
  audience: user.vip == true
re_entry: always
start: text
nodes:
  text: {type: sms, text: "Hi", next: done}
  done: {type: exit}
)";

class Fixture {
 public:
  Fixture() : clock(kT0) {}

  Engine& open(double rate = 0, size_t window = 10) {
    engine.reset();
    EngineOptions options;
    options.store = trellis::runtime::store_factory(dir.file("trellis.db")).value();
    options.clock = &clock;
    options.parse_flow = testing::parse_stored_flow;
    options.adapter = "none";
    options.broadcast_entries_per_second = rate;
    options.broadcast_window = window;
    auto opened = Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(opened.value());
    return *engine;
  }

  void deploy(const std::string& yaml) {
    const std::string path = dir.file("flow.yaml");
    std::ofstream(path) << yaml;
    auto loaded = testing::load_checked_flow(path);
    INFO((loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    REQUIRE(engine->deploy(loaded->flow, loaded->source).ok());
  }

  // u00 .. u(n-1); every third one is not a VIP.
  int add_profiles(int n) {
    int vips = 0;
    for (int i = 0; i < n; ++i) {
      const bool vip = i % 3 != 2;
      vips += vip;
      char id[8];
      std::snprintf(id, sizeof id, "u%02d", i);
      REQUIRE(engine->put_profile(
          id, std::string("{\"phone\":\"+47\",\"vip\":") + (vip ? "true" : "false") + "}"));
    }
    return vips;
  }

  // Journeys of the flow per user.
  std::map<std::string, int> journeys_by_user(int n) {
    std::map<std::string, int> out;
    for (int i = 0; i < n; ++i) {
      char id[8];
      std::snprintf(id, sizeof id, "u%02d", i);
      for (const JourneyRecord& j : engine->journeys_of_user(id))
        if (j.flow == "blast") ++out[id];
    }
    return out;
  }

  void sql(const std::string& statement) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("trellis.db").c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }

  TempDir dir;
  VirtualClock clock;
  std::unique_ptr<Engine> engine;
};

}  // namespace

TEST_CASE("broadcast: a run cut short resumes at its cursor and enters every VIP once") {
  Fixture f;
  f.open(/*rate=*/25);
  const int vips = f.add_profiles(50);
  f.deploy(kFlow);
  REQUIRE(f.engine->broadcasts("blast").size() == 1);
  CHECK(f.engine->broadcasts("blast")[0].state == "scheduled");
  CHECK(f.engine->next_timer_due() == kT0 + 10 * kHour);

  f.clock.set_ms(kT0 + 10 * kHour);
  REQUIRE(f.engine->fire_due_timers().ok());
  // The pacing let 25 in: the run stopped inside a window, its cursor committed.
  BroadcastRecord cut = f.engine->broadcasts("blast").at(0);
  CHECK(cut.state == "running");
  CHECK(cut.entered == 25);
  CHECK(cut.total == 50);
  CHECK_FALSE(cut.cursor.empty());
  CHECK(f.engine->metrics().broadcast_entries == 25);

  // The process ends here (the committed state is all a SIGKILL would leave);
  // the next one resumes at the cursor.
  f.open();
  REQUIRE(f.engine->fire_due_timers().ok());
  std::vector<BroadcastRecord> runs = f.engine->broadcasts("blast");
  REQUIRE(runs.size() == 2);
  CHECK(runs[0].state == "done");
  CHECK(runs[0].entered == vips);
  CHECK(runs[0].walked == 50);
  CHECK(runs[0].started_at == kT0 + 10 * kHour);
  CHECK(runs[0].finished_at == kT0 + 10 * kHour);
  // The next run of the daily schedule is written already.
  CHECK(runs[1].run == "2026-01-02 10:00");
  CHECK(runs[1].state == "scheduled");
  CHECK(runs[1].due_at == kT0 + 34 * kHour);

  const std::map<std::string, int> once = f.journeys_by_user(50);
  CHECK(static_cast<int>(once.size()) == vips);
  for (const auto& [user, count] : once) {
    INFO(user);
    CHECK(count == 1);
  }
  CHECK(f.engine->deliveries("", "blast").size() == static_cast<size_t>(vips));

  // A window applied twice (as if its cursor had been lost): the run's journey
  // key makes a second entry impossible.
  f.engine.reset();
  f.sql(
      "UPDATE broadcasts SET state = 'running', cursor = '', passes = 0 WHERE run = "
      "'2026-01-01 10:00'");
  f.open();
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(f.journeys_by_user(50) == once);
  CHECK(f.engine->broadcasts("blast").at(0).state == "done");
  CHECK(f.engine->broadcasts("blast").at(0).entered == vips);

  // The next day's run, after a restart: every VIP again, once.
  f.open();
  f.clock.set_ms(kT0 + 34 * kHour);
  REQUIRE(f.engine->fire_due_timers().ok());
  for (const auto& [user, count] : f.journeys_by_user(50)) {
    INFO(user);
    CHECK(count == 2);
  }
  CHECK(f.engine->broadcasts("blast").size() == 3);
}

TEST_CASE("broadcast: a paused flow's run waits, a stopped flow's is cancelled") {
  Fixture f;
  f.open();
  f.add_profiles(6);
  f.deploy(kFlow);
  LifecycleRequest pause;
  pause.to = FlowState::kPaused;
  REQUIRE(f.engine->change_flow_state("blast", pause).ok());
  f.clock.set_ms(kT0 + 11 * kHour);
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(f.engine->broadcasts("blast").at(0).state == "scheduled");
  CHECK_FALSE(f.engine->next_timer_due().has_value());  // nothing spins while paused
  LifecycleRequest resume;
  resume.to = FlowState::kActive;
  REQUIRE(f.engine->change_flow_state("blast", resume).ok());
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(f.engine->broadcasts("blast").at(0).state == "done");
  CHECK(f.engine->broadcasts("blast").at(0).entered == 4);

  LifecycleRequest stop;
  stop.to = FlowState::kStopped;
  REQUIRE(f.engine->change_flow_state("blast", stop).ok());
  f.clock.set_ms(kT0 + 35 * kHour);
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(f.engine->broadcasts("blast").at(1).state == "cancelled");
  CHECK(f.engine->broadcasts("blast").at(1).entered == 0);
}

TEST_CASE("broadcast planning: first run, next run, skipped periods, new schedules") {
  ir::Trigger trigger;
  trigger.schedule = ir::Name{"2026-01-01 10:00", {}};
  trigger.every = ir::Name{"week", {}};
  auto first = next_broadcast("f", trigger, {}, kT0, "Europe/Berlin");
  REQUIRE(first);
  CHECK(first->run == "2026-01-01 10:00");
  CHECK(first->due_at == kT0 + 9 * kHour);  // 10:00 in Berlin is 09:00Z
  BroadcastRecord done = *first;
  done.state = "done";
  // A week later; after a long outage, the first week not wholly past.
  CHECK(next_broadcast("f", trigger, {done}, kT0, "UTC")->run == "2026-01-08 10:00");
  CHECK(next_broadcast("f", trigger, {done}, kT0 + 20 * 24 * kHour, "UTC")->run ==
        "2026-01-15 10:00");
  // A run under way is the next one; a one-off that ran has none.
  BroadcastRecord running = *first;
  running.state = "running";
  CHECK_FALSE(next_broadcast("f", trigger, {running}, kT0, "UTC"));
  trigger.every.reset();
  CHECK_FALSE(next_broadcast("f", trigger, {done}, kT0, "UTC"));
  // Redeployed with a later date: a new run.
  trigger.schedule = ir::Name{"2026-02-01 08:30", {}};
  CHECK(next_broadcast("f", trigger, {done}, kT0, "UTC")->run == "2026-02-01 08:30");
  // In users' own zones a run starts when the time first comes (UTC+14).
  trigger.in_user_time_zone = true;
  CHECK(next_broadcast("f", trigger, {}, kT0, "UTC")->due_at ==
        kT0 + 31 * 24 * kHour + 8 * kHour + 30 * 60'000 - 14 * kHour);
}

namespace {

// kFlow with another trigger block (the rest unchanged).
std::string with_trigger(const std::string& trigger) {
  return "flow: blast\n" + trigger + "re_entry: always\nstart: text\nnodes:\n" +
         "  text: {type: sms, text: \"Hi\", next: done}\n  done: {type: exit}\n";
}

// The runs of blast as "run state" lines, oldest first.
std::vector<std::string> run_states(Engine& engine) {
  std::vector<std::string> out;
  for (const BroadcastRecord& r : engine.broadcasts("blast")) out.push_back(r.run + " " + r.state);
  return out;
}

bool has_run(Engine& engine, const std::string& line) {
  const std::vector<std::string> runs = run_states(engine);
  return std::find(runs.begin(), runs.end(), line) != runs.end();
}

int journeys_of_flow(Fixture& f, int users) {
  int n = 0;
  for (const auto& [user, count] : f.journeys_by_user(users)) n += count;
  return n;
}

}  // namespace

TEST_CASE("broadcast redeploy: a run not yet started follows the newest schedule") {
  Fixture f;
  f.open();
  f.add_profiles(6);  // u00 u01 u03 u04 are VIPs
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 10:00\"\n  every: day\n"
                   "  audience: user.vip == true\n"));
  // Moved later the same day: the 10:00 run is withdrawn, 12:00 takes its place.
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 12:00\"\n  every: day\n"
                   "  audience: user.vip == true\n"));
  CHECK(run_states(*f.engine) ==
        std::vector<std::string>{"2026-01-01 10:00 withdrawn", "2026-01-01 12:00 scheduled"});
  CHECK(f.engine->next_timer_due() == kT0 + 12 * kHour);
  f.clock.set_ms(kT0 + 10 * kHour + 30 * 60'000);
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(journeys_of_flow(f, 6) == 0);  // nobody entered at the withdrawn time

  // Moved earlier than the pending run: the earlier time wins.
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 11:00\"\n  every: day\n"
                   "  audience: user.vip == true\n"));
  CHECK(run_states(*f.engine) == std::vector<std::string>{"2026-01-01 10:00 withdrawn",
                                                          "2026-01-01 11:00 scheduled",
                                                          "2026-01-01 12:00 withdrawn"});

  // Only the audience changed: the same run stays, and enters the new audience.
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 11:00\"\n  every: day\n"
                   "  audience: user.vip == false\n"));
  CHECK(f.engine->broadcasts("blast").at(1).state == "scheduled");
  f.clock.set_ms(kT0 + 11 * kHour);
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(f.journeys_by_user(6) == std::map<std::string, int>{{"u02", 1}, {"u05", 1}});
  CHECK(run_states(*f.engine) ==
        std::vector<std::string>{"2026-01-01 10:00 withdrawn", "2026-01-01 11:00 done",
                                 "2026-01-01 12:00 withdrawn", "2026-01-02 11:00 scheduled"});

  // Weekly instead of daily: tomorrow's run is withdrawn, next week's planned.
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 11:00\"\n  every: week\n"
                   "  audience: user.vip == false\n"));
  CHECK(has_run(*f.engine, "2026-01-08 11:00 scheduled"));
  CHECK(has_run(*f.engine, "2026-01-02 11:00 withdrawn"));

  // The time of day moved: the series goes on at the new time, from the last run.
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 09:30\"\n  every: week\n"
                   "  audience: user.vip == false\n"));
  CHECK(has_run(*f.engine, "2026-01-08 09:30 scheduled"));
  CHECK(has_run(*f.engine, "2026-01-08 11:00 withdrawn"));

  // The schedule removed: nothing is pending any more.
  f.deploy(with_trigger("trigger: { event: signup }\n"));
  for (const BroadcastRecord& r : f.engine->broadcasts("blast")) {
    INFO(r.run);
    CHECK((r.state == "withdrawn" || r.state == "done"));
  }
  CHECK_FALSE(f.engine->next_timer_due().has_value());

  // And put back: the withdrawn run is planned again, and it runs.
  f.deploy(
      with_trigger("trigger:\n  schedule: \"2026-01-01 09:30\"\n  every: week\n"
                   "  audience: user.vip == false\n"));
  CHECK(has_run(*f.engine, "2026-01-08 09:30 scheduled"));
  f.clock.set_ms(kT0 + 7 * 24 * kHour + 9 * kHour + 30 * 60'000);
  REQUIRE(f.engine->fire_due_timers().ok());
  CHECK(f.journeys_by_user(6) == std::map<std::string, int>{{"u02", 2}, {"u05", 2}});
}

TEST_CASE("broadcast redeploy: a run under way goes on with the newest version, or is cancelled") {
  Fixture f;
  f.open(/*rate=*/3);
  f.add_profiles(6);
  f.deploy(kFlow);
  f.clock.set_ms(kT0 + 10 * kHour);
  REQUIRE(f.engine->fire_due_timers().ok());
  REQUIRE(f.engine->broadcasts("blast").at(0).state == "running");
  CHECK(f.journeys_by_user(6) == std::map<std::string, int>{{"u00", 1}, {"u01", 1}, {"u03", 1}});

  SECTION("a new date and audience: the rest of the run takes the new audience") {
    f.deploy(
        with_trigger("trigger:\n  schedule: \"2026-01-05 10:00\"\n"
                     "  audience: user.vip == false\n"));
    CHECK(run_states(*f.engine) ==
          std::vector<std::string>{"2026-01-01 10:00 running", "2026-01-05 10:00 scheduled"});
    f.open();  // no pacing
    REQUIRE(f.engine->fire_due_timers().ok());
    // u04 (a VIP, not in the new audience) is skipped; u05 enters.
    CHECK(f.journeys_by_user(6) ==
          std::map<std::string, int>{{"u00", 1}, {"u01", 1}, {"u03", 1}, {"u05", 1}});
    CHECK(run_states(*f.engine) ==
          std::vector<std::string>{"2026-01-01 10:00 done", "2026-01-05 10:00 scheduled"});
    CHECK(f.engine->broadcasts("blast").at(0).entered == 4);
  }
  SECTION("the schedule removed: the run stops where it stands") {
    f.deploy(with_trigger("trigger: { event: signup }\n"));
    CHECK(run_states(*f.engine) == std::vector<std::string>{"2026-01-01 10:00 cancelled"});
    f.open();
    REQUIRE(f.engine->fire_due_timers().ok());
    CHECK(f.journeys_by_user(6) == std::map<std::string, int>{{"u00", 1}, {"u01", 1}, {"u03", 1}});
    CHECK(f.engine->broadcasts("blast").at(0).entered == 3);
    CHECK(f.engine->broadcasts("blast").at(0).finished_at == kT0 + 10 * kHour);
  }
}

TEST_CASE("broadcast replanning: what a redeploy writes") {
  ir::Trigger trigger;
  trigger.schedule = ir::Name{"2026-01-01 10:00", {}};
  trigger.every = ir::Name{"day", {}};
  BroadcastRecord done = *next_broadcast("f", trigger, {}, kT0, "UTC");
  done.state = "done";
  BroadcastRecord pending = *next_broadcast("f", trigger, {done}, kT0, "UTC");
  REQUIRE(pending.run == "2026-01-02 10:00");

  // The same trigger: nothing to write.
  CHECK(replan_broadcasts("f", trigger, {done, pending}, kT0, "UTC").empty());
  // In users' own time zones: the same run, due earlier.
  trigger.in_user_time_zone = true;
  std::vector<BroadcastRecord> out = replan_broadcasts("f", trigger, {done, pending}, kT0, "UTC");
  REQUIRE(out.size() == 1);
  CHECK(out[0].run == "2026-01-02 10:00");
  CHECK(out[0].state == "scheduled");
  CHECK(out[0].due_at == pending.due_at - 14 * kHour);
  trigger.in_user_time_zone = false;
  // Another time of day: the pending run is withdrawn, the new one added.
  trigger.schedule = ir::Name{"2026-01-01 08:00", {}};
  out = replan_broadcasts("f", trigger, {done, pending}, kT0, "UTC");
  REQUIRE(out.size() == 2);
  CHECK(out[0].run == "2026-01-02 10:00");
  CHECK(out[0].state == "withdrawn");
  CHECK(out[0].finished_at == kT0);
  CHECK(out[1].run == "2026-01-02 08:00");
  CHECK(out[1].state == "scheduled");
  // A withdrawn run is no run of the series: the next is planned past it.
  CHECK(next_broadcast("f", trigger, {done, out[0]}, kT0, "UTC")->run == "2026-01-02 08:00");
  // No schedule: pending runs withdrawn, a running one cancelled, done ones left.
  BroadcastRecord running = pending;
  running.run = "2026-01-01 12:00";
  running.state = "running";
  out = replan_broadcasts("f", ir::Trigger{}, {done, pending, running}, kT0, "UTC");
  REQUIRE(out.size() == 2);
  CHECK(out[0].state == "withdrawn");
  CHECK(out[1].run == "2026-01-01 12:00");
  CHECK(out[1].state == "cancelled");
  // A run under way is left alone by a new schedule.
  trigger.schedule = ir::Name{"2026-02-01 10:00", {}};
  out = replan_broadcasts("f", trigger, {done, running}, kT0, "UTC");
  REQUIRE(out.size() == 1);
  CHECK(out[0].run == "2026-02-01 10:00");
}

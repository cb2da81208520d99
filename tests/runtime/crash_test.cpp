// CRASH TEST (issue 3): a child process runs the runtime on a database file
// while events and timers flow; we SIGKILL it at random points many times,
// restart it, and prove against an uninterrupted in-process reference run that
// every acknowledged event was durable, every event applied once, every due
// timer fired once, no delivery was lost or written twice, and no message held
// by caps or quiet hours was lost or released twice.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "crash/crash_script.h"
#include "postgres/pg_cluster.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using trellis::testing::TempDir;

namespace {

const std::string kFlow = std::string(TRELLIS_TEST_DIR) + "/crash/crash_flow.yaml";

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) lines.push_back(line);
  return lines;
}

// Opens the store a run wrote (a SQLite file or a PostgreSQL URL).
std::unique_ptr<runtime::Store> open_store(const std::string& db) {
  auto factory = runtime::store_factory(db);
  REQUIRE(factory.ok());
  auto store = factory.value()();
  REQUIRE(store.ok());
  return std::move(store.value());
}

// Every acknowledged id must be in the dedupe set: acknowledged means durable.
// Asked through the store, in a transaction that is rolled back: an id not
// seen before is one that was acknowledged but lost.
size_t missing_acked(const std::string& db, const std::string& acked_path) {
  auto store = open_store(db);
  REQUIRE(store->begin().ok());
  size_t missing = 0;
  for (const std::string& id : read_lines(acked_path)) {
    auto fresh = store->mark_event_seen(id, 0);
    REQUIRE(fresh.ok());
    if (fresh.value()) ++missing;
  }
  store->rollback();
  return missing;
}

uintmax_t file_size(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Deliveries deferred now (held by caps or quiet hours).
int64_t deferred_now(const std::string& db) {
  auto store = open_store(db);
  REQUIRE(store->begin().ok());
  auto deferred = store->due_deferred(INT64_MAX, 1'000'000);
  store->rollback();
  return deferred.ok() ? static_cast<int64_t>(deferred.value().size()) : 0;
}

struct Snapshot {
  std::vector<std::string> deliveries;  // every field that matters, in outbox order
  size_t sent = 0;                      // deliveries the adapter took
  size_t deferred_left = 0;             // still deferred at the end
  size_t released_late = 0;             // released after a deferral
  size_t releases = 0;                  // "release" steps in the journeys' histories
  std::vector<std::string> journeys;    // with their full step history
  int64_t pending_timers = 0;
  // Journey ids by a name that does not depend on how ids were handed out
  // (PostgreSQL nodes take them in blocks, so a restarted run skips some):
  // "<user>#<n>", the user's n-th journey.
  std::map<int64_t, std::string> names;
  std::vector<std::string> rollups;  // every rollup row through the store (docs/results.md)
  int64_t conversions = 0;

  // A delivery key ("<journey id>:<node>:<visit>") with the journey's name.
  std::string named_key(const std::string& key) const {
    const size_t colon = key.find(':');
    auto it = names.find(std::atoll(key.substr(0, colon).c_str()));
    return (it == names.end() ? "?" : it->second) + key.substr(colon);
  }
};

// Every rollup row of the crash flow, as text in a stable order: all-time and
// hourly sums, arrows, messages by status (through the store contract).
std::vector<std::string> rollup_rows(runtime::Store& s) {
  std::vector<std::string> out;
  auto key = [](const runtime::RollupRow& r) {
    return std::to_string(r.key.hour) + "|" + std::to_string(r.key.version) + "|" + r.key.node +
           "|" + r.key.variant + "|" + std::to_string(r.counts.entered) + "|" +
           std::to_string(r.counts.exited) + "|" + std::to_string(r.counts.converted) + "|" +
           std::to_string(r.counts.revenue);
  };
  for (const auto& r : s.rollup_totals("crash")) out.push_back("total|" + key(r));
  for (const auto& r : s.rollup_hours("crash", 0, INT64_MAX)) out.push_back("hour|" + key(r));
  for (const auto& e : s.rollup_edges("crash"))
    out.push_back("edge|" + std::to_string(e.key.version) + "|" + e.key.from + "|" + e.key.to +
                  "|" + std::to_string(e.journeys));
  for (bool all_time : {true, false})
    for (const auto& m : s.message_rollups("crash", all_time, 0, INT64_MAX))
      out.push_back("message|" + std::to_string(m.hour) + "|" + std::to_string(m.version) + "|" +
                    m.node + "|" + m.channel + "|" + m.variant + "|" + std::to_string(m.status) +
                    "|" + std::to_string(m.messages) + "|" + std::to_string(m.delivered));
  std::sort(out.begin(), out.end());
  return out;
}

Snapshot snapshot(const std::string& db) {
  auto store = open_store(db);
  runtime::Store& s = *store;
  Snapshot out;
  for (int u = 0; u < crash::kUsers; ++u) {
    const std::string user = "u" + std::to_string(u);
    int n = 0;
    for (const auto& j : s.journeys_of(user, ""))
      out.names[j.id] = user + "#" + std::to_string(n++);
  }
  for (const auto& d : s.deliveries("", "", 1'000'000)) {
    out.deliveries.push_back(out.named_key(d.key) + "|" + d.channel + "|" + d.user_id + "|" +
                             d.node + "|" + std::to_string(d.at) + "|" + d.to + "|" + d.subject +
                             "|" + d.body + "|" + std::to_string(static_cast<int>(d.status)) + "|" +
                             std::to_string(d.release_at) + "|" + d.last_error);
    if (d.status == runtime::DeliveryStatus::kSent) ++out.sent;
    if (d.status == runtime::DeliveryStatus::kDeferred) ++out.deferred_left;
    if (d.release_at > d.at) ++out.released_late;
  }
  for (int u = 0; u < crash::kUsers; ++u) {
    for (const auto& j : s.journeys_of("u" + std::to_string(u), "")) {
      std::string line = out.names[j.id] + "|" + j.user_id + "|" +
                         std::string(runtime::lifecycle_name(j.state)) + "|" + j.node + "|" +
                         j.visits + "|" + std::to_string(j.converted_at.value_or(-1));
      for (const auto& step : s.steps(j.id)) {
        line += "\n  " + step.node + "|" + step.input + "|" + std::to_string(step.at) + "|" +
                step.reason;
        if (step.input == "release") ++out.releases;
      }
      out.journeys.push_back(line);
    }
  }
  out.pending_timers = s.pending_timer_count();
  out.conversions = s.counts("crash").conversions;
  out.rollups = rollup_rows(s);
  return out;
}

pid_t spawn_child(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// The crash test on one store: `reference_db` for the uninterrupted run,
// `crash_db` for the one killed again and again (SQLite files or PostgreSQL URLs).
void crash_test(const std::string& reference_db, const std::string& crash_db) {
  TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(crash::run_script(kFlow, reference_db, dir.file("ref.jsonl"), "") == 0);
  const auto reference_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();

  const std::vector<std::string> args = {TRELLIS_CRASH_CHILD, kFlow, crash_db,
                                         dir.file("crash.jsonl"), dir.file("acked.txt")};
  std::mt19937 rng(7);
  constexpr int kKills = 25;
  int kills = 0;
  int kills_while_deferred = 0;  // kills that found messages held by caps or quiet hours
  bool finished = false;
  for (int run = 0; run < 200 && !finished; ++run) {
    const uintmax_t acked_before = file_size(dir.file("acked.txt"));
    const pid_t pid = spawn_child(args);
    REQUIRE(pid > 0);
    int status = 0;
    pid_t done = 0;
    // Every other run is killed as soon as it has acknowledged new events: on a
    // quiet machine the random kills below often land while a restarted child
    // replays its prefix, and the workload must also die in its middle, while
    // messages are deferred. These kills do not depend on how fast the machine
    // is, so a loaded box still gets its kills.
    const bool kill_on_progress = run % 2 == 1 && kills < kKills;
    if (kill_on_progress) {
      const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while ((done = waitpid(pid, &status, WNOHANG)) == 0 &&
             file_size(dir.file("acked.txt")) == acked_before &&
             std::chrono::steady_clock::now() < limit)
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    // Kill within a sixth of a reference run's time, so that most runs die
    // (a restart replays its prefix quickly, then makes progress); after kKills
    // kills, let it finish.
    const long window = std::max<long>(5, static_cast<long>(reference_ms) / 6);
    const long wait_ms = kill_on_progress ? 0 : kills < kKills ? 1 + rng() % window : 60'000;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
    while (done == 0 && (done = waitpid(pid, &status, WNOHANG)) == 0 &&
           std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (done == pid) {
      REQUIRE(WIFEXITED(status));
      REQUIRE(WEXITSTATUS(status) == 0);
      finished = true;
      break;
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    ++kills;
    // Acknowledged means durable: check after every crash.
    REQUIRE(missing_acked(crash_db, dir.file("acked.txt")) == 0);
    if (deferred_now(crash_db) > 0) ++kills_while_deferred;
  }
  REQUIRE(finished);
  // A restarted child may finish before every planned kill (usually 25 land;
  // the fewest seen was 10); five is a floor that a loaded CI box still meets.
  CHECK(kills >= 5);
  // Coverage, not durability: on a quiet machine several kills find messages
  // held back (5 to 13 of 25), but on a loaded one all 25 kills may land before
  // the workload defers anything, so this is reported, not asserted. Durability
  // is asserted after every kill and by the comparison with the reference below.
  if (kills_while_deferred == 0) WARN("no kill found messages deferred this time");
  std::printf("crash test: %d kills (%d with messages deferred), %ld ms reference run\n", kills,
              kills_while_deferred, static_cast<long>(reference_ms));

  const Snapshot reference = snapshot(reference_db);
  const Snapshot crashed = snapshot(crash_db);
  REQUIRE(reference.deliveries.size() > 100);  // the workload really delivers
  REQUIRE(reference.journeys.size() > 500);
  CHECK(crashed.pending_timers == 0);
  CHECK(reference.pending_timers == 0);
  CHECK(crashed.journeys == reference.journeys);
  // Results: the rollups written with the steps equal the reference's, row for
  // row (hourly, all time, arrows, messages): nothing lost or counted twice.
  REQUIRE(reference.conversions > 20);
  CHECK(crashed.rollups == reference.rollups);
  CHECK(crashed.deliveries == reference.deliveries);
  // Governed delivery: the workload really defers; after recovery nothing
  // deferred is lost (none left, each released or dropped as in the
  // reference) and nothing is released twice (the same release steps).
  REQUIRE(reference.released_late > 20);
  CHECK(reference.deferred_left == 0);
  CHECK(crashed.deferred_left == 0);
  CHECK(crashed.released_late == reference.released_late);
  CHECK(crashed.releases == reference.releases);

  // The adapter's file: each key exactly once, and the same keys as the reference.
  std::multiset<std::string> keys, reference_keys;
  for (const auto& line : read_lines(dir.file("crash.jsonl")))
    keys.insert(crashed.named_key(nlohmann::json::parse(line).at("key").get<std::string>()));
  for (const auto& line : read_lines(dir.file("ref.jsonl")))
    reference_keys.insert(
        reference.named_key(nlohmann::json::parse(line).at("key").get<std::string>()));
  CHECK(keys.size() == reference.sent);
  CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
  CHECK(keys == reference_keys);
  CHECK(read_lines(dir.file("acked.txt")).size() >=
        static_cast<size_t>(crash::kTicks * crash::kEventsPerTick));
}

}  // namespace

TEST_CASE("crash test: SIGKILL at random points loses nothing and doubles nothing") {
  TempDir dir;
  crash_test(dir.file("ref.db"), dir.file("crash.db"));
}

TEST_CASE("crash test on PostgreSQL: SIGKILL at random points loses nothing and doubles nothing",
          "[.postgres]") {
  auto& cluster = testing::PgCluster::shared();
  crash_test(cluster.fresh_url(), cluster.fresh_url());
}

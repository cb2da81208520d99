// CRASH TEST (issue 3): a child process runs the runtime on a database file
// while events and timers flow; we SIGKILL it at random points many times,
// restart it, and prove against an uninterrupted in-process reference run that
// every acknowledged event was durable, every event applied once, every due
// timer fired once, no delivery was lost or written twice, and no message held
// by caps or quiet hours was lost or released twice.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "crash/crash_script.h"
#include "runtime/sqlite/sqlite_store.h"
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

// Every acknowledged id must be in the dedupe table: acknowledged means durable.
size_t missing_acked(const std::string& db_path, const std::string& acked_path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT 1 FROM events_seen WHERE id = ?", -1, &stmt, nullptr) !=
          SQLITE_OK) {
    // Killed before the database or its schema existed: nothing can be acknowledged.
    sqlite3_close(db);
    return read_lines(acked_path).size();
  }
  size_t missing = 0;
  for (const std::string& id : read_lines(acked_path)) {
    sqlite3_bind_text(stmt, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    if (sqlite3_step(stmt) != SQLITE_ROW) ++missing;
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return missing;
}

uintmax_t file_size(const std::string& path) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  return error ? 0 : size;
}

// Deliveries deferred now (status 3) in a database file; 0 when it cannot be read yet.
int64_t deferred_now(const std::string& db_path) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  int64_t count = 0;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK &&
      sqlite3_prepare_v2(db, "SELECT count(*) FROM deliveries WHERE status = 3", -1, &stmt,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW)
    count = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return count;
}

struct Snapshot {
  std::vector<std::string> deliveries;  // every field that matters, in outbox order
  size_t sent = 0;                      // deliveries the adapter took
  size_t deferred_left = 0;             // still deferred at the end
  size_t released_late = 0;             // released after a deferral
  size_t releases = 0;                  // "release" steps in the journeys' histories
  std::vector<std::string> journeys;    // with their full step history
  int64_t pending_timers = 0;
};

Snapshot snapshot(const std::string& db_path) {
  auto store = runtime::open_sqlite_store({db_path});
  REQUIRE(store.ok());
  runtime::Store& s = *store.value();
  Snapshot out;
  for (const auto& d : s.deliveries("", "", 1'000'000)) {
    out.deliveries.push_back(d.key + "|" + d.channel + "|" + d.user_id + "|" + d.node + "|" +
                             std::to_string(d.at) + "|" + d.to + "|" + d.subject + "|" + d.body +
                             "|" + std::to_string(static_cast<int>(d.status)) + "|" +
                             std::to_string(d.release_at) + "|" + d.last_error);
    if (d.status == runtime::DeliveryStatus::kSent) ++out.sent;
    if (d.status == runtime::DeliveryStatus::kDeferred) ++out.deferred_left;
    if (d.release_at > d.at) ++out.released_late;
  }
  for (int u = 0; u < crash::kUsers; ++u) {
    for (const auto& j : s.journeys_of("u" + std::to_string(u), "")) {
      std::string line = std::to_string(j.id) + "|" + j.user_id + "|" +
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

}  // namespace

TEST_CASE("crash test: SIGKILL at random points loses nothing and doubles nothing") {
  TempDir dir;
  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(crash::run_script(kFlow, dir.file("ref.db"), dir.file("ref.jsonl"), "") == 0);
  const auto reference_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();

  const std::vector<std::string> args = {TRELLIS_CRASH_CHILD, kFlow, dir.file("crash.db"),
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
    REQUIRE(missing_acked(dir.file("crash.db"), dir.file("acked.txt")) == 0);
    if (deferred_now(dir.file("crash.db")) > 0) ++kills_while_deferred;
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

  const Snapshot reference = snapshot(dir.file("ref.db"));
  const Snapshot crashed = snapshot(dir.file("crash.db"));
  REQUIRE(reference.deliveries.size() > 100);  // the workload really delivers
  REQUIRE(reference.journeys.size() > 500);
  CHECK(crashed.pending_timers == 0);
  CHECK(reference.pending_timers == 0);
  CHECK(crashed.journeys == reference.journeys);
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
    keys.insert(nlohmann::json::parse(line).at("key").get<std::string>());
  for (const auto& line : read_lines(dir.file("ref.jsonl")))
    reference_keys.insert(nlohmann::json::parse(line).at("key").get<std::string>());
  CHECK(keys.size() == reference.sent);
  CHECK(std::set<std::string>(keys.begin(), keys.end()).size() == keys.size());
  CHECK(keys == reference_keys);
  CHECK(read_lines(dir.file("acked.txt")).size() >=
        static_cast<size_t>(crash::kTicks * crash::kEventsPerTick));
}

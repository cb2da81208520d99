// Flow results benchmarks (figures in docs/benchmarks.md, "Flow results").
//
//   results_bench ingest DIR USERS ROUNDS   ingest cost with and without rollups, side by side
//   results_bench stats DB USERS            stats latency over USERS journeys + a year of rollups
//
// `ingest` runs ROUNDS rounds; each ingests USERS signups (and an order for
// every fifth user) on bench/results_flow.yaml into a fresh database twice:
// once as shipped, once with rollups off (EngineOptions::rollups false and the
// message rollup triggers dropped), alternating which goes first. It prints
// each run's events per second and CPU seconds per event, and the medians.
//
// `stats` runs 10,000 users through the engine as `ingest` does, adds USERS
// more journeys with SQL (rows as the engine writes them, half waiting, half
// completed, with their journey counters: writing them through
// the engine would take most of an hour on a loaded 2-core box, and the
// stats read no journey row), then a year of hourly rollups before them
// (every hour, every node, both variants, messages by status), and times what
// GET /v1/flows/{name}/stats computes (Engine::stats and Engine::results):
// plain, with a 30-day hourly series and with a year by day in Europe/Berlin;
// 200 calls each, p50 and p99.
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

using namespace trellis;
using namespace trellis::runtime;
using Clock_ = std::chrono::steady_clock;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;  // 2026-01-01
const std::string kFlowFile = std::string(TRELLIS_SOURCE_ROOT) + "/bench/results_flow.yaml";

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow does not load"};
  return std::move(*r.flow);
}

std::unique_ptr<Engine> open(const std::string& db, Clock* clock, bool rollups) {
  EngineOptions options;
  options.store = store_factory(db).value();
  options.clock = clock;
  options.parse_flow = parse_flow;
  options.adapter = "none";
  options.max_batch = 8192;
  options.rollups = rollups;
  auto engine = Engine::open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.error().message.c_str());
    std::exit(1);
  }
  dsl::LoadResult flow = dsl::load_flow_file(kFlowFile);
  if (!flow.ok() || !engine.value()->deploy(*flow.flow, flow.source).ok()) {
    std::fprintf(stderr, "cannot deploy %s\n", kFlowFile.c_str());
    std::exit(1);
  }
  return std::move(engine.value());
}

void exec(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  char* error = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s\n", error ? error : sqlite3_errmsg(db));
    std::exit(1);
  }
  sqlite3_close(db);
}

Event event(const std::string& id, const char* type, long user, const std::string& properties) {
  Event e;
  e.id = id;
  e.type = type;
  e.user_id = "u" + std::to_string(user);
  e.properties_json = properties;
  if (std::string(type) == "identify") e.form = EventForm::kSegmentIdentify;
  return e;
}

void ingest_all(Engine& engine, std::vector<Event>& events) {
  constexpr size_t kBatch = 500;  // events per ingest call, like one HTTP batch
  for (size_t at = 0; at < events.size(); at += kBatch) {
    std::vector<Event> batch(events.begin() + static_cast<long>(at),
                             events.begin() + static_cast<long>(std::min(events.size(), at + kBatch)));
    if (!engine.ingest(std::move(batch)).ok()) std::abort();
  }
}

std::vector<Event> profiles(long users) {
  std::vector<Event> out;
  for (long i = 0; i < users; ++i)
    out.push_back(event("p" + std::to_string(i), "identify", i,
                        "{\"phone\":\"+3361" + std::to_string(1000000 + i) + "\"}"));
  return out;
}

std::vector<Event> workload(long users) {
  std::vector<Event> out;
  for (long i = 0; i < users; ++i) {
    out.push_back(event("s" + std::to_string(i), "signup", i, "{}"));
    if (i % 5 == 0) out.push_back(event("o" + std::to_string(i), "order_paid", i, "{\"revenue\":25}"));
  }
  return out;
}

struct Run {
  double events_per_s = 0, cpu_us_per_event = 0;
};

Run ingest_run(const std::string& db, long users, bool rollups) {
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  VirtualClock clock(kT0);
  if (!rollups) {
    open(db, &clock, true).reset();  // creates the schema; then the triggers go
    exec(db, "DROP TRIGGER message_rollups_status; DROP TRIGGER message_rollups_feedback;");
  }
  auto engine = open(db, &clock, rollups);
  std::vector<Event> setup = profiles(users);
  ingest_all(*engine, setup);
  std::vector<Event> events = workload(users);
  const double n = static_cast<double>(events.size());
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock_::now();
  ingest_all(*engine, events);
  const double secs = std::chrono::duration<double>(Clock_::now() - t0).count();
  return {n / secs, (cpu_seconds() - cpu0) / n * 1e6};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int bench_ingest(const std::string& dir, long users, int rounds) {
  std::vector<double> with_rate, without_rate, with_cpu, without_cpu;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 2; ++k) {
      const bool rollups = (r + k) % 2 == 0;  // alternate which goes first
      const Run run = ingest_run(dir + "/ingest.db", users, rollups);
      std::printf("round %d %-16s %8.0f events/s %6.1f CPU us/event\n", r + 1,
                  rollups ? "with rollups" : "without rollups", run.events_per_s,
                  run.cpu_us_per_event);
      (rollups ? with_rate : without_rate).push_back(run.events_per_s);
      (rollups ? with_cpu : without_cpu).push_back(run.cpu_us_per_event);
    }
  }
  const double cpu_with = median(with_cpu), cpu_without = median(without_cpu);
  std::printf("ingest medians: with rollups %.0f events/s, %.1f CPU us/event; without %.0f "
              "events/s, %.1f CPU us/event; rollups add %.1f%% CPU per event, %.1f%% wall\n",
              median(with_rate), cpu_with, median(without_rate), cpu_without,
              (cpu_with / cpu_without - 1) * 100, (median(without_rate) / median(with_rate) - 1) * 100);
  return 0;
}

// A year of hourly rollups before kT0 for the bench flow: the flow's row and
// each node's, for both variants, and the SMS nodes' messages by status.
void add_year_of_rollups(const std::string& db) {
  std::string sql = "BEGIN;";
  const char* nodes[] = {"pick", "text_a", "text_b", "wait", "done"};
  constexpr TimeMs kHour = 3600 * 1000;
  for (int h = 1; h <= 365 * 24; ++h) {
    const std::string hour = std::to_string(kT0 - h * kHour);
    for (const char* v : {"pick=a", "pick=b"}) {
      const std::string prefix = "INSERT INTO rollups VALUES('results_bench'," + hour + ",1,'";
      sql += prefix + "','" + v + "',12,11,3,75.0,1875.0);";
      for (const char* n : nodes) sql += prefix + n + "','" + v + "',12,2,1,25.0,625.0);";
      for (int status : {1, 4})
        sql += "INSERT INTO message_rollups VALUES('results_bench'," + hour + ",1,'text_" +
               std::string(v + 5) + "','sms','" + v + "'," + std::to_string(status) +
               ",6,0,0,0,0,0);";
    }
  }
  exec(db, sql + "COMMIT;");
}

void report(const char* what, std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  std::printf("stats %-28s p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms (%zu calls)\n", what,
              ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back(), ms.size());
}

int bench_stats(const std::string& db, long users) {
  VirtualClock clock(kT0);
  if (!std::filesystem::exists(db)) {
    {
      auto engine = open(db, &clock, true);
      std::vector<Event> setup = profiles(10000);
      ingest_all(*engine, setup);
      std::vector<Event> events = workload(10000);
      ingest_all(*engine, events);
    }
    exec(db, "WITH RECURSIVE n(i) AS (SELECT 1000000 UNION ALL SELECT i + 1 FROM n WHERE i < " +
                 std::to_string(1000000 + users - 1) +
                 ") INSERT INTO journeys(id, flow, version, user_id, key, state, node, "
                 "waiting_for, visits, coupon_code, variant, trigger_event, last_event, steps, "
                 "entered_at, updated_at, ended_at, converted_at, history, history_seq) "
                 "SELECT i, 'results_bench', 1, 'x' || i, '', CASE i % 2 WHEN 0 THEN 2 ELSE 4 END, "
                 "CASE i % 2 WHEN 0 THEN 'wait' ELSE 'done' END, '', "
                 "'pick=1;text_a=1;wait=1', '', CASE i % 4 WHEN 0 THEN 'pick=a' WHEN 2 THEN "
                 "'pick=a' ELSE 'pick=b' END, '{}', '{}', 4, " +
                 std::to_string(kT0 - 3600000) + ", " + std::to_string(kT0 - 3600000) +
                 ", NULL, CASE i % 5 WHEN 0 THEN " + std::to_string(kT0) +
                 " END, '[]', 0 FROM n;"
                 // The writer keeps the journey counters; rows written by SQL add theirs here.
                 "INSERT INTO journey_counts SELECT flow, node, state, count(*), "
                 "count(converted_at), count(timer_due) FROM journeys WHERE id >= 1000000 "
                 "GROUP BY 1, 2, 3 ON CONFLICT DO UPDATE SET journeys = journeys + "
                 "excluded.journeys, conversions = conversions + excluded.conversions, "
                 "timers = timers + excluded.timers");
    add_year_of_rollups(db);
  }
  auto engine = open(db, &clock, true);
  std::printf("stats: %lld journeys in the store, %.1f MB\n",
              static_cast<long long>(engine->totals("results_bench").journeys),
              std::filesystem::file_size(db) / 1e6);
  SeriesQuery month{kT0 - 30LL * 24 * 3600 * 1000, kT0 + 3600 * 1000, false, "UTC"};
  SeriesQuery year{kT0 - 365LL * 24 * 3600 * 1000, kT0 + 3600 * 1000, true, "Europe/Berlin"};
  for (const auto& [name, series] :
       {std::pair{"plain", std::optional<SeriesQuery>()}, std::pair{"30 days by hour", std::optional(month)},
        std::pair{"a year by day (Berlin)", std::optional(year)}}) {
    std::vector<double> ms;
    for (int i = 0; i < 200; ++i) {
      const auto t0 = Clock_::now();
      auto counts = engine->stats("results_bench");
      auto results = engine->results("results_bench", series);
      if (!counts.ok() || !results.ok()) return 1;
      ms.push_back(std::chrono::duration<double, std::milli>(Clock_::now() - t0).count());
    }
    report(name, ms);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 4 && a[0] == "ingest") return bench_ingest(a[1], std::stol(a[2]), std::stoi(a[3]));
  if (a.size() == 3 && a[0] == "stats") return bench_stats(a[1], std::stol(a[2]));
  std::fprintf(stderr,
               "usage: results_bench ingest DIR USERS ROUNDS | results_bench stats DB USERS\n");
  return 2;
}

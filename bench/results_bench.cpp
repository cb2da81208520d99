// Flow results benchmarks (figures in docs/benchmarks.md, "Flow results").
//
//   results_bench ingest DIR USERS ROUNDS   ingest cost with and without rollups, side by side
//   results_bench stats DB USERS            stats latency over USERS journeys + a year of rollups
//   results_bench http DB USERS REQUESTS    the same store, GET /v1/flows/{name}/stats over HTTP
//
// DB is a SQLite file or a postgresql:// URL (stats, http).
//
// `ingest` runs ROUNDS rounds; each ingests USERS signups (and an order for
// every fifth user) on bench/results_flow.yaml into a fresh database twice:
// once as shipped, once with rollups off (EngineOptions::rollups false and the
// message rollup triggers dropped), alternating which goes first. It prints
// each run's events per second and CPU seconds per event, and the medians.
//
// `stats` runs 10,000 users through the engine as `ingest` does, adds USERS
// more journeys with SQL (rows as the engine writes them, half waiting, half
// completed, with SQLite's journey counters: writing them through the engine
// would take most of an hour on a loaded 2-core box), then a year of hourly
// rollups before them (every hour, every node, both variants, messages by
// status), and times what GET /v1/flows/{name}/stats computes (Engine::stats
// and Engine::results): plain, with a 30-day hourly series and with a year by
// day in Europe/Berlin; 200 calls each: wall p50, p99 and max, and the
// process's CPU time per call (on a shared machine the steadier measure).
//
// `http` fills the store the same way, runs the service on it in-process as
// `serve` does, and times REQUESTS GET /v1/flows/results_bench/stats over
// loopback HTTP, a mix of ranges (a day to 400 days, at random ends within the
// year), buckets (hour, day) and time zones, plus the plain stats: the same
// figures per kind and overall.
#include <httplib.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "api/service.h"
#include "bench/in_process_service.h"
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

bool is_postgres(const std::string& db) { return db.rfind("postgres", 0) == 0; }

// Runs a script on the store's database: a SQLite file or a PostgreSQL URL.
void exec(const std::string& db, const std::string& sql) {
  if (is_postgres(db)) {
    PGconn* conn = PQconnectdb(db.c_str());
    PGresult* r = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, sql.c_str()) : nullptr;
    const bool ok =
        r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
    if (!ok) {
      std::fprintf(stderr, "postgresql: %s\n", PQerrorMessage(conn));
      std::exit(1);
    }
    PQclear(r);
    PQfinish(conn);
    return;
  }
  sqlite3* db_handle = nullptr;
  char* error = nullptr;
  if (sqlite3_open(db.c_str(), &db_handle) != SQLITE_OK ||
      sqlite3_exec(db_handle, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::fprintf(stderr, "sqlite: %s\n", error ? error : sqlite3_errmsg(db_handle));
    std::exit(1);
  }
  sqlite3_close(db_handle);
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
    std::vector<Event> batch(
        events.begin() + static_cast<long>(at),
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
    if (i % 5 == 0)
      out.push_back(event("o" + std::to_string(i), "order_paid", i, "{\"revenue\":25}"));
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
  std::printf(
      "ingest medians: with rollups %.0f events/s, %.1f CPU us/event; without %.0f "
      "events/s, %.1f CPU us/event; rollups add %.1f%% CPU per event, %.1f%% wall\n",
      median(with_rate), cpu_with, median(without_rate), cpu_without,
      (cpu_with / cpu_without - 1) * 100, (median(without_rate) / median(with_rate) - 1) * 100);
  return 0;
}

// A year of hourly rollups before kT0 for the bench flow: the flow's row and
// each node's, for both variants, and the SMS nodes' messages by status. One
// statement each, in SQL both stores run.
void add_year_of_rollups(const std::string& db) {
  // The hour counts down from kT0 (a bigint on PostgreSQL, where i * 3600000
  // would overflow an integer).
  const std::string hours = "WITH RECURSIVE h(i, hour) AS (SELECT 1, " + std::to_string(kT0) +
                            " - 3600000 UNION ALL SELECT i + 1, hour - 3600000 FROM h WHERE i < "
                            "8760), v(name) AS (VALUES ('pick=a'), ('pick=b')), ";
  const std::string hour = "hour";
  exec(db, "BEGIN;" + hours +
               "n(node, e, x, c, r, rsq) AS (VALUES ('', 12, 11, 3, 75.0, 1875.0), "
               "('pick', 12, 2, 1, 25.0, 625.0), ('text_a', 12, 2, 1, 25.0, 625.0), "
               "('text_b', 12, 2, 1, 25.0, 625.0), ('wait', 12, 2, 1, 25.0, 625.0), "
               "('done', 12, 2, 1, 25.0, 625.0)) "
               "INSERT INTO rollups SELECT 'results_bench', " +
               hour + ", 1, node, name, e, x, c, r, rsq FROM h, v, n;" + hours +
               "s(status) AS (VALUES (1), (4)) INSERT INTO message_rollups SELECT "
               "'results_bench', " +
               hour +
               ", 1, 'text_' || substr(name, 6), 'sms', name, "
               "status, 6, 0, 0, 0, 0, 0 FROM h, v, s;COMMIT;");
}

// Times of one kind of call: wall milliseconds, and the process's CPU
// milliseconds (every thread's: in `http` the server's and the client's).
struct Timings {
  std::vector<double> wall_ms, cpu_ms;
  void add(double wall, double cpu) {
    wall_ms.push_back(wall);
    cpu_ms.push_back(cpu);
  }
};

// Runs `call` and adds its wall and CPU time to `t`.
template <typename Call>
void timed(Timings& t, Call call) {
  const double cpu0 = cpu_seconds();
  const auto t0 = Clock_::now();
  call();
  t.add(std::chrono::duration<double, std::milli>(Clock_::now() - t0).count(),
        (cpu_seconds() - cpu0) * 1e3);
}

void report(const std::string& what, Timings t) {
  std::sort(t.wall_ms.begin(), t.wall_ms.end());
  std::sort(t.cpu_ms.begin(), t.cpu_ms.end());
  const std::vector<double>& ms = t.wall_ms;
  std::printf(
      "stats %-22s p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms | CPU p50 %6.2f ms  p99 %6.2f "
      "ms (%zu calls)\n",
      what.c_str(), ms[ms.size() / 2], ms[ms.size() * 99 / 100], ms.back(), t.cpu_ms[ms.size() / 2],
      t.cpu_ms[ms.size() * 99 / 100], ms.size());
}

// Fills `db` with 10,000 users run through the engine, `users` journeys more
// by SQL and a year of rollups, unless it holds them already.
void fill_store(const std::string& db, long users) {
  VirtualClock clock(kT0);
  {
    auto engine = open(db, &clock, true);
    if (engine->totals("results_bench").journeys >= users) return;
    std::vector<Event> setup = profiles(10000);
    ingest_all(*engine, setup);
    std::vector<Event> events = workload(10000);
    ingest_all(*engine, events);
  }
  // Rows as the engine writes them (the stats read none of their columns but
  // flow, node, state and conversion).
  const std::string journeys =
      "WITH RECURSIVE n(i) AS (SELECT 1000000 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      std::to_string(1000000 + users - 1) +
      ") INSERT INTO journeys(id, flow, version, user_id, key, state, node, "
      "waiting_for, visits, coupon_code, variant, trigger_event, last_event, steps, "
      "entered_at, updated_at, ended_at, converted_at, history, history_seq) "
      "SELECT i, 'results_bench', 1, 'x' || i, '', CASE i % 2 WHEN 0 THEN 2 ELSE 4 END, "
      "CASE i % 2 WHEN 0 THEN 'wait' ELSE 'done' END, '', "
      "'pick=1;text_a=1;wait=1', '', CASE i % 4 WHEN 0 THEN 'pick=a' WHEN 2 THEN "
      "'pick=a' ELSE 'pick=b' END, '{}', '{}', 4, " +
      std::to_string(kT0 - 3600000) + ", " + std::to_string(kT0 - 3600000) +
      ", NULL, CASE i % 5 WHEN 0 THEN " + std::to_string(kT0) + " END, '[]', 0 FROM n;";
  // The writer keeps the journey counts; rows written by SQL add theirs here
  // (SQLite's also count armed timers).
  const std::string counted = is_postgres(db) ? "" : ", count(timer_due)";
  const std::string timers =
      is_postgres(db) ? "" : ", timers = journey_counts.timers + excluded.timers";
  exec(db, journeys +
               "INSERT INTO journey_counts SELECT flow, node, state, count(*), "
               "count(converted_at)" +
               counted +
               " FROM journeys WHERE id >= 1000000 "
               "GROUP BY 1, 2, 3 ON CONFLICT(flow, node, state) DO UPDATE SET "
               "journeys = journey_counts.journeys + excluded.journeys, "
               "conversions = journey_counts.conversions + excluded.conversions" +
               timers);
  if (is_postgres(db)) exec(db, "ANALYZE journeys;");
  add_year_of_rollups(db);
  if (is_postgres(db)) exec(db, "ANALYZE rollups; ANALYZE message_rollups;");
}

int bench_stats(const std::string& db, long users) {
  VirtualClock clock(kT0);
  fill_store(db, users);
  auto engine = open(db, &clock, true);
  std::printf("stats: %lld journeys in the store\n",
              static_cast<long long>(engine->totals("results_bench").journeys));
  SeriesQuery month{kT0 - 30LL * 24 * 3600 * 1000, kT0 + 3600 * 1000, false, "UTC"};
  SeriesQuery year{kT0 - 365LL * 24 * 3600 * 1000, kT0 + 3600 * 1000, true, "Europe/Berlin"};
  for (const auto& [name, series] : {std::pair{"plain", std::optional<SeriesQuery>()},
                                     std::pair{"30 days by hour", std::optional(month)},
                                     std::pair{"a year by day (Berlin)", std::optional(year)}}) {
    Timings t;
    for (int i = 0; i < 200; ++i) {
      bool ok = false;
      timed(t, [&] {
        ok = engine->stats("results_bench").ok() && engine->results("results_bench", series).ok();
      });
      if (!ok) return 1;
    }
    report(name, t);
  }
  return 0;
}

// One kind of stats request: its query and the times it took.
struct RequestKind {
  std::string name;
  std::function<std::string(std::mt19937&)> query;
  Timings times;
};

int bench_http(const std::string& db, long users, int requests) {
  fill_store(db, users);
  // The service reads its flows from a folder: the bench flow alone.
  const std::string flows = std::filesystem::temp_directory_path() / "results-bench-flows";
  std::filesystem::create_directories(flows);
  std::filesystem::copy_file(kFlowFile, flows + "/results_bench.yaml",
                             std::filesystem::copy_options::overwrite_existing);
  auto served = bench::serve_in_process(db, flows);
  if (!served) return 1;
  api::Service& service = *served->service;
  Engine& engine = service.engine();
  // The engine's own journeys wait 3 days from 2026-01-01: they fire at
  // start, on the real clock. Measured once they are done.
  while (engine.metrics().pending_timers > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::printf("http: %lld journeys of results_bench, %s\n",
              static_cast<long long>(engine.totals("results_bench").journeys),
              is_postgres(db) ? "PostgreSQL" : "SQLite");
  httplib::Client client("127.0.0.1", service.port());
  client.set_read_timeout(300, 0);

  constexpr TimeMs kDay = 24 * 3600 * 1000LL;
  const TimeMs year_start = kT0 - 365 * kDay;
  // A range of `days` ending at a random hour of the year of rollups.
  auto range = [&](std::mt19937& rng, int days) {
    std::uniform_int_distribution<TimeMs> end_hour(days * 24, 365 * 24);
    const TimeMs to = year_start + end_hour(rng) * 3600 * 1000;
    return "from=" + format_rfc3339(to - days * kDay) + "&to=" + format_rfc3339(to);
  };
  const char* zones[] = {"UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata",
                         "Australia/Sydney"};
  auto zone = [&](std::mt19937& rng) {
    return std::string(zones[std::uniform_int_distribution<int>(0, 4)(rng)]);
  };
  std::vector<RequestKind> kinds = {
      {"plain (no series)", [](std::mt19937&) { return std::string(); }, {}},
      {"1 day by hour", [&](std::mt19937& rng) { return range(rng, 1) + "&bucket=hour"; }, {}},
      {"7 days by hour", [&](std::mt19937& rng) { return range(rng, 7); }, {}},
      {"30 days by hour", [&](std::mt19937& rng) { return range(rng, 30) + "&bucket=hour"; }, {}},
      {"30 days by day, tz",
       [&](std::mt19937& rng) { return range(rng, 30) + "&bucket=day&tz=" + zone(rng); },
       {}},
      {"90 days by day, tz",
       [&](std::mt19937& rng) { return range(rng, 90) + "&bucket=day&tz=" + zone(rng); },
       {}},
      {"365 days by day, tz",
       [&](std::mt19937& rng) { return range(rng, 365) + "&bucket=day&tz=" + zone(rng); },
       {}},
      {"400 days by day",
       [&](std::mt19937&) {
         return "from=" + format_rfc3339(kT0 - 399 * kDay) + "&to=" + format_rfc3339(kT0 + kDay) +
                "&bucket=day";
       },
       {}},
      {"365 days by hour", [&](std::mt19937& rng) { return range(rng, 365) + "&bucket=hour"; }, {}},
  };
  std::mt19937 rng(7);
  Timings all;
  size_t bytes_max = 0;
  for (int i = 0; i < requests; ++i) {
    RequestKind& kind = kinds[static_cast<size_t>(i) % kinds.size()];
    const std::string query = kind.query(rng);
    const std::string path =
        "/v1/flows/results_bench/stats" + (query.empty() ? std::string() : "?" + query);
    std::optional<httplib::Result> answer;  // no default constructor
    timed(kind.times, [&] { answer.emplace(client.Get(path)); });
    const httplib::Result& r = *answer;
    if (!r || r->status != 200) {
      std::fprintf(stderr, "GET %s failed: %s\n", path.c_str(), r ? r->body.c_str() : "no answer");
      return 1;
    }
    bytes_max = std::max(bytes_max, r->body.size());
    all.add(kind.times.wall_ms.back(), kind.times.cpu_ms.back());
  }
  for (const RequestKind& kind : kinds) report(kind.name, kind.times);
  report("all requests", all);
  std::printf("largest answer %zu bytes\n", bytes_max);
  service.shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 4 && a[0] == "ingest")
    return bench_ingest(a[1], std::stol(a[2]), std::stoi(a[3]));
  if (a.size() == 3 && a[0] == "stats") return bench_stats(a[1], std::stol(a[2]));
  if (a.size() == 4 && a[0] == "http") return bench_http(a[1], std::stol(a[2]), std::stoi(a[3]));
  std::fprintf(stderr,
               "usage: results_bench ingest DIR USERS ROUNDS | results_bench stats DB USERS | "
               "results_bench http DB USERS REQUESTS\n");
  return 2;
}

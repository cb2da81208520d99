// Broadcast benchmark (figures in docs/benchmarks.md and README.md):
//
//   broadcast_bench DB PROFILES [WINDOW]
//
// Fills a fresh SQLite database with PROFILES profiles (three in four are
// VIPs with a phone), deploys a one-off broadcast to `user.vip == true` whose
// node sends an SMS (to the outbox; no provider), then times the whole run on
// a virtual clock: profiles walked and users entered per second, with every
// window of WINDOW profiles (default 512) one durable transaction. Prints the
// peak RSS and the database's size.
#include <sqlite3.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

using namespace trellis;
using namespace trellis::runtime;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;  // 2026-01-01T00:00:00Z

const char* const kFlow = R"(flow: blast
trigger:
  schedule: "2026-01-01 10:00"
  audience: user.vip == true
start: text
nodes:
  text: {type: sms, text: "Sale for {{user.name}}", next: done}
  done: {type: exit}
)";

long peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"flow does not load"};
  return std::move(*r.flow);
}

// Profiles straight into the table in one transaction: the benchmark times
// the broadcast, not the loading.
bool fill_profiles(const std::string& db_path, long count) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) return false;
  sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO profiles(user_id, traits, updated_at) VALUES(?, ?, 0)", -1,
                     &insert, nullptr);
  for (long i = 0; i < count; ++i) {
    char id[32], traits[128];
    std::snprintf(id, sizeof id, "user-%08ld", i);
    std::snprintf(traits, sizeof traits,
                  "{\"name\":\"N%ld\",\"phone\":\"+4790%06ld\",\"vip\":%s,\"tier\":%ld}", i, i,
                  i % 4 != 3 ? "true" : "false", i % 7);
    sqlite3_bind_text(insert, 1, id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(insert, 2, traits, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(insert) != SQLITE_DONE) return false;
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  const bool ok = sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK;
  sqlite3_close(db);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: broadcast_bench DB PROFILES [WINDOW]\n");
    return 64;
  }
  const std::string db = argv[1];
  const long profiles = std::stol(argv[2]);
  const size_t window = argc > 3 ? std::stoul(argv[3]) : 512;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db + suffix);

  VirtualClock clock(kT0);
  EngineOptions options;
  options.store = store_factory(db).value();
  options.clock = &clock;
  options.parse_flow = parse_flow;
  options.adapter = "none";
  options.broadcast_window = window;
  {
    auto created = Engine::open(options);  // creates the schema
    if (!created.ok()) return 2;
  }
  if (!fill_profiles(db, profiles)) return 3;

  auto opened = Engine::open(options);
  if (!opened.ok()) return 4;
  Engine& engine = *opened.value();
  dsl::LoadResult flow = dsl::load_flow_text(kFlow, "blast.yaml", dsl::FlowSyntax::kYaml);
  if (!flow.ok() || !engine.deploy(*flow.flow, kFlow).ok()) return 5;

  clock.set_ms(kT0 + 10 * 3'600'000LL);
  const auto start = std::chrono::steady_clock::now();
  if (!engine.fire_due_timers().ok()) return 6;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::vector<BroadcastRecord> runs = engine.broadcasts("blast");
  if (runs.empty() || runs[0].state != "done") return 7;
  const BroadcastRecord& run = runs[0];
  std::printf(
      "broadcast: %ld profiles walked, %lld entered in %.1f s: %.0f profiles/s, "
      "%.0f entered/s (window %zu)\n",
      static_cast<long>(run.walked), static_cast<long long>(run.entered), seconds,
      static_cast<double>(run.walked) / seconds, static_cast<double>(run.entered) / seconds,
      window);
  std::printf("peak RSS %ld MB\n", peak_rss_mb());
  opened.value().reset();
  std::printf("database %.0f MB\n",
              static_cast<double>(std::filesystem::file_size(db)) / (1024.0 * 1024.0));
  return 0;
}

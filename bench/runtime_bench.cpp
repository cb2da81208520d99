// Runtime benchmarks (figures in README.md, "Runtime benchmarks").
//
//   runtime_bench events   FLOW DB USERS [profiles] [retain]
//                                                    sustained add_to_cart events/s, durable SQLite
//   runtime_bench rss      FLOW DB                   RSS with every journey of DB waiting (reopen)
//   runtime_bench catchup  FLOW DB [deliver]         timer catch-up after a restart, timers/s
//   runtime_bench lateness FLOW DB RATE SECS         timer lateness p50/p99 under RATE events/s
//
// `events` starts one journey per user (USERS of them) on the cart-reminder
// flow: each waits 72h. With `profiles`, every user first gets an email and a
// phone (identify events, not timed), so that the journeys' message nodes
// create deliveries. With `retain`, event retention is on (7d, 1M events:
// docs/operations.md#event-retention), to measure what keeping events costs. `catchup` reopens that database 73h later and fires
// every timer; with `deliver`, the deliveries go to the `file` adapter (a
// file beside DB) and are marked sent, timed with the timers. `lateness` uses
// the system clock and a flow file whose wait is short (bench/lateness_flow.yaml).
//
// Each prints the bytes the process wrote to storage (write_bytes of
// /proc/self/io, the database, its WAL and the deliveries file) per input,
// and the database's size once the engine is closed. bench/compare.sh runs
// these beside another build and BullMQ (bench/bullmq) in one go.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

using namespace trellis;
using namespace trellis::runtime;
using Clock_ = std::chrono::steady_clock;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;

double seconds_since(Clock_::time_point t) {
  return std::chrono::duration<double>(Clock_::now() - t).count();
}

// Resident memory now (VmRSS) or its peak so far (VmHWM), in MB.
long status_mb(const char* field) {
  std::ifstream in("/proc/self/status");
  const size_t n = std::strlen(field);
  for (std::string line; std::getline(in, line);)
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return std::stol(line.substr(n + 1)) / 1024;
  return -1;
}
long rss_mb() { return status_mb("VmRSS"); }
long peak_rss_mb() { return status_mb("VmHWM"); }

// Bytes this process caused to be written to storage so far.
long long write_bytes() {
  std::ifstream in("/proc/self/io");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("write_bytes:", 0) == 0) return std::stoll(line.substr(12));
  return -1;
}

// CPU seconds of the whole process so far (every thread: the writer, the
// producers, the checkpointer): on a shared machine, a figure that the other
// processes' load does not inflate the way it inflates wall time.
double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long long file_size(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<long long>(size);
}

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow does not load"};
  return std::move(*r.flow);
}

bool g_retain = false;  // `events ... retain`

std::unique_ptr<Engine> open(const std::string& db, Clock* clock, bool deliver = false) {
  EngineOptions options;
  if (g_retain) {
    auto config = std::make_shared<delivery::DeliveryConfig>();
    config->retention.events_ms = 7LL * 24 * 3600 * 1000;
    config->retention.max_events = 1'000'000;
    options.delivery = std::move(config);
  }
  options.store = trellis::runtime::store_factory(db).value();
  options.clock = clock;
  options.parse_flow = parse_flow;
  options.adapter = deliver ? "file" : "none";
  options.deliveries_path = db + ".deliveries.jsonl";
  options.max_batch = 8192;
  auto engine = Engine::open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.error().message.c_str());
    std::exit(1);
  }
  return std::move(engine.value());
}

void deploy(Engine& engine, const std::string& flow_file) {
  dsl::LoadResult flow = dsl::load_flow_file(flow_file);
  if (!flow.ok() || !engine.deploy(*flow.flow, flow.source).ok()) {
    std::fprintf(stderr, "cannot deploy %s\n", flow_file.c_str());
    std::exit(1);
  }
}

// Several processes sharing one PostgreSQL database (bench/multinode.sh) each
// give their own users and event ids: TRELLIS_BENCH_NODE is their prefix.
const std::string& node_prefix() {
  static const std::string prefix = [] {
    const char* node = std::getenv("TRELLIS_BENCH_NODE");
    return node ? std::string(node) : std::string();
  }();
  return prefix;
}

Event cart_event(long user, long n) {
  Event e;
  e.id = node_prefix() + "e" + std::to_string(n);
  e.type = "add_to_cart";
  e.user_id = node_prefix() + "u" + std::to_string(user);
  e.properties_json = "{\"value\":59,\"cart_id\":\"c" + std::to_string(n) + "\"}";
  return e;
}

// Every user gets an email address and a phone number, 500 identify events per batch.
void add_profiles(Engine& engine, long users) {
  constexpr long kBatch = 500;
  for (long start = 0; start < users; start += kBatch) {
    std::vector<Event> batch;
    for (long i = start; i < std::min(users, start + kBatch); ++i) {
      Event e;
      e.id = "p" + std::to_string(i);
      e.type = "identify";
      e.form = EventForm::kSegmentIdentify;
      e.user_id = "u" + std::to_string(i);
      e.properties_json = "{\"email\":\"u" + std::to_string(i) +
                          "@example.com\",\"phone\":\"+3361" + std::to_string(1000000 + i) + "\"}";
      batch.push_back(std::move(e));
    }
    if (!engine.ingest(std::move(batch)).ok()) std::abort();
  }
}

int bench_events(const std::string& flow, const std::string& db, long users, bool profiles) {
  VirtualClock clock(kT0);
  long long written_before = 0;
  double secs = 0;
  {
    auto engine = open(db, &clock);
    deploy(*engine, flow);
    if (profiles) add_profiles(*engine, users);
    constexpr int kProducers = 2;
    constexpr long kBatch = 500;  // events per ingest call, like one HTTP batch
    std::atomic<long> next{0};
    written_before = write_bytes();
    const double cpu_before = cpu_seconds();
    const auto t0 = Clock_::now();
    std::vector<std::thread> producers;
    for (int p = 0; p < kProducers; ++p) {
      producers.emplace_back([&] {
        for (;;) {
          const long start = next.fetch_add(kBatch);
          if (start >= users) return;
          std::vector<Event> batch;
          for (long i = start; i < std::min(users, start + kBatch); ++i)
            batch.push_back(cart_event(i, i));
          if (!engine->ingest(std::move(batch)).ok()) std::abort();
        }
      });
    }
    for (auto& t : producers) t.join();
    secs = seconds_since(t0);
    const EngineMetrics m = engine->metrics();
    const double cpu = cpu_seconds() - cpu_before;
    std::printf(
        "events: %ld events, %ld journeys, %.2f s, %.0f events/s, %lld commits, RSS %ld MB, "
        "peak RSS %ld MB\n",
        users, static_cast<long>(m.journeys_started), secs, users / secs,
        static_cast<long long>(m.commits), rss_mb(), peak_rss_mb());
    std::printf("events cpu: %.2f CPU s, %.0f events per CPU second\n", cpu, users / cpu);
  }
  // Closing the engine checkpoints the WAL: those bytes are the events' too.
  const long long written = write_bytes() - written_before;
  std::printf("events io: %.0f bytes written per event, database %.1f MB\n",
              static_cast<double>(written) / static_cast<double>(users), file_size(db) / 1e6);
  return 0;
}

int bench_rss(const std::string& flow, const std::string& db) {
  VirtualClock clock(kT0);
  auto engine = open(db, &clock);
  deploy(*engine, flow);
  // Touch the runtime as serve would: one more event and a query.
  Event e = cart_event(999'999'999, 999'999'999);
  if (!engine->ingest({e}).ok()) return 1;
  const EngineMetrics m = engine->metrics();
  std::printf("rss: %lld pending timers (waiting journeys), RSS %ld MB\n",
              static_cast<long long>(m.pending_timers), rss_mb());
  return 0;
}

int bench_catchup(const std::string& flow, const std::string& db, bool deliver) {
  VirtualClock clock(kT0 + 73LL * 3600 * 1000);
  size_t fired_count = 0;
  long long written_before = 0;
  {
    auto engine = open(db, &clock, deliver);
    deploy(*engine, flow);
    written_before = write_bytes();
    const double cpu_before = cpu_seconds();
    const auto t0 = Clock_::now();
    // Other processes on a shared database fire timers too, and skip the
    // ones this one holds: go on until none is due, whoever fired them.
    for (;;) {
      auto fired = engine->fire_due_timers();
      if (!fired.ok()) return 1;
      fired_count += fired.value();
      const std::optional<TimeMs> next = engine->next_timer_due();
      if (!next || *next > clock.now_ms()) break;
    }
    const double secs = seconds_since(t0);
    const double cpu = cpu_seconds() - cpu_before;
    std::printf("catchup: %zu timers fired in %.2f s, %.0f timers/s, RSS %ld MB, peak RSS %ld MB\n",
                fired_count, secs, fired_count / secs, rss_mb(), peak_rss_mb());
    std::printf("catchup cpu: %.2f CPU s, %.0f timers per CPU second\n", cpu, fired_count / cpu);
    if (deliver) {
      const long long written_firing = write_bytes() - written_before;
      size_t sent = 0;
      while (size_t n = engine->dispatch_deliveries()) sent += n;
      const double total = seconds_since(t0);
      std::printf(
          "catchup deliver: %zu deliveries sent to the file adapter, timers and sends %.2f s, "
          "%.0f timers/s with their deliveries (%.0f bytes per timer written while firing)\n",
          sent, total, fired_count / total,
          static_cast<double>(written_firing) /
              static_cast<double>(std::max<size_t>(1, fired_count)));
    }
  }
  const long long written = write_bytes() - written_before;
  std::printf("catchup io: %.0f bytes written per fired timer, database %.1f MB\n",
              static_cast<double>(written) / static_cast<double>(std::max<size_t>(1, fired_count)),
              file_size(db) / 1e6);
  return 0;
}

int bench_lateness(const std::string& flow, const std::string& db, long rate, long secs) {
  auto engine = open(db, nullptr);  // system clock
  deploy(*engine, flow);
  engine->start();
  const auto t0 = Clock_::now();
  long sent = 0;
  constexpr long kTickMs = 10;
  const long per_tick = std::max<long>(1, rate * kTickMs / 1000);
  for (long tick = 0; tick < secs * 1000 / kTickMs; ++tick) {
    std::vector<Event> batch;
    for (long i = 0; i < per_tick; ++i, ++sent) batch.push_back(cart_event(sent, sent));
    if (!engine->ingest(std::move(batch)).ok()) return 1;
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds((tick + 1) * kTickMs));
  }
  // Let the last waits (2 s) fire.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  engine->stop();
  // Lateness: when the wait's timer step ran minus when it was due. The step
  // that leaves the wait node records its time; its due time is entry + 2 s.
  std::vector<TimeMs> late;
  for (long u = 0; u < sent; u += std::max<long>(1, sent / 20000)) {
    for (const auto& j : engine->journeys_of_user("u" + std::to_string(u))) {
      auto d = engine->journey(j.id);
      for (const auto& s : d->steps)
        if (s.input == "timer") late.push_back(s.at - (j.entered_at + 2000));
    }
  }
  std::sort(late.begin(), late.end());
  if (late.empty()) return 1;
  std::printf(
      "lateness: %ld events at %ld/s, %zu timers sampled, p50 %lld ms, p99 %lld ms, max %lld ms\n",
      sent, rate, late.size(), static_cast<long long>(late[late.size() / 2]),
      static_cast<long long>(late[late.size() * 99 / 100]), static_cast<long long>(late.back()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 4 && a[0] == "events") {
    g_retain = std::find(a.begin() + 4, a.end(), "retain") != a.end();
    return bench_events(a[1], a[2], std::stol(a[3]),
                        std::find(a.begin() + 4, a.end(), "profiles") != a.end());
  }
  if (a.size() >= 3 && a[0] == "rss") return bench_rss(a[1], a[2]);
  if (a.size() >= 3 && a[0] == "catchup")
    return bench_catchup(a[1], a[2], a.size() >= 4 && a[3] == "deliver");
  if (a.size() >= 5 && a[0] == "lateness")
    return bench_lateness(a[1], a[2], std::stol(a[3]), std::stol(a[4]));
  std::fprintf(stderr, "usage: see the comment at the top of bench/runtime_bench.cpp\n");
  return 2;
}

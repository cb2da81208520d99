// Runtime benchmarks (figures in README.md, "Runtime benchmarks").
//
//   runtime_bench events   FLOW DB USERS      sustained add_to_cart events/s, durable SQLite
//   runtime_bench rss      FLOW DB            RSS with every journey of DB waiting (reopen)
//   runtime_bench catchup  FLOW DB            timer catch-up after a restart, timers/s
//   runtime_bench lateness FLOW DB RATE SECS  timer lateness p50/p99 under RATE events/s
//
// `events` starts one journey per user (USERS of them) on the cart-reminder
// flow: each waits 72h. `catchup` reopens that database 73h later and fires
// every timer. `lateness` uses the system clock and a flow file whose wait is
// short (bench/lateness_flow.yaml).
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "dsl/load.h"
#include "runtime/engine.h"

using namespace trellis;
using namespace trellis::runtime;
using Clock_ = std::chrono::steady_clock;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;

double seconds_since(Clock_::time_point t) {
  return std::chrono::duration<double>(Clock_::now() - t).count();
}

long rss_mb() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  return -1;
}

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow does not load"};
  return std::move(*r.flow);
}

std::unique_ptr<Engine> open(const std::string& db, Clock* clock) {
  EngineOptions options;
  options.db_path = db;
  options.clock = clock;
  options.parse_flow = parse_flow;
  options.adapter = "none";
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

Event cart_event(long user, long n) {
  Event e;
  e.id = "e" + std::to_string(n);
  e.type = "add_to_cart";
  e.user_id = "u" + std::to_string(user);
  e.properties_json = "{\"value\":59,\"cart_id\":\"c" + std::to_string(n) + "\"}";
  return e;
}

int bench_events(const std::string& flow, const std::string& db, long users) {
  VirtualClock clock(kT0);
  auto engine = open(db, &clock);
  deploy(*engine, flow);
  constexpr int kProducers = 2;
  constexpr long kBatch = 500;  // events per ingest call, like one HTTP batch
  std::atomic<long> next{0};
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
  const double secs = seconds_since(t0);
  const EngineMetrics m = engine->metrics();
  std::printf("events: %ld events, %ld journeys, %.2f s, %.0f events/s, %lld commits, RSS %ld MB\n",
              users, static_cast<long>(m.journeys_started), secs, users / secs,
              static_cast<long long>(m.commits), rss_mb());
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

int bench_catchup(const std::string& flow, const std::string& db) {
  VirtualClock clock(kT0 + 73LL * 3600 * 1000);
  auto engine = open(db, &clock);
  deploy(*engine, flow);
  const auto t0 = Clock_::now();
  auto fired = engine->fire_due_timers();
  const double secs = seconds_since(t0);
  if (!fired.ok()) return 1;
  std::printf("catchup: %zu timers fired in %.2f s, %.0f timers/s, RSS %ld MB\n", fired.value(),
              secs, fired.value() / secs, rss_mb());
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
  if (a.size() >= 4 && a[0] == "events") return bench_events(a[1], a[2], std::stol(a[3]));
  if (a.size() >= 3 && a[0] == "rss") return bench_rss(a[1], a[2]);
  if (a.size() >= 3 && a[0] == "catchup") return bench_catchup(a[1], a[2]);
  if (a.size() >= 5 && a[0] == "lateness")
    return bench_lateness(a[1], a[2], std::stol(a[3]), std::stol(a[4]));
  std::fprintf(stderr, "usage: see the comment at the top of bench/runtime_bench.cpp\n");
  return 2;
}

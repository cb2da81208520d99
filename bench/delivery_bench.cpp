// Delivery benchmarks (figures in README.md, "Delivery benchmarks"). Both use
// the system clock, a fresh SQLite file per run, and HTTP providers served by
// cpp-httplib in this process on loopback.
//
//   delivery_bench throughput DIR [RATE] [SECS]
//       RATE*(SECS+5) sms deliveries pending, then the engine starts; the sms
//       channel (http, concurrency 4, `rate: RATE`) sends them to a provider
//       that answers at once. Prints the rate the provider saw over SECS
//       seconds (after a 1 s warm-up) against the configured one.
//   delivery_bench lateness DIR [EVENTS_PER_S] [SECS]
//       Journeys `wait 2s -> sms` started at EVENTS_PER_S for SECS seconds,
//       twice in one run: a provider that answers at once, then one that
//       answers after 3 s (concurrency 8, so the sms backlog grows). Prints
//       timer lateness (the engine's on_timer_fired observer) side by side.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

using namespace trellis;
using namespace trellis::runtime;
using Steady = std::chrono::steady_clock;

namespace {

constexpr int kUsers = 1000;  // events cycle over these users; flows re-enter

const char* kBurstFlow = R"(flow: burst
trigger: { event: go }
re_entry: always
start: ping
nodes:
  ping: { type: sms, text: "ping", next: done }
  done: { type: exit }
)";

// bench/lateness_flow.yaml with a trigger key: every journey waits 2 s, then
// sends one sms; a user may have many journeys waiting (one per cart).
const char* kLatenessFlow = R"(flow: lateness
trigger: { event: add_to_cart, key: event.cart_id }
re_entry: always
start: wait
nodes:
  wait: { type: wait, for: 2s, next: ping }
  ping: { type: sms, text: "ping", next: done }
  done: { type: exit }
)";

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow does not load"};
  return std::move(*r.flow);
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "delivery_bench: %s\n", what.c_str());
  std::exit(1);
}

// An sms provider on loopback that answers 200 after `delay`, recording when
// each request arrived.
class Provider {
 public:
  explicit Provider(std::chrono::milliseconds delay) : delay_(delay) {
    server_.set_keep_alive_max_count(1000000);
    server_.Post("/sms", [this](const httplib::Request&, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> l(mu_);
        arrivals_.push_back(Steady::now());
      }
      if (delay_.count() > 0) std::this_thread::sleep_for(delay_);
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Provider() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/sms"; }
  std::vector<Steady::time_point> arrivals() const {
    std::lock_guard<std::mutex> l(mu_);
    return arrivals_;
  }

 private:
  std::chrono::milliseconds delay_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<Steady::time_point> arrivals_;
};

struct Lateness {
  std::mutex mu;
  std::vector<TimeMs> samples;
};

std::unique_ptr<Engine> open_engine(const std::string& db, const std::string& config_yaml,
                                    const char* flow_text, Lateness* lateness) {
  std::filesystem::remove(db);
  std::filesystem::remove(db + "-wal");
  std::filesystem::remove(db + "-shm");
  auto config = delivery::parse_delivery_config(config_yaml, "bench.yaml");
  if (!config.ok()) fail("bad configuration: " + config.diagnostics.items()[0].message);
  EngineOptions options;
  options.store = trellis::runtime::store_factory(db).value();
  options.parse_flow = parse_flow;
  options.deliveries_path = db + ".deliveries.jsonl";
  options.delivery = std::make_shared<delivery::DeliveryConfig>(config.config);
  options.max_batch = 8192;
  if (lateness)
    options.on_timer_fired = [lateness](TimeMs late) {
      std::lock_guard<std::mutex> l(lateness->mu);
      lateness->samples.push_back(late);
    };
  auto engine = Engine::open(options);
  if (!engine.ok()) fail("open: " + engine.error().message);
  dsl::LoadResult flow = dsl::load_flow_text(flow_text, "bench.yaml", dsl::FlowSyntax::kYaml);
  if (!flow.ok() || !engine.value()->deploy(*flow.flow, flow.source).ok()) fail("cannot deploy");
  for (int u = 0; u < kUsers; ++u)
    if (!engine.value()->put_profile("u" + std::to_string(u), R"({"phone": "+4700000000"})"))
      fail("put_profile");
  return std::move(engine.value());
}

Event event(const std::string& type, long n) {
  Event e;
  e.id = "e" + std::to_string(n);
  e.type = type;
  e.user_id = "u" + std::to_string(n % kUsers);
  e.properties_json = "{\"cart_id\":\"c" + std::to_string(n) + "\"}";
  return e;
}

int bench_throughput(const std::string& dir, double rate, long secs) {
  Provider provider(std::chrono::milliseconds(0));
  auto engine = open_engine(dir + "/throughput.db",
                            "channels:\n  sms: {provider: http, url: \"" + provider.url() +
                                "\", rate: " + std::to_string(rate) + ", concurrency: 4}\n",
                            kBurstFlow, nullptr);
  const long total = static_cast<long>(rate * static_cast<double>(secs + 5));
  for (long start = 0; start < total; start += 1000) {
    std::vector<Event> batch;
    for (long n = start; n < std::min(total, start + 1000); ++n) batch.push_back(event("go", n));
    if (!engine->ingest(std::move(batch)).ok()) fail("ingest");
  }
  engine->start();
  const auto t0 = Steady::now();
  while (provider.arrivals().empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const Steady::time_point from = provider.arrivals().front() + std::chrono::seconds(1);
  const Steady::time_point to = from + std::chrono::seconds(secs);
  std::this_thread::sleep_until(to + std::chrono::milliseconds(200));
  engine->stop();
  const auto arrivals = provider.arrivals();
  const long in_window =
      std::count_if(arrivals.begin(), arrivals.end(), [&](auto t) { return t >= from && t < to; });
  const double measured = static_cast<double>(in_window) / static_cast<double>(secs);
  std::printf(
      "throughput: configured %.0f msg/s, measured %.1f msg/s over %ld s (%+.2f%%), "
      "%zu requests in %.1f s, %lld recorded sent\n",
      rate, measured, secs, (measured / rate - 1) * 100, arrivals.size(),
      std::chrono::duration<double>(Steady::now() - t0).count(),
      static_cast<long long>(engine->metrics().deliveries_sent));
  return 0;
}

struct LatenessRun {
  std::string provider;
  long events = 0;
  size_t timers = 0;
  TimeMs p50 = 0, p99 = 0, max = 0;
  int64_t created = 0, sent = 0;
};

LatenessRun run_lateness(const std::string& dir, std::chrono::milliseconds delay, long rate,
                         long secs) {
  Provider provider(delay);
  Lateness lateness;
  auto engine = open_engine(dir + "/lateness.db",
                            "channels:\n  sms: {provider: http, url: \"" + provider.url() +
                                "\", concurrency: 8, timeout: 10s}\n",
                            kLatenessFlow, &lateness);
  engine->start();
  const auto t0 = Steady::now();
  constexpr long kTickMs = 10;
  const long per_tick = std::max<long>(1, rate * kTickMs / 1000);
  long sent = 0;
  for (long tick = 0; tick < secs * 1000 / kTickMs; ++tick) {
    std::vector<Event> batch;
    for (long i = 0; i < per_tick; ++i, ++sent) batch.push_back(event("add_to_cart", sent));
    if (!engine->ingest(std::move(batch)).ok()) fail("ingest");
    std::this_thread::sleep_until(t0 + std::chrono::milliseconds((tick + 1) * kTickMs));
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the last 2 s waits fire
  const EngineMetrics m = engine->metrics();
  engine->stop();
  LatenessRun run;
  run.provider = delay.count() ? "answers in " + std::to_string(delay.count() / 1000) + " s"
                               : "answers at once";
  run.events = sent;
  run.created = m.deliveries_created;
  run.sent = m.deliveries_sent;
  std::lock_guard<std::mutex> l(lateness.mu);
  std::vector<TimeMs>& late = lateness.samples;
  std::sort(late.begin(), late.end());
  run.timers = late.size();
  if (!late.empty()) {
    run.p50 = late[late.size() / 2];
    run.p99 = late[late.size() * 99 / 100];
    run.max = late.back();
  }
  return run;
}

int bench_lateness(const std::string& dir, long rate, long secs) {
  std::vector<LatenessRun> runs = {run_lateness(dir, std::chrono::milliseconds(0), rate, secs),
                                   run_lateness(dir, std::chrono::milliseconds(3000), rate, secs)};
  std::printf("lateness: %ld events/s for %ld s, each journey wait 2s -> sms\n", rate, secs);
  std::printf("  %-18s %8s %8s %9s %9s %9s %10s %10s\n", "sms provider", "events", "timers",
              "p50 ms", "p99 ms", "max ms", "sms made", "sms sent");
  for (const LatenessRun& r : runs)
    std::printf("  %-18s %8ld %8zu %9lld %9lld %9lld %10lld %10lld\n", r.provider.c_str(), r.events,
                r.timers, static_cast<long long>(r.p50), static_cast<long long>(r.p99),
                static_cast<long long>(r.max), static_cast<long long>(r.created),
                static_cast<long long>(r.sent));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() >= 2 && a[0] == "throughput")
    return bench_throughput(a[1], a.size() > 2 ? std::stod(a[2]) : 1000,
                            a.size() > 3 ? std::stol(a[3]) : 10);
  if (a.size() >= 2 && a[0] == "lateness")
    return bench_lateness(a[1], a.size() > 2 ? std::stol(a[2]) : 10000,
                          a.size() > 3 ? std::stol(a[3]) : 10);
  std::fprintf(stderr, "usage: see the comment at the top of bench/delivery_bench.cpp\n");
  return 2;
}

// Ingest with and without behavioural counters (docs/expressions.md#behaviour),
// side by side in one run (figures in docs/benchmarks.md and the README).
//
//   behaviour_bench [EVENTS] [USERS] [ROUNDS] [DIR]     defaults 200000 20000 3 /tmp
//
// Each round ingests the same EVENTS product_viewed events (USERS users, half
// of category "exam", spread over 60 virtual days, batches of 500) into a
// fresh SQLite file under each of three deployments, in turn:
//   none   a flow whose trigger `when` reads only the event: nothing is counted;
//   write  that flow, and a second one that reads count() in a segment of a
//          flow triggered by another event: every view is counted, none read;
//   read   a flow whose trigger `when` is `count("product_viewed", 30d, where:
//          event.category == "exam") >= 1000000`: every view is counted, then
//          the user's counters are read for the trigger.
// No journey starts in any of them, so the difference is the counters' cost.
// It prints events/s (wall) and events per CPU second (every thread) per round
// and the medians. Under `valgrind --tool=callgrind` it also dumps a profile
// per deployment's ingest (CALLGRIND_DUMP_STATS_AT), whose instruction totals
// do not depend on the machine's load: see docs/benchmarks.md.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define TRELLIS_PHASE_DONE(name) CALLGRIND_DUMP_STATS_AT(name)
#else
#define TRELLIS_PHASE_DONE(name) ((void)(name))
#endif

#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

using namespace trellis;
using namespace trellis::runtime;
using Clock_ = std::chrono::steady_clock;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;
constexpr TimeMs kDayMs = 86'400'000;
constexpr long kBatch = 500;

const char* kPlainFlow = R"(flow: browse
trigger: { event: product_viewed, when: 'event.category == "exam" and event.price > 1000000' }
start: say
nodes:
  say: { type: sms, text: "hi", next: done }
  done: { type: exit }
)";

const char* kWriteOnlyFlow = R"(flow: keen
trigger: { event: checkout_started }
start: keen
nodes:
  keen:
    type: segment
    match: 'count("product_viewed", 30d, where: event.category == "exam") >= 3'
    yes: say
    no: done
  say: { type: sms, text: "hi", next: done }
  done: { type: exit }
)";

const char* kReadFlow = R"(flow: browse
trigger:
  event: product_viewed
  when: 'count("product_viewed", 30d, where: event.category == "exam") >= 1000000'
start: say
nodes:
  say: { type: sms, text: "hi", next: done }
  done: { type: exit }
)";

struct Deployment {
  const char* name;
  std::vector<const char*> flows;
};

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow does not load"};
  return std::move(*r.flow);
}

void remove_db(const std::string& db) {
  for (const char* suffix : {"", "-wal", "-shm", ".deliveries.jsonl"})
    std::filesystem::remove(db + suffix);
}

struct Figures {
  double events_per_s = 0;
  double events_per_cpu_s = 0;
};

Figures run(const Deployment& d, const std::string& dir, long events, long users) {
  const std::string db = dir + "/behaviour_bench_" + d.name + ".db";
  remove_db(db);
  VirtualClock clock(kT0);
  EngineOptions options;
  options.store = store_factory(db).value();
  options.clock = &clock;
  options.parse_flow = parse_flow;
  options.adapter = "none";
  options.deliveries_path = db + ".deliveries.jsonl";
  options.max_batch = 8192;
  auto opened = Engine::open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.error().message.c_str());
    std::exit(1);
  }
  std::unique_ptr<Engine> engine = std::move(opened.value());
  for (const char* yaml : d.flows) {
    dsl::LoadResult flow = dsl::load_flow_text(yaml, "bench.yaml", dsl::FlowSyntax::kYaml);
    if (!flow.ok() || !engine->deploy(*flow.flow, flow.source).ok()) {
      std::fprintf(stderr, "cannot deploy a %s flow\n", d.name);
      std::exit(1);
    }
  }
  TRELLIS_PHASE_DONE("setup");
  const double cpu_before = cpu_seconds();
  const auto t0 = Clock_::now();
  for (long start = 0; start < events; start += kBatch) {
    clock.set_ms(kT0 + start * 60 / events * kDayMs);  // 60 days: old buckets are pruned
    std::vector<Event> batch;
    for (long i = start; i < std::min(events, start + kBatch); ++i) {
      Event e;
      e.id = "e" + std::to_string(i);
      e.type = "product_viewed";
      e.user_id = "u" + std::to_string(i % users);
      e.properties_json = std::string("{\"category\":\"") + (i % 2 ? "exam" : "games") +
                          "\",\"price\":" + std::to_string(i % 100) + "}";
      batch.push_back(std::move(e));
    }
    if (!engine->ingest(std::move(batch)).ok()) std::abort();
  }
  const double secs = std::chrono::duration<double>(Clock_::now() - t0).count();
  const double cpu = cpu_seconds() - cpu_before;
  TRELLIS_PHASE_DONE(d.name);
  if (engine->metrics().journeys_started != 0) std::abort();  // the deployments start none
  engine.reset();  // closes the file before it is removed
  remove_db(db);
  return {static_cast<double>(events) / secs, static_cast<double>(events) / cpu};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const long events = argc > 1 ? std::stol(argv[1]) : 200000;
  const long users = argc > 2 ? std::stol(argv[2]) : 20000;
  const int rounds = argc > 3 ? std::stoi(argv[3]) : 3;
  const std::string dir = argc > 4 ? argv[4] : "/tmp";
  const std::vector<Deployment> deployments = {
      {"none", {kPlainFlow}}, {"write", {kPlainFlow, kWriteOnlyFlow}}, {"read", {kReadFlow}}};
  std::printf("behaviour_bench: %ld events, %ld users, %d rounds; load average %s\n", events, users,
              rounds, load_average().c_str());
  std::vector<std::vector<double>> rate(deployments.size()), per_cpu(deployments.size());
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < deployments.size(); ++i) {
      const Figures f = run(deployments[i], dir, events, users);
      rate[i].push_back(f.events_per_s);
      per_cpu[i].push_back(f.events_per_cpu_s);
      std::printf("round %d %-5s %9.0f events/s %9.0f events per CPU s\n", round + 1,
                  deployments[i].name, f.events_per_s, f.events_per_cpu_s);
    }
  }
  std::printf("median:\n");
  for (size_t i = 0; i < deployments.size(); ++i) {
    std::printf("  %-5s %9.0f events/s (%.2fx none) %9.0f events per CPU s (%.2fx none)\n",
                deployments[i].name, median(rate[i]), median(rate[i]) / median(rate[0]),
                median(per_cpu[i]), median(per_cpu[i]) / median(per_cpu[0]));
  }
  std::printf("load average at the end: %s\n", load_average().c_str());
  return 0;
}

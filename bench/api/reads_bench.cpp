// Read cost at scale: how long `GET /v1/flows` (the editor polls it every 5 s)
// and `GET /metrics` (a scrape) take on a store of many journeys
// (docs/benchmarks.md, "Reads at 1M journeys").
//
//   reads_bench DB JOURNEYS FLOWS_DIR [REQUESTS]
//
// Fills DB with JOURNEYS cart-reminder journeys (each waits 72h, so none
// fires while measuring) unless it already holds them, then runs the service
// on it in-process, as `serve` does, and times REQUESTS answers of each route
// over loopback HTTP.
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "api/service.h"
#include "bench/in_process_service.h"
#include "runtime/store_url.h"
#include "dsl/load.h"

using namespace trellis;
using Clock_ = std::chrono::steady_clock;

namespace {

Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.flow) return Error{"stored flow does not load"};
  return std::move(*r.flow);
}

// Adds cart journeys until the flow has `journeys`; returns events/s of the fill.
double fill(const std::string& db, const std::string& flows_dir, long journeys) {
  runtime::EngineOptions options;
  options.store = trellis::runtime::store_factory(db).value();
  options.parse_flow = parse_flow;
  options.adapter = "none";
  options.max_batch = 8192;
  auto engine = runtime::Engine::open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.error().message.c_str());
    std::exit(1);
  }
  runtime::Engine& e = **engine;
  dsl::LoadResult flow = dsl::load_flow_file(flows_dir + "/cart_reminder.yaml");
  if (!flow.ok() || !e.deploy(*flow.flow, flow.source).ok()) {
    std::fprintf(stderr, "cannot deploy cart_reminder.yaml from %s\n", flows_dir.c_str());
    std::exit(1);
  }
  const long have = e.totals("cart_reminder").journeys;
  if (have >= journeys) return 0;
  constexpr long kBatch = 500;  // events per ingest call, like one HTTP batch
  const auto t0 = Clock_::now();
  for (long start = have; start < journeys; start += kBatch) {
    std::vector<runtime::Event> batch;
    for (long n = start; n < std::min(journeys, start + kBatch); ++n) {
      runtime::Event event;
      event.id = "e" + std::to_string(n);
      event.type = "add_to_cart";
      event.user_id = "u" + std::to_string(n);
      event.properties_json = "{\"value\":59,\"cart_id\":\"c" + std::to_string(n) + "\"}";
      batch.push_back(std::move(event));
    }
    if (!e.ingest(std::move(batch)).ok()) std::abort();
  }
  const double secs = std::chrono::duration<double>(Clock_::now() - t0).count();
  return static_cast<double>(journeys - have) / secs;
}

void time_route(httplib::Client& client, const std::string& path, int requests) {
  std::vector<double> ms;
  size_t bytes = 0;
  for (int i = 0; i < requests; ++i) {
    const auto t0 = Clock_::now();
    auto r = client.Get(path);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock_::now() - t0).count());
    if (!r || r->status != 200) {
      std::fprintf(stderr, "GET %s failed\n", path.c_str());
      std::exit(1);
    }
    bytes = r->body.size();
  }
  std::sort(ms.begin(), ms.end());
  std::printf("GET %-10s %d requests: median %.2f ms, max %.2f ms (%zu bytes)\n", path.c_str(),
              requests, ms[ms.size() / 2], ms.back(), bytes);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: reads_bench DB JOURNEYS FLOWS_DIR [REQUESTS]\n");
    return 2;
  }
  const std::string db = argv[1];
  const long journeys = std::stol(argv[2]);
  const std::string flows_dir = argv[3];
  const int requests = argc > 4 ? std::stoi(argv[4]) : 20;

  if (double rate = fill(db, flows_dir, journeys); rate > 0)
    std::printf("filled %ld journeys at %.0f events/s\n", journeys, rate);

  auto served = bench::serve_in_process(db, flows_dir);
  if (!served) return 1;
  api::Service& service = *served->service;
  std::printf("%ld journeys of cart_reminder\n", service.engine().totals("cart_reminder").journeys);
  httplib::Client client("127.0.0.1", service.port());
  client.set_read_timeout(300, 0);  // a slow answer is a figure, not a failure
  time_route(client, "/v1/flows", requests);
  time_route(client, "/metrics", requests);
  service.shutdown();
  return 0;
}

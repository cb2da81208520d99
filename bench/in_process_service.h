// `trellis serve` in the benchmark's own process, as the HTTP benchmarks run
// it (bench/api/reads_bench.cpp, bench/results_bench.cpp): the service on a
// free loopback port, no provider (adapter none), no request log, its JSON
// log kept in memory.
#pragma once

#include <cstdio>
#include <memory>
#include <sstream>
#include <string>

#include "api/service.h"

namespace trellis::bench {

struct InProcessService {
  std::ostringstream log_text;  // the service's log, not printed
  api::JsonLog log{log_text};
  std::unique_ptr<api::Service> service;
};

// Opens the service on `db` with the flows of `flows_dir` and starts it;
// null, having printed why, when it cannot.
inline std::unique_ptr<InProcessService> serve_in_process(const std::string& db,
                                                          const std::string& flows_dir) {
  auto out = std::make_unique<InProcessService>();
  api::ServiceOptions options;
  options.db = db;
  options.flows_dir = flows_dir;
  options.adapter = "none";
  options.http.port = 0;
  options.log_requests = false;
  auto service = api::Service::open(options, out->log);
  if (!service.ok()) {
    std::fprintf(stderr, "service: %s\n", service.error().message.c_str());
    return nullptr;
  }
  out->service = std::move(service.value());
  if (!out->service->start().ok()) {
    std::fprintf(stderr, "service: does not start\n");
    return nullptr;
  }
  return out;
}

}  // namespace trellis::bench

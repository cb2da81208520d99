#include "api/metrics.h"

#include <catch2/catch.hpp>

namespace api = trellis::api;

TEST_CASE("counters, gauges and histograms render in Prometheus text format") {
  api::MetricsRegistry m;
  m.counter("events_total", "Events", {{"outcome", "accepted"}}).inc(3);
  m.counter("events_total", "Events", {{"outcome", "rejected"}}).inc();
  m.gauge("timers_pending", "Timers").set(7);
  auto& h = m.histogram("lat_seconds", "Latency", {{"route", "/x"}}, {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  std::string text = m.render();
  CHECK(text.find("# HELP events_total Events\n# TYPE events_total counter\n") !=
        std::string::npos);
  CHECK(text.find("events_total{outcome=\"accepted\"} 3\n") != std::string::npos);
  CHECK(text.find("events_total{outcome=\"rejected\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE timers_pending gauge\ntimers_pending 7\n") != std::string::npos);
  CHECK(text.find("lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("lat_seconds_bucket{route=\"/x\",le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("lat_seconds_sum{route=\"/x\"} 5.55\n") != std::string::npos);
  CHECK(text.find("lat_seconds_count{route=\"/x\"} 3\n") != std::string::npos);
}

TEST_CASE("label values are escaped and the same labels return the same metric") {
  api::MetricsRegistry m;
  auto& a = m.counter("c", "h", {{"flow", "a\"b\\c\nd"}});
  auto& b = m.counter("c", "h", {{"flow", "a\"b\\c\nd"}});
  CHECK(&a == &b);
  a.inc();
  CHECK(m.render().find(R"(c{flow="a\"b\\c\nd"} 1)") != std::string::npos);
}

TEST_CASE("collectors run before each render and may republish a gauge family") {
  api::MetricsRegistry m;
  int calls = 0;
  m.add_collector([&calls](api::MetricsRegistry& r) {
    ++calls;
    r.clear_gauge_family("journeys");
    r.gauge("journeys", "Journeys", {{"state", "waiting"}}).set(calls);
  });
  CHECK(m.render().find("journeys{state=\"waiting\"} 1") != std::string::npos);
  CHECK(m.render().find("journeys{state=\"waiting\"} 2") != std::string::npos);
}

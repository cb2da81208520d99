// A small Prometheus metrics registry: counters, gauges and histograms with
// labels, rendered in the Prometheus text exposition format (version 0.0.4).
//
// Metrics are looked up by name and labels once and then updated through the
// returned reference, which stays valid for the registry's lifetime; updates are
// lock-free atomics, so the hot paths (every request, every event) pay no mutex.
// Values that are cheaper to read at scrape time than to keep current (journeys
// by state, pending timers) come from collectors run by render().
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "runtime/prometheus_text.h"

namespace trellis::api {

using runtime::prometheus::Labels;
using runtime::prometheus::render_labels;

class Counter {
 public:
  void inc(double by = 1.0);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double v) { value_.store(v, std::memory_order_relaxed); }
  void inc(double by = 1.0);
  void dec(double by = 1.0) { inc(-by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0.0};
};

class Histogram {
 public:
  // `bounds`: the upper bounds of the buckets, ascending; +Inf is implicit.
  explicit Histogram(std::vector<double> bounds);
  void observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound, then the +Inf count (== count()).
  std::vector<uint64_t> cumulative_counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // per bound, not cumulative
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0.0};
};

// Latency buckets in seconds, 0.5 ms to 10 s.
std::vector<double> latency_buckets_seconds();

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Returns the metric with this name and labels, creating it (and its family,
  // with `help`) on first use. REQUIRES: one name is used with one kind only.
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help, const Labels& labels = {},
                       const std::vector<double>& bounds = latency_buckets_seconds());

  // Drops every series of a gauge family, so a collector can republish a set whose
  // members come and go (flows removed, states emptied).
  void clear_gauge_family(const std::string& name);

  // Runs before each render(), on the rendering thread.
  void add_collector(std::function<void(MetricsRegistry&)> collector);

  // Appends `source()`'s text (already in Prometheus format) to each render,
  // for components that keep their own counters (the engine).
  void add_text_source(std::function<std::string()> source);

  // The whole registry in Prometheus text format.
  std::string render();

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct Family {
    Kind kind;
    std::string help;
    // Keyed by the rendered label set, `{a="x",b="y"}`.
    std::map<std::string, std::unique_ptr<Counter>> counters;
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& family(const std::string& name, const std::string& help, Kind kind);

  std::mutex mu_;  // guards families_, collectors_ and text_sources_ (not the metric values)
  std::map<std::string, Family> families_;
  std::vector<std::function<void(MetricsRegistry&)>> collectors_;
  std::vector<std::function<std::string()>> text_sources_;
  std::mutex render_mu_;  // one render at a time, so collectors never race each other
};

}  // namespace trellis::api

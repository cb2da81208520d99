#include "api/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace trellis::api {
namespace {

using runtime::prometheus::format_value;
using runtime::prometheus::write_family;
using runtime::prometheus::write_sample;

// std::atomic<double>::fetch_add is C++20; a CAS loop does the same in C++17.
void atomic_add(std::atomic<double>& target, double by) {
  double old = target.load(std::memory_order_relaxed);
  while (!target.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

// Inserts `le` into an already rendered label set.
std::string with_le(const std::string& labels, const std::string& le) {
  std::string pair = "le=\"" + le + "\"";
  if (labels.empty()) return "{" + pair + "}";
  return labels.substr(0, labels.size() - 1) + "," + pair + "}";
}

}  // namespace

void Counter::inc(double by) { atomic_add(value_, by); }
void Gauge::inc(double by) { atomic_add(value_, by); }

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(std::move(bounds)), buckets_(new std::atomic<uint64_t>[bounds_.size()]) {
  for (size_t i = 0; i < bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::observe(double v) {
  auto it = std::lower_bound(bounds_.begin(), bounds_.end(), v);
  if (it != bounds_.end()) buckets_[it - bounds_.begin()].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  atomic_add(sum_, v);
}

std::vector<uint64_t> Histogram::cumulative_counts() const {
  std::vector<uint64_t> out;
  uint64_t running = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    running += buckets_[i].load(std::memory_order_relaxed);
    out.push_back(running);
  }
  // +Inf counts everything; read count_ last so it is never below the buckets.
  out.push_back(std::max(running, count()));
  return out;
}

std::vector<double> latency_buckets_seconds() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, const std::string& help,
                                                 Kind kind) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.emplace(name, Family{kind, help, {}, {}, {}}).first;
  return it->second;
}

Counter& MetricsRegistry::counter(const std::string& name, const std::string& help,
                                  const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = family(name, help, Kind::kCounter).counters[render_labels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& MetricsRegistry::gauge(const std::string& name, const std::string& help,
                              const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = family(name, help, Kind::kGauge).gauges[render_labels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& MetricsRegistry::histogram(const std::string& name, const std::string& help,
                                      const Labels& labels, const std::vector<double>& bounds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = family(name, help, Kind::kHistogram).histograms[render_labels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(bounds);
  return *slot;
}

void MetricsRegistry::clear_gauge_family(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = families_.find(name);
  if (it != families_.end()) it->second.gauges.clear();
}

void MetricsRegistry::add_collector(std::function<void(MetricsRegistry&)> collector) {
  std::lock_guard<std::mutex> lock(mu_);
  collectors_.push_back(std::move(collector));
}

void MetricsRegistry::add_text_source(std::function<std::string()> source) {
  std::lock_guard<std::mutex> lock(mu_);
  text_sources_.push_back(std::move(source));
}

std::string MetricsRegistry::render() {
  std::lock_guard<std::mutex> render_lock(render_mu_);
  std::vector<std::function<void(MetricsRegistry&)>> collectors;
  std::vector<std::function<std::string()>> sources;
  {
    std::lock_guard<std::mutex> lock(mu_);
    collectors = collectors_;
    sources = text_sources_;
  }
  for (auto& collect : collectors) collect(*this);
  std::string out;
  for (auto& source : sources) out += source();

  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, fam] : families_) {
    static const char* kTypes[] = {"counter", "gauge", "histogram"};
    write_family(out, name, fam.help, kTypes[static_cast<int>(fam.kind)]);
    for (const auto& [labels, c] : fam.counters) write_sample(out, name, labels, c->value());
    for (const auto& [labels, g] : fam.gauges) write_sample(out, name, labels, g->value());
    for (const auto& [labels, h] : fam.histograms) {
      auto counts = h->cumulative_counts();
      const std::string bucket = name + "_bucket";
      for (size_t i = 0; i < h->bounds().size(); ++i)
        write_sample(out, bucket, with_le(labels, format_value(h->bounds()[i])),
                     std::to_string(counts[i]));
      write_sample(out, bucket, with_le(labels, "+Inf"), std::to_string(counts.back()));
      write_sample(out, name + "_sum", labels, h->sum());
      write_sample(out, name + "_count", labels, std::to_string(counts.back()));
    }
  }
  return out;
}

}  // namespace trellis::api

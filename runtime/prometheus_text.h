// The Prometheus text exposition format (version 0.0.4), written by both the
// API's metrics registry (api/metrics.h) and the engine's own counters
// (Engine::prometheus_metrics): one writer, so numbers and label values read
// the same wherever they come from.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace trellis::runtime::prometheus {

// Label pairs in a fixed order, e.g. {{"channel", "sms"}, {"outcome", "sent"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

// A sample value: whole numbers without a fraction, else 9 significant digits;
// +Inf, -Inf and NaN as Prometheus spells them.
std::string format_value(double v);

// `{a="x",b="y"}` with backslash, quote and newline escaped; empty for no labels.
std::string render_labels(const Labels& labels);

// The `# HELP` and `# TYPE` lines of a family; `type` is counter, gauge or histogram.
void write_family(std::string& out, std::string_view name, std::string_view help,
                  std::string_view type);

// One sample line: `name{labels} value`, `labels` already rendered (or empty).
void write_sample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view value);
void write_sample(std::string& out, std::string_view name, std::string_view labels, double value);

}  // namespace trellis::runtime::prometheus

// Flow results as the stats endpoint reports them (docs/results.md): goal,
// revenue, cost and ROI, conversions attributed to message nodes, A/B
// comparisons, the funnel, and a series over time. Computed from rollups
// (runtime/rollups.h) and the newest flow version, never from journeys, so
// the cost does not grow with the number of journeys.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dsl/ir/flow.h"
#include "runtime/ab_stats.h"
#include "runtime/delivery/config.h"
#include "runtime/store.h"

namespace trellis::runtime {

struct NodeResult {
  std::string node;
  int64_t converted_after = 0;  // conversions whose last message came from this node
  double revenue_after = 0;
  double cost = 0;
};

struct AbResult {
  std::string node;
  ab::Comparison comparison;
  std::map<std::string, double> cost;  // by variant: its journeys' messages
};

struct FunnelPath {
  std::vector<std::string> path;
  int64_t journeys = 0;
  std::vector<int64_t> reached;
};

// The message outcomes the series counts, by channel.
struct MessageOutcomes {
  int64_t sent = 0, failed = 0, suppressed = 0, deferred = 0, dropped = 0, pending = 0;
};

struct SeriesBucket {
  TimeMs start = 0;
  int64_t entered = 0, exited = 0, converted = 0;
  double revenue = 0, cost = 0;
  std::map<std::string, MessageOutcomes> messages;
};

struct SeriesQuery {
  TimeMs from = 0, to = 0;  // [from, to)
  bool daily = false;
  std::string zone = "UTC";  // day buckets start at local midnight here
};

struct FlowResults {
  double revenue = 0, cost = 0;
  std::optional<double> roi;      // (revenue - cost) / cost; none without cost
  std::vector<NodeResult> nodes;  // the newest version's nodes, in order
  std::vector<AbResult> ab;
  std::vector<FunnelPath> funnel;
  std::vector<SeriesBucket> series;  // only with a SeriesQuery
};

// The minimum sample per variant before an A/B verdict (docs/results.md#ab-results).
inline constexpr int64_t kAbMinSample = 100;
inline constexpr size_t kMaxFunnelPaths = 50;

FlowResults flow_results(StoreReader& reader, const ir::Flow& newest,
                         const delivery::DeliveryConfig& config,
                         const std::optional<SeriesQuery>& series);

// The global holdout against everyone exposed, over every marketing flow.
struct HoldoutGroup {
  int64_t journeys = 0, conversions = 0;
};
struct HoldoutResults {
  double percent = 0;
  HoldoutGroup held_out, exposed;
};
HoldoutResults holdout_results(StoreReader& reader, const std::vector<const ir::Flow*>& marketing,
                               const delivery::DeliveryConfig& config);

// The start of the local day holding `at` in `zone` (REQUIRES: a known zone),
// and that instant's UTC offset in minutes there.
TimeMs local_day_start(TimeMs at, const std::string& zone);
int utc_offset_minutes(TimeMs at, const std::string& zone);

}  // namespace trellis::runtime

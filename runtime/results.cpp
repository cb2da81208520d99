#include "runtime/results.h"

#include <algorithm>
#include <date/date.h>
#include <functional>
#include <iterator>
#include <set>

#include "nodes/local_time.h"
#include "runtime/stored_counts.h"

namespace trellis::runtime {
namespace {

// Statuses of messages released to a provider: what a channel's cost counts.
bool is_released(int status) {
  return status == static_cast<int>(DeliveryStatus::kPending) ||
         status == static_cast<int>(DeliveryStatus::kSent) ||
         status == static_cast<int>(DeliveryStatus::kDead);
}

double message_cost(const std::string& channel, int status, int64_t messages,
                    const delivery::DeliveryConfig& config) {
  if (!is_released(status)) return 0;
  auto it = config.costs.find(channel);
  return it == config.costs.end() ? 0 : it->second * static_cast<double>(messages);
}

double message_cost(const MessageRollupRow& row, const delivery::DeliveryConfig& config) {
  return message_cost(row.channel, row.status, row.messages, config);
}

void add_outcome(MessageOutcomes& out, int status, int64_t n) {
  switch (static_cast<DeliveryStatus>(status)) {
    case DeliveryStatus::kPending:
      out.pending += n;
      break;
    case DeliveryStatus::kSent:
      out.sent += n;
      break;
    case DeliveryStatus::kDead:
      out.failed += n;
      break;
    case DeliveryStatus::kDeferred:
      out.deferred += n;
      break;
    case DeliveryStatus::kSuppressed:
      out.suppressed += n;
      break;
    case DeliveryStatus::kDropped:
      out.dropped += n;
      break;
  }
}

// Every path from `start` along the newest version's arrows to a node with
// none (or back to one already on the path), at most kMaxFunnelPaths.
std::vector<std::vector<std::string>> paths_of(const ir::Flow& flow) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> path;
  std::function<void(const std::string&)> walk = [&](const std::string& id) {
    if (out.size() >= kMaxFunnelPaths) return;
    path.push_back(id);
    std::vector<std::string> next;
    if (const ir::Node* node = flow.find_node(id)) {
      for (const ir::Edge& edge : ir::edges_of(*node)) {
        const std::string& to = edge.target->value;
        if (to.empty() || !flow.find_node(to)) continue;
        if (std::find(path.begin(), path.end(), to) != path.end()) continue;  // a loop
        if (std::find(next.begin(), next.end(), to) == next.end()) next.push_back(to);
      }
    }
    if (next.empty()) out.push_back(path);
    for (const std::string& to : next) walk(to);
    path.pop_back();
  };
  if (flow.find_node(flow.start.value)) walk(flow.start.value);
  return out;
}

TimeMs floor_hour(TimeMs t) { return t - ((t % kHourMs) + kHourMs) % kHourMs; }

void fill_series(StoreReader& reader, const std::string& flow, const SeriesQuery& q,
                 const delivery::DeliveryConfig& config, FlowResults& out) {
  const TimeMs first = q.daily ? local_day_start(q.from, q.zone) : floor_hour(q.from);
  // Room for every bucket (a local day has at least 23 hours): a year by the
  // hour is 8,760, each holding a map, not to be moved as the vector grows.
  out.series.reserve(static_cast<size_t>((q.to - first) / (q.daily ? 23 * kHourMs : kHourMs)) + 2);
  for (TimeMs start = first; start < q.to;) {
    SeriesBucket b;
    b.start = start;
    out.series.push_back(std::move(b));
    start = q.daily ? local_day_start(start + 36 * kHourMs, q.zone) : start + kHourMs;
  }
  // The buckets are every hour or every local day from `first` on, in order:
  // an hour's bucket is the last one starting at or before it, found without
  // asking the time zone again for each of the (up to 9,600 x rows) hours.
  auto bucket = [&](TimeMs hour) -> SeriesBucket* {
    auto after = std::upper_bound(out.series.begin(), out.series.end(), hour,
                                  [](TimeMs t, const SeriesBucket& b) { return t < b.start; });
    return after == out.series.begin() ? nullptr : &*std::prev(after);
  };
  for (const RollupRow& row : reader.rollup_hours(flow, first, q.to)) {
    if (SeriesBucket* b = bucket(row.key.hour)) {
      b->entered += row.counts.entered;
      b->exited += row.counts.exited;
      b->converted += row.counts.converted;
      b->revenue += row.counts.revenue;
    }
  }
  for (const MessageHour& row : reader.message_hours(flow, first, q.to)) {
    if (SeriesBucket* b = bucket(row.hour)) {
      add_outcome(b->messages[row.channel], row.status, row.messages);
      b->cost += message_cost(row.channel, row.status, row.messages, config);
    }
  }
}

}  // namespace

FlowResults flow_results(StoreReader& reader, const ir::Flow& newest,
                         const delivery::DeliveryConfig& config,
                         const std::optional<SeriesQuery>& series) {
  const std::string& flow = newest.name.value;
  FlowResults out;
  std::map<std::string, NodeResult> by_node;
  const std::vector<RollupRow> totals = reader.rollup_totals(flow);
  for (const RollupRow& row : totals) {
    if (row.key.node == kHoldoutNode) continue;
    if (row.key.node.empty()) {
      out.revenue += row.counts.revenue;
    } else {
      NodeResult& n = by_node[row.key.node];
      n.converted_after += row.counts.converted;
      n.revenue_after += row.counts.revenue;
    }
  }
  const std::vector<MessageRollupRow> messages = reader.message_rollups(flow, true, 0, 0);
  for (const MessageRollupRow& row : messages) {
    const double cost = message_cost(row, config);
    by_node[row.node].cost += cost;
    out.cost += cost;
  }
  if (out.cost > 0) out.roi = (out.revenue - out.cost) / out.cost;
  for (const ir::Node& node : newest.nodes) {
    NodeResult n = by_node[node.id];
    n.node = node.id;
    out.nodes.push_back(std::move(n));
  }

  for (const ir::Node& node : newest.nodes) {
    const ir::AbNode* split = node.as<ir::AbNode>();
    if (!split) continue;
    std::vector<ab::VariantInput> inputs;
    AbResult result;
    result.node = node.id;
    for (const ir::Variant& variant : split->variants) {
      ab::VariantInput in;
      in.variant = variant.name.value;
      for (const RollupRow& row : totals) {
        if (assigned_variant(row.key.variant, node.id) != in.variant) continue;
        if (row.key.node == node.id) in.journeys += row.counts.entered;
        if (row.key.node.empty()) {
          in.conversions += row.counts.converted;
          in.revenue.sum += row.counts.revenue;
          in.revenue.sum_sq += row.counts.revenue_sq;
        }
      }
      in.revenue.n = in.journeys;
      double& cost = result.cost[in.variant];
      for (const MessageRollupRow& row : messages)
        if (assigned_variant(row.variant, node.id) == in.variant) cost += message_cost(row, config);
      inputs.push_back(std::move(in));
    }
    result.comparison = ab::compare(inputs, kAbMinSample);
    out.ab.push_back(std::move(result));
  }

  std::map<std::pair<std::string, std::string>, int64_t> arrows;
  for (const EdgeRow& edge : reader.rollup_edges(flow))
    arrows[{edge.key.from, edge.key.to}] += edge.journeys;
  int64_t entered = 0;
  for (const RollupRow& row : totals)
    if (row.key.node.empty()) entered += row.counts.entered;
  for (std::vector<std::string>& path : paths_of(newest)) {
    FunnelPath f;
    f.journeys = entered;
    f.reached.push_back(entered);
    for (size_t i = 1; i < path.size(); ++i) f.reached.push_back(arrows[{path[i - 1], path[i]}]);
    f.path = std::move(path);
    out.funnel.push_back(std::move(f));
  }

  if (series) fill_series(reader, flow, *series, config, out);
  return out;
}

HoldoutResults holdout_results(StoreReader& reader, const std::vector<const ir::Flow*>& marketing,
                               const delivery::DeliveryConfig& config) {
  HoldoutResults out;
  out.percent = config.holdout_percent;
  for (const ir::Flow* flow : marketing) {
    for (const RollupRow& row : reader.rollup_totals(flow->name.value)) {
      HoldoutGroup* group = row.key.node == kHoldoutNode ? &out.held_out
                            : row.key.node.empty()       ? &out.exposed
                                                         : nullptr;
      if (!group) continue;
      group->journeys += row.counts.entered;
      group->conversions += row.counts.converted;
    }
  }
  return out;
}

TimeMs local_day_start(TimeMs at, const std::string& zone) {
  // A day lasts at most 25 hours: the midnight after `at` - 30h is at most `at`.
  TimeMs midnight = nodes::next_local_time(at - 30 * kHourMs, 0, 0, zone);
  for (;;) {
    const TimeMs next = nodes::next_local_time(midnight, 0, 0, zone);
    if (next > at) return midnight;
    midnight = next;
  }
}

int utc_offset_minutes(TimeMs at, const std::string& zone) {
  const nodes::LocalParts local = nodes::local_parts(at, zone);
  const date::sys_days day = date::year{local.year} / local.month / local.day;
  const int64_t wall_minutes = int64_t{day.time_since_epoch().count()} * 1440 + local.minute_of_day;
  const int64_t utc_minutes = (at - ((at % 60000) + 60000) % 60000) / 60000;
  return static_cast<int>(wall_minutes - utc_minutes);
}

}  // namespace trellis::runtime

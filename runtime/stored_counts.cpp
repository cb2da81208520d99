#include "runtime/stored_counts.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace trellis::runtime {

namespace {

NodeCount& node_count(std::map<std::string, NodeCount>& m, const std::string& node) {
  NodeCount& c = m[node];
  c.node = node;
  return c;
}

void add_states(FlowCounts& out, std::map<std::string, NodeCount>& nodes,
                const std::vector<StateCount>& states) {
  for (const StateCount& s : states) {
    NodeCount& c = node_count(nodes, s.node);
    out.journeys += s.journeys;
    if (is_live(s.state)) out.live += s.journeys;
    out.conversions += s.conversions;
    if (is_waiting(s.state)) c.waiting += s.journeys;
    if (!is_live(s.state)) c.exited += s.journeys;
  }
}

// Each key's value on its hour's row and added up on its all-time row (hour
// kAllTimeHour); a key already at kAllTimeHour goes to the all-time row only.
template <typename Key, typename Value>
std::map<Key, Value> with_all_time(const std::map<Key, Value>& batch) {
  std::map<Key, Value> rows;
  for (const auto& [key, value] : batch) {
    Key total = key;
    total.hour = kAllTimeHour;
    rows[total] += value;
    if (key.hour != kAllTimeHour) rows[key] += value;
  }
  return rows;
}

}  // namespace

std::string assigned_variant(const std::string& list, const std::string& ab_node) {
  std::string taken;
  for_each_assignment(list, [&](const std::string& ab, const std::string& name) {
    if (ab == ab_node) taken = name;
  });
  return taken;
}

FlowTotals totals_from(const std::vector<StateCount>& states) {
  FlowTotals out;
  for (const StateCount& s : states) {
    out.journeys += s.journeys;
    if (is_live(s.state)) out.live += s.journeys;
    if (is_waiting(s.state)) out.waiting += s.journeys;
    out.conversions += s.conversions;
  }
  return out;
}

FlowCounts counts_from_rollups(const std::vector<RollupRow>& totals,
                               const std::vector<MessageRollupRow>& message_rows,
                               const std::vector<StateCount>& states) {
  FlowCounts out;
  std::map<std::string, NodeCount> nodes;
  std::map<std::pair<std::string, std::string>, VariantCount> variants;
  auto variant = [&](const std::string& node, const std::string& name) -> VariantCount& {
    VariantCount& v = variants[{node, name}];
    v.node = node;
    v.variant = name;
    return v;
  };
  for (const RollupRow& row : totals) {
    const std::string& node = row.key.node;
    if (node == kHoldoutNode) continue;  // not journeys of the flow: GET /v1/holdout
    if (node.empty()) {
      for_each_assignment(row.key.variant, [&](const std::string& ab, const std::string& name) {
        variant(ab, name).conversions += row.counts.converted;
      });
      continue;
    }
    node_count(nodes, node).entered += row.counts.entered;
    // An A/B node's entry is counted after its choice: the journey's newest
    // assignment of that node is the variant it took.
    const std::string taken = assigned_variant(row.key.variant, node);
    if (!taken.empty()) variant(node, taken).journeys += row.counts.entered;
  }
  add_states(out, nodes, states);
  for (auto& [k, v] : nodes) out.nodes.push_back(v);
  for (auto& [k, v] : variants) out.variants.push_back(v);
  std::map<std::pair<std::string, std::string>, MessageCount> messages;
  for (const MessageRollupRow& row : message_rows) {
    MessageCount& m = messages[{row.node, row.channel}];
    m.node = row.node;
    m.channel = row.channel;
    m.delivered += row.delivered;
    m.opened += row.opened;
    m.clicked += row.clicked;
    m.bounced += row.bounced;
    m.complained += row.complained;
    if (row.status < 0) continue;
    m.created += row.messages;
    switch (static_cast<DeliveryStatus>(row.status)) {
      case DeliveryStatus::kSent:
        m.sent += row.messages;
        break;
      case DeliveryStatus::kDeferred:
        m.deferred += row.messages;
        break;
      case DeliveryStatus::kSuppressed:
        m.suppressed += row.messages;
        break;
      case DeliveryStatus::kDropped:
        m.dropped += row.messages;
        break;
      case DeliveryStatus::kDead:
        m.dead += row.messages;
        break;
      case DeliveryStatus::kPending:
        break;
    }
  }
  for (auto& [k, m] : messages) out.messages.push_back(std::move(m));
  return out;
}

FlowCounts counts_from_scan(const std::map<std::string, int64_t>& entered,
                            const std::vector<StateCount>& states,
                            std::vector<VariantCount> variants,
                            std::vector<MessageCount> messages) {
  FlowCounts out;
  std::map<std::string, NodeCount> nodes;
  for (const auto& [node, n] : entered) node_count(nodes, node).entered += n;
  add_states(out, nodes, states);
  for (auto& [k, v] : nodes) out.nodes.push_back(v);
  out.variants = std::move(variants);
  out.messages = std::move(messages);
  return out;
}

std::map<RollupKey, RollupCounts> rollup_rows_to_write(const RollupBatch& batch) {
  return with_all_time(batch.rows);
}

std::map<MessageKey, int64_t> message_rows_to_write(const RollupBatch& batch) {
  return with_all_time(batch.messages);
}

void add_backfill(RollupBatch& batch, const std::string& flow, const FlowCounts& scanned,
                  const std::vector<VariantJourneys>& by_variant) {
  auto total = [&](const std::string& node, const std::string& variant) -> RollupCounts& {
    return batch.rows[RollupKey{kAllTimeHour, flow, 0, node, variant}];
  };
  std::map<std::string, int64_t> by_variants;  // A/B node -> journeys counted by variant
  for (const VariantCount& v : scanned.variants) {
    total(v.node, v.node + "=" + v.variant).entered += v.journeys;
    by_variants[v.node] += v.journeys;
  }
  for (const NodeCount& n : scanned.nodes)
    total(n.node, "").entered += std::max<int64_t>(0, n.entered - by_variants[n.node]);
  for (const VariantJourneys& v : by_variant) {
    RollupCounts& c = total("", v.variant);
    c.entered += v.journeys;
    c.exited += v.ended;
    c.converted += v.converted;
    c.revenue += v.revenue;
  }
}

std::string rollup_hours_sql(char mark) {
  const std::string flow = mark + std::string("1"), from = mark + std::string("2"),
                    to = mark + std::string("3");
  return "SELECT hour, 0, '', '', sum(entered), sum(exited), sum(converted), sum(revenue), "
         "sum(revenue_sq) FROM rollups WHERE flow = " +
         flow + " AND node = '' AND hour >= " + from + " AND hour < " + to +
         " GROUP BY hour ORDER BY hour";
}

std::string message_hours_sql(char mark) {
  return std::string("SELECT hour, channel, status, messages FROM message_rollups WHERE flow = ") +
         mark + "1 AND hour >= " + mark + "2 AND hour < " + mark + "3 AND status >= 0";
}

JourneyListSql journey_list_sql(const JourneyQuery& q, char mark, const char* position) {
  JourneyListSql out;
  auto param = [&](std::variant<std::string, int64_t> value) {
    out.params.push_back(std::move(value));
    return mark + std::to_string(out.params.size());
  };
  out.sql = std::string("SELECT ") + kJourneySummaryColumns +
            " FROM journeys WHERE flow = " + param(q.flow) + " AND id < " +
            param(q.before > 0 ? q.before : INT64_MAX);
  out.sql += q.node.empty() ? std::string(" AND node != '") + kHoldoutNode + "'"
                            : " AND node = " + param(q.node);
  if (q.converted_only) out.sql += " AND converted_at IS NOT NULL";
  if (!q.states.empty()) {
    out.sql += " AND state IN (";
    for (size_t i = 0; i < q.states.size(); ++i)
      out.sql += (i ? "," : "") + std::to_string(static_cast<int>(q.states[i]));
    out.sql += ")";
  }
  // A whole assignment of the list ("ab=a" is not in "ab=ab"), or a bare
  // variant name given by any A/B node.
  if (!q.variant.empty()) {
    const std::string value = param(q.variant);
    out.sql += std::string(" AND ") + position +
               (q.variant.find('=') == std::string::npos
                    ? "(variant || ';', '=' || " + value + " || ';') > 0"
                    : "(';' || variant || ';', ';' || " + value + " || ';') > 0");
  }
  // Read in id order from the newest: a rare filter scans the flow's journeys
  // (no index by node; the drill-down is not a hot path).
  out.sql += " ORDER BY id DESC LIMIT " + param(static_cast<int64_t>(q.limit));
  return out;
}

}  // namespace trellis::runtime

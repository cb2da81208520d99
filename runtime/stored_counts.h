// Flow counts and results as both stores assemble them from what they read
// (docs/results.md#rollups): the column lists both select and the reading of
// their rows, the drill-down's query, and the arithmetic that turns rows into
// FlowCounts, FlowTotals and the rollups a store upgraded to the results
// schema starts from are here, once; each store runs the SQL on its own
// connection.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "runtime/journey_lifecycle.h"
#include "runtime/rollups.h"
#include "runtime/store.h"

namespace trellis::runtime {

// Journeys of a flow at one node in one state (the held-out journeys, node
// kHoldoutNode, left out by the store's query).
struct StateCount {
  std::string node;
  Lifecycle state = Lifecycle::kEntered;
  int64_t journeys = 0;
  int64_t conversions = 0;
};

// "node=variant;node2=variant2": calls `visit(node, variant)` for each.
template <typename Visit>
void for_each_assignment(const std::string& list, Visit visit) {
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(';', start);
    if (end == std::string::npos) end = list.size();
    const size_t eq = list.find('=', start);
    if (eq != std::string::npos && eq < end)
      visit(list.substr(start, eq - start), list.substr(eq + 1, end - eq - 1));
    start = end + 1;
  }
}

// The variant `ab_node` gave in such a list (its newest assignment), or "".
std::string assigned_variant(const std::string& list, const std::string& ab_node);

FlowTotals totals_from(const std::vector<StateCount>& states);

// The columns the stores select for each row kind, in the order the readers
// below read them. A `Row` is the store's current result row, read by column
// index: i64(c), text(c), opt_i64(c), opt_double(c).
inline constexpr const char* kRollupColumns =
    "hour, version, node, variant, entered, exited, converted, revenue, revenue_sq";
inline constexpr const char* kMessageRollupColumns =
    "hour, version, node, channel, variant, status, messages, delivered, opened, clicked, "
    "bounced, complained";
inline constexpr const char* kEdgeColumns = "version, from_node, to_node, journeys";
inline constexpr const char* kJourneySummaryColumns =
    "id, user_id, state, node, variant, entered_at, converted_at, revenue";
// The scan of a flow's deliveries that counts_from_scan takes, grouped by node
// and channel: node, channel, count, then by status (sent, deferred,
// suppressed, dropped, dead), then by feedback (delivered to complained).
inline constexpr int kMessageCountColumns = 13;

// StoreReader::rollup_hours's query: the flow's own rows summed by hour, in
// the columns of kRollupColumns, with `mark`1..3 the flow, from and to. Both
// stores keep an index of node "" rows in (flow, hour) order holding these
// columns (rollups_flow_hours), so a year is 8,760 index entries whatever the
// nodes.
std::string rollup_hours_sql(char mark);

template <typename Row>
RollupRow read_rollup_row(const Row& r, const std::string& flow) {
  RollupRow row;
  row.key.flow = flow;
  row.key.hour = r.i64(0);
  row.key.version = static_cast<int>(r.i64(1));
  row.key.node = r.text(2);
  row.key.variant = r.text(3);
  row.counts.entered = r.i64(4);
  row.counts.exited = r.i64(5);
  row.counts.converted = r.i64(6);
  row.counts.revenue = r.opt_double(7).value_or(0);
  row.counts.revenue_sq = r.opt_double(8).value_or(0);
  return row;
}

template <typename Row>
MessageRollupRow read_message_rollup_row(const Row& r) {
  MessageRollupRow m;
  m.hour = r.i64(0);
  m.version = static_cast<int>(r.i64(1));
  m.node = r.text(2);
  m.channel = r.text(3);
  m.variant = r.text(4);
  m.status = static_cast<int>(r.i64(5));
  m.messages = r.i64(6);
  int64_t* feedback[] = {&m.delivered, &m.opened, &m.clicked, &m.bounced, &m.complained};
  for (int k = 0; k < 5; ++k) *feedback[k] = r.i64(7 + k);
  return m;
}

// StoreReader::message_hours's query, with `mark`1..3 the flow, from and to.
std::string message_hours_sql(char mark);

template <typename Row>
MessageHour read_message_hour(const Row& r) {
  return MessageHour{r.i64(0), r.text(1), static_cast<int>(r.i64(2)), r.i64(3)};
}

template <typename Row>
EdgeRow read_edge_row(const Row& r, const std::string& flow) {
  EdgeRow e;
  e.key.flow = flow;
  e.key.version = static_cast<int>(r.i64(0));
  e.key.from = r.text(1);
  e.key.to = r.text(2);
  e.journeys = r.i64(3);
  return e;
}

template <typename Row>
JourneySummary read_journey_summary(const Row& r) {
  JourneySummary j;
  j.id = r.i64(0);
  j.user_id = r.text(1);
  j.state = static_cast<Lifecycle>(r.i64(2));
  j.node = r.text(3);
  j.variant = r.text(4);
  j.entered_at = r.i64(5);
  j.converted_at = r.opt_i64(6);
  j.revenue = r.opt_double(7);
  return j;
}

template <typename Row>
MessageCount read_message_count(const Row& r) {
  MessageCount m;
  m.node = r.text(0);
  m.channel = r.text(1);
  int64_t* counts[] = {&m.created,   &m.sent,   &m.deferred, &m.suppressed, &m.dropped,   &m.dead,
                       &m.delivered, &m.opened, &m.clicked,  &m.bounced,    &m.complained};
  for (int k = 0; k < kMessageCountColumns - 2; ++k) *counts[k] = r.i64(2 + k);
  return m;
}

// The drill-down's SQL for `q` (StoreReader::flow_journeys), with numbered
// parameters written `mark`N (SQLite '?', PostgreSQL '$') whose values are
// `params` in order, and `position` the store's substring search (SQLite
// instr, PostgreSQL strpos; both (haystack, needle)).
struct JourneyListSql {
  std::string sql;
  std::vector<std::variant<std::string, int64_t>> params;
};
JourneyListSql journey_list_sql(const JourneyQuery& q, char mark, const char* position);

// StoreReader::counts from the flow's all-time rollups (entries per node, A/B
// variants and their conversions, messages by status and feedback) and its
// journeys by node and state: a few hundred rows whatever the journeys.
FlowCounts counts_from_rollups(const std::vector<RollupRow>& totals,
                               const std::vector<MessageRollupRow>& messages,
                               const std::vector<StateCount>& states);

// The same counts from a scan of every journey, as before rollups existed:
// entries per node (from the step histories), the journeys by state, the A/B
// variants (VariantTally) and the messages per node (MessageCount, from the
// deliveries).
FlowCounts counts_from_scan(const std::map<std::string, int64_t>& entered,
                            const std::vector<StateCount>& states,
                            std::vector<VariantCount> variants, std::vector<MessageCount> messages);

// A batch's rollup rows as a store writes them: each key's counts on its
// hour's row and added up on its all-time row (hour kAllTimeHour), one entry
// per row whatever hours the batch spans, in key order. A key of the batch at
// kAllTimeHour (the backfill) goes to the all-time row only.
std::map<RollupKey, RollupCounts> rollup_rows_to_write(const RollupBatch& batch);
std::map<MessageKey, int64_t> message_rows_to_write(const RollupBatch& batch);

// The flow's journeys grouped by their variant list, for the backfill.
struct VariantJourneys {
  std::string variant;  // "node=variant;..." or ""
  int64_t journeys = 0, ended = 0, converted = 0;
  double revenue = 0;
};

// Adds to `batch` the all-time rollups of a flow whose journeys were written
// before the store kept rollups (`scanned`: counts_from_scan), version 0:
// entries per node and variant, and the flow's own row per variant list.
void add_backfill(RollupBatch& batch, const std::string& flow, const FlowCounts& scanned,
                  const std::vector<VariantJourneys>& by_variant);

}  // namespace trellis::runtime

// Flow counts as both stores assemble them from what they read
// (docs/results.md#rollups): the SQL that reads the rows is each store's, the
// arithmetic that turns them into FlowCounts, FlowTotals and the rollups a
// store upgraded to the results schema starts from is here, once.
#pragma once

#include <cstdint>
#include <map>
#include <string>
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

FlowTotals totals_from(const std::vector<StateCount>& states);

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
                            std::vector<VariantCount> variants,
                            std::vector<MessageCount> messages);

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

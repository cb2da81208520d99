// What changes between two versions of a flow, in words on the IR: "node
// `pick`: condition changed from "user.tier == 1" to "user.tier == 2"",
// "node `sms_c` added (SMS)". The one implementation behind the version
// history's diff and the editor's deploy dialog (GET /v1/flows/{name}/diff,
// docs/http-api.md#versions-history-and-rollback). Comments and layout count
// as "comments edited"; the order of nodes and of A/B variants is no change.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/flow.h"

namespace trellis::dsl {

struct FlowChange {
  enum class Kind { kAdded, kRemoved, kChanged };
  Kind kind = Kind::kChanged;
  std::string node;  // the node's id; empty for the flow's own settings
  std::string text;  // the change in words
};

std::string_view change_kind_name(FlowChange::Kind kind);  // "added", "removed", "changed"

// The changes from `before` to `after`, flow settings first, then nodes added,
// removed and changed in `after`'s order. `before` null: the first version.
std::vector<FlowChange> describe_changes(const ir::Flow* before, const ir::Flow& after);

}  // namespace trellis::dsl

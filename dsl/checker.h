// The flow checker: whether a flow, as the IR holds it, makes sense. It reads
// only the IR, so `.yaml`, `.flow` and editor flows get the same findings.
//
// Reports every problem, not just the first: missing and unknown targets (with
// "did you mean"), missing required fields (node_schema.h), rules of each node
// kind (wait, coupon, sms, email, webhook, ab), unreachable nodes, loops with
// no wait in them, ill-typed comparisons, and template data that cannot exist
// at a node (`coupon.code` before any coupon node). Each diagnostic names its
// node and field. Syntax problems are the front ends' (load.h) and are not
// repeated here.
#pragma once

#include <cstdint>
#include <optional>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

struct CheckOptions {
  // Unreachable nodes and the per-path data warnings (`coupon.code`,
  // `last_event`). Off when the front end had errors: a node it could not
  // read has lost its edges, and these warnings would only echo that.
  bool graph_warnings = true;
  // The current time (ms since the epoch), to warn about a schedule already in
  // the past; nullopt skips that warning (tests, and flows checked offline).
  std::optional<int64_t> now_ms;
};

// Diagnostics in the order found; callers sort. Positions come from the IR's
// spans; an element without one is reported at its node, or at 1:1.
ir::Diagnostics check_flow(const ir::Flow& flow, const CheckOptions& options = {});

}  // namespace trellis::dsl

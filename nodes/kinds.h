// Internal to nodes/: the processors of each kind (one .cpp each) and the
// small decision helpers they share. Only registry.cpp lists the processors.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "dsl/expr/value.h"
#include "dsl/ir/flow.h"
#include "nodes/compiled_flow.h"
#include "nodes/node.h"
#include "nodes/reason_text.h"

namespace trellis::nodes {

const NodeProcessor& segment_processor();
const NodeProcessor& wait_processor();
const NodeProcessor& coupon_processor();
const NodeProcessor& sms_processor();
const NodeProcessor& email_processor();
const NodeProcessor& webhook_processor();
const NodeProcessor& ab_processor();
const NodeProcessor& exit_processor();

// Follow `target` through the slot named `edge`. An empty target (which the
// checker rejects) ends the journey instead, and the reason says so.
Decision go_to(const ir::Target& target, std::string edge, std::string reason);
Decision end_journey(std::string reason, Ending ending = Ending::kFailed);
// An input that does not concern the node: nothing changes.
Decision ignore_input(std::string reason);

// The profile trait `trait` (a `user.*` path, interned once by the caller) as
// text ("+4712345678"), or nullopt when it is missing, null or an empty
// string: the recipient of a message.
std::optional<std::string> recipient(const JourneyView& journey, expr::PathId trait);

// Compiles a template that was given; leaves `out` empty otherwise.
void compile_template(const std::optional<ir::Template>& source,
                      std::optional<expr::CompiledTemplate>& out);

// A generic node's target field, empty when unset (go_to then ends the journey).
const ir::Target& target_field(const ir::GenericNode& node, std::string_view field);

// A value as JSON: null, true, 4, 2.5, "text", [..]; a number that is not
// finite is null. For a profile update (Decision::profile_update).
void append_json(std::string& out, const expr::ValueView& value);

// "node 'x': <message>" for compile errors.
std::string node_error(const ir::Node& node, std::string_view message);

}  // namespace trellis::nodes

// segment: branch on the profile and the journey's events. A missing trait is
// null, and every comparison with null is false, so it takes `no`.
#include "nodes/kinds.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

class SegmentProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kSegment; }

  bool compile(const ir::Node& node, CompiledNode& out,
               std::vector<std::string>& errors) const override {
    const auto& segment = *node.as<ir::SegmentNode>();
    if (!segment.match || !segment.match->tree) {
      errors.push_back(node_error(node, segment.match ? "'match' did not parse" : "no 'match'"));
      return false;
    }
    out.match = expr::Program::compile(*segment.match->tree);
    for (expr::PathId path : out.match->paths()) {
      std::string label;
      append_path(label, path);
      out.match_labels.push_back(std::move(label));
    }
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& segment = *node.node->as<ir::SegmentNode>();
    FlowScope scope(journey);
    bool matched = node.match->test(scope);
    const std::vector<expr::PathId>& paths = node.match->paths();
    std::string reason;
    // Room for "match was false: " and a typical "user.age = 34" per path: one allocation.
    reason.reserve(32 + 32 * paths.size());
    reason += matched ? "match was true" : "match was false";
    if (!paths.empty()) {
      reason += ": ";
      append_values(reason, paths, node.match_labels, scope);
    }
    return matched ? go_to(segment.yes, "yes", std::move(reason))
                   : go_to(segment.no, "no", std::move(reason));
  }
};

}  // namespace

const NodeProcessor& segment_processor() {
  static const SegmentProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

// split: a multi-way branch. The branches are tried in order and the first
// whose `when` holds is taken; when none holds, `default`. The reason names
// the branch taken and the values its condition saw (docs/flows.md#split).
#include "nodes/kinds.h"
#include "nodes/registry.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

const ir::NodeKind kKind = kind_named("split");

class SplitProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return kKind; }

  // One program per branch, in order; each label is the branch's condition as written.
  bool compile(const ir::Node& node, CompiledNode& out,
               std::vector<std::string>& errors) const override {
    const auto* branches = node.as<ir::GenericNode>()->get<std::vector<ir::Branch>>("branches");
    if (branches == nullptr) return true;  // the checker requires branches; default alone works
    for (size_t i = 0; i < branches->size(); ++i) {
      const ir::Branch& branch = (*branches)[i];
      if (!branch.when || !branch.when->tree) {
        errors.push_back(node_error(
            node, "the condition of branch " + std::to_string(i + 1) + " did not parse"));
        return false;
      }
      out.programs.push_back(expr::Program::compile(*branch.when->tree));
      out.program_labels.push_back(ir::branch_label(branch, i));
    }
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& generic = *node.node->as<ir::GenericNode>();
    const auto* branches = generic.get<std::vector<ir::Branch>>("branches");
    FlowScope scope(journey);
    for (size_t i = 0; i < node.programs.size(); ++i) {
      const expr::Program& when = node.programs[i];
      if (!when.test(scope)) continue;
      std::string reason =
          "branch " + std::to_string(i + 1) + " (" + node.program_labels[i] + ") held";
      if (!when.paths().empty()) reason += ": " + describe_values(when.paths(), scope);
      return go_to((*branches)[i].next, node.program_labels[i], std::move(reason));
    }
    std::string reason = "no branch held, default";
    std::vector<expr::PathId> seen;
    for (const expr::Program& when : node.programs) {
      seen.insert(seen.end(), when.paths().begin(), when.paths().end());
    }
    if (!seen.empty()) reason += ": " + describe_values(seen, scope);
    return go_to(target_field(generic, "default"), "default", std::move(reason));
  }
};

}  // namespace

TRELLIS_NODE_KIND(split, SplitProcessor);

}  // namespace trellis::nodes

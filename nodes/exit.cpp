// exit: the journey ends.
#include "nodes/kinds.h"

namespace trellis::nodes {

namespace {

class ExitProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kExit; }

  bool compile(const ir::Node&, CompiledNode&, std::vector<std::string>&) const override {
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView&) const override {
    return end_journey("reached exit '" + node.id() + "'");
  }
};

}  // namespace

const NodeProcessor& exit_processor() {
  static const ExitProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

// exit: the journey ends.
#include "nodes/kinds.h"

namespace trellis::nodes {

namespace {

class ExitProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kExit; }

  bool compile(const ir::Node&, CompiledNode& out, std::vector<std::string>&) const override {
    out.reads_profile = false;
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView&) const override {
    std::string reason;
    reason.reserve(node.id().size() + 16);  // one allocation, not one per `+`
    reason += "reached exit '";
    reason += node.id();
    reason += '\'';
    return end_journey(std::move(reason), Ending::kCompleted);
  }
};

}  // namespace

const NodeProcessor& exit_processor() {
  static const ExitProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

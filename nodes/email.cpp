// email: one message to `user.email`; without an address the journey follows
// `next` without a delivery and the step history says why.
#include "nodes/kinds.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

class EmailProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kEmail; }

  bool compile(const ir::Node& node, CompiledNode& out, std::vector<std::string>&) const override {
    const auto& email = *node.as<ir::EmailNode>();
    compile_template(email.subject, out.subject);
    compile_template(email.body, out.body);
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& email = *node.node->as<ir::EmailNode>();
    // Interned once: a lookup by name would take the name table's lock per message.
    static const expr::PathId kEmail = expr::intern_path(ir::PathRoot::kUser, "email");
    std::optional<std::string> address = recipient(journey, kEmail);
    if (!address) return go_to(email.next, "next", "not sent: user.email is missing");
    FlowScope scope(journey);
    Delivery delivery{Channel::kEmail, *address,
                      node.subject ? node.subject->render(scope) : std::string(),
                      node.body ? node.body->render(scope) : std::string()};
    std::string reason = "email to " + *address + ": \"";
    append_excerpt(reason, delivery.subject);
    reason += '"';
    Decision decision = go_to(email.next, "next", std::move(reason));
    decision.deliveries.push_back(std::move(delivery));
    return decision;
  }
};

}  // namespace

const NodeProcessor& email_processor() {
  static const EmailProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

// sms: one text message to `user.phone`. Without a phone the journey follows
// `next` anyway, without a delivery, and the step history says why: a missing
// channel must not strand the journey.
#include "nodes/kinds.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

class SmsProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kSms; }

  bool compile(const ir::Node& node, CompiledNode& out, std::vector<std::string>&) const override {
    compile_template(node.as<ir::SmsNode>()->text, out.text);
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& sms = *node.node->as<ir::SmsNode>();
    std::optional<std::string> phone = recipient(journey, "phone");
    if (!phone) return go_to(sms.next, "next", "not sent: user.phone is missing");
    FlowScope scope(journey);
    Delivery delivery{Channel::kSms, *phone, std::string(),
                      node.text ? node.text->render(scope) : std::string()};
    Decision decision =
        go_to(sms.next, "next", "sms to " + *phone + ": \"" + excerpt(delivery.body) + "\"");
    decision.deliveries.push_back(std::move(delivery));
    return decision;
  }
};

}  // namespace

const NodeProcessor& sms_processor() {
  static const SmsProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

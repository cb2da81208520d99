// sms: one text message to `user.phone`. Without a phone the journey follows
// `next` anyway, without a delivery, and the step history says why: a missing
// channel must not strand the journey.
#include <algorithm>

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
    // Interned once: a lookup by name would take the name table's lock per message.
    static const expr::PathId kPhone = expr::intern_path(ir::PathRoot::kUser, "phone");
    std::optional<std::string> phone = recipient(journey, kPhone);
    if (!phone) return go_to(sms.next, "next", "not sent: user.phone is missing");
    FlowScope scope(journey);
    std::string body = node.text ? node.text->render(scope) : std::string();
    std::string reason;
    reason.reserve(phone->size() + std::min<size_t>(body.size(), 83) + 16);
    reason += "sms to ";
    reason += *phone;
    reason += ": \"";
    append_excerpt(reason, body);
    reason += '"';
    Decision decision = go_to(sms.next, "next", std::move(reason));
    decision.deliveries.push_back(
        Delivery{Channel::kSms, std::move(*phone), std::string(), std::move(body)});
    return decision;
  }
};

}  // namespace

const NodeProcessor& sms_processor() {
  static const SmsProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

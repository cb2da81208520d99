// webhook: a POST to an outside system. The URL is a template too; one that
// renders empty (a missing trait, no default) makes no delivery, and the
// journey follows `next` with the reason recorded.
#include "nodes/kinds.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

class WebhookProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kWebhook; }

  bool compile(const ir::Node& node, CompiledNode& out, std::vector<std::string>&) const override {
    const auto& webhook = *node.as<ir::WebhookNode>();
    compile_template(webhook.url, out.url);
    compile_template(webhook.body, out.body);
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& webhook = *node.node->as<ir::WebhookNode>();
    FlowScope scope(journey);
    std::string url = node.url ? node.url->render(scope) : std::string();
    if (url.empty()) return go_to(webhook.next, "next", "not sent: the url is empty");
    Delivery delivery{Channel::kWebhook, url, std::string(),
                      node.body ? node.body->render(scope) : std::string()};
    Decision decision = go_to(webhook.next, "next", "webhook POST to " + url);
    decision.deliveries.push_back(std::move(delivery));
    return decision;
  }
};

}  // namespace

const NodeProcessor& webhook_processor() {
  static const WebhookProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

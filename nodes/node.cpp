#include "nodes/node.h"

#include <cmath>
#include <cstdio>

#include "dsl/ir/quoted.h"
#include "nodes/compiled_flow.h"
#include "nodes/kinds.h"
#include "nodes/registry.h"

namespace trellis::nodes {

std::string_view input_kind_name(InputKind kind) {
  switch (kind) {
    case InputKind::kEntry:
      return "entry";
    case InputKind::kEvent:
      return "event";
    case InputKind::kTimer:
      return "timer";
    case InputKind::kCoupon:
      return "coupon";
  }
  return "entry";
}

std::string_view channel_name(Channel channel) {
  switch (channel) {
    case Channel::kSms:
      return "sms";
    case Channel::kEmail:
      return "email";
    case Channel::kWebhook:
      return "webhook";
    case Channel::kCoupon:
      return "coupon";
  }
  return "sms";
}

Decision decide(const CompiledFlow& flow, const CompiledNode& node, const JourneyView& journey,
                const Input& input) {
  const NodeProcessor& processor = processor_for(node.kind());
  switch (input.kind) {
    case InputKind::kEntry:
      return processor.on_entry(flow, node, journey);
    case InputKind::kEvent:
      if (input.event == nullptr) return ignore_input("event input without an event");
      return processor.on_event(flow, node, journey, *input.event);
    case InputKind::kTimer:
      return processor.on_timer(flow, node, journey, input.timer_due);
    case InputKind::kCoupon:
      return processor.on_coupon(flow, node, journey, input.coupon_code);
  }
  return ignore_input("unknown input");
}

Decision decide(const CompiledFlow& flow, std::string_view node_id, const JourneyView& journey,
                const Input& input) {
  const CompiledNode* node = flow.find(node_id);
  if (node == nullptr) {
    return end_journey("node '" + std::string(node_id) + "' does not exist in flow '" +
                       flow.name() + "' version " + std::to_string(flow.version()));
  }
  return decide(flow, *node, journey, input);
}

Decision NodeProcessor::on_event(const CompiledFlow&, const CompiledNode& node, const JourneyView&,
                                 const EventView& event) const {
  return ignore_input("event '" + std::string(event.type) + "' ignored: a " +
                      std::string(ir::node_kind_name(kind())) + " node waits for no event");
}

Decision NodeProcessor::on_timer(const CompiledFlow&, const CompiledNode&, const JourneyView&,
                                 Millis due) const {
  std::string reason = "timer due ";
  append_time(reason, due);
  reason += " ignored: a ";
  reason += ir::node_kind_name(kind());
  reason += " node arms no timer";
  return ignore_input(std::move(reason));
}

Decision NodeProcessor::on_coupon(const CompiledFlow&, const CompiledNode&, const JourneyView&,
                                  const std::optional<std::string>&) const {
  return ignore_input("coupon claim ignored: a " + std::string(ir::node_kind_name(kind())) +
                      " node claims no coupon");
}

// ---- helpers shared by the kinds (kinds.h) ----

Decision go_to(const ir::Target& target, std::string edge, std::string reason) {
  if (target.empty()) {
    return end_journey(reason + "; no '" + edge + "' target, so the journey ends");
  }
  Decision decision;
  decision.transition = Transition::kNext;
  decision.next = target.value;
  decision.edge = std::move(edge);
  decision.reason = std::move(reason);
  return decision;
}

Decision end_journey(std::string reason, Ending ending) {
  Decision decision;
  decision.transition = Transition::kEnd;
  decision.ending = ending;
  decision.reason = std::move(reason);
  return decision;
}

Decision ignore_input(std::string reason) {
  Decision decision;
  decision.transition = Transition::kWait;
  decision.ignored = true;
  decision.reason = std::move(reason);
  return decision;
}

std::optional<std::string> recipient(const JourneyView& journey, expr::PathId trait) {
  if (journey.profile == nullptr) return std::nullopt;
  expr::ValueView value = journey.profile->get(trait);
  if (value.is_null()) return std::nullopt;
  std::string text;
  expr::append_display(text, value);
  if (text.empty()) return std::nullopt;
  return text;
}

void compile_template(const std::optional<ir::Template>& source,
                      std::optional<expr::CompiledTemplate>& out) {
  if (source) out = expr::CompiledTemplate::compile(*source);
}

std::string node_error(const ir::Node& node, std::string_view message) {
  return "node '" + node.id + "': " + std::string(message);
}

const ir::Target& target_field(const ir::GenericNode& node, std::string_view field) {
  static const ir::Target kUnset;
  const ir::Target* target = node.get<ir::Name>(field);
  return target ? *target : kUnset;
}

void append_json(std::string& out, const expr::ValueView& value) {
  switch (value.type) {
    case expr::Type::kNull:
      out += "null";
      return;
    case expr::Type::kBool:
      out += value.boolean ? "true" : "false";
      return;
    case expr::Type::kNumber: {
      if (!std::isfinite(value.number)) {
        out += "null";
        return;
      }
      char buffer[32];
      if (value.number == std::floor(value.number) && std::fabs(value.number) < 1e15) {
        std::snprintf(buffer, sizeof buffer, "%lld", static_cast<long long>(value.number));
      } else {
        std::snprintf(buffer, sizeof buffer, "%.17g", value.number);
      }
      out += buffer;
      return;
    }
    case expr::Type::kString:
      ir::append_quoted(out, value.string(), ir::QuoteStyle::kJson);
      return;
    case expr::Type::kList:
      out += '[';
      for (uint32_t i = 0; i < value.size; ++i) {
        if (i > 0) out += ',';
        append_json(out, value.items[i]);
      }
      out += ']';
      return;
  }
}

}  // namespace trellis::nodes

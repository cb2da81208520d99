#include "nodes/scope.h"

#include <algorithm>

namespace trellis::nodes {

namespace {

expr::ValueView event_field(const EventView* event, expr::PathId path) {
  if (event == nullptr) return expr::ValueView::null();
  std::string_view name = expr::path_name(path);
  // The envelope's fields win over same-named properties: SPEC §1 defines
  // `event.type` as the event's type.
  if (name == "type") return expr::ValueView::of(event->type);
  if (name == "time") return expr::ValueView::of(static_cast<double>(event->time) / 1000.0);
  if (name == "id" && !event->id.empty()) return expr::ValueView::of(event->id);
  if (event->properties == nullptr) return expr::ValueView::null();
  return event->properties->get(path);
}

}  // namespace

FlowScope::FlowScope(const expr::Record* profile, const EventView* event,
                     const EventView* last_event, std::string_view coupon_code, Millis now)
    : profile_(profile),
      event_(event),
      last_event_(last_event),
      coupon_code_(coupon_code),
      now_(now) {}

FlowScope::FlowScope(const JourneyView& journey)
    : FlowScope(journey.profile, journey.trigger_event, journey.last_event, journey.coupon_code,
                journey.now) {}

FlowScope::FlowScope(const JourneyView& journey, const EventView& event)
    : FlowScope(journey.profile, &event, journey.last_event, journey.coupon_code, journey.now) {}

expr::ValueView FlowScope::lookup(expr::PathId path) const {
  switch (expr::path_root(path)) {
    case ir::PathRoot::kUser:
      return profile_ != nullptr ? profile_->get(path) : expr::ValueView::null();
    case ir::PathRoot::kEvent:
      return event_field(event_, path);
    case ir::PathRoot::kLastEvent:
      return event_field(last_event_, path);
    case ir::PathRoot::kCoupon:
      if (expr::path_name(path) == "code" && !coupon_code_.empty()) {
        return expr::ValueView::of(coupon_code_);
      }
      return expr::ValueView::null();
  }
  return expr::ValueView::null();
}

std::string_view root_name(ir::PathRoot root) {
  switch (root) {
    case ir::PathRoot::kUser:
      return "user";
    case ir::PathRoot::kEvent:
      return "event";
    case ir::PathRoot::kLastEvent:
      return "last_event";
    case ir::PathRoot::kCoupon:
      return "coupon";
  }
  return "user";
}

std::string path_text(expr::PathId path) {
  std::string text(root_name(expr::path_root(path)));
  text += '.';
  text += expr::path_name(path);
  return text;
}

namespace {

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

std::string describe_values(const std::vector<expr::PathId>& paths, const expr::Scope& scope) {
  std::string text;
  std::vector<expr::PathId> seen;
  for (expr::PathId path : paths) {
    if (std::find(seen.begin(), seen.end(), path) != seen.end()) continue;
    seen.push_back(path);
    if (!text.empty()) text += ", ";
    expr::ValueView value = scope.lookup(path);
    text += path_text(path);
    if (value.is_null()) {
      text += " is missing";
    } else if (value.type == expr::Type::kString) {
      text += " = " + quoted(expr::to_display(value));
    } else {
      text += " = " + expr::to_display(value);
    }
  }
  return text;
}

}  // namespace trellis::nodes

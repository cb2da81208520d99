#include "nodes/scope.h"

#include <algorithm>

namespace trellis::nodes {

namespace {

expr::ValueView event_field(const EventView* event, expr::PathId path) {
  if (event == nullptr) return expr::ValueView::null();
  std::string_view name = expr::path_name(path);
  // The envelope's fields win over same-named properties
  // (docs/expressions.md#paths): `event.type` is the event's type.
  if (name == "type") return expr::ValueView::of(event->type);
  if (name == "time") return expr::ValueView::of(static_cast<double>(event->time) / 1000.0);
  if (name == "id" && !event->id.empty()) return expr::ValueView::of(event->id);
  if (event->properties == nullptr) return expr::ValueView::null();
  return event->properties->get(path);
}

}  // namespace

FlowScope::FlowScope(const expr::Record* profile, const EventView* event,
                     const EventView* last_event, std::string_view coupon_code, Millis now,
                     std::string_view default_timezone)
    : profile_(profile),
      event_(event),
      last_event_(last_event),
      coupon_code_(coupon_code),
      now_(now),
      default_timezone_(default_timezone) {}

FlowScope::FlowScope(const JourneyView& journey)
    : FlowScope(journey.profile, journey.trigger_event, journey.last_event, journey.coupon_code,
                journey.now, journey.default_timezone) {
  behaviour_ = journey.behaviour;
}

FlowScope::FlowScope(const JourneyView& journey, const EventView& event)
    : FlowScope(journey.profile, &event, journey.last_event, journey.coupon_code, journey.now,
                journey.default_timezone) {
  behaviour_ = journey.behaviour;
}

std::optional<expr::LocalClock> FlowScope::local_clock() const {
  const ZoneChoice zone = journey_zone(profile_, default_timezone_);
  const LocalParts parts = local_parts(now_, zone.name);
  return expr::LocalClock{parts.minute_of_day / 60, parts.weekday};
}

ZoneChoice journey_zone(const expr::Record* profile, std::string_view default_timezone) {
  static const expr::PathId kTimezone = expr::intern_path(ir::PathRoot::kUser, "timezone");
  std::string_view trait;
  if (profile != nullptr) {
    const expr::ValueView value = profile->get(kTimezone);
    if (value.type == expr::Type::kString) trait = value.string();
  }
  return choose_zone(trait, default_timezone);
}

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

void append_path(std::string& out, expr::PathId path) {
  out += root_name(expr::path_root(path));
  out += '.';
  out += expr::path_name(path);
}

namespace {

// Only quotes and backslashes are escaped, unlike a list item's quoting
// (expr::to_display): the reasons already recorded look like this.
void append_quoted(std::string& out, std::string_view text) {
  out += '"';
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

// append_values with `append_label(i)` writing the text of paths[i].
template <typename AppendLabel>
void append_values_with(std::string& out, const std::vector<expr::PathId>& paths,
                        const expr::Scope& scope, AppendLabel append_label) {
  for (size_t i = 0; i < paths.size(); ++i) {
    // A repeat is described once. Scanning the few paths before it beats a
    // `seen` vector, which would allocate per decision.
    if (std::find(paths.begin(), paths.begin() + i, paths[i]) != paths.begin() + i) continue;
    if (i > 0) out += ", ";
    append_label(i);
    expr::ValueView value = scope.lookup(paths[i]);
    if (value.is_null()) {
      out += " is missing";
    } else if (value.type == expr::Type::kString) {
      out += " = ";
      append_quoted(out, value.string());  // a string displays as itself
    } else {
      out += " = ";
      expr::append_display(out, value);
    }
  }
}

}  // namespace

std::string describe_values(const std::vector<expr::PathId>& paths, const expr::Scope& scope) {
  std::string text;
  append_values_with(text, paths, scope,
                     [&text, &paths](size_t i) { append_path(text, paths[i]); });
  return text;
}

void append_values(std::string& out, const std::vector<expr::PathId>& paths,
                   const std::vector<std::string>& labels, const expr::Scope& scope) {
  append_values_with(out, paths, scope, [&out, &labels](size_t i) { out += labels[i]; });
}

}  // namespace trellis::nodes

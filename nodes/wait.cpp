// wait: rest durably until the timer fires (`next`) or the awaited event
// arrives (`on_event`). The timer is a row the runtime keeps; this node only
// says when it is due and when to cancel it. It is due after `for`, or at the
// next `until_time` on the user's wall clock (docs/ir-json.md).
#include "nodes/kinds.h"
#include "nodes/local_time.h"
#include "nodes/reason_text.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

// "09:30"
void append_time_of_day(std::string& out, int minute_of_day) {
  const int hours = minute_of_day / 60;
  const int minutes = minute_of_day % 60;
  out += static_cast<char>('0' + hours / 10);
  out += static_cast<char>('0' + hours % 10);
  out += ':';
  out += static_cast<char>('0' + minutes / 10);
  out += static_cast<char>('0' + minutes % 10);
}

// " on mon,tue" in week order from Monday; nothing when every day counts.
void append_days(std::string& out, unsigned weekday_mask) {
  if ((weekday_mask & 0x7f) == 0 || (weekday_mask & 0x7f) == 0x7f) return;
  out += " on ";
  bool first = true;
  for (int i = 1; i <= 7; ++i) {
    const int day = i % 7;  // Monday .. Saturday, then Sunday
    if (!(weekday_mask & (1u << day))) continue;
    if (!first) out += ',';
    out += weekday_name(day);
    first = false;
  }
}

// Arms the `until_time` timer: the next such local time in the user's zone.
// Returns the warning of an unknown `timezone` trait, for the end of the reason.
std::string arm_local_time(const ir::LocalTimeOfDay& time, const CompiledNode& node,
                           const JourneyView& journey, Decision& decision) {
  const ZoneChoice zone = journey_zone(journey.profile, journey.default_timezone);
  const Millis due = next_local_time(journey.now, time.minute_of_day, node.weekday_mask, zone.name);
  decision.timers.push_back(TimerChange{TimerChange::Op::kArm, due});
  decision.awaiting.timer_due = due;
  std::string& reason = decision.reason;
  reason += " until ";
  append_time_of_day(reason, time.minute_of_day);
  reason += ' ';
  reason += zone.name;
  append_days(reason, node.weekday_mask);
  reason += " (";
  append_time(reason, due);
  reason += ')';
  return zone.warning;
}

class WaitProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kWait; }

  bool compile(const ir::Node& node, CompiledNode& out,
               std::vector<std::string>& errors) const override {
    const auto& wait = *node.as<ir::WaitNode>();
    if (wait.until_time) {
      if (!parse_time_of_day(wait.until_time->source)) {
        errors.push_back(node_error(node, "'until_time' is not a time of day"));
        return false;
      }
      for (const ir::Name& day : wait.on_days) {
        std::optional<int> weekday = weekday_from_name(day.value);
        if (!weekday) {
          errors.push_back(node_error(node, "'on_days' names no weekday: " + day.value));
          return false;
        }
        out.weekday_mask |= 1u << *weekday;
      }
    }
    if (wait.until_event && wait.until_event->where) {
      if (!wait.until_event->where->tree) {
        errors.push_back(node_error(node, "'where' did not parse"));
        return false;
      }
      out.where = expr::Program::compile(*wait.until_event->where->tree);
    }
    // A `where` reads traits; an `until_time` reads user.timezone.
    out.reads_profile = out.where.has_value() || wait.until_time.has_value();
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& wait = *node.node->as<ir::WaitNode>();
    if (!wait.wait_for && !wait.until_time && !wait.until_event) {
      return go_to(wait.next, "next", "wait has neither 'for', 'until_time' nor 'until_event'");
    }
    Decision decision;
    decision.transition = Transition::kWait;
    std::string& reason = decision.reason;
    reason.reserve(96);  // "waiting 72h, until <date>, or for event '<type>'": one allocation
    reason += "waiting";
    std::string zone_warning;
    const bool has_timer = wait.wait_for || wait.until_time;
    if (wait.until_time) {
      zone_warning = arm_local_time(*wait.until_time, node, journey, decision);
    } else if (wait.wait_for) {
      Millis due = journey.now + wait.wait_for->seconds * 1000;
      decision.timers.push_back(TimerChange{TimerChange::Op::kArm, due});
      decision.awaiting.timer_due = due;
      reason += ' ';
      append_duration(reason, *wait.wait_for);
      reason += ", until ";
      append_time(reason, due);
    }
    if (wait.until_event) {
      decision.awaiting.event_type = wait.until_event->event.value;
      decision.awaiting.where = node.where ? &*node.where : nullptr;
      reason += has_timer ? ", or for event '" : " for event '";
      reason += wait.until_event->event.value;
      reason += '\'';
      if (wait.until_event->where) {
        reason += " where ";
        reason += wait.until_event->where->source;
      }
      if (!has_timer) reason += " (no timeout)";
    }
    if (!zone_warning.empty()) {
      reason += "; ";
      reason += zone_warning;
    }
    return decision;
  }

  Decision on_event(const CompiledFlow&, const CompiledNode& node, const JourneyView& journey,
                    const EventView& event) const override {
    const auto& wait = *node.node->as<ir::WaitNode>();
    if (!wait.until_event || wait.until_event->event.value != event.type) {
      return ignore_input("event '" + std::string(event.type) + "' ignored: not awaited here");
    }
    std::string seen;
    if (node.where) {
      FlowScope scope(journey, event);
      bool passed = node.where->test(scope);
      seen = describe_values(node.where->paths(), scope);
      if (!passed) {
        return ignore_input("event '" + std::string(event.type) + "' ignored: where was false" +
                            (seen.empty() ? "" : ": " + seen));
      }
    }
    std::string reason = "event '" + std::string(event.type) + "' arrived";
    if (!seen.empty()) reason += " and where was true: " + seen;
    Decision decision = wait.on_event.empty()
                            ? go_to(wait.next, "next", reason + "; no 'on_event', following 'next'")
                            : go_to(wait.on_event, "on_event", reason);
    if (wait.wait_for || wait.until_time)
      decision.timers.push_back(TimerChange{TimerChange::Op::kCancel, 0});
    decision.consumed_event = true;
    return decision;
  }

  Decision on_timer(const CompiledFlow&, const CompiledNode& node, const JourneyView& journey,
                    Millis due) const override {
    const auto& wait = *node.node->as<ir::WaitNode>();
    if (wait.until_time) {
      std::string reason;
      reason.reserve(56);  // "until_time 10:00 reached (due <date>)"
      reason += "until_time ";
      append_time_of_day(reason, wait.until_time->minute_of_day);
      reason += " reached (due ";
      append_time(reason, due);
      reason += ')';
      return go_to(wait.next, "next", std::move(reason));
    }
    if (!wait.wait_for) return ignore_input("timer ignored: this wait has no 'for'");
    std::string reason;
    reason.reserve(64);  // "timer of 72h fired (due <date>)": one allocation
    reason += "timer of ";
    append_duration(reason, *wait.wait_for);
    reason += " fired (due ";
    append_time(reason, due);
    reason += ')';
    return go_to(wait.next, "next", std::move(reason));
  }
};

}  // namespace

const NodeProcessor& wait_processor() {
  static const WaitProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

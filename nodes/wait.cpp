// wait: rest durably until the timer fires (`next`) or the awaited event
// arrives (`on_event`). The timer is a row the runtime keeps; this node only
// says when it is due and when to cancel it.
#include "nodes/kinds.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

class WaitProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kWait; }

  bool compile(const ir::Node& node, CompiledNode& out,
               std::vector<std::string>& errors) const override {
    const auto& wait = *node.as<ir::WaitNode>();
    if (wait.until_event && wait.until_event->where) {
      if (!wait.until_event->where->tree) {
        errors.push_back(node_error(node, "'where' did not parse"));
        return false;
      }
      out.where = expr::Program::compile(*wait.until_event->where->tree);
    }
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& wait = *node.node->as<ir::WaitNode>();
    if (!wait.wait_for && !wait.until_event) {
      return go_to(wait.next, "next", "wait has neither 'for' nor 'until_event'");
    }
    Decision decision;
    decision.transition = Transition::kWait;
    std::string& reason = decision.reason;
    reason.reserve(96);  // "waiting 72h, until <date>, or for event '<type>'": one allocation
    reason += "waiting";
    if (wait.wait_for) {
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
      reason += wait.wait_for ? ", or for event '" : " for event '";
      reason += wait.until_event->event.value;
      reason += '\'';
      if (wait.until_event->where) {
        reason += " where ";
        reason += wait.until_event->where->source;
      }
      if (!wait.wait_for) reason += " (no timeout)";
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
    if (wait.wait_for) decision.timers.push_back(TimerChange{TimerChange::Op::kCancel, 0});
    decision.consumed_event = true;
    return decision;
  }

  Decision on_timer(const CompiledFlow&, const CompiledNode& node, const JourneyView& journey,
                    Millis due) const override {
    const auto& wait = *node.node->as<ir::WaitNode>();
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

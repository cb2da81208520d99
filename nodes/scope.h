// What expressions and templates read at run time: the expr::Scope over a
// journey (profile, events, coupon code, clock), and how a decision explains
// itself ("user.age = 34, user.paid = false").
#pragma once

#include <string>
#include <string_view>

#include "dsl/expr/program.h"
#include "dsl/expr/value.h"
#include "nodes/local_time.h"
#include "nodes/node.h"

namespace trellis::nodes {

// Answers `user.*` from the profile, `event.*` from `event`, `last_event.*`
// from `last_event`, `coupon.code` from `coupon_code`, and `now` in seconds;
// local_hour() and local_weekday() see `now` in the user's zone (journey_zone).
// `event.type`, `event.id` and `event.time` (seconds) come from the EventView's
// fields; any other name from its properties. Absent things are null.
// Borrows everything; cheap to build on the stack per decision.
class FlowScope final : public expr::Scope {
 public:
  FlowScope(const expr::Record* profile, const EventView* event, const EventView* last_event,
            std::string_view coupon_code, Millis now, std::string_view default_timezone = "UTC");
  // The journey's scope: `event` is the trigger event.
  explicit FlowScope(const JourneyView& journey);
  // The journey's scope with `event` replaced (a wait's `where`, trigger `when`).
  FlowScope(const JourneyView& journey, const EventView& event);

  expr::ValueView lookup(expr::PathId path) const override;
  double now() const override { return static_cast<double>(now_) / 1000.0; }
  // Fast path for `user.*` only: the profile answers those exactly as lookup()
  // does. Event roots also answer `type`, `time` and `id`, so they go through
  // lookup().
  const expr::Record* record(ir::PathRoot root) const override {
    return root == ir::PathRoot::kUser ? profile_ : nullptr;
  }
  // Resolves the zone on each call: only local_hour()/local_weekday() ask.
  std::optional<expr::LocalClock> local_clock() const override;
  // count() and last_seen(): the journey's (JourneyView::behaviour) or set_behaviour's.
  const expr::Behaviour* behaviour() const override { return behaviour_; }
  void set_behaviour(const expr::Behaviour* behaviour) { behaviour_ = behaviour; }

 private:
  const expr::Record* profile_;
  const EventView* event_;
  const EventView* last_event_;
  std::string_view coupon_code_;
  Millis now_;
  std::string_view default_timezone_;
  const expr::Behaviour* behaviour_ = nullptr;
};

// The user's time zone: the `timezone` trait of `profile` when it is an IANA
// name the tz database knows, else `default_timezone` (else UTC); the choice
// carries a warning for the trace when the trait was set but unknown.
ZoneChoice journey_zone(const expr::Record* profile, std::string_view default_timezone);

// "user" / "event" / "last_event" / "coupon".
std::string_view root_name(ir::PathRoot root);
// Appends "user.age".
void append_path(std::string& out, expr::PathId path);
// "user.age = 34, user.interests = [\"education\"], user.paid is missing" for
// every path `paths` lists, in order, without repeats. Missing paths say so.
std::string describe_values(const std::vector<expr::PathId>& paths, const expr::Scope& scope);
// The same text, appended to `out` (decisions build their reason in place),
// with each path's text formatted once per compiled node: `labels[i]` is
// append_path's text for `paths[i]`.
void append_values(std::string& out, const std::vector<expr::PathId>& paths,
                   const std::vector<std::string>& labels, const expr::Scope& scope);

}  // namespace trellis::nodes

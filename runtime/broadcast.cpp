#include "runtime/broadcast.h"

#include <algorithm>

namespace trellis::runtime {

namespace {

constexpr TimeMs kDayMs = 24LL * 3600 * 1000;
// Kiribati's Line Islands keep UTC+14, the earliest wall clock on earth.
constexpr const char* kEarliestZone = "Pacific/Kiritimati";

BroadcastRecord scheduled_run(const std::string& flow, const ir::Trigger& trigger,
                              const nodes::LocalDateTime& at, const std::string& default_zone) {
  BroadcastRecord r;
  r.flow = flow;
  r.run = nodes::local_date_time_text(at);
  r.schedule = trigger.schedule->value;
  r.state = "scheduled";
  r.due_at = broadcast_start(at, trigger.in_user_time_zone, default_zone);
  return r;
}

}  // namespace

TimeMs broadcast_start(const nodes::LocalDateTime& at, bool in_user_time_zone,
                       const std::string& default_zone) {
  return nodes::local_instant(at, in_user_time_zone ? kEarliestZone : default_zone);
}

std::optional<BroadcastRecord> next_broadcast(const std::string& flow, const ir::Trigger& trigger,
                                              const std::vector<BroadcastRecord>& runs,
                                              TimeMs now, const std::string& default_zone) {
  if (!trigger.schedule) return std::nullopt;
  const std::optional<nodes::LocalDateTime> first =
      nodes::parse_local_date_time(trigger.schedule->value);
  if (!first) return std::nullopt;
  // Run keys are "YYYY-MM-DD HH:MM": their text order is their time order.
  const BroadcastRecord* last = nullptr;
  for (const BroadcastRecord& r : runs)
    if (r.flow == flow && (!last || r.run > last->run)) last = &r;
  const std::string first_key = nodes::local_date_time_text(*first);
  if (!last || first_key > last->run) return scheduled_run(flow, trigger, *first, default_zone);
  if (last->state != "done" && last->state != "cancelled") return std::nullopt;
  const int period = trigger.every ? ir::schedule_period_days(trigger.every->value) : 0;
  if (period == 0) return std::nullopt;
  std::optional<nodes::LocalDateTime> next = nodes::parse_local_date_time(last->run);
  if (!next) return std::nullopt;
  next->day += period;
  while (broadcast_start(*next, trigger.in_user_time_zone, default_zone) + period * kDayMs <= now)
    next->day += period;
  return scheduled_run(flow, trigger, *next, default_zone);
}

std::optional<TimeMs> next_broadcast_due(const std::vector<BroadcastRecord>& runs,
                                         const std::vector<std::string>& inactive) {
  std::optional<TimeMs> due;
  for (const BroadcastRecord& r : runs) {
    if (r.state != "scheduled" && r.state != "running") continue;
    if (std::find(inactive.begin(), inactive.end(), r.flow) != inactive.end()) continue;
    if (!due || r.due_at < *due) due = r.due_at;
  }
  return due;
}

}  // namespace trellis::runtime

#include "runtime/broadcast.h"

#include <algorithm>

namespace trellis::runtime {

namespace {

constexpr TimeMs kDayMs = 24LL * 3600 * 1000;
// Kiribati's Line Islands keep UTC+14, the earliest wall clock on earth.
constexpr const char* kEarliestZone = "Pacific/Kiritimati";
constexpr const char* kWithdrawn = "withdrawn";

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
                                              const std::vector<BroadcastRecord>& runs, TimeMs now,
                                              const std::string& default_zone) {
  if (!trigger.schedule) return std::nullopt;
  const std::optional<nodes::LocalDateTime> first =
      nodes::parse_local_date_time(trigger.schedule->value);
  if (!first) return std::nullopt;
  // Run keys are "YYYY-MM-DD HH:MM": their text order is their time order. A
  // withdrawn run never started: it is no run of the series.
  const BroadcastRecord* last = nullptr;
  for (const BroadcastRecord& r : runs)
    if (r.flow == flow && r.state != kWithdrawn && (!last || r.run > last->run)) last = &r;
  const std::string first_key = nodes::local_date_time_text(*first);
  if (!last || first_key > last->run) return scheduled_run(flow, trigger, *first, default_zone);
  if (last->state != "done" && last->state != "cancelled") return std::nullopt;
  const int period = trigger.every ? ir::schedule_period_days(trigger.every->value) : 0;
  if (period == 0) return std::nullopt;
  // The series is the schedule's time plus whole periods: the next is the
  // first after the last run (a redeploy may have moved the time of day).
  nodes::LocalDateTime next = *first;
  while (nodes::local_date_time_text(next) <= last->run) next.day += period;
  while (broadcast_start(next, trigger.in_user_time_zone, default_zone) + period * kDayMs <= now)
    next.day += period;
  return scheduled_run(flow, trigger, next, default_zone);
}

std::vector<BroadcastRecord> replan_broadcasts(const std::string& flow, const ir::Trigger& trigger,
                                               const std::vector<BroadcastRecord>& runs, TimeMs now,
                                               const std::string& default_zone) {
  std::vector<BroadcastRecord> started, pending;
  for (const BroadcastRecord& r : runs)
    if (r.flow == flow) (r.state == "scheduled" ? pending : started).push_back(r);
  std::optional<BroadcastRecord> wanted = next_broadcast(flow, trigger, started, now, default_zone);
  std::vector<BroadcastRecord> out;
  for (BroadcastRecord& r : pending) {
    if (wanted && r.run == wanted->run) {
      // The same run: it stays, at the time the new trigger gives it.
      if (r.due_at != wanted->due_at || r.schedule != wanted->schedule) out.push_back(*wanted);
      wanted.reset();
      continue;
    }
    r.state = kWithdrawn;
    r.finished_at = now;
    out.push_back(std::move(r));
  }
  if (wanted) out.push_back(std::move(*wanted));
  if (!trigger.scheduled())
    for (BroadcastRecord& r : started)
      if (r.state == "running") {
        r.state = "cancelled";
        r.finished_at = now;
        out.push_back(std::move(r));
      }
  return out;
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

// Broadcasts: flows that start on a schedule for an audience instead of on an
// event (docs/flows.md#broadcasts). This file plans the runs; the engine walks
// each due run's profiles in bounded transactions (Engine::fire_due_timers)
// and the step function enters the users (Processor::enter_broadcast).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dsl/ir/flow.h"
#include "nodes/local_time.h"
#include "runtime/clock.h"
#include "runtime/store.h"

namespace trellis::runtime {

// When a run at local wall time `at` starts: that time in `default_zone`, or,
// for a run in each user's own time zone, when that time first comes anywhere
// on earth (UTC+14), so that no user's local time is missed.
TimeMs broadcast_start(const nodes::LocalDateTime& at, bool in_user_time_zone,
                       const std::string& default_zone);

// The run `flow`'s trigger asks for next, given the flow's runs so far (any
// order; withdrawn runs do not count), as a record to write (state
// "scheduled", due at its start); nullopt when none is to be written: a run is
// under way, a one-off has run, or the schedule does not parse. A schedule
// later than every run so far starts a new chain (a redeploy with a new
// date); a recurring chain's runs are the schedule plus whole periods, and the
// next is the first after the last run, skipping the runs whose whole period
// passed while nothing ran them.
std::optional<BroadcastRecord> next_broadcast(const std::string& flow, const ir::Trigger& trigger,
                                              const std::vector<BroadcastRecord>& runs, TimeMs now,
                                              const std::string& default_zone);

// What deploying a version with `trigger` does to the flow's runs (its rule:
// docs/flows.md#redeploying-a-broadcast): the records to write. A run not yet
// started is kept when it is the run the new trigger asks for (at the due time
// it now gives), else withdrawn (state "withdrawn": it entered nobody and is
// no run of the series); the run the trigger asks for is added. A run under
// way goes on, on the newest version, unless the schedule is gone: then it is
// cancelled where it stands (whom it entered keep their journeys).
std::vector<BroadcastRecord> replan_broadcasts(const std::string& flow, const ir::Trigger& trigger,
                                               const std::vector<BroadcastRecord>& runs, TimeMs now,
                                               const std::string& default_zone);

// The earliest due time of the runs still to do, leaving out flows that are
// not active (`inactive`): when the engine next has broadcast work.
std::optional<TimeMs> next_broadcast_due(const std::vector<BroadcastRecord>& runs,
                                         const std::vector<std::string>& inactive);

}  // namespace trellis::runtime

// A journey's lifecycle: where it stands, independent of which node it is at.
// The flow graph is data (the IR); this is the small fixed machine around it.
//
//   entered --start--> running --wait_timer--> waiting_timer --wake--> running
//                        |    --wait_event--> waiting_event --wake--> running
//                        |--complete--> completed   (reached an exit node)
//   any live state --exit_on--> exited               (an exit_on event arrived)
//   any live state --fail--> failed                  (a node could not proceed)
//
// The machine is a Boost.MSM state machine kept in journey_lifecycle.cpp only;
// this header shows a plain enum and one transition call. Thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace trellis::runtime {

// Values are stored in the database: append only, never renumber.
enum class Lifecycle {
  kEntered = 0,
  kRunning = 1,
  kWaitingTimer = 2,
  kWaitingEvent = 3,
  kCompleted = 4,
  kExited = 5,
  kFailed = 6,
};

enum class LifecycleInput { kStart, kWaitTimer, kWaitEvent, kWake, kComplete, kExitOn, kFail };

// The state after `input`, or nullopt when the machine does not allow it
// (e.g. waking a completed journey), which the caller treats as a stale input.
std::optional<Lifecycle> transition(Lifecycle from, LifecycleInput input);

bool is_live(Lifecycle state);  // entered, running or waiting
bool is_waiting(Lifecycle state);
std::string_view lifecycle_name(Lifecycle state);  // "waiting_timer", ...
std::optional<Lifecycle> lifecycle_from_name(std::string_view name);

}  // namespace trellis::runtime

#include "runtime/journey_lifecycle.h"

#include <catch2/catch.hpp>

using namespace trellis::runtime;
using I = LifecycleInput;
using L = Lifecycle;

TEST_CASE("the lifecycle allows the documented transitions and no others") {
  CHECK(transition(L::kEntered, I::kStart) == L::kRunning);
  CHECK(transition(L::kRunning, I::kWaitTimer) == L::kWaitingTimer);
  CHECK(transition(L::kRunning, I::kWaitEvent) == L::kWaitingEvent);
  CHECK(transition(L::kWaitingTimer, I::kWake) == L::kRunning);
  CHECK(transition(L::kWaitingEvent, I::kWake) == L::kRunning);
  CHECK(transition(L::kRunning, I::kComplete) == L::kCompleted);
  CHECK(transition(L::kWaitingTimer, I::kExitOn) == L::kExited);
  CHECK(transition(L::kWaitingEvent, I::kFail) == L::kFailed);

  // Ended journeys accept nothing: a late timer or event is stale.
  for (L ended : {L::kCompleted, L::kExited, L::kFailed}) {
    for (I input :
         {I::kStart, I::kWaitTimer, I::kWaitEvent, I::kWake, I::kComplete, I::kExitOn, I::kFail}) {
      CHECK_FALSE(transition(ended, input).has_value());
    }
  }
  CHECK_FALSE(transition(L::kRunning, I::kWake).has_value());
  CHECK_FALSE(transition(L::kWaitingTimer, I::kComplete).has_value());
  CHECK_FALSE(transition(L::kEntered, I::kWaitTimer).has_value());
}

TEST_CASE("lifecycle names round-trip") {
  for (int i = 0; i <= 6; ++i) {
    auto state = static_cast<L>(i);
    CHECK(lifecycle_from_name(lifecycle_name(state)) == state);
  }
  CHECK(lifecycle_name(L::kWaitingTimer) == "waiting_timer");
  CHECK(is_live(L::kWaitingEvent));
  CHECK_FALSE(is_live(L::kExited));
}

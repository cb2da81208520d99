#include "runtime/virtual_run.h"

#include <algorithm>

#include "runtime/engine.h"

namespace trellis::runtime {

FireOutcome fire_timers_until(Engine& engine, VirtualClock& clock, TimeMs limit, bool inclusive,
                              const VirtualRunBudget& budget, VirtualRunProgress& progress) {
  for (;;) {
    std::optional<TimeMs> due = engine.next_timer_due();
    if (!due || (inclusive ? *due > limit : *due >= limit)) return {};
    if (progress.rounds >= budget.max_rounds) return {{}, BudgetLimit::kRounds};
    if (budget.deadline && std::chrono::steady_clock::now() >= *budget.deadline)
      return {{}, BudgetLimit::kTime};
    clock.set_ms(std::max(*due, clock.now_ms()));
    Result<size_t> fired = engine.fire_due_timers();
    if (!fired.ok()) return {Error{fired.error().message}};
    ++progress.rounds;
    progress.timers += fired.value();
    if (progress.timers > budget.max_timers) return {{}, BudgetLimit::kTimers};
  }
}

}  // namespace trellis::runtime

#include "runtime/virtual_run.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include "runtime/engine.h"
#include "runtime/store_url.h"

namespace trellis::runtime {

TempFolder::TempFolder(const std::string& prefix) {
  std::error_code ec;
  std::filesystem::path base = std::filesystem::temp_directory_path(ec);
  if (ec) base = "/tmp";
  std::string pattern = (base / (prefix + "XXXXXX")).string();
  if (mkdtemp(pattern.data())) path = pattern;
}

TempFolder::~TempFolder() {
  std::error_code ec;
  if (!path.empty()) std::filesystem::remove_all(path, ec);
}

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

Result<std::unique_ptr<Engine>> open_flow_engine(
    const std::string& folder, VirtualClock& clock, const ir::Flow& flow, const std::string& source,
    std::shared_ptr<const delivery::DeliveryConfig> delivery) {
  Result<StoreFactory> store = store_factory(folder + "/run.db");
  if (!store.ok()) return store.error();
  EngineOptions options;
  options.store = std::move(store.value());
  options.clock = &clock;
  options.adapter = "none";
  options.delivery = std::move(delivery);
  options.parse_flow = [&flow](const std::string&, const std::string&) -> Result<ir::Flow> {
    return flow;
  };
  Result<std::unique_ptr<Engine>> engine = Engine::open(std::move(options));
  if (!engine.ok()) return engine;
  if (Result<int> deployed = engine.value()->deploy(flow, source); !deployed.ok())
    return deployed.error();
  return engine;
}

}  // namespace trellis::runtime

#include "dsl/expr/behaviour.h"

#include <cmath>

namespace trellis::expr {

int64_t utc_day(double seconds) { return static_cast<int64_t>(std::floor(seconds / 86400.0)); }

void Behaviour::add(const std::string& key, int64_t day, int64_t count) {
  counts_[key][day] += count;
}

void Behaviour::seen(const std::string& event_type, double seconds) {
  auto [it, inserted] = last_seen_.emplace(event_type, seconds);
  if (!inserted && seconds > it->second) it->second = seconds;
}

int64_t Behaviour::count(std::string_view key, int64_t days, double now) const {
  auto counter = counts_.find(key);
  if (counter == counts_.end() || days <= 0) return 0;
  const int64_t today = utc_day(now);
  int64_t total = 0;
  for (auto it = counter->second.lower_bound(today - days + 1);
       it != counter->second.end() && it->first <= today; ++it) {
    total += it->second;
  }
  return total;
}

std::optional<double> Behaviour::last_seen(std::string_view event_type) const {
  auto it = last_seen_.find(event_type);
  if (it == last_seen_.end()) return std::nullopt;
  return it->second;
}

}  // namespace trellis::expr

// A user's recent behaviour, as count() and last_seen() read it
// (docs/expressions.md#behaviour): per counter, events counted per UTC day;
// per event type, when the user was last seen doing it. The runtime keeps these
// on ingest for what the deployed flows read, and loads a user's set before a
// decision that needs it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::expr {

// Days since the Unix epoch (UTC) of a time in seconds.
int64_t utc_day(double seconds);

class Behaviour {
 public:
  // Adds `count` events to counter `key` on `day` (utc_day).
  void add(const std::string& key, int64_t day, int64_t count);
  // The user was seen doing `event_type` at `seconds`; the latest time wins.
  void seen(const std::string& event_type, double seconds);

  // Events counted under `key` on the `days` UTC days ending with the day of
  // `now` (today included): count(.., 30d) is today and the 29 days before.
  int64_t count(std::string_view key, int64_t days, double now) const;
  // Seconds since the epoch, or nullopt when never seen.
  std::optional<double> last_seen(std::string_view event_type) const;
  bool empty() const { return counts_.empty() && last_seen_.empty(); }

 private:
  // Per counter key: count per day. Read without allocating (transparent less).
  std::map<std::string, std::map<int64_t, int64_t>, std::less<>> counts_;
  std::map<std::string, double, std::less<>> last_seen_;
};

}  // namespace trellis::expr

// Time as an injected dependency (docs/architecture.md#conventions): the system clock in `serve`, a
// virtual clock in `trellis test` and the Catch2 tests, so that a 72-hour wait
// runs in microseconds and fires at an exact, repeatable instant.
//
// All times in the runtime are milliseconds since the Unix epoch (int64).
//
// Thread-safety: both clocks may be read from any thread; VirtualClock's setters
// may race with readers only in the sense that a reader sees the old or new value.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace trellis::runtime {

using TimeMs = int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs now_ms() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs now_ms() const override;
  // One process-wide instance; it has no state.
  static SystemClock& instance();
};

// A clock that moves only when told to. Never moves backwards.
class VirtualClock final : public Clock {
 public:
  explicit VirtualClock(TimeMs start_ms = 0) : now_(start_ms) {}
  VirtualClock(const VirtualClock&) = delete;
  VirtualClock& operator=(const VirtualClock&) = delete;

  TimeMs now_ms() const override { return now_.load(std::memory_order_acquire); }
  // REQUIRES: t >= now_ms(); an earlier `t` is ignored.
  void set_ms(TimeMs t);
  void advance_ms(TimeMs delta) { set_ms(now_ms() + delta); }

 private:
  std::atomic<TimeMs> now_;
};

// "2026-11-23T10:00:00Z" (also with fractional seconds and +hh:mm offsets).
// Returns false when `text` is not an RFC 3339 timestamp.
bool parse_rfc3339(const char* text, TimeMs* out);
// Formats as "2026-11-23T10:00:00.000Z".
std::string format_rfc3339(TimeMs t);

}  // namespace trellis::runtime

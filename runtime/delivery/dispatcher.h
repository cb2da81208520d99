// The dispatcher: every channel's provider on worker threads of its own, so a
// slow, failing or hanging provider delays only its channel, never timers,
// ingestion or another channel (docs/delivery.md).
//
//   feeder thread --(per-channel bounded queue)--> `concurrency` workers per
//   channel (token bucket, circuit breaker, provider) --> outcome writer -->
//   DispatchHost::record (the engine's single writer, one commit per batch)
//
// The feeder reads committed pending deliveries that are due, per channel,
// through its own StoreReader, and hands each to its channel's queue once: a
// delivery stays "in flight" from then until its outcome is committed, and
// the feeder skips it meanwhile. Queues are bounded, so memory is too.
//
// Thread-safety: start(), stop(), wake(), drain_due() and stats() may be
// called from any thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dsl/ir/result.h"
#include "runtime/clock.h"
#include "runtime/delivery/config.h"
#include "runtime/store.h"

namespace trellis::runtime::delivery {

// What became of one delivery, to be written to the store.
struct Outcome {
  enum class Kind { kSent, kRetry, kDead, kSuppressed };
  DeliveryRecord delivery;  // as read; `attempts` before this one
  Kind kind = Kind::kSent;
  int attempts = 0;            // after this one (kRetry, kDead)
  TimeMs next_attempt_at = 0;  // kRetry
  std::string error;           // kRetry, kDead: the provider's; kSuppressed: the reason
  TimeMs at = 0;               // when it was decided (engine clock)
};

// "sent", "retry", "dead", "suppressed".
const char* outcome_name(Outcome::Kind kind);

// The engine side of the dispatcher.
class DispatchHost {
 public:
  virtual ~DispatchHost() = default;
  // A reason not to send `delivery` after all (consent withdrawn since its
  // node ran), asked just before each provider call; nullopt to send.
  virtual std::optional<std::string> recheck_before_send(const DeliveryRecord& delivery) = 0;
  // Writes `outcomes` in one transaction. Called from one thread at a time.
  virtual Status record(const std::vector<Outcome>& outcomes) = 0;
};

struct ChannelStats {
  std::string channel;
  std::string provider;
  int64_t queued = 0;     // waiting in the channel's queue
  int64_t in_flight = 0;  // handed to the channel, outcome not yet committed
  bool circuit_open = false;
};

struct DispatcherOptions {
  // Every channel with workers of its own (see effective_channels()).
  std::vector<ChannelConfig> channels;
  std::string default_file;             // the file of `file` channels that name no path
  Clock* clock = nullptr;               // due times and next attempts; never null
  std::unique_ptr<StoreReader> reader;  // the feeder's own connection
  DispatchHost* host = nullptr;         // borrowed; outlives the dispatcher
  size_t queue_capacity = 0;            // per channel; 0: 64 per worker, at least 256
  // Set when several processes share the store: the feeder takes the due
  // deliveries of a channel through it (leased to this process, Store::
  // lease_deliveries) instead of reading them, so no two processes send one.
  std::function<std::vector<DeliveryRecord>(const std::string& channel, TimeMs now, size_t limit)>
      lease;
};

// The channels a dispatcher runs: those of `config` (may be null; one with
// no provider, built in code, sends through `fallback`'s), and for every
// channel a flow node can produce that it does not list, `fallback` under
// that channel's name. `fallback` is the default provider (the
// deliveries file, or `serve --adapter webhook`).
std::vector<ChannelConfig> effective_channels(const DeliveryConfig* config,
                                              const ChannelConfig& fallback);

// The next attempt's delay after `attempts` failed ones: full jitter over
// backoff * 2^(attempts-1), capped at max_backoff. `unit` in [0, 1).
Millis backoff_delay(const RetryPolicy& policy, int attempts, double unit);

class Dispatcher {
 public:
  // Opens every channel's provider (resolving secrets). Errors: a channel
  // cannot be opened (an unset environment variable, an unwritable file).
  static Result<std::unique_ptr<Dispatcher>> open(DispatcherOptions options);
  ~Dispatcher();  // stop()
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  // Starts the feeder, workers and outcome writer; stop() joins them after
  // the calls in progress end (cut short, or bounded by their timeout) and
  // the outcomes in hand are recorded. Both idempotent.
  void start();
  void stop();
  // New deliveries were committed: look now rather than at the next poll.
  void wake();

  // Without workers: sends everything due now on the caller's thread, one
  // provider per channel, no rate limit or circuit; returns how many were
  // sent. For `trellis test` and tests on a virtual clock.
  size_t drain_due();

  std::vector<ChannelStats> stats() const;

 private:
  class Impl;
  explicit Dispatcher(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::runtime::delivery

#include "runtime/delivery/dispatcher.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "runtime/delivery/provider.h"

namespace trellis::runtime::delivery {

namespace {

using Steady = std::chrono::steady_clock;

constexpr auto kFeedPoll = std::chrono::milliseconds(20);   // longest feeder sleep
constexpr auto kProbePoll = std::chrono::milliseconds(10);  // while another worker probes
constexpr size_t kDrainBatch = 1024;  // drain_due rows per query and per transaction
constexpr Millis kMaxRetryAfterMs = 24 * 3600 * 1000;  // a provider's wait, capped

// The channels flow nodes produce (nodes::channel_name); each gets workers.
const char* const kNodeChannels[] = {"sms", "email", "webhook", "coupon"};

// Token bucket as a schedule (GCRA): slots 1/rate apart, with a burst of
// about 50 ms worth after an idle spell. Shared by a channel's workers.
class RateLimiter {
 public:
  explicit RateLimiter(double rate)
      : interval_(rate > 0 ? std::chrono::duration_cast<Steady::duration>(
                                 std::chrono::duration<double>(1.0 / rate))
                           : Steady::duration::zero()),
        burst_(std::chrono::duration_cast<Steady::duration>(interval_ * std::max(1.0, rate / 20))) {
  }

  // When the caller may send; every call takes the next slot.
  Steady::time_point reserve() {
    const Steady::time_point now = Steady::now();
    if (interval_ == Steady::duration::zero()) return now;
    std::lock_guard<std::mutex> l(mu_);
    next_ = std::max(next_, now - burst_);
    const Steady::time_point slot = next_;
    next_ += interval_;
    return slot;
  }

 private:
  const Steady::duration interval_;
  const Steady::duration burst_;
  std::mutex mu_;
  Steady::time_point next_{};  // guarded by mu_
};

// Closed: calls go through. After `failures` consecutive failed calls it
// opens for `open_ms`: nobody calls. Then one probe call: success closes it,
// failure opens it again.
class Breaker {
 public:
  explicit Breaker(const CircuitBreaker& policy) : policy_(policy) {}

  // nullopt: call now. Otherwise ask again at that time.
  std::optional<Steady::time_point> permit() {
    std::lock_guard<std::mutex> l(mu_);
    if (!open_) return std::nullopt;
    const Steady::time_point now = Steady::now();
    if (now < open_until_) return open_until_;
    if (probing_) return now + kProbePoll;
    probing_ = true;  // this caller is the probe
    return std::nullopt;
  }

  void succeeded() {
    std::lock_guard<std::mutex> l(mu_);
    open_ = probing_ = false;
    failures_ = 0;
  }

  void failed() {
    std::lock_guard<std::mutex> l(mu_);
    if (open_ && !probing_) return;  // a call that started before it opened
    if (probing_ || ++failures_ >= policy_.failures) {
      open_ = true;
      probing_ = false;
      open_until_ = Steady::now() + std::chrono::milliseconds(policy_.open_ms);
    }
  }

  // The caller got a permit but made no call (the delivery was suppressed):
  // if it was the probe, the next caller probes instead.
  void unused() {
    std::lock_guard<std::mutex> l(mu_);
    probing_ = false;
  }

  bool is_open() const {
    std::lock_guard<std::mutex> l(mu_);
    return open_;
  }

 private:
  const CircuitBreaker policy_;
  mutable std::mutex mu_;
  bool open_ = false, probing_ = false;  // guarded by mu_
  int failures_ = 0;
  Steady::time_point open_until_{};
};

struct Channel {
  Channel(ChannelConfig c, ProviderFactory f, size_t cap)
      : config(std::move(c)),
        factory(std::move(f)),
        capacity(cap),
        limiter(config.rate),
        breaker(config.circuit) {}

  const ChannelConfig config;
  const ProviderFactory factory;
  const size_t capacity;
  RateLimiter limiter;
  Breaker breaker;
  std::unique_ptr<Provider> drain_provider;  // drain_due's, opened on first use

  std::mutex mu;
  std::condition_variable cv;
  std::deque<DeliveryRecord> queue;  // guarded by mu
  std::atomic<int64_t> in_flight{0};
  std::vector<std::thread> workers;
};

}  // namespace

const char* outcome_name(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::kSent:
      return "sent";
    case Outcome::Kind::kRetry:
      return "retry";
    case Outcome::Kind::kDead:
      return "dead";
    case Outcome::Kind::kSuppressed:
      return "suppressed";
  }
  return "sent";
}

std::vector<ChannelConfig> effective_channels(const DeliveryConfig* config,
                                              const ChannelConfig& fallback) {
  std::vector<ChannelConfig> out;
  if (config)
    for (const auto& [name, channel] : config->channels) {
      out.push_back(channel);
      out.back().webhook_allow_hosts = config->webhook_allow_hosts;
      // Built in code with only rules (quiet hours, say): the default provider sends.
      if (channel.provider.empty()) {
        ChannelConfig& c = out.back();
        c.provider = fallback.provider;
        c.url = fallback.url;
        c.retry = fallback.retry;
        c.timeout_ms = fallback.timeout_ms;
        c.connect_timeout_ms = fallback.connect_timeout_ms;
      }
    }
  for (const char* name : kNodeChannels) {
    if (config && config->channel(name)) continue;
    ChannelConfig channel = fallback;
    channel.name = name;
    if (config) channel.webhook_allow_hosts = config->webhook_allow_hosts;
    out.push_back(channel);
  }
  return out;
}

Millis backoff_delay(const RetryPolicy& policy, int attempts, double unit) {
  Millis cap = policy.backoff_ms;
  for (int i = 1; i < attempts && cap < policy.max_backoff_ms; ++i) cap *= 2;
  cap = std::min(cap, policy.max_backoff_ms);
  return static_cast<Millis>(unit * static_cast<double>(cap));
}

class Dispatcher::Impl {
 public:
  explicit Impl(DispatcherOptions options)
      : options_(std::move(options)),
        context_(options_.default_file),
        rng_(std::random_device{}()) {}

  Status open();
  void start();
  void stop();
  void wake();
  size_t drain_due();
  std::vector<ChannelStats> stats() const;

 private:
  void feed();
  void feed_once();
  void work(Channel& channel);
  bool take(Channel& channel, size_t most, std::vector<DeliveryRecord>& batch);
  bool wait_for_turn(Channel& channel);
  bool sleep_until(Steady::time_point until);
  Outcome send_one(Channel& channel, Provider& provider, const DeliveryRecord& d);
  Outcome decide(const Channel& channel, const DeliveryRecord& d, const SendOutcome& sent);
  void write_outcomes();
  void record(std::vector<Outcome> outcomes);
  std::vector<DeliveryRecord> due_not_in_flight(Channel& channel, size_t room);

  DispatcherOptions options_;
  ProviderContext context_;
  std::vector<std::unique_ptr<Channel>> channels_;
  std::unordered_map<std::string, Channel*> by_name_;

  // The reader is the feeder's and drain_due's; in_flight_ holds the ids
  // handed out and not yet committed. Committed ids wait in done_ until the
  // next query starts, so a query that began before their commit (an older
  // snapshot) still skips them.
  std::mutex reader_mu_;
  std::unordered_set<int64_t> in_flight_;  // guarded by reader_mu_
  std::mutex done_mu_;
  std::vector<int64_t> done_;  // guarded by done_mu_

  std::mutex outcome_mu_;
  std::condition_variable outcome_cv_;
  std::vector<Outcome> outcomes_;  // guarded by outcome_mu_
  std::mutex record_mu_;           // one record() at a time

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;  // guarded by wake_mu_
  std::atomic<bool> running_{false};
  std::atomic<bool> stopping_{false};  // feeder and workers end
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;  // wakes sleeping workers on stop
  bool writer_done_ = false;         // guarded by outcome_mu_: every worker has ended
  std::thread feeder_, writer_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // back-off jitter; guarded by rng_mu_
};

Status Dispatcher::Impl::open() {
  for (const ChannelConfig& config : options_.channels) {
    Result<ProviderFactory> factory = open_provider(config, context_);
    if (!factory.ok()) return factory.error();
    const size_t capacity =
        options_.queue_capacity
            ? options_.queue_capacity
            : std::max<size_t>(256, 64 * static_cast<size_t>(config.concurrency));
    channels_.push_back(std::make_unique<Channel>(config, std::move(factory.value()), capacity));
    by_name_[config.name] = channels_.back().get();
  }
  return Status();
}

void Dispatcher::Impl::start() {
  if (running_.exchange(true)) return;
  stopping_ = false;
  writer_done_ = false;
  context_.cancel() = false;
  for (auto& channel : channels_)
    for (int i = 0; i < channel->config.concurrency; ++i)
      channel->workers.emplace_back([this, c = channel.get()] { work(*c); });
  writer_ = std::thread([this] { write_outcomes(); });
  feeder_ = std::thread([this] { feed(); });
}

void Dispatcher::Impl::stop() {
  if (!running_.exchange(false)) return;
  {
    std::lock_guard<std::mutex> l(stop_mu_);
    stopping_ = true;
    stop_cv_.notify_all();
  }
  context_.cancel() = true;  // calls in progress end now
  wake();
  for (auto& channel : channels_) {
    {
      std::lock_guard<std::mutex> l(channel->mu);
      channel->cv.notify_all();
    }
  }
  if (feeder_.joinable()) feeder_.join();
  for (auto& channel : channels_) {
    for (std::thread& t : channel->workers) t.join();
    channel->workers.clear();
    std::lock_guard<std::mutex> l(channel->mu);
    channel->queue.clear();  // still pending in the store: sent after a restart
    channel->in_flight = 0;
  }
  {
    std::lock_guard<std::mutex> l(outcome_mu_);
    writer_done_ = true;
    outcome_cv_.notify_all();
  }
  if (writer_.joinable()) writer_.join();  // records the outcomes in hand first
  std::lock_guard<std::mutex> l(reader_mu_);
  in_flight_.clear();
  std::lock_guard<std::mutex> d(done_mu_);
  done_.clear();
}

void Dispatcher::Impl::wake() {
  std::lock_guard<std::mutex> l(wake_mu_);
  wake_ = true;
  wake_cv_.notify_one();
}

void Dispatcher::Impl::feed() {
  while (!stopping_) {
    feed_once();
    std::unique_lock<std::mutex> l(wake_mu_);
    wake_cv_.wait_for(l, kFeedPoll, [&] { return wake_ || stopping_.load(); });
    wake_ = false;
  }
}

// Pending, due deliveries of `channel` that no worker holds, at most `room`.
// REQUIRES: reader_mu_ held.
std::vector<DeliveryRecord> Dispatcher::Impl::due_not_in_flight(Channel& channel, size_t room) {
  {
    std::lock_guard<std::mutex> l(done_mu_);
    for (int64_t id : done_) in_flight_.erase(id);
    done_.clear();
  }
  // In-flight rows may be among the first due ones: read past them.
  const size_t limit = room + static_cast<size_t>(std::max<int64_t>(0, channel.in_flight.load()));
  std::vector<DeliveryRecord> out;
  const TimeMs now = options_.clock->now_ms();
  std::vector<DeliveryRecord> due;
  // Leased rows are no longer due, so in-flight ones are not among them; a
  // read first keeps an idle channel from writing a transaction per poll.
  if (!options_.lease)
    due = options_.reader->pending_deliveries_of(channel.config.name, now, limit);
  else if (!options_.reader->pending_deliveries_of(channel.config.name, now, 1).empty())
    due = options_.lease(channel.config.name, now, room);
  for (DeliveryRecord& d : due) {
    if (out.size() == room) break;
    if (in_flight_.insert(d.id).second) out.push_back(std::move(d));
  }
  channel.in_flight += static_cast<int64_t>(out.size());
  return out;
}

void Dispatcher::Impl::feed_once() {
  std::lock_guard<std::mutex> reading(reader_mu_);
  for (auto& channel : channels_) {
    size_t room = 0;
    {
      std::lock_guard<std::mutex> l(channel->mu);
      room = channel->capacity - std::min(channel->capacity, channel->queue.size());
    }
    if (room == 0) continue;  // a slow channel waits; the others go on
    std::vector<DeliveryRecord> due = due_not_in_flight(*channel, room);
    if (due.empty()) continue;
    std::lock_guard<std::mutex> l(channel->mu);
    for (DeliveryRecord& d : due) channel->queue.push_back(std::move(d));
    channel->cv.notify_all();
  }
}

// Up to `most` queued deliveries; blocks while the queue is empty. False when stopping.
bool Dispatcher::Impl::take(Channel& channel, size_t most, std::vector<DeliveryRecord>& batch) {
  batch.clear();
  std::unique_lock<std::mutex> l(channel.mu);
  channel.cv.wait(l, [&] { return stopping_.load() || !channel.queue.empty(); });
  if (stopping_) return false;
  while (batch.size() < most && !channel.queue.empty()) {
    batch.push_back(std::move(channel.queue.front()));
    channel.queue.pop_front();
  }
  return true;
}

// Sleeps until `until` or stop; false when stopping.
bool Dispatcher::Impl::sleep_until(Steady::time_point until) {
  std::unique_lock<std::mutex> l(stop_mu_);
  stop_cv_.wait_until(l, until, [&] { return stopping_.load(); });
  return !stopping_;
}

// Waits while the circuit is open (deliveries keep their attempts), then for
// the channel's next rate slot. False when stopping.
bool Dispatcher::Impl::wait_for_turn(Channel& channel) {
  for (;;) {
    if (stopping_) return false;
    std::optional<Steady::time_point> retry_at = channel.breaker.permit();
    if (!retry_at) break;
    if (!sleep_until(*retry_at)) return false;
  }
  const Steady::time_point slot = channel.limiter.reserve();
  while (Steady::now() < slot)
    if (!sleep_until(slot)) return false;
  return true;
}

void Dispatcher::Impl::work(Channel& channel) {
  std::unique_ptr<Provider> provider = channel.factory();
  std::vector<DeliveryRecord> batch;
  while (take(channel, provider->batch_size(), batch)) {
    std::vector<Outcome> outcomes;
    for (const DeliveryRecord& d : batch) {
      if (!wait_for_turn(channel)) break;  // unsent ones stay pending in the store
      Outcome outcome = send_one(channel, *provider, d);
      if (stopping_ && outcome.kind == Outcome::Kind::kRetry) break;  // cut short, not a failure
      outcomes.push_back(std::move(outcome));
    }
    if (Status flushed = provider->flush(); !flushed) {
      for (Outcome& o : outcomes)
        if (o.kind == Outcome::Kind::kSent)
          o = decide(channel, o.delivery, SendOutcome::retry(flushed.message()));
    }
    std::lock_guard<std::mutex> l(outcome_mu_);
    for (Outcome& o : outcomes) outcomes_.push_back(std::move(o));
    outcome_cv_.notify_one();
  }
}

Outcome Dispatcher::Impl::send_one(Channel& channel, Provider& provider, const DeliveryRecord& d) {
  if (options_.host) {
    if (std::optional<std::string> reason = options_.host->recheck_before_send(d)) {
      channel.breaker.unused();
      return Outcome{d,       Outcome::Kind::kSuppressed, d.attempts, 0,
                     *reason, options_.clock->now_ms()};
    }
  }
  const SendOutcome sent = provider.send(d);
  if (sent.kind == SendOutcome::Kind::kRetry)
    channel.breaker.failed();
  else
    channel.breaker.succeeded();  // a permanent refusal still proves the provider answers
  return decide(channel, d, sent);
}

// The retry policy applied to one provider answer.
Outcome Dispatcher::Impl::decide(const Channel& channel, const DeliveryRecord& d,
                                 const SendOutcome& sent) {
  Outcome out;
  out.delivery = d;
  out.at = options_.clock->now_ms();
  out.attempts = d.attempts + 1;
  out.error = sent.error;
  if (sent.kind == SendOutcome::Kind::kOk) {
    out.kind = Outcome::Kind::kSent;
    out.attempts = d.attempts;
    return out;
  }
  const RetryPolicy& policy = channel.config.retry;
  if (sent.kind == SendOutcome::Kind::kPermanent || out.attempts >= policy.max_attempts) {
    out.kind = Outcome::Kind::kDead;
    return out;
  }
  out.kind = Outcome::Kind::kRetry;
  Millis delay = 0;
  if (sent.retry_after_ms) {
    delay = std::min(*sent.retry_after_ms, kMaxRetryAfterMs);
  } else {
    std::lock_guard<std::mutex> l(rng_mu_);
    delay = backoff_delay(policy, out.attempts, std::uniform_real_distribution<double>(0, 1)(rng_));
  }
  out.next_attempt_at = out.at + delay;
  return out;
}

void Dispatcher::Impl::write_outcomes() {
  for (;;) {
    std::vector<Outcome> batch;
    {
      std::unique_lock<std::mutex> l(outcome_mu_);
      outcome_cv_.wait(l, [&] { return !outcomes_.empty() || writer_done_; });
      if (outcomes_.empty()) return;  // stopping, all recorded
      batch.swap(outcomes_);
    }
    record(std::move(batch));
  }
}

// Writes outcomes through the host, then lets the feeder forget their ids.
// A failed write leaves the deliveries pending: they are sent again (the
// providers' idempotency keys make that harmless).
void Dispatcher::Impl::record(std::vector<Outcome> outcomes) {
  {
    std::lock_guard<std::mutex> l(record_mu_);
    if (options_.host) (void)options_.host->record(outcomes);
  }
  std::lock_guard<std::mutex> l(done_mu_);
  for (const Outcome& o : outcomes) {
    done_.push_back(o.delivery.id);
    auto it = by_name_.find(o.delivery.channel);
    if (it != by_name_.end()) --it->second->in_flight;
  }
}

size_t Dispatcher::Impl::drain_due() {
  size_t sent_total = 0;
  for (auto& channel_ptr : channels_) {
    Channel& channel = *channel_ptr;
    if (!channel.drain_provider) channel.drain_provider = channel.factory();
    for (;;) {
      std::vector<DeliveryRecord> due;
      {
        std::lock_guard<std::mutex> reading(reader_mu_);
        due = due_not_in_flight(channel, kDrainBatch);
      }
      if (due.empty()) break;
      std::vector<Outcome> outcomes;
      for (const DeliveryRecord& d : due)
        outcomes.push_back(send_one(channel, *channel.drain_provider, d));
      if (Status flushed = channel.drain_provider->flush(); !flushed) {
        for (Outcome& o : outcomes)
          if (o.kind == Outcome::Kind::kSent)
            o = decide(channel, o.delivery, SendOutcome::retry(flushed.message()));
      }
      size_t sent = 0;
      for (const Outcome& o : outcomes) sent += o.kind == Outcome::Kind::kSent;
      record(std::move(outcomes));
      sent_total += sent;
      if (due.size() < kDrainBatch || sent == 0) break;
    }
  }
  return sent_total;
}

std::vector<ChannelStats> Dispatcher::Impl::stats() const {
  std::vector<ChannelStats> out;
  for (const auto& channel : channels_) {
    ChannelStats s;
    s.channel = channel->config.name;
    s.provider = channel->config.provider;
    {
      std::lock_guard<std::mutex> l(channel->mu);
      s.queued = static_cast<int64_t>(channel->queue.size());
    }
    s.in_flight = channel->in_flight.load();
    s.circuit_open = channel->breaker.is_open();
    out.push_back(s);
  }
  return out;
}

// ---------------------------------------------------------------------------

Dispatcher::Dispatcher(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dispatcher::~Dispatcher() { impl_->stop(); }

Result<std::unique_ptr<Dispatcher>> Dispatcher::open(DispatcherOptions options) {
  if (!options.clock || !options.reader)
    return Error{"dispatcher: a clock and a reader are required"};
  auto impl = std::make_unique<Impl>(std::move(options));
  if (Status s = impl->open(); !s) return s.error();
  return std::unique_ptr<Dispatcher>(new Dispatcher(std::move(impl)));
}

void Dispatcher::start() { impl_->start(); }
void Dispatcher::stop() { impl_->stop(); }
void Dispatcher::wake() { impl_->wake(); }
size_t Dispatcher::drain_due() { return impl_->drain_due(); }
std::vector<ChannelStats> Dispatcher::stats() const { return impl_->stats(); }

}  // namespace trellis::runtime::delivery

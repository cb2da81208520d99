#include "runtime/engine.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <thread>

#include "nodes/compiled_flow.h"
#include "runtime/broadcast.h"
#include "runtime/delivery/dispatcher.h"
#include "runtime/prometheus_text.h"
#include "runtime/governance.h"
#include "runtime/processor.h"
#include "runtime/stored_fields.h"

namespace trellis::runtime {

namespace {

constexpr size_t kTimerWindow = 1024;     // timers held in memory per transaction
constexpr TimeMs kLoopIdleMs = 10;        // longest sleep of the background loop
constexpr TimeMs kPruneEveryMs = 60'000;  // dedupe pruning period (clock time)
constexpr TimeMs kMaxBackoffMs = 3'600'000;
constexpr TimeMs kMaxConnectTimeoutMs = 5'000;
constexpr size_t kWalkWindow = 512;  // journeys per transaction of a lifecycle walk
// Retained events deleted per transaction by the background prune: a bound
// on how long one prune holds the writer.
constexpr size_t kRetentionPruneWindow = 2000;

// The channel every channel uses unless the delivery configuration names it:
// the old adapter options mapped onto one provider (`file` = the deliveries
// file, `webhook` = http to webhook_url), so both routes share one code path.
Result<delivery::ChannelConfig> default_channel(const EngineOptions& options) {
  delivery::ChannelConfig channel;
  channel.retry = {options.webhook_max_attempts, options.webhook_retry_base_ms, kMaxBackoffMs};
  if (options.adapter == "file") {
    channel.provider = "file";  // no path: the dispatcher's default file
    return channel;
  }
  if (options.adapter == "webhook") {
    if (options.webhook_url.rfind("http://", 0) != 0 &&
        options.webhook_url.rfind("https://", 0) != 0)
      return Error{"webhook adapter needs an http:// or https:// URL, got '" + options.webhook_url +
                   "'"};
    channel.provider = "http";
    channel.url = options.webhook_url;
    channel.timeout_ms = options.webhook_timeout_ms;
    channel.connect_timeout_ms = std::min(options.webhook_timeout_ms, kMaxConnectTimeoutMs);
    return channel;
  }
  return Error{"unknown delivery adapter '" + options.adapter + "' (file, webhook, none)"};
}

// When the timer loop next has work: a timer, a deferred message or a
// broadcast run of an active flow.
std::optional<TimeMs> next_work_due(StoreReader& store) {
  std::optional<TimeMs> due = store.next_timer_due();
  std::vector<std::string> inactive;
  for (const FlowStateRecord& r : store.flow_states())
    if (r.state != "active") inactive.push_back(r.name);
  for (std::optional<TimeMs> other :
       {store.next_deferred_due(), next_broadcast_due(store.broadcasts(""), inactive)})
    if (other && (!due || *other < *due)) due = other;
  return due;
}

}  // namespace

// One unit of work for the writer. The leader of a group commit runs the
// `apply` of every queued Work in one transaction, then `after_commit`.
struct Work {
  std::function<void(Processor&, Store&)> apply;
  std::function<void()> after_commit;
  size_t weight = 1;  // inputs it holds, for the batch limit
  // Users whose locks `apply` takes, when known before it runs: the batch
  // takes them first, in one order on every node (see lock_batch_users).
  std::vector<std::string> users;
  Status status;
  bool done = false;
  std::condition_variable cv;
};

class Engine::Impl : private delivery::DispatchHost {
 public:
  explicit Impl(EngineOptions options) : options_(std::move(options)) {
    clock_ = options_.clock ? options_.clock : &SystemClock::instance();
    // No configuration is the default one (no caps, no quiet hours, UTC), so
    // the processor and the consent recheck read the same rules.
    if (!options_.delivery) options_.delivery = std::make_shared<const delivery::DeliveryConfig>();
  }
  ~Impl() { stop(); }

  Status open();
  // Compiles a stored version into flows_ (REQUIRES: the writer, or open()).
  Status load_version(const FlowVersionRecord& r);
  // Takes the stored lifecycle states (REQUIRES: flows_mu_ held, or open()).
  void apply_flow_states(std::vector<FlowStateRecord> records);
  // Loads the versions other processes deployed since, and the flows' states
  // (another node paused or resumed one), and learns the next due work: a
  // Work on the writer.
  Status refresh_flows();
  // In the writer's open transaction: the same loading, when the store's
  // flows generation moved since the last (REQUIRES: the writer).
  void sync_flows(Store& store);
  Status write(Work& work);
  Status run_batch(const std::vector<Work*>& batch);
  void lock_batch_users(const std::vector<Work*>& batch);

  Result<int> deploy(const ir::Flow& flow, const std::string& source, const std::string& author);
  Result<LifecycleOutcome> change_flow_state(const std::string& name,
                                             const LifecycleRequest& request);
  // Calls `visit` on every live journey of `flow`, kWalkWindow of them per
  // transaction. Returns how many it visited.
  Result<int64_t> walk_live(const std::string& flow,
                            const std::function<void(Processor&, JourneyRecord)>& visit);
  // Exits the live journeys left in stopped flows (a stop cut short by a crash).
  Status finish_stops();
  Result<MigrationPlan> migrate(const std::string& name, const MigrationRequest& request);
  Result<IngestSummary> ingest(std::vector<Event> events);
  Result<size_t> fire_due_timers();
  // Deletes at most `limit` retained events past the configured age or count
  // (all of them when retention is off). Returns how many.
  int64_t prune_retained(Store& store, size_t limit) const;
  // Prunes in bounded transactions until nothing is left to prune.
  void prune_retained_all();
  // Broadcasts (docs/flows.md#broadcasts). Brings the flow's runs in line
  // with its newest trigger (replan_broadcasts), inside the caller's
  // transaction: the next run its schedule asks for, if any, is written.
  void plan_broadcast(Store& store, const std::string& name, const ir::Flow& flow);
  Status plan_all_broadcasts();
  // Walks due runs, one window per transaction, while the pacing allows.
  // Returns the users entered.
  Result<int64_t> run_broadcasts();
  // One window of `run` (due, of an active or vanished flow, held by this
  // transaction): enters at most `allowance` users and writes the run's new
  // cursor.
  struct WindowOutcome {
    int64_t entered = 0;
    bool moved = false;  // false: the window's first user is held by another node
  };
  WindowOutcome walk_broadcast(Processor& p, Store& store, BroadcastRecord& run,
                               const FlowVersions* versions, TimeMs now, size_t allowance);
  void finish_pass(Store& store, BroadcastRecord& run, const nodes::CompiledFlow& flow, TimeMs now);
  // How many users the pacing lets in now (refilled by the steady clock).
  size_t broadcast_allowance();
  // The suppression reason when the user withdrew consent for a pending
  // delivery after its node ran; nullopt when it may go to the provider.
  // Reads through `reader` (the dispatcher's own connection).
  std::optional<std::string> recheck_before_send(StoreReader& reader,
                                                 const DeliveryRecord& delivery) const;
  size_t dispatch_deliveries();
  Status open_dispatcher();
  std::vector<DeliveryRecord> lease_deliveries(const std::string& channel, TimeMs now,
                                               size_t limit);
  void loop();
  void start();
  void stop();
  void note_timer(std::optional<TimeMs> due);

  EngineOptions options_;
  Clock* clock_ = nullptr;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Processor> processor_;

  // Readers see committed state only. `read_mu_` guards reader_.
  mutable std::mutex read_mu_;
  std::unique_ptr<StoreReader> reader_;
  // Sends committed deliveries on its own threads (null: adapter "none").
  std::unique_ptr<delivery::Dispatcher> dispatcher_;
  // The consent recheck's connection; the dispatcher's workers share it.
  std::mutex recheck_mu_;
  std::unique_ptr<StoreReader> recheck_reader_;  // guarded by recheck_mu_

  // Flows: written only by the current writer, under a unique lock; queries
  // take a shared lock. The writer itself reads without locking.
  mutable std::shared_mutex flows_mu_;
  FlowSet flows_;

  std::mutex queue_mu_;
  std::deque<Work*> queue_;  // guarded by queue_mu_

  std::atomic<TimeMs> next_due_{INT64_MAX};  // earliest pending timer (a hint)
  TimeMs last_prune_ = 0;                    // writer only
  TimeMs last_refresh_ = 0;                  // loop thread only
  int64_t flows_generation_ = -1;            // writer only: flows_ loaded as of it
  // Broadcast pacing, a token bucket of entries (run_broadcasts only).
  double broadcast_tokens_ = 0;
  std::chrono::steady_clock::time_point broadcast_refill_{};
  // A due run waits for pacing tokens, or for another node that holds it or
  // its next user: the loop sleeps instead of spinning.
  std::atomic<bool> broadcast_waits_{false};
  // Another node committed something due soon (Store::listen_for_wakes):
  // the loop looks at the store at its next turn, not at its next poll.
  std::atomic<bool> refresh_now_{false};

  std::mutex loop_mu_;
  std::condition_variable loop_cv_;
  bool loop_wake_ = false;  // guarded by loop_mu_
  std::atomic<bool> running_{false};
  std::thread thread_;

  struct Counters {
    std::atomic<int64_t> accepted{0}, duplicates{0}, timers{0}, sent{0}, failed{0}, dead{0},
        commits{0}, suppressed_at_send{0}, broadcast_entries{0}, wakeups{0};
  } metrics_;
  // Last: stopped (in stop()) before what its callback touches goes away.
  std::unique_ptr<WakeListener> wake_listener_;
  void wake_from_other_node();
  // The processor's counters as of the last commit (see run_batch).
  mutable std::mutex steps_mu_;
  StepCounters steps_;  // guarded by steps_mu_

 private:
  // delivery::DispatchHost: the dispatcher's way back into the engine.
  std::optional<std::string> recheck_before_send(const DeliveryRecord& delivery) override;
  Status record(const std::vector<delivery::Outcome>& outcomes) override;
};

Status Engine::Impl::open() {
  if (!options_.store) return Error{"no store given (EngineOptions::store)"};
  auto store = options_.store();
  if (!store.ok()) return store.error();
  store_ = std::move(store.value());
  auto reader = store_->open_reader();
  if (!reader.ok()) return Error{"cannot open a reader: " + reader.error().message};
  reader_ = std::move(reader.value());

  for (const FlowVersionRecord& r : store_->flow_versions())
    if (Status s = load_version(r); !s) return s;
  apply_flow_states(store_->flow_states());
  flows_.rebuild_routes();
  processor_ = std::make_unique<Processor>(*store_, flows_, options_);

  if (Status s = open_dispatcher(); !s) return s;
  if (auto due = next_work_due(*store_)) next_due_ = *due;
  return Status();
}

Status Engine::Impl::load_version(const FlowVersionRecord& r) {
  if (!options_.parse_flow) return Error{"stored flows exist but no parse_flow was given"};
  Result<ir::Flow> parsed = options_.parse_flow(r.name, r.source);
  if (!parsed.ok())
    return Error{"flow " + r.name + " version " + std::to_string(r.version) + ": " +
                 parsed.error().message};
  auto compiled = nodes::CompiledFlow::compile(std::move(parsed.value()), r.version);
  if (!compiled.ok())
    return Error{"flow " + r.name + " version " + std::to_string(r.version) + ": " +
                 compiled.error().message};
  FlowVersions& versions = flows_.flows[r.name];
  versions.versions[r.version] = std::move(compiled.value());
  if (r.version >= versions.latest) {
    versions.latest = r.version;
    versions.latest_source = r.source;
    versions.deployed_at = r.deployed_at;
  }
  return Status();
}

void Engine::Impl::apply_flow_states(std::vector<FlowStateRecord> records) {
  for (FlowStateRecord& r : records) {
    auto it = flows_.flows.find(r.name);
    if (it == flows_.flows.end()) continue;
    it->second.state = flow_state_from_name(r.state).value_or(FlowState::kActive);
    it->second.state_record = std::move(r);
  }
}

// Flow versions are immutable once stored, so a node only ever adds the ones
// it lacks; a version that no longer parses here is skipped, never
// half-loaded (the node that deployed it parsed it).
void Engine::Impl::sync_flows(Store& store) {
  const int64_t generation = must(store.flows_generation());
  if (generation == flows_generation_) return;
  std::vector<FlowVersionRecord> added;
  for (FlowVersionRecord& r : store.flow_versions()) {
    auto known = flows_.flows.find(r.name);
    if (known == flows_.flows.end() || !known->second.find(r.version))
      added.push_back(std::move(r));
  }
  std::vector<FlowStateRecord> states = store.flow_states();
  std::unique_lock<std::shared_mutex> l(flows_mu_);
  for (const FlowVersionRecord& r : added) (void)load_version(r);
  apply_flow_states(std::move(states));
  if (!added.empty()) flows_.rebuild_routes();
  flows_generation_ = generation;
}

Status Engine::Impl::refresh_flows() {
  std::optional<TimeMs> due;
  Work w;
  w.apply = [&](Processor&, Store& store) {
    if (!store_->shared()) sync_flows(store);  // shared: every batch does (run_batch)
    // Timers and deferred messages another node armed: this node fires them
    // too, so one that dies leaves none waiting longer than this period.
    due = next_work_due(store);
  };
  w.after_commit = [&] { note_timer(due); };
  return write(w);
}

Status Engine::Impl::open_dispatcher() {
  if (options_.adapter == "none") return Status();
  Result<delivery::ChannelConfig> fallback = default_channel(options_);
  if (!fallback.ok()) return fallback.error();
  delivery::DispatcherOptions d;
  d.channels = delivery::effective_channels(options_.delivery.get(), fallback.value());
  d.default_file = options_.deliveries_path;
  d.clock = clock_;
  auto reader = store_->open_reader();
  if (!reader.ok()) return Error{"cannot open a reader: " + reader.error().message};
  d.reader = std::move(reader.value());
  d.host = this;
  if (store_->shared())
    d.lease = [this](const std::string& channel, TimeMs now, size_t limit) {
      return lease_deliveries(channel, now, limit);
    };
  auto recheck = store_->open_reader();
  if (!recheck.ok()) return Error{"cannot open a reader: " + recheck.error().message};
  recheck_reader_ = std::move(recheck.value());
  auto dispatcher = delivery::Dispatcher::open(std::move(d));
  if (!dispatcher.ok()) return dispatcher.error();
  dispatcher_ = std::move(dispatcher.value());
  return Status();
}

// Several nodes share the store: due deliveries are leased to this node for
// options_.delivery_lease_ms, written before they are handed to the workers. A failed
// lease hands out nothing; the feeder tries again at its next poll.
std::vector<DeliveryRecord> Engine::Impl::lease_deliveries(const std::string& channel, TimeMs now,
                                                           size_t limit) {
  std::vector<DeliveryRecord> leased;
  Work w;
  w.apply = [&](Processor&, Store& store) {
    leased = must(store.lease_deliveries(channel, now, limit, now + options_.delivery_lease_ms));
  };
  if (Status s = write(w); !s) return {};
  return leased;
}

// governance: consent recheck, asked by a dispatcher worker just before its provider call.
std::optional<std::string> Engine::Impl::recheck_before_send(const DeliveryRecord& delivery) {
  std::lock_guard<std::mutex> l(recheck_mu_);
  return recheck_before_send(*recheck_reader_, delivery);
}

// One transaction for a batch of outcomes, then the counters and observers.
Status Engine::Impl::record(const std::vector<delivery::Outcome>& outcomes) {
  using Kind = delivery::Outcome::Kind;
  Work w;
  w.weight = outcomes.size();
  w.apply = [&](Processor&, Store& store) {
    for (const delivery::Outcome& o : outcomes) {
      const int64_t id = o.delivery.id;
      if (o.kind == Kind::kSent) must(store.mark_sent(id, o.at));
      if (o.kind == Kind::kRetry || o.kind == Kind::kDead)
        must(store.record_failure(id, o.attempts, o.next_attempt_at, o.error, o.kind == Kind::kDead,
                                  o.at));
      if (o.kind == Kind::kSuppressed) must(store.mark_suppressed(id, o.error, o.at));
    }
  };
  if (Status s = write(w); !s) return s;
  for (const delivery::Outcome& o : outcomes) {
    if (o.kind == Kind::kSent) ++metrics_.sent;
    if (o.kind == Kind::kRetry || o.kind == Kind::kDead) ++metrics_.failed;
    if (o.kind == Kind::kDead) ++metrics_.dead;
    if (o.kind == Kind::kSuppressed) ++metrics_.suppressed_at_send;
    if (options_.on_delivery)
      options_.on_delivery(o.delivery, delivery::outcome_name(o.kind),
                           o.kind == Kind::kSent ? std::string() : o.error);
  }
  return Status();
}

// Group commit (LevelDB's DBImpl::Write): callers queue their Work; the one at
// the front becomes the leader, applies a batch of queued Work in a single
// transaction and commits once, then wakes the others with the shared outcome.
Status Engine::Impl::write(Work& work) {
  std::unique_lock<std::mutex> lock(queue_mu_);
  queue_.push_back(&work);
  while (!work.done && &work != queue_.front()) work.cv.wait(lock);
  if (work.done) return work.status;

  std::vector<Work*> batch;
  size_t weight = 0;
  for (Work* w : queue_) {
    if (!batch.empty() && weight + w->weight > options_.max_batch) break;
    batch.push_back(w);
    weight += w->weight;
  }
  lock.unlock();
  Status status = run_batch(batch);
  lock.lock();
  for (Work* w : batch) {
    queue_.pop_front();
    w->status = status;
    w->done = true;
    if (w != &work) w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();
  return status;
}

Status Engine::Impl::run_batch(const std::vector<Work*>& batch) {
  const TimeMs now = clock_->now_ms();
  if (Status s = store_->begin(); !s) return s;
  processor_->begin_batch(now);
  try {
    // Several nodes: a deploy committed anywhere is loaded before this batch
    // starts a journey, so every node starts new journeys on the newest
    // version (the generation rides on begin()'s round trip).
    if (store_->shared()) sync_flows(*store_);
    lock_batch_users(batch);
    for (Work* w : batch) w->apply(*processor_, *store_);
  } catch (const StoreFailure& e) {
    store_->rollback();
    return e.error;
  } catch (const std::exception& e) {
    store_->rollback();
    return Error{std::string("step failed: ") + e.what()};
  }
  // The batch's rollups ride in its transaction: they commit with the steps
  // that caused them or not at all.
  if (!processor_->rollups().empty()) {
    if (Status s = store_->add_rollups(processor_->rollups()); !s) {
      store_->rollback();
      return s;
    }
  }
  if (Status s = store_->commit(); !s) return s;
  ++metrics_.commits;
  // Writer-owned counters, published after the commit.
  const StepCounters& counted = processor_->counters();
  bool new_pending = false;
  {
    std::lock_guard<std::mutex> l(steps_mu_);
    new_pending = counted.deliveries_created != steps_.deliveries_created ||
                  counted.deliveries_released != steps_.deliveries_released;
    steps_ = counted;
  }
  if (new_pending && dispatcher_) dispatcher_->wake();  // new pending deliveries
  for (Work* w : batch)
    if (w->after_commit) w->after_commit();
  note_timer(processor_->earliest_armed());
  return Status();
}

// Several nodes: a batch applies many users' inputs in one transaction, and
// each takes its user's lock when applied. Two nodes whose batches name the
// same two users in opposite orders would wait on each other until the
// database's deadlock detector failed one batch; taken up front in sorted
// order, the locks are acquired in the same order on every node. (Locks found
// only while applying, e.g. the user an anonymous id was merged into, are
// still taken then; lock_user ignores a lock the transaction already holds.)
void Engine::Impl::lock_batch_users(const std::vector<Work*>& batch) {
  if (!store_->shared()) return;
  std::vector<const std::string*> users;
  for (const Work* w : batch)
    for (const std::string& u : w->users) users.push_back(&u);
  std::sort(users.begin(), users.end(), [](auto* a, auto* b) { return *a < *b; });
  for (size_t i = 0; i < users.size(); ++i)
    if (i == 0 || *users[i] != *users[i - 1]) must(store_->lock_user(*users[i]));
}

void Engine::Impl::note_timer(std::optional<TimeMs> due) {
  if (!due) return;
  TimeMs current = next_due_.load();
  while (*due < current && !next_due_.compare_exchange_weak(current, *due)) {
  }
  if (*due <= current) {
    std::lock_guard<std::mutex> l(loop_mu_);
    loop_wake_ = true;
    loop_cv_.notify_one();
  }
}

Result<int> Engine::Impl::deploy(const ir::Flow& flow, const std::string& source,
                                 const std::string& author) {
  const std::string name = flow.name.value;
  if (name.empty()) return Error::invalid("flow has no name");
  int version = 0;
  std::unique_ptr<nodes::CompiledFlow> compiled;
  std::string error;
  Work w;
  w.apply = [&](Processor&, Store& store) {
    // The stored versions decide, not this process's: another node may have
    // deployed since. Deploys of one flow take turns (a lock named after the
    // flow; user ids hold no control characters, so it is nobody's user lock).
    must(store.lock_user(std::string("\x1f"
                                     "flow:") +
                         name));
    int latest = 0;
    const std::string* latest_source = nullptr;
    const std::vector<FlowVersionRecord> stored = store.flow_versions();
    for (const FlowVersionRecord& r : stored)
      if (r.name == name && r.version > latest) {
        latest = r.version;
        latest_source = &r.source;
      }
    const bool unchanged = latest_source && *latest_source == source;
    version = unchanged ? latest : latest + 1;
    auto known = flows_.flows.find(name);
    if (unchanged && known != flows_.flows.end() && known->second.find(version)) return;
    auto result = nodes::CompiledFlow::compile(flow, version);
    if (!result.ok()) {
      error = result.error().message;
      return;
    }
    compiled = std::move(result.value());
    if (!unchanged) must(store.add_flow_version({name, version, source, clock_->now_ms(), author}));
    plan_broadcast(store, name, flow);
  };
  w.after_commit = [&] {
    if (!compiled) return;
    std::unique_lock<std::shared_mutex> l(flows_mu_);
    FlowVersions& versions = flows_.flows[name];
    versions.versions[version] = std::move(compiled);
    versions.latest = version;
    versions.latest_source = source;
    versions.deployed_at = clock_->now_ms();
    flows_.rebuild_routes();
    if (flow.trigger.scheduled()) {
      std::lock_guard<std::mutex> r(read_mu_);
      note_timer(next_work_due(*reader_));
    }
  };
  if (Status s = write(w); !s)
    return s.message().empty() ? Error{"deploy failed"} : Error{s.message()};
  if (!error.empty()) return Error::invalid(error);  // the flow does not compile
  return version;
}

namespace {

bool allowed(FlowState from, FlowState to) {
  switch (to) {
    case FlowState::kPaused:
      return from == FlowState::kActive;
    case FlowState::kActive:
      return from != FlowState::kActive;
    case FlowState::kStopped:
      return from == FlowState::kActive || from == FlowState::kPaused;
    case FlowState::kArchived:
      return from != FlowState::kArchived;
  }
  return false;
}

std::string by_words(const LifecycleRequest& r) {
  std::string out = r.by.empty() ? std::string() : " by " + r.by;
  if (!r.reason.empty()) out += ": " + r.reason;
  return out;
}

std::string seconds_words(TimeMs ms) { return std::to_string(ms / 1000) + " s"; }

}  // namespace

Result<int64_t> Engine::Impl::walk_live(
    const std::string& flow, const std::function<void(Processor&, JourneyRecord)>& visit) {
  int64_t visited = 0;
  int64_t after = 0;
  for (;;) {
    size_t seen = 0;
    Work w;
    w.weight = kWalkWindow;
    w.apply = [&](Processor& p, Store& store) {
      seen = 0;
      for (JourneyRecord& j : store.live_journeys(flow, after, kWalkWindow)) {
        after = j.id;
        ++seen;
        // Another node may step the user meanwhile: lock, then read it again.
        must(store.lock_user(j.user_id));
        std::optional<JourneyRecord> now = store.journey(j.id);
        if (now && is_live(now->state)) visit(p, std::move(*now));
      }
    };
    if (Status s = write(w); !s) return s.error();
    visited += static_cast<int64_t>(seen);
    if (seen < kWalkWindow) return visited;
  }
}

Result<LifecycleOutcome> Engine::Impl::change_flow_state(const std::string& name,
                                                         const LifecycleRequest& request) {
  LifecycleOutcome outcome;
  outcome.to = request.to;
  FlowStateRecord record{name, std::string(flow_state_name(request.to)), 0, request.by,
                         request.reason};
  std::string refusal;
  TimeMs paused_at = 0;
  Work w;
  w.apply = [&](Processor&, Store& store) {
    auto it = flows_.flows.find(name);
    if (it == flows_.flows.end()) {
      refusal = "unknown flow '" + name + "'";
      return;
    }
    outcome.from = it->second.state;
    if (!allowed(outcome.from, request.to)) {
      refusal = "flow " + name + " is " + std::string(flow_state_name(outcome.from)) +
                ": it cannot be " + std::string(flow_state_name(request.to)) +
                (request.to == FlowState::kActive ? "d" : "");
      return;
    }
    paused_at = it->second.state_record.at;
    record.at = clock_->now_ms();
    must(store.set_flow_state(record));
  };
  w.after_commit = [&] {
    if (!refusal.empty()) return;
    std::unique_lock<std::shared_mutex> l(flows_mu_);
    FlowVersions& versions = flows_.flows[name];
    versions.state = request.to;
    versions.state_record = record;
  };
  if (Status s = write(w); !s) return Error{s.message()};
  if (!refusal.empty()) return Error{refusal};

  // The trace of every live journey says what happened to it.
  Result<int64_t> walked = int64_t{0};
  const std::string who = by_words(request);
  switch (request.to) {
    case FlowState::kPaused:
      walked = walk_live(name, [&](Processor& p, JourneyRecord j) {
        p.note_step(std::move(j), "pause", "flow paused" + who);
      });
      break;
    case FlowState::kActive: {
      const bool was_paused = outcome.from == FlowState::kPaused;
      const TimeMs paused_for = was_paused ? std::max<TimeMs>(0, record.at - paused_at) : 0;
      const TimeMs shift = request.timers == HeldTimers::kShift ? paused_for : 0;
      std::string reason = "flow resumed" + who;
      if (was_paused)
        reason += request.timers == HeldTimers::kShift
                      ? "; timers moved " + seconds_words(paused_for) + " later (the pause)"
                      : "; timers due during the pause fire now, in due order";
      walked = walk_live(name, [&](Processor& p, JourneyRecord j) {
        p.resume_journey(std::move(j), reason, shift);
      });
      break;
    }
    case FlowState::kStopped:
    case FlowState::kArchived:
      walked = walk_live(name, [&](Processor& p, JourneyRecord j) {
        p.stop_journey(std::move(j), "flow stopped" + who);
      });
      break;
  }
  if (!walked.ok()) return walked.error();
  outcome.journeys = walked.value();
  return outcome;
}

Status Engine::Impl::finish_stops() {
  std::vector<std::pair<std::string, LifecycleRequest>> stopped;
  for (const auto& [name, versions] : flows_.flows)
    if (versions.state == FlowState::kStopped || versions.state == FlowState::kArchived)
      stopped.push_back({name,
                         {versions.state, versions.state_record.by, versions.state_record.reason,
                          HeldTimers::kFire}});
  for (const auto& [name, request] : stopped) {
    const std::string who = by_words(request);
    Result<int64_t> walked = walk_live(name, [&](Processor& p, JourneyRecord j) {
      p.stop_journey(std::move(j), "flow stopped" + who);
    });
    if (!walked.ok()) return walked.error();
  }
  return Status();
}

namespace {

// The kind of wait a journey at `node` waits in: on an event (maybe with a
// timeout) or on a timer only. nullopt: not a wait.
enum class WaitKind { kTimer, kEvent };
std::optional<WaitKind> wait_kind(const nodes::CompiledNode& node) {
  const ir::WaitNode* wait = node.node->as<ir::WaitNode>();
  if (!wait) return std::nullopt;
  return wait->until_event ? WaitKind::kEvent : WaitKind::kTimer;
}

// Where the journeys waiting at `from_node` go, or why they cannot move.
struct NodeVerdict {
  std::string to_node;
  std::string blocked;  // non-empty: the reason
};

NodeVerdict judge_node(const nodes::CompiledFlow& from, const nodes::CompiledFlow& to,
                       const std::string& from_node, const MigrationRequest& request) {
  auto mapped = request.node_map.find(from_node);
  const std::string target = mapped == request.node_map.end() ? from_node : mapped->second;
  const std::string v = "version " + std::to_string(to.version());
  const nodes::CompiledNode* source = from.find(from_node);
  const nodes::CompiledNode* dest = to.find(target);
  if (!source || !wait_kind(*source)) return {target, "node `" + from_node + "` is not a wait"};
  if (!dest)
    return {target, mapped == request.node_map.end()
                        ? "node `" + from_node + "` is gone in " + v + ": map it to a wait"
                        : "node `" + target + "` is not in " + v};
  std::optional<WaitKind> kind = wait_kind(*dest);
  if (!kind)
    return {target, "node `" + target + "` in " + v + " is a " +
                        std::string(ir::node_kind_name(dest->kind())) + ", not a wait"};
  if (*kind != *wait_kind(*source))
    return {target, *kind == WaitKind::kEvent
                        ? "node `" + target + "` waits for an event, the journeys wait on a timer"
                        : "node `" + target + "` waits on a timer, the journeys wait for an event"};
  return {target, ""};
}

}  // namespace

Result<MigrationPlan> Engine::Impl::migrate(const std::string& name,
                                            const MigrationRequest& request) {
  const nodes::CompiledFlow* from = nullptr;
  const nodes::CompiledFlow* to = nullptr;
  {
    std::shared_lock<std::shared_mutex> l(flows_mu_);
    auto it = flows_.flows.find(name);
    if (it == flows_.flows.end()) return Error{"unknown flow '" + name + "'"};
    const int to_version = request.to == 0 ? it->second.latest : request.to;
    from = it->second.find(request.from);
    to = it->second.find(to_version);
  }
  if (!from) return Error{"flow " + name + " has no version " + std::to_string(request.from)};
  if (!to) return Error{"flow " + name + " has no version " + std::to_string(request.to)};
  if (from == to)
    return Error{"the journeys are on version " + std::to_string(request.from) + " already"};
  for (const auto& [node, target] : request.node_map)
    if (!from->find(node))
      return Error{"the map names node `" + node + "`, which version " +
                   std::to_string(request.from) + " does not have"};

  MigrationPlan plan;
  plan.from = static_cast<int>(from->version());
  plan.to = static_cast<int>(to->version());
  std::map<std::string, NodeVerdict> verdicts;  // per node of `from`
  std::map<std::pair<std::string, std::string>, int64_t> moves, blocked;
  const std::string reason = "migrated" + (request.by.empty() ? "" : " by " + request.by) +
                             " from version " + std::to_string(plan.from);
  // Counts the journey and says where it goes (empty: it stays).
  auto place = [&](const JourneyRecord& j) -> std::string {
    if (j.version != plan.from) return "";
    if (!is_waiting(j.state)) {
      ++blocked[{j.node, "held before the node by a pause: resume first"}];
      return "";
    }
    auto v = verdicts.find(j.node);
    if (v == verdicts.end())
      v = verdicts.emplace(j.node, judge_node(*from, *to, j.node, request)).first;
    if (!v->second.blocked.empty()) {
      ++blocked[{j.node, v->second.blocked}];
      return "";
    }
    ++moves[{j.node, v->second.to_node}];
    return v->second.to_node;
  };

  if (request.dry_run) {
    int64_t after = 0;
    for (;;) {
      std::vector<JourneyRecord> window;
      {
        std::lock_guard<std::mutex> l(read_mu_);
        window = reader_->live_journeys(name, after, kWalkWindow);
      }
      for (const JourneyRecord& j : window) {
        after = j.id;
        (void)place(j);
      }
      if (window.size() < kWalkWindow) break;
    }
  } else {
    Result<int64_t> walked = walk_live(name, [&](Processor& p, JourneyRecord j) {
      const std::string target = place(j);
      if (target.empty()) return;
      const std::string words = reason + " node `" + j.node + "` to version " +
                                std::to_string(plan.to) + " node `" + target + "`";
      p.migrate_journey(std::move(j), *to, target, request.restart_timers, words);
      ++plan.moved;
    });
    if (!walked.ok()) return walked.error();
  }
  // In the node order of `from`, so the answer reads like the flow.
  for (const ir::Node& n : from->ir().nodes) {
    for (const auto& [key, count] : moves)
      if (key.first == n.id) plan.moves.push_back({key.first, key.second, count});
    for (const auto& [key, count] : blocked)
      if (key.first == n.id) plan.blocked.push_back({key.first, key.second, count});
  }
  return plan;
}

Result<IngestSummary> Engine::Impl::ingest(std::vector<Event> events) {
  // Parse properties here, on the caller's thread, not on the single writer.
  std::vector<PreparedEvent> prepared;
  prepared.reserve(events.size());
  for (Event& e : events) prepared.push_back(prepare_event(std::move(e)));
  IngestSummary summary;
  Work w;
  w.weight = std::max<size_t>(1, prepared.size());
  if (store_->shared())
    for (const PreparedEvent& p : prepared)
      for (const std::string* id : {&p.event.user_id, &p.event.anonymous_id})
        if (!id->empty()) w.users.push_back(*id);
  w.apply = [&](Processor& p, Store& store) {
    summary = IngestSummary{};
    const StepCounters before = p.counters();
    for (size_t i = 0; i < prepared.size(); ++i) {
      std::string refusal;
      switch (p.apply_event(prepared[i], &refusal)) {
        case EventOutcome::kApplied:
          ++summary.accepted;
          break;
        case EventOutcome::kDuplicate:
          ++summary.duplicates;
          break;
        case EventOutcome::kRefused:
          summary.refused.push_back({i, std::move(refusal)});
          break;
      }
    }
    summary.journeys_started =
        static_cast<size_t>(p.counters().journeys_started - before.journeys_started);
    summary.journeys_woken =
        static_cast<size_t>(p.counters().journeys_woken - before.journeys_woken);
    summary.journeys_exited =
        static_cast<size_t>(p.counters().journeys_exited - before.journeys_exited);
    // Retention pruned as it grows: each batch deletes at most about twice
    // what it kept, so the table stays at its bound with no long prune.
    if (options_.delivery->retention.on()) (void)prune_retained(store, 2 * prepared.size() + 16);
  };
  if (Status s = write(w); !s) return Error{s.message()};
  metrics_.accepted += static_cast<int64_t>(summary.accepted);
  metrics_.duplicates += static_cast<int64_t>(summary.duplicates);
  return summary;
}

std::optional<std::string> Engine::Impl::recheck_before_send(StoreReader& reader,
                                                             const DeliveryRecord& delivery) const {
  const delivery::DeliveryConfig& config = *options_.delivery;
  if (!governance::is_governed_channel(config, delivery.channel)) return std::nullopt;
  const ir::FlowCategory category =
      ir::flow_category_from_name(delivery.category).value_or(ir::FlowCategory::kMarketing);
  return governance::consent_denial(delivery.user_id, reader.consent(delivery.user_id),
                                    delivery.channel, category);
}

Result<size_t> Engine::Impl::fire_due_timers() {
  size_t total = 0;
  for (;;) {
    const TimeMs now = clock_->now_ms();
    if (next_due_.load() > now) break;
    size_t fired = 0;
    size_t judged = 0;  // deferred messages judged again
    std::optional<TimeMs> next;
    std::vector<TimeMs> lateness;  // for the on_timer_fired observer
    Work w;
    w.weight = kTimerWindow;
    w.apply = [&](Processor& p, Store& store) {
      fired = 0;
      lateness.clear();
      // The release pass first: a message that waited goes out before one a
      // timer of the same instant produces. A bounded window too.
      judged = p.release_deferred(kTimerWindow);
      // A bounded window: at most kTimerWindow timer rows in memory at once.
      for (JourneyRecord& due : must(store.due_journeys(now, kTimerWindow))) {
        if (options_.on_timer_fired) lateness.push_back(now - due.timer->due);
        p.fire_timer(std::move(due));
        ++fired;
      }
      next = next_work_due(store);
    };
    w.after_commit = [&] { next_due_ = next.value_or(INT64_MAX); };
    if (Status s = write(w); !s) return Error{s.message()};
    total += fired;
    metrics_.timers += static_cast<int64_t>(fired);
    for (TimeMs late : lateness) options_.on_timer_fired(late);
    if (fired == 0 && judged == 0) break;
  }
  if (Result<int64_t> entered = run_broadcasts(); !entered.ok()) return entered.error();
  return total;
}

int64_t Engine::Impl::prune_retained(Store& store, size_t limit) const {
  const delivery::EventRetention& retention = options_.delivery->retention;
  if (!retention.on()) return must(store.prune_retained_events(INT64_MAX, 0, limit));
  return must(store.prune_retained_events(clock_->now_ms() - retention.events_ms,
                                          retention.max_events, limit));
}

void Engine::Impl::prune_retained_all() {
  for (;;) {
    int64_t deleted = 0;
    Work w;
    w.apply = [&](Processor&, Store& store) {
      deleted = prune_retained(store, kRetentionPruneWindow);
    };
    if (Status s = write(w); !s) return;
    if (deleted < static_cast<int64_t>(kRetentionPruneWindow)) return;
  }
}

void Engine::Impl::plan_broadcast(Store& store, const std::string& name, const ir::Flow& flow) {
  const std::vector<BroadcastRecord> runs = store.broadcasts(name);
  for (const BroadcastRecord& record : replan_broadcasts(name, flow.trigger, runs, clock_->now_ms(),
                                                         options_.delivery->default_timezone)) {
    auto stored = std::find_if(runs.begin(), runs.end(),
                               [&](const BroadcastRecord& r) { return r.run == record.run; });
    if (stored != runs.end()) {
      // Changed only as read: a run another node holds, or started since, is
      // under way and stays as it is.
      const std::optional<BroadcastRecord> current = must(store.claim_broadcast(name, record.run));
      if (!current || current->state != stored->state || current->cursor != stored->cursor)
        continue;
    }
    must(store.put_broadcast(record));
  }
}

Status Engine::Impl::plan_all_broadcasts() {
  Work w;
  w.apply = [&](Processor&, Store& store) {
    for (const auto& [name, versions] : flows_.flows)
      if (const nodes::CompiledFlow* newest = versions.newest())
        plan_broadcast(store, name, newest->ir());
  };
  if (Status s = write(w); !s) return s;
  std::lock_guard<std::mutex> r(read_mu_);
  if (auto due = next_work_due(*reader_)) next_due_ = std::min(next_due_.load(), *due);
  return Status();
}

size_t Engine::Impl::broadcast_allowance() {
  const double rate = options_.broadcast_entries_per_second;
  if (rate <= 0) return SIZE_MAX;
  const auto now = std::chrono::steady_clock::now();
  if (broadcast_refill_ == std::chrono::steady_clock::time_point{}) {
    broadcast_tokens_ = std::max(1.0, rate);  // a full second's worth to start with
  } else {
    const double seconds = std::chrono::duration<double>(now - broadcast_refill_).count();
    broadcast_tokens_ = std::min(std::max(1.0, rate), broadcast_tokens_ + seconds * rate);
  }
  broadcast_refill_ = now;
  return static_cast<size_t>(broadcast_tokens_);
}

// One window of the earliest due run per transaction: its entries and its
// cursor commit together, so a crash resumes at the cursor and a user the
// window entered is never entered again (the run's journey key).
Result<int64_t> Engine::Impl::run_broadcasts() {
  int64_t total = 0;
  for (;;) {
    const size_t allowance = broadcast_allowance();
    broadcast_waits_ = allowance == 0;
    if (allowance == 0) return total;
    const TimeMs now = clock_->now_ms();
    bool walked = false, held_elsewhere = false;
    int64_t entered = 0;
    std::optional<TimeMs> next;
    Work w;
    w.weight = options_.broadcast_window;
    w.apply = [&](Processor& p, Store& store) {
      walked = held_elsewhere = false;
      entered = 0;
      std::vector<BroadcastRecord> runs = store.broadcasts("");
      std::sort(runs.begin(), runs.end(), [](const BroadcastRecord& a, const BroadcastRecord& b) {
        return a.due_at < b.due_at;
      });
      auto due = [&](const BroadcastRecord& r) {
        return (r.state == "scheduled" || r.state == "running") && r.due_at <= now;
      };
      for (const BroadcastRecord& listed : runs) {
        if (!due(listed)) continue;
        auto it = flows_.flows.find(listed.flow);
        if (it != flows_.flows.end() && it->second.state == FlowState::kPaused) continue;
        // Held by this transaction from here: another node walking the same
        // run skips it, and the cursor read is the one last committed.
        std::optional<BroadcastRecord> run = must(store.claim_broadcast(listed.flow, listed.run));
        if (!run || !due(*run)) {
          held_elsewhere = held_elsewhere || !run;
          continue;
        }
        const WindowOutcome window = walk_broadcast(
            p, store, *run, it == flows_.flows.end() ? nullptr : &it->second, now, allowance);
        entered = window.entered;
        walked = window.moved;
        held_elsewhere = !window.moved;
        break;
      }
      next = next_work_due(store);
    };
    w.after_commit = [&] { next_due_ = next.value_or(INT64_MAX); };
    if (Status s = write(w); !s) return Error{s.message()};
    broadcast_waits_ = held_elsewhere;
    if (options_.broadcast_entries_per_second > 0)
      broadcast_tokens_ = std::max(0.0, broadcast_tokens_ - static_cast<double>(entered));
    metrics_.broadcast_entries += entered;
    total += entered;
    if (!walked) return total;
  }
}

Engine::Impl::WindowOutcome Engine::Impl::walk_broadcast(Processor& p, Store& store,
                                                         BroadcastRecord& run,
                                                         const FlowVersions* versions, TimeMs now,
                                                         size_t allowance) {
  const nodes::CompiledFlow* flow = versions ? versions->newest() : nullptr;
  const std::optional<nodes::LocalDateTime> at = nodes::parse_local_date_time(run.run);
  // A flow deleted, stopped, or redeployed without its schedule ends its runs.
  if (!flow || !flow->ir().trigger.scheduled() || !at || versions->state != FlowState::kActive) {
    run.state = "cancelled";
    run.finished_at = now;
    must(store.put_broadcast(run));
    return {0, true};
  }
  if (run.state == "scheduled") {
    run.state = "running";
    run.started_at = now;
    run.total = store.profile_count();
  }
  Event event;
  event.id = run.flow + ":" + run.run;
  event.type = "broadcast";
  event.properties_json = nlohmann::json{{"run", run.run}}.dump();
  const PreparedEvent prepared = prepare_event(std::move(event));
  const BroadcastRun broadcast{run.run, *at, flow->ir().trigger.in_user_time_zone, &prepared};
  const size_t window = std::max<size_t>(1, options_.broadcast_window);
  const auto profiles = must(store.lock_profiles_after(run.cursor, window));
  int64_t entered = 0;
  size_t walked = 0;
  for (const auto& [user, traits] : profiles) {
    if (static_cast<size_t>(entered) >= allowance) break;
    TimeMs due = 0;
    switch (p.enter_broadcast(*flow, broadcast, user, traits, due)) {
      case BroadcastEntry::kEntered:
        ++entered;
        break;
      case BroadcastEntry::kNotDue:
        run.next_pass_at = run.next_pass_at == 0 ? due : std::min(run.next_pass_at, due);
        break;
      case BroadcastEntry::kSkipped:
        break;
    }
    run.cursor = user;
    ++walked;
  }
  run.entered += entered;
  run.walked += static_cast<int64_t>(walked);
  // A short window is the end of the pass only when no profile follows it
  // (another node may hold the user after it).
  const bool pass_over =
      walked == profiles.size() && walked < window && store.profiles_after(run.cursor, 1).empty();
  if (pass_over) finish_pass(store, run, *flow, now);
  if (walked == 0 && !pass_over) return {0, false};
  must(store.put_broadcast(run));
  return {entered, true};
}

// The end of a walk over every profile: another pass when some users' own time
// is still to come, else the run is done and the next one (every) is planned.
void Engine::Impl::finish_pass(Store& store, BroadcastRecord& run, const nodes::CompiledFlow& flow,
                               TimeMs now) {
  ++run.passes;
  run.cursor.clear();
  if (run.next_pass_at != 0) {
    run.due_at = run.next_pass_at;
    run.next_pass_at = 0;
    return;
  }
  run.state = "done";
  run.finished_at = now;
  std::vector<BroadcastRecord> runs = store.broadcasts(run.flow);
  for (BroadcastRecord& r : runs)
    if (r.run == run.run) r = run;
  if (auto next = next_broadcast(run.flow, flow.ir().trigger, runs, now,
                                 options_.delivery->default_timezone))
    must(store.put_broadcast(*next));
}

// Synchronous: what is due now, on the caller's thread (tests, `trellis test`).
size_t Engine::Impl::dispatch_deliveries() { return dispatcher_ ? dispatcher_->drain_due() : 0; }

void Engine::Impl::loop() {
  while (running_) {
    const TimeMs now = clock_->now_ms();
    // A failed pass (the store is unreachable) changed nothing: the timers are
    // still due and the next turn of the loop tries again.
    if (next_due_.load() <= now) (void)fire_due_timers();
    if (refresh_now_.exchange(false) || now - last_refresh_ >= options_.poll_ms) {
      last_refresh_ = now;
      (void)refresh_flows();  // tried again next period if it failed
    }
    if (now - last_prune_ >= kPruneEveryMs) {
      last_prune_ = now;
      Work w;
      w.apply = [&](Processor&, Store& store) {
        must(store.prune_events_seen(now - options_.dedupe_retention_ms));
        (void)store.prune_rollups(now - options_.rollup_retention_ms);
      };
      (void)write(w);  // pruning again next period if it failed
      prune_retained_all();
    }
    // A run waiting for pacing tokens is due but must not spin the loop.
    const TimeMs until_due = broadcast_waits_ ? kLoopIdleMs : next_due_.load() - clock_->now_ms();
    const TimeMs sleep = std::max<TimeMs>(0, std::min(until_due, kLoopIdleMs));
    std::unique_lock<std::mutex> l(loop_mu_);
    loop_cv_.wait_for(l, std::chrono::milliseconds(sleep), [&] { return loop_wake_ || !running_; });
    loop_wake_ = false;
  }
}

void Engine::Impl::start() {
  if (running_.exchange(true)) return;
  if (dispatcher_) dispatcher_->start();
  thread_ = std::thread([this] { loop(); });
  if (options_.listen_for_wakes)
    wake_listener_ = store_->listen_for_wakes([this] { wake_from_other_node(); });
}

// On the listener's thread: the loop reads flows and the next due timer now,
// and the dispatcher looks for due deliveries now.
void Engine::Impl::wake_from_other_node() {
  ++metrics_.wakeups;
  refresh_now_ = true;
  {
    std::lock_guard<std::mutex> l(loop_mu_);
    loop_wake_ = true;
    loop_cv_.notify_one();
  }
  if (dispatcher_) dispatcher_->wake();
}

void Engine::Impl::stop() {
  if (!running_.exchange(false)) return;
  wake_listener_.reset();  // joins its thread: no wake-up after this
  {
    std::lock_guard<std::mutex> l(loop_mu_);
    loop_cv_.notify_one();
  }
  if (thread_.joinable()) thread_.join();
  if (dispatcher_) dispatcher_->stop();
}

// ---------------------------------------------------------------------------

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Result<std::unique_ptr<Engine>> Engine::open(EngineOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (Status s = impl->open(); !s) return Error{s.message()};
  if (Status s = impl->finish_stops(); !s) return Error{s.message()};
  if (Status s = impl->plan_all_broadcasts(); !s) return Error{s.message()};
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

std::string_view flow_state_name(FlowState state) {
  switch (state) {
    case FlowState::kActive:
      return "active";
    case FlowState::kPaused:
      return "paused";
    case FlowState::kStopped:
      return "stopped";
    case FlowState::kArchived:
      return "archived";
  }
  return "active";
}

std::optional<FlowState> flow_state_from_name(std::string_view name) {
  for (FlowState s :
       {FlowState::kActive, FlowState::kPaused, FlowState::kStopped, FlowState::kArchived})
    if (flow_state_name(s) == name) return s;
  return std::nullopt;
}

Result<int> Engine::deploy(const ir::Flow& flow, const std::string& source,
                           const std::string& author) {
  return impl_->deploy(flow, source, author);
}

std::vector<FlowVersionRecord> Engine::flow_history(const std::string& name) const {
  std::vector<FlowVersionRecord> out;
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  for (FlowVersionRecord& r : impl_->reader_->flow_versions())
    if (r.name == name) out.push_back(std::move(r));
  return out;
}

Result<LifecycleOutcome> Engine::change_flow_state(const std::string& name,
                                                   const LifecycleRequest& request) {
  return impl_->change_flow_state(name, request);
}

Result<MigrationPlan> Engine::migrate_journeys(const std::string& name,
                                               const MigrationRequest& request) {
  return impl_->migrate(name, request);
}

namespace {

FlowSummary summary_of(const std::string& name, const FlowVersions& v) {
  return FlowSummary{name,    v.latest,          v.deployed_at,     v.latest_source,
                     v.state, v.state_record.at, v.state_record.by, v.state_record.reason};
}

}  // namespace

std::vector<FlowSummary> Engine::flows() const {
  std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
  std::vector<FlowSummary> out;
  for (const auto& [name, v] : impl_->flows_.flows) out.push_back(summary_of(name, v));
  return out;
}

std::optional<FlowSummary> Engine::flow(const std::string& name) const {
  std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
  auto it = impl_->flows_.flows.find(name);
  if (it == impl_->flows_.flows.end()) return std::nullopt;
  return summary_of(name, it->second);
}

Result<IngestSummary> Engine::ingest(std::vector<Event> events) {
  return impl_->ingest(std::move(events));
}

Status Engine::put_profile(const std::string& user_id, const std::string& traits_json) {
  Work w;
  w.apply = [&](Processor& p, Store&) { p.merge_profile(user_id, traits_json); };
  return impl_->write(w);
}

Status Engine::set_consent(const std::string& user_id,
                           const std::vector<std::pair<std::string, bool>>& channels,
                           const std::string& reason) {
  Work w;
  w.apply = [&](Processor& p, Store&) {
    for (const auto& [channel, subscribed] : channels)
      p.set_consent(user_id, channel, subscribed, reason);
  };
  return impl_->write(w);
}

std::vector<ConsentRecord> Engine::consent(const std::string& user_id) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->consent(user_id);
}

Status Engine::validate_event(const Event& event) const {
  if (!is_delivery_feedback(event.type)) return Status();
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  Result<DeliveryRecord> delivery = feedback_delivery(*impl_->reader_, event);
  return delivery.ok() ? Status() : Status(delivery.error());
}

std::optional<std::string> Engine::profile(const std::string& user_id) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->profile(user_id);
}

StoredNames Engine::stored_names(size_t rows, size_t limit) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->stored_names(rows, limit);
}

Result<int64_t> Engine::load_coupons(const std::string& pool,
                                     const std::vector<std::string>& codes) {
  int64_t added = 0;
  Work w;
  w.weight = std::max<size_t>(1, codes.size() / 16);
  w.apply = [&](Processor&, Store& store) { added = must(store.add_coupon_codes(pool, codes)); };
  if (Status s = impl_->write(w); !s) return Error{s.message()};
  return added;
}

Result<std::string> Engine::stored_value(const std::string& key,
                                         const std::string& value_if_absent) {
  std::string value;
  Work w;
  w.apply = [&](Processor&, Store& store) { value = must(store.meta_value(key, value_if_absent)); };
  if (Status s = impl_->write(w); !s) return Error{s.message()};
  return value;
}

int64_t Engine::coupons_left(const std::string& pool) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->coupon_codes_left(pool);
}

namespace {

// The stored per-node list of codes as users see it: the newest code.
JourneyRecord for_reading(JourneyRecord j) {
  j.coupon_code = newest_coupon(j.coupon_code);
  return j;
}

}  // namespace

Result<ErasureSummary> Engine::erase_user(const std::string& user_id) {
  ErasureSummary summary;
  Work w;
  w.apply = [&](Processor& p, Store&) { summary = p.erase_user(user_id); };
  if (Status s = impl_->write(w); !s) return Error{s.message()};
  return summary;
}

UserExport Engine::export_user(const std::string& user_id) const {
  // Deliveries are read by user (a scan of the outbox): bounded all the same.
  constexpr size_t kMaxDeliveries = 1'000'000;
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  StoreReader& reader = *impl_->reader_;
  UserExport out;
  out.profile = reader.profile(user_id);
  out.merged_ids = reader.merged_ids(user_id);
  out.consent = reader.consent(user_id);
  for (JourneyRecord& j : reader.journeys_of(user_id, "")) {
    std::vector<StepRecord> steps = reader.steps(j.id);
    out.journeys.push_back(JourneyDetail{for_reading(std::move(j)), std::move(steps)});
  }
  out.deliveries = reader.deliveries(user_id, "", kMaxDeliveries);
  RetainedEventQuery query;
  query.user_id = user_id;
  query.limit = kMaxDeliveries;
  out.events = reader.retained_events(query);
  out.behaviour = reader.behaviour(user_id);
  return out;
}

std::vector<RetainedEvent> Engine::retained_events(const RetainedEventQuery& query) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->retained_events(query);
}

std::optional<std::string> Engine::merged_into(const std::string& id) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->merged_into(id);
}

std::vector<JourneyRecord> Engine::journeys_of_user(const std::string& user_id) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  std::vector<JourneyRecord> out;
  for (JourneyRecord& j : impl_->reader_->journeys_of(user_id, ""))
    out.push_back(for_reading(std::move(j)));
  return out;
}

std::optional<JourneyDetail> Engine::journey(int64_t id) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  auto j = impl_->reader_->journey(id);
  if (!j) return std::nullopt;
  return JourneyDetail{for_reading(std::move(*j)), impl_->reader_->steps(id)};
}

std::vector<DeliveryRecord> Engine::deliveries(const std::string& user_id, const std::string& flow,
                                               size_t limit) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->deliveries(user_id, flow, limit);
}

Result<FlowCounts> Engine::stats(const std::string& flow) const {
  std::vector<std::string> node_ids;
  {
    std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
    auto it = impl_->flows_.flows.find(flow);
    if (it == impl_->flows_.flows.end()) return Error::not_found("unknown flow '" + flow + "'");
    for (const auto& n : it->second.newest()->ir().nodes) node_ids.push_back(n.id);
  }
  FlowCounts counts;
  {
    std::lock_guard<std::mutex> l(impl_->read_mu_);
    counts = impl_->reader_->counts(flow);
  }
  // Every node of the newest version appears, with zeros when nothing reached it.
  for (const std::string& id : node_ids) {
    bool present = false;
    for (const NodeCount& c : counts.nodes) present = present || c.node == id;
    if (!present) counts.nodes.push_back(NodeCount{id, 0, 0, 0});
  }
  // Message counts in node order (nodes of older versions last).
  auto rank = [&](const MessageCount& m) {
    return std::find(node_ids.begin(), node_ids.end(), m.node) - node_ids.begin();
  };
  std::stable_sort(counts.messages.begin(), counts.messages.end(),
                   [&](const MessageCount& a, const MessageCount& b) { return rank(a) < rank(b); });
  return counts;
}

Result<FlowResults> Engine::results(const std::string& flow,
                                    const std::optional<SeriesQuery>& series) const {
  const nodes::CompiledFlow* newest = nullptr;
  {
    std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
    auto it = impl_->flows_.flows.find(flow);
    if (it == impl_->flows_.flows.end()) return Error::not_found("unknown flow '" + flow + "'");
    newest = it->second.newest();  // compiled versions live as long as the engine
  }
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return flow_results(*impl_->reader_, newest->ir(), *impl_->options_.delivery, series);
}

Result<std::optional<ir::Goal>> Engine::goal(const std::string& flow) const {
  std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
  auto it = impl_->flows_.flows.find(flow);
  if (it == impl_->flows_.flows.end()) return Error::not_found("unknown flow '" + flow + "'");
  return it->second.newest()->ir().goal;
}

Result<std::vector<JourneySummary>> Engine::flow_journeys(const JourneyQuery& query) const {
  {
    std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
    if (!impl_->flows_.flows.count(query.flow))
      return Error::not_found("unknown flow '" + query.flow + "'");
  }
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->flow_journeys(query);
}

HoldoutResults Engine::holdout() const {
  std::vector<const ir::Flow*> marketing;
  {
    std::shared_lock<std::shared_mutex> l(impl_->flows_mu_);
    for (const auto& [name, versions] : impl_->flows_.flows)
      if (const nodes::CompiledFlow* newest = versions.newest();
          newest && newest->ir().category_value() == ir::FlowCategory::kMarketing)
        marketing.push_back(&newest->ir());
  }
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return holdout_results(*impl_->reader_, marketing, *impl_->options_.delivery);
}

FlowTotals Engine::totals(const std::string& flow) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->totals(flow);
}

Result<size_t> Engine::fire_due_timers() { return impl_->fire_due_timers(); }

std::optional<TimeMs> Engine::next_timer_due() const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return next_work_due(*impl_->reader_);
}

std::vector<BroadcastRecord> Engine::broadcasts(const std::string& flow) const {
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  return impl_->reader_->broadcasts(flow);
}

size_t Engine::dispatch_deliveries() { return impl_->dispatch_deliveries(); }
void Engine::start() { impl_->start(); }
void Engine::stop() { impl_->stop(); }

EngineMetrics Engine::metrics() const {
  const auto& m = impl_->metrics_;
  EngineMetrics out;
  {
    std::lock_guard<std::mutex> l(impl_->steps_mu_);
    static_cast<StepCounters&>(out) = impl_->steps_;
  }
  out.events_accepted = m.accepted;
  out.events_duplicate = m.duplicates;
  out.timers_fired = m.timers;
  out.deliveries_sent = m.sent;
  out.deliveries_failed_attempts = m.failed;
  out.deliveries_dead = m.dead;
  out.deliveries_suppressed_at_send = m.suppressed_at_send;
  out.commits = m.commits;
  out.broadcast_entries = m.broadcast_entries;
  out.wakeups = m.wakeups;
  std::lock_guard<std::mutex> l(impl_->read_mu_);
  out.pending_timers = impl_->reader_->pending_timer_count();
  return out;
}

namespace {

// Per channel: what waits for its workers and whether its circuit is open.
void channel_metrics(const std::vector<delivery::ChannelStats>& stats, std::string& out) {
  struct Gauge {
    const char* name;
    const char* help;
    int64_t (*value)(const delivery::ChannelStats&);
  };
  const Gauge gauges[] = {
      {"trellis_delivery_queue_depth", "Deliveries queued for a channel's workers.",
       [](const delivery::ChannelStats& s) { return s.queued; }},
      {"trellis_delivery_in_flight", "Deliveries handed to a channel, outcome not yet recorded.",
       [](const delivery::ChannelStats& s) { return s.in_flight; }},
      {"trellis_delivery_circuit_open", "1 while a channel's circuit breaker stops its calls.",
       [](const delivery::ChannelStats& s) { return int64_t{s.circuit_open}; }},
  };
  for (const Gauge& g : gauges) {
    prometheus::write_family(out, g.name, g.help, "gauge");
    for (const delivery::ChannelStats& s : stats)
      prometheus::write_sample(out, g.name, prometheus::render_labels({{"channel", s.channel}}),
                               static_cast<double>(g.value(s)));
  }
}

}  // namespace

std::string Engine::prometheus_metrics() const {
  const EngineMetrics m = metrics();
  std::string out;
  auto counter = [&](const char* name, const char* help, int64_t value,
                     const char* type = "counter") {
    prometheus::write_family(out, name, help, type);
    prometheus::write_sample(out, name, "", static_cast<double>(value));
  };
  counter("trellis_events_accepted_total", "Events applied.", m.events_accepted);
  counter("trellis_events_duplicate_total", "Events ignored as duplicates by id.",
          m.events_duplicate);
  counter("trellis_journeys_started_total", "Journeys started.", m.journeys_started);
  counter("trellis_timers_fired_total", "Durable timers fired.", m.timers_fired);
  counter("trellis_deliveries_created_total", "Deliveries committed to the outbox.",
          m.deliveries_created);
  counter("trellis_deliveries_sent_total", "Deliveries handed to the adapter.", m.deliveries_sent);
  counter("trellis_delivery_failures_total", "Failed delivery attempts.",
          m.deliveries_failed_attempts);
  counter("trellis_deliveries_dead_total", "Deliveries moved to dead letters.", m.deliveries_dead);
  const char* verdicts = "trellis_delivery_verdicts_total";
  prometheus::write_family(out, verdicts,
                           "Governance verdicts on messages (a message deferred twice counts "
                           "twice; released: let go after a deferral).",
                           "counter");
  for (auto [verdict, value] : {std::pair{"deferred", m.deliveries_deferred},
                                {"suppressed", m.deliveries_suppressed},
                                {"dropped", m.deliveries_dropped},
                                {"released", m.deliveries_released}})
    prometheus::write_sample(out, verdicts, prometheus::render_labels({{"verdict", verdict}}),
                             static_cast<double>(value));
  counter("trellis_commits_total", "Store transactions committed (group commits).", m.commits);
  counter("trellis_broadcast_entries_total", "Users entered by scheduled flows (broadcasts).",
          m.broadcast_entries);
  counter("trellis_wakeups_total",
          "Wake-ups by another node's commit (PostgreSQL LISTEN/NOTIFY) before the next poll.",
          m.wakeups);
  counter("trellis_timers_pending", "Timers waiting to fire.", m.pending_timers, "gauge");
  counter("trellis_deliveries_suppressed_at_send_total",
          "Deliveries not sent: consent withdrawn between the node and the provider call.",
          m.deliveries_suppressed_at_send);
  if (impl_->dispatcher_) channel_metrics(impl_->dispatcher_->stats(), out);
  return out;
}

}  // namespace trellis::runtime

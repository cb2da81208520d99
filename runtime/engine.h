// The Engine: Trellis's runtime behind one facade. The HTTP server, `trellis
// serve`, `trellis test` and the benchmarks all drive journeys through it.
//
// What it does: deploys flow versions; ingests events (idempotent by event id),
// starting, waking and ending journeys; fires durable timers; records every
// delivery in an outbox in the same transaction as the step that produced it;
// and hands committed deliveries to each channel's provider on worker threads
// of their own (runtime/delivery/dispatcher.h), so a slow provider never
// delays timers, ingestion or another channel.
//
// Durability: ingest() returns only after the events' effects are committed to
// the store. Concurrent ingest() calls share one transaction (group
// commit, as LevelDB's writers do): the first waiting caller commits for all.
//
// Thread-safety: every public method may be called from any thread at any time.
// Mutations are serialised through one writer; queries read the last committed
// state through a separate reader connection and never see a half-applied step.
//
// Time: the injected Clock (system clock in `serve`, virtual in tests). Timers
// fire when fire_due_timers() runs with the clock at or past their due time: the
// background loop (start()) does this in `serve`; `trellis test` calls it directly
// after setting the virtual clock, so an event and a timer on the same instant
// apply the event first.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/flow.h"
#include "dsl/ir/result.h"
#include "runtime/clock.h"
#include "runtime/delivery/config.h"
#include "runtime/event.h"
#include "runtime/results.h"
#include "runtime/store.h"

namespace trellis::runtime {

struct EngineOptions {
  // Opens the durable store (runtime/store.h), once, in Engine::open. Required.
  // runtime/store_url.h makes one from `--db`: a SQLite file or a PostgreSQL URL.
  StoreFactory store;
  // Borrowed; must outlive the engine. Null means the system clock.
  Clock* clock = nullptr;
  // Parses a stored flow version's source text back into IR when the engine
  // opens, so journeys keep running on the version they started on. The app
  // passes the YAML/DSL loader; the runtime does not link the parsers.
  // `name` is the flow name the version was deployed under.
  std::function<Result<ir::Flow>(const std::string& name, const std::string& source)> parse_flow;

  // Governed delivery (docs/delivery.md): channels and providers, consent
  // events, frequency caps, quiet hours, the default time zone. Null means
  // no configuration: every channel goes to the adapter below, no caps, no
  // quiet hours, UTC, default consent events.
  std::shared_ptr<const delivery::DeliveryConfig> delivery;

  // The default provider of channels the configuration does not name:
  // "file" (JSON lines appended to `deliveries_path`, the default; also the
  // file of `file` channels without a path), "webhook" (the http provider,
  // POST to `webhook_url`, with the webhook_* retry policy and timeout) or
  // "none" (no dispatcher at all: deliveries stay in the outbox; tests read
  // them back with deliveries()).
  std::string adapter = "file";
  std::string deliveries_path = "deliveries.jsonl";
  std::string webhook_url;              // http://host:port/path
  int webhook_max_attempts = 8;         // then the delivery is a dead letter
  TimeMs webhook_retry_base_ms = 1000;  // back-off: base * 2^(attempt-1), capped at 1 h
  TimeMs webhook_timeout_ms = 5000;

  // How often the loop looks at the store for what other processes sharing
  // it did (flow versions deployed, paused or stopped flows, timers and
  // deferred messages armed): with several nodes, how long these take to
  // reach this node when no wake-up comes.
  TimeMs poll_ms = 1'000;
  // Shared store: wake up when another node commits something due sooner than
  // the next poll (Store::listen_for_wakes; PostgreSQL LISTEN/NOTIFY).
  bool listen_for_wakes = true;
  // Shared store only: how long a delivery leased to this node stays its own
  // before another node may send it (a node that died holding it). Longer
  // than a channel's queue takes to send at its rate.
  TimeMs delivery_lease_ms = 120'000;
  // Broadcasts (docs/flows.md#broadcasts): at most this many users entered per
  // second by scheduled flows (0: no limit), and profiles walked per
  // transaction. The channels' own rates still govern delivery.
  double broadcast_entries_per_second = 0;
  size_t broadcast_window = 512;

  // Event ids are remembered this long for idempotency, then pruned.
  TimeMs dedupe_retention_ms = 7LL * 24 * 3600 * 1000;
  // Hourly rollups older than this are forgotten (all-time sums stay):
  // docs/results.md#rollups.
  TimeMs rollup_retention_ms = 400LL * 24 * 3600 * 1000;
  // Whether steps write rollups. Off only to measure what they cost
  // (bench/results_bench.cpp); stats then miss what ran meanwhile.
  bool rollups = true;
  // Most inputs committed in one transaction (group commit).
  size_t max_batch = 4096;
  // A journey that runs this many nodes in one step without waiting is failed
  // (a cycle with no wait in it).
  int max_nodes_per_step = 1000;

  // Observers for the server's metrics and logs; either may be empty. Called
  // on the dispatching / timer thread after the outcome is committed.
  // on_delivery: `outcome` is "sent", "retry" (a failed attempt, tried again
  // later), "dead" (given up) or "suppressed" (consent withdrawn before the
  // call); `error` is the provider's message (the reason) for the last three.
  std::function<void(const DeliveryRecord& delivery, const std::string& outcome,
                     const std::string& error)>
      on_delivery;
  // Once per fired timer: how late it fired (the clock's now minus its due time).
  std::function<void(TimeMs lateness_ms)> on_timer_fired;
};

struct IngestSummary {
  size_t accepted = 0;    // applied now
  size_t duplicates = 0;  // ids seen before: no effect
  size_t journeys_started = 0;
  size_t journeys_woken = 0;
  size_t journeys_exited = 0;
  // Events refused, with why: provider feedback naming no known delivery.
  // They have no effect and their ids are not remembered.
  struct Refusal {
    size_t index = 0;  // in the batch given to ingest()
    std::string message;
  };
  std::vector<Refusal> refused;
};

// A flow's lifecycle as a whole (docs/flows.md#pausing-stopping-and-archiving).
// Paused: no new journeys; a journey woken by its awaited event takes that
// step and holds before the next node; timers wait for resume; exit_on and
// goals still apply. Stopped: every live journey exited, no new ones.
// Archived: stopped and hidden from the default flow list.
enum class FlowState { kActive, kPaused, kStopped, kArchived };
std::string_view flow_state_name(FlowState state);  // "active", "paused", ...
std::optional<FlowState> flow_state_from_name(std::string_view name);

// What resume does with the timers that fell due during the pause: fire them
// at once in due order (the default), or move every pending timer of the
// flow later by the pause's length, so each wait keeps the time it had left.
enum class HeldTimers { kFire, kShift };

struct LifecycleRequest {
  FlowState to = FlowState::kActive;
  std::string by;                         // who asks: written in every touched journey's trace
  std::string reason;                     // the caller's words, if any; in the trace too
  HeldTimers timers = HeldTimers::kFire;  // resume only
};

struct LifecycleOutcome {
  FlowState from = FlowState::kActive;
  FlowState to = FlowState::kActive;
  int64_t journeys = 0;  // live journeys it touched (trace step, exit or resumed)
};

// Moving the waiting journeys of one version to another
// (docs/flows.md#migrating-waiting-journeys): each journey waiting at node n
// of `from` goes to node node_map[n] (or n when unmapped) of `to`, which must
// be a wait of the same kind (a timer wait for a journey waiting on a timer,
// an event wait for one waiting on an event).
struct MigrationRequest {
  int from = 0;  // the version the journeys are on
  int to = 0;    // 0: the newest version
  std::map<std::string, std::string> node_map;
  bool dry_run = true;
  // false: a moved journey keeps its timer's due time (one is armed as on
  // entering the wait when the journey had none); true: every moved journey
  // enters its new wait afresh, timers armed from now.
  bool restart_timers = false;
  std::string by;  // who asks: in every moved journey's trace
};

struct MigrationMove {
  std::string from_node, to_node;
  int64_t journeys = 0;
};

struct MigrationBlock {
  std::string node;    // in the `from` version
  std::string reason;  // why its journeys cannot move
  int64_t journeys = 0;
};

struct MigrationPlan {
  int from = 0, to = 0;
  std::vector<MigrationMove> moves;     // by node pair, in node order of `from`
  std::vector<MigrationBlock> blocked;  // by node and reason
  int64_t moved = 0;                    // 0 for a dry run
};

struct FlowSummary {
  std::string name;
  int version = 0;  // latest
  TimeMs deployed_at = 0;
  std::string source;  // latest version's source text
  FlowState state = FlowState::kActive;
  TimeMs state_at = 0;  // when it last changed; 0: never
  std::string state_by, state_reason;
};

struct JourneyDetail {
  JourneyRecord journey;
  std::vector<StepRecord> steps;
};

// What DELETE /v1/users/{id} did (docs/security.md#erasure).
struct ErasureSummary {
  bool held = false;  // the store held something about the user
  int64_t journeys = 0;
  int64_t journeys_exited = 0;  // live ones, exited with reason `erased`
  int64_t deliveries = 0;
};

// Everything the store holds about a user (GET /v1/users/{id}/export).
struct UserExport {
  std::optional<std::string> profile;   // traits, a JSON object
  std::vector<std::string> merged_ids;  // anonymous ids merged into the user
  std::vector<ConsentRecord> consent;
  std::vector<JourneyDetail> journeys;  // each with its steps
  std::vector<DeliveryRecord> deliveries;
  std::vector<RetainedEvent> events;  // retained for replay, oldest first
  BehaviourRecord behaviour;          // counters of count() and last_seen()
  bool held() const {
    return profile || !merged_ids.empty() || !consent.empty() || !journeys.empty() ||
           !deliveries.empty() || !events.empty() || !behaviour.buckets.empty() ||
           !behaviour.last_seen.empty();
  }
};

// What the step function counts (one writer, runtime/processor.h); the engine
// publishes a copy after each commit.
struct StepCounters {
  int64_t journeys_started = 0;
  int64_t journeys_woken = 0;
  int64_t journeys_exited = 0;
  int64_t deliveries_created = 0;
  // Governance verdicts, at the node and in the release pass: what /metrics
  // counts as trellis_delivery_verdicts_total.
  int64_t deliveries_deferred = 0;
  int64_t deliveries_suppressed = 0;
  int64_t deliveries_dropped = 0;
  int64_t deliveries_released = 0;  // a deferred message let go
};

// The step function's counts and the engine's own.
struct EngineMetrics : StepCounters {
  int64_t events_accepted = 0;
  int64_t events_duplicate = 0;
  int64_t timers_fired = 0;
  int64_t deliveries_sent = 0;
  int64_t deliveries_failed_attempts = 0;
  int64_t deliveries_dead = 0;
  int64_t deliveries_suppressed_at_send = 0;  // consent withdrawn before the provider call
  int64_t commits = 0;
  int64_t wakeups = 0;  // by another node's commit (EngineOptions::listen_for_wakes)
  int64_t pending_timers = 0;
  int64_t broadcast_entries = 0;  // users entered by scheduled flows
};

class Engine {
 public:
  // Opens (or creates) the store, reloads every deployed flow version through
  // options.parse_flow, and opens every channel's provider. Errors: store
  // cannot be opened, a stored flow no longer parses, a provider cannot be
  // opened (an unset environment variable, an unwritable deliveries file).
  static Result<std::unique_ptr<Engine>> open(EngineOptions options);
  ~Engine();  // stops the background loop if running
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Deploys `flow` (REQUIRES: checked without errors) as the flow's next version
  // and returns the version number. New journeys take it; running journeys stay
  // on theirs. When `source` equals the latest version's text, nothing changes
  // and the latest version number is returned (so `serve --flows` can redeploy
  // a folder on every start).
  // `author` (the token's name, or who the request says) is kept with the version.
  Result<int> deploy(const ir::Flow& flow, const std::string& source,
                     const std::string& author = "");
  // Every version of a flow, oldest first, with its text and author.
  std::vector<FlowVersionRecord> flow_history(const std::string& name) const;
  // Pauses, resumes, stops or archives a deployed flow; durable on return,
  // including every touched journey's trace step (walked in bounded
  // transactions: a stop cut short by a crash is finished when the engine
  // next opens). Errors: unknown flow, or a change its state does not allow
  // (pause: only an active flow; resume: a paused, stopped or archived one;
  // stop: an active or paused one; archive: any but archived).
  Result<LifecycleOutcome> change_flow_state(const std::string& name,
                                             const LifecycleRequest& request);
  // Previews (dry_run) or applies a migration; applying walks the journeys in
  // bounded transactions and writes a `migrate` step in each moved journey's
  // trace. Errors: unknown flow or version, from == to, a map naming a node
  // `from` does not have.
  Result<MigrationPlan> migrate_journeys(const std::string& name, const MigrationRequest& request);
  std::vector<FlowSummary> flows() const;
  std::optional<FlowSummary> flow(const std::string& name) const;

  // Applies events in order and returns once they are durable. Duplicate ids
  // (within the dedupe retention) have no effect. identify events merge traits
  // into the profile. Errors: the store failed (nothing of the batch applied).
  Result<IngestSummary> ingest(std::vector<Event> events);
  // Whether ingest() would refuse `event` now (committed state): provider
  // feedback (message_delivered, message_bounced, ...) must name a known
  // delivery of its user by properties.delivery_id or properties.key. The
  // HTTP API calls it first, so that a refused batch changes nothing.
  Status validate_event(const Event& event) const;
  // Merges `traits_json` (a JSON object) into the user's profile; durable on return.
  Status put_profile(const std::string& user_id, const std::string& traits_json);
  std::optional<std::string> profile(const std::string& user_id) const;
  // Trait names and event types in the store (StoreReader::stored_names).
  StoredNames stored_names(size_t rows, size_t limit) const;
  // Sets consent per channel ("sms" -> false, ...; "*" for every channel) with
  // `reason` ("api", ...); durable on return. Errors: the store failed.
  Status set_consent(const std::string& user_id,
                     const std::vector<std::pair<std::string, bool>>& channels,
                     const std::string& reason);
  // The user's consent records, newest per channel.
  std::vector<ConsentRecord> consent(const std::string& user_id) const;
  // Loads codes into a coupon pool; returns how many were new.
  Result<int64_t> load_coupons(const std::string& pool, const std::vector<std::string>& codes);
  int64_t coupons_left(const std::string& pool) const;

  // Erases what the store holds about a user (docs/security.md#erasure): live
  // journeys exit with reason `erased`, unsent messages are suppressed, and
  // the user's data is erased while counts stay; durable on return.
  Result<ErasureSummary> erase_user(const std::string& user_id);
  // Everything held about a user, read from the committed state.
  UserExport export_user(const std::string& user_id) const;
  // Retained events (docs/operations.md#event-retention), read from the
  // committed state in (time, ingest) order: what a replay runs.
  std::vector<RetainedEvent> retained_events(const RetainedEventQuery& query) const;
  // The user an anonymous id was merged into (docs/events.md#identity).
  std::optional<std::string> merged_into(const std::string& id) const;
  std::vector<JourneyRecord> journeys_of_user(const std::string& user_id) const;
  std::optional<JourneyDetail> journey(int64_t id) const;
  // Deliveries by user and/or flow (empty = any), oldest first.
  std::vector<DeliveryRecord> deliveries(const std::string& user_id, const std::string& flow,
                                         size_t limit = 1000) const;
  // Per node: entered, waiting now, exited; per variant: journeys and goal
  // conversions. Error when the flow is unknown.
  Result<FlowCounts> stats(const std::string& flow) const;
  // Goal, revenue, cost, attribution, A/B comparisons, funnel and, with a
  // query, a series over time (runtime/results.h). Error when the flow is unknown.
  Result<FlowResults> results(const std::string& flow,
                              const std::optional<SeriesQuery>& series) const;
  // The newest version's goal (none when it has none). Error when the flow is unknown.
  Result<std::optional<ir::Goal>> goal(const std::string& flow) const;
  // Drill-down: journeys of a flow (JourneyQuery). Error when the flow is unknown.
  Result<std::vector<JourneySummary>> flow_journeys(const JourneyQuery& query) const;
  // The global holdout against the exposed, over every marketing flow.
  HoldoutResults holdout() const;
  // Journeys, live, waiting and conversions of a flow: what /metrics reports.
  FlowTotals totals(const std::string& flow) const;

  // The runs of a scheduled flow (every flow's when empty), oldest first:
  // state, users entered, profiles walked of the total, start and end.
  std::vector<BroadcastRecord> broadcasts(const std::string& flow) const;

  // Fires every timer due at the clock's now, in due order, through the same
  // step function as events. Returns how many fired. Each fires exactly once.
  // Then walks the due broadcast runs, a bounded window of profiles per
  // transaction, as far as the entries-per-second limit lets it.
  // First, the release pass: deferred messages (caps, quiet hours) due now are
  // judged again and released, deferred again or dropped (not counted in the result).
  Result<size_t> fire_due_timers();
  // The earliest pending timer, deferred message or due broadcast run: when
  // fire_due_timers() next has work.
  std::optional<TimeMs> next_timer_due() const;
  // Sends committed, due deliveries on the caller's thread (no rate limit or
  // circuit breaker) and returns how many were sent: for tests and callers on
  // a virtual clock. start() sends them on the dispatcher's workers instead.
  size_t dispatch_deliveries();

  // Background work for `serve`: the timer loop, and the delivery dispatcher's
  // feeder and per-channel workers. stop() joins them (a provider call in
  // progress is cut short); both are idempotent.
  void start();
  void stop();

  // The stored value of a named setting, storing `value_if_absent` first when
  // it has none (Store::meta_value); durable on return.
  Result<std::string> stored_value(const std::string& key, const std::string& value_if_absent);

  EngineMetrics metrics() const;
  // Metrics in Prometheus text format, for GET /metrics.
  std::string prometheus_metrics() const;

 private:
  class Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::runtime

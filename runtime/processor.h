// The step function: (journey state, input) -> (new state, step history,
// deliveries, timer changes), written to the Store inside the caller's open
// transaction. Events and firing timers are both inputs here (docs/architecture.md#conventions): the
// only difference is how the journey is found. Internal to the runtime; the
// Engine owns the transaction and the group commit around it.
//
// Node kinds decide (nodes::decide, no I/O); the processor does the I/O they
// ask for: claims coupons, inserts deliveries and timers, saves the journey.
//
// Thread-safety: none; only the engine's current writer uses it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "dsl/expr/behaviour.h"
#include "dsl/expr/value.h"
#include "nodes/compiled_flow.h"
#include "nodes/local_time.h"
#include "nodes/node.h"
#include "runtime/engine.h"
#include "runtime/governance.h"
#include "runtime/rollups.h"
#include "runtime/store.h"

namespace trellis::runtime {

// Every deployed version of one flow, compiled.
struct FlowVersions {
  std::map<int, std::unique_ptr<nodes::CompiledFlow>> versions;
  int latest = 0;
  std::string latest_source;
  TimeMs deployed_at = 0;
  FlowState state = FlowState::kActive;
  FlowStateRecord state_record;  // the stored record; empty name when never changed

  const nodes::CompiledFlow* find(int version) const {
    auto it = versions.find(version);
    return it == versions.end() ? nullptr : it->second.get();
  }
  const nodes::CompiledFlow* newest() const { return find(latest); }
};

// What ingest keeps per user for count() and last_seen() (docs/expressions.md#behaviour):
// the counters and last_seen types some loaded flow version reads, by event
// type. Nothing else is counted, so a deployment without them pays nothing.
struct BehaviourSpecs {
  struct Counter {
    std::string key;                             // expr::CounterUse::key
    std::shared_ptr<const expr::Program> where;  // null: every event of the type
    int keep_days = 0;                           // the longest window read
  };
  std::unordered_map<std::string, std::vector<Counter>> counters;  // by event type
  std::unordered_set<std::string> last_seen;                       // event types

  void add(const nodes::CompiledFlow& flow);
};

// All flows, and for each event type the flows it can concern (trigger of the
// newest version, exit_on, goal, or an until_event of any version).
struct FlowSet {
  std::map<std::string, FlowVersions> flows;
  std::unordered_map<std::string, std::vector<std::string>> routes;
  BehaviourSpecs behaviour;

  // Rebuilds `routes` and `behaviour` from `flows`.
  void rebuild_routes();
};

// An event with its properties parsed, ready for the writer. Preparing is
// thread-safe, so callers do it before queueing and the single writer spends
// its time on the step itself.
struct PreparedEvent {
  Event event;
  expr::Record properties;
  // The JSON a journey stores for the event, before and after its time.
  std::string json_head, json_tail;
};
PreparedEvent prepare_event(Event event);

// What became of one event given to the step function.
enum class EventOutcome {
  kApplied,
  kDuplicate,  // its id was seen before: no effect
  kRefused,    // provider feedback naming no known delivery: no effect, not remembered
};

// The delivery a feedback event names by `properties.delivery_id` or
// `properties.key`, read through `reader`; an error saying why not otherwise
// (none named, unknown, or another user's). The API calls it through
// Engine::validate_event before ingesting, so that it can answer 4xx.
Result<DeliveryRecord> feedback_delivery(StoreReader& reader, const Event& event);

// A store call failed inside the step: thrown by the processor, caught by the
// engine, which rolls the batch back and returns the error (with its code).
struct StoreFailure : std::runtime_error {
  explicit StoreFailure(Error e) : std::runtime_error(e.message), error(std::move(e)) {}
  Error error;
};

// A store call that must succeed for the step to go on (runtime/store.h, "Failures").
inline void must(const Status& status) {
  if (!status) throw StoreFailure(status.error());
}
template <class T>
T must(Result<T> result) {
  if (!result.ok()) throw StoreFailure(result.error());
  return std::move(result.value());
}

// One broadcast run as the step function sees it (docs/flows.md#broadcasts).
struct BroadcastRun {
  std::string key;  // the run's local wall time: every journey it starts has it as key
  nodes::LocalDateTime at;
  bool in_user_time_zone = false;
  const PreparedEvent* event = nullptr;  // the journeys' trigger event: type "broadcast"
};

// What a broadcast did with one profile.
enum class BroadcastEntry {
  kEntered,
  kNotDue,   // in the user's own time zone, the run's time has not come yet
  kSkipped,  // not in the audience, entered by this run already, or re_entry forbids
};

class Processor {
 public:
  // REQUIRES: options.delivery is set (the engine fills in the defaults).
  Processor(Store& store, const FlowSet& flows, const EngineOptions& options);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  // Starts a batch (one transaction) at `now`. Clears per-batch caches.
  void begin_batch(TimeMs now);
  // The earliest timer armed or message deferred since begin_batch, so the
  // engine can wake early.
  std::optional<TimeMs> earliest_armed() const { return earliest_armed_; }

  // REQUIRES: a transaction is open. `refusal` (optional) says why an event
  // was refused.
  EventOutcome apply_event(const PreparedEvent& event, std::string* refusal = nullptr);
  // Fires the timer of `due` (a journey from Store::due_journeys).
  void fire_timer(JourneyRecord due);
  // Broadcasts: enters the user of a walked profile into `flow` (its newest
  // version) when the run's time has come for them, the audience holds, the
  // run has not entered them yet (its key), they have no live journey in the
  // flow and re_entry allows. `due` receives the user's own time when kNotDue.
  BroadcastEntry enter_broadcast(const nodes::CompiledFlow& flow, const BroadcastRun& run,
                                 const std::string& user_id, const std::string& traits_json,
                                 TimeMs& due);
  void merge_profile(const std::string& user_id, const std::string& traits_json);
  // Erasure (Engine::erase_user): ends the user's live journeys with reason
  // `erased`, then erases the user's data (Store::erase_user).
  ErasureSummary erase_user(const std::string& user_id);
  // Lifecycle walks (Engine::change_flow_state), one live journey each.
  // A trace step at the journey's node (pause, resume), nothing else.
  void note_step(JourneyRecord journey, const std::string& input, const std::string& reason);
  // Resume: the trace step; the timer moved later by `shift_ms`, if any;
  // a journey held before a node (paused while woken) enters it now.
  void resume_journey(JourneyRecord journey, const std::string& reason, TimeMs shift_ms);
  // Stop: the journey exits with `reason` (input "stop").
  void stop_journey(JourneyRecord journey, const std::string& reason);
  // Migration: the waiting journey moves to wait node `node` of `target`,
  // keeping its timer's due time unless `restart` (or it has none to keep and
  // the wait needs one): then it enters the wait afresh. `reason` is the step's.
  void migrate_journey(JourneyRecord journey, const nodes::CompiledFlow& target,
                       const std::string& node, bool restart, const std::string& reason);
  // Writes the user's consent for `channel` ("*": every channel) at the
  // batch's time, unless a provider's suppression outranks it (governance::replaces).
  void set_consent(const std::string& user_id, const std::string& channel, bool subscribed,
                   const std::string& reason);
  // The release pass: judges again the deferred deliveries due at the batch's
  // time, a window of at most `limit` rows (each of their users' due deliveries
  // in priority order), and releases, defers again, suppresses or drops each.
  // Returns how many were judged; 0 means none was due.
  size_t release_deferred(size_t limit);

  StepCounters& counters() { return counters_; }
  // The batch's rollups (runtime/rollups.h): the engine writes them before
  // it commits; begin_batch clears them.
  const RollupBatch& rollups() const { return rollups_; }

 private:
  struct Journey;
  struct Incoming;
  struct Profile;

  const Profile& profile_of(const std::string& user_id);
  // Behavioural counters (docs/expressions.md#behaviour): the user's, loaded
  // once per batch when a flow that reads them decides; null when `flow`
  // reads none.
  const expr::Behaviour* behaviour_for(const nodes::CompiledFlow& flow, const std::string& user_id);
  // Counts the event for the counters and last_seen types that want it.
  void record_behaviour(const PreparedEvent& prepared);
  const expr::Record* profile_for(const nodes::CompiledNode& node, const std::string& user_id);
  bool reads_events(const nodes::CompiledFlow& flow);
  const expr::Record* trigger_profile(const nodes::CompiledFlow& flow, const std::string& user_id);
  void apply_to_flow(const std::string& flow_name, const FlowVersions& versions, Incoming& in);
  bool reaches(const Journey& j, const Incoming& in);
  JourneyRecord entering(const nodes::CompiledFlow& flow, Incoming& in, const std::string& user_id,
                         const std::string& key);
  void start_journey(const nodes::CompiledFlow& flow, Incoming& in, const std::string& user_id,
                     const std::string& key);
  // Whether re_entry lets a user whose newest journey of the flow is `previous` enter now.
  bool may_enter_again(const nodes::CompiledFlow& flow, const JourneyRecord& previous) const;
  bool is_held_out(const nodes::CompiledFlow& flow, const std::string& user_id) const;
  void hold_out(const nodes::CompiledFlow& flow, Incoming& in, const std::string& user_id,
                const std::string& key);
  void credit_goal(std::vector<Journey>& journeys, const FlowVersions& versions,
                   const Incoming& in);
  RollupCounts& rollup(const Journey& j, const std::string& node);
  void run(Journey& j, const nodes::CompiledFlow& flow, nodes::InputKind input_kind,
           const Incoming* event, TimeMs timer_due, std::string input_name);
  nodes::JourneyView view_of(Journey& j, const nodes::CompiledFlow& flow,
                             const nodes::CompiledNode& node, const Incoming* event);
  void record_effects(Journey& j, const nodes::CompiledFlow& flow, const nodes::CompiledNode& node,
                      const nodes::Decision& d, const Incoming* event, std::string& reason);
  void insert_governed(DeliveryRecord& rec, const nodes::CompiledFlow& flow, std::string& reason);
  governance::Verdict judge(const DeliveryRecord& rec, ir::CapPolicy on_cap);
  void judge_again(const DeliveryRecord& deferred);
  void count_verdict(DeliveryStatus status);
  void route_event(const PreparedEvent& prepared);
  void apply_feedback(const PreparedEvent& prepared, const DeliveryRecord& delivery);
  void apply_consent_event(const PreparedEvent& prepared);
  void note_wake_up(TimeMs at);
  void wait(Journey& j, const nodes::Awaiting& awaiting);
  void move_to(Journey& j, const std::string& next);
  void end_journey(Journey& j, Lifecycle to, const std::string& input, const std::string& reason);
  void append_step(Journey& j, const std::string& node, const std::string& input,
                   std::string reason);
  void save(Journey& j);
  // Whether the journey's flow takes no steps now (paused or stopped).
  bool flow_holds(const std::string& flow) const;
  // Identity (docs/events.md#identity).
  std::optional<std::string> merged_into(const std::string& id);
  void merge_identity(const std::string& anonymous_id, const std::string& user_id);
  void settle_merge_conflicts(const std::string& anonymous_id, const std::string& user_id);
  EventOutcome apply_known(const PreparedEvent& event, std::optional<DeliveryRecord> feedback_on);
  void retain(const Event& event, const std::string& user);
  std::optional<std::string> resolve_claim(Journey& j, const std::string& node_id,
                                           const nodes::CouponClaim& claim);

  Store& store_;
  const FlowSet& flows_;
  const EngineOptions& options_;
  // options_.delivery: never null (the engine supplies the defaults).
  std::shared_ptr<const delivery::DeliveryConfig> delivery_;
  TimeMs now_ = 0;
  std::optional<TimeMs> earliest_armed_;
  std::unordered_map<std::string, std::unique_ptr<Profile>> profiles_;            // this batch only
  std::unordered_map<std::string, std::unique_ptr<expr::Behaviour>> behaviours_;  // this batch only
  StepCounters counters_;
  RollupBatch rollups_;
  RollupCounts unused_rollup_;  // where counts go when options_.rollups is off
  // Per compiled flow version (they live as long as the engine).
  std::unordered_map<const nodes::CompiledFlow*, bool> reads_events_;
};

}  // namespace trellis::runtime

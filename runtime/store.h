// The durable store behind the runtime: journeys, their step history, timers,
// the delivery outbox, profiles, coupon pools, flow versions and the event
// dedupe set. Two backends implement it: SQLite (sqlite/sqlite_store.h), the
// embedded default, and PostgreSQL (postgres/postgres_store.h), which several
// `trellis serve` nodes share. The engine is given a Store (EngineOptions::store)
// and never names a backend. Every backend passes the conformance suite
// (tests/runtime/store_conformance.h). docs/architecture.md#the-store-contract
// says the same in prose.
//
// THE CONTRACT
//
// Roles. StoreReader is a read-only view of committed state (HTTP reads, the
// dispatcher, the consent recheck). Store adds the mutations; only the
// engine's writer holds one.
//
// Transactions. Every mutation happens between begin() and commit(), and the
// mutations of one transaction are one atomic, durable unit: a crash (of the
// process or of the database server) leaves all of them or none. rollback()
// discards them.
//
// Failures. Every call that can fail returns a Status or Result. A failed call
// inside a transaction fails the transaction: the caller must not commit
// (the engine rolls the whole batch back and returns the error to every
// caller of the batch), and commit() after a failed call returns that first
// error and rolls back, so that a caller that lost a status still cannot
// commit half a step. A read on the Store (not a StoreReader) that fails
// returns an empty value and fails the transaction the same way. A read on a
// StoreReader that fails returns an empty value; the reader reconnects on its
// next call when its connection was lost.
//
// Read your writes. Reads on the Store inside a transaction see that
// transaction's own writes (a journey inserted is returned by journeys_of,
// due_journeys, ...). A StoreReader sees committed state only, never a
// half-applied step.
//
// Ids. Journey ids come from new_journey_id(): unique across every process that
// shares the data, never reused after a commit, increasing within one process
// but not dense (PostgreSQL hands out blocks). Delivery and coupon ids are
// assigned by the store on insert.
//
// Order. due_journeys returns journeys whose timer is due in (due, id) order;
// due_deferred and the pending queries in (next_attempt_at, id) order. With
// several processes, a journey is returned by due_journeys to one writer at a
// time (it stays locked to that transaction until it ends).
//
// Exclusivity. lock_user(user) gives the calling transaction the user's
// journeys to itself until it ends: another process's transaction that locks
// the same user waits. The writer locks a user before reading the user's
// journeys. A single-writer backend (SQLite) makes it a no-op.
//
// Caching. A store may cache in memory only what cannot change under it: the
// step-word dictionary (words are immutable once written), and, while it is
// the only writer, what it wrote itself (SQLite's journey filter and id
// counter, re-read at begin() when another process wrote the file since).
// Callers cache nothing across transactions except flow versions, which are
// immutable once written: a caller learns of versions another process
// deployed by reading flow_versions() again.
//
// Thread-safety: an instance is used by one thread at a time; the engine
// guards its writer and reader with separate mutexes.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dsl/ir/result.h"
#include "runtime/clock.h"
#include "runtime/journey_lifecycle.h"
#include "runtime/rollups.h"

namespace trellis::runtime {

struct FlowVersionRecord {
  std::string name;
  int version = 0;     // 1, 2, ... per flow
  std::string source;  // the flow file text as deployed
  TimeMs deployed_at = 0;
  std::string author;  // who deployed it: the token's name or the author header; may be empty
};

// Where a flow stands as a whole (docs/flows.md#pausing-stopping-and-archiving):
// active (the default, no record), paused (no new journeys, no steps, timers
// held), stopped (every live journey exited, no new ones) or archived
// (stopped and hidden from the default list). The newest record per flow.
struct FlowStateRecord {
  std::string name;
  std::string state;  // "active", "paused", "stopped", "archived"
  TimeMs at = 0;
  std::string by;      // who changed it
  std::string reason;  // the caller's words, if any
};

// One run of a scheduled flow (docs/flows.md#broadcasts): its profiles are
// walked in user id order in bounded batches, each batch in the transaction
// that enters its users and moves `cursor`, so a crash resumes at the cursor.
// A run in each user's time zone walks the profiles once per distinct local
// due time (a pass), entering those whose time has come.
struct BroadcastRecord {
  std::string flow;
  std::string run;       // the run's local wall time "2026-12-24 10:00": its key
  std::string schedule;  // the trigger's schedule text the run was planned from
  // "scheduled", "running", "done", "cancelled" (stopped, or its schedule
  // removed while it ran), "withdrawn" (a redeploy replaced it before it started)
  std::string state;
  TimeMs due_at = 0;        // when the (next) pass starts
  std::string cursor;       // the last user id the current pass walked; "" before its first
  TimeMs next_pass_at = 0;  // the earliest user time this pass saw still to come; 0: none
  int64_t entered = 0;      // users entered by the run
  int64_t walked = 0;       // profiles walked, over all passes
  int64_t total = 0;        // profiles when the run started
  int passes = 0;           // passes finished
  TimeMs started_at = 0, finished_at = 0;  // 0: not yet
};

// A journey's durable timer. A journey waits at one node at a time, so it has
// at most one timer, kept in its own row: arming replaces it, firing or leaving
// the node clears it, and a journey is written once per step either way.
struct JourneyTimer {
  TimeMs due = 0;
  std::string node;  // the wait node that armed it
  int visit = 0;     // that node's visit number: a timer of an older visit is stale
};

struct JourneyRecord {
  int64_t id = 0;  // assigned by the caller (next_journey_id) or by insert_journey when 0
  std::string flow;
  int version = 0;  // the flow version the journey runs on, for its whole life
  std::string user_id;
  std::string key;  // trigger.key value; empty for unkeyed flows
  Lifecycle state = Lifecycle::kEntered;
  std::string node;         // current node
  std::string waiting_for;  // awaited event type while waiting on an event
  std::string visits;       // visit counts per node: "node=2;other=1"
  // Codes given, per node: "node\x1fcode\x1e..." in the store (codes may hold any
  // printable character); Engine's queries return only the newest code.
  std::string coupon_code;
  std::string variant;        // A/B variants taken: "node=variant;..."
  std::string trigger_event;  // JSON object: the trigger event's properties (+ type, id)
  std::string last_event;     // JSON object: the newest event the journey consumed
  int steps = 0;              // number of step records so far
  TimeMs entered_at = 0;
  TimeMs updated_at = 0;
  std::optional<TimeMs> ended_at;
  std::optional<TimeMs> converted_at;  // goal reached
  // The goal's `value` at the conversion (docs/results.md#goals).
  std::optional<double> revenue;
  // The newest message node of the journey that made a message not ended by
  // governance (docs/results.md#attribution), and that node when it converted.
  std::string last_message;
  std::string converted_after;
  std::optional<JourneyTimer> timer;  // pending timer, if the journey waits on one
  // The newest steps, kept in the journey's own row so that a step writes one
  // row: the store's encoding (Store::append_history), opaque elsewhere;
  // StoreReader::steps() returns them decoded. `history_seq` is the seq of its first.
  std::string history = "[]";
  int history_seq = 0;
};

// One line of a journey's history: which node ran, on what input, and why it
// went where it went ("match false: user.age=null").
struct StepRecord {
  int64_t journey_id = 0;
  std::string flow;
  int seq = 0;  // 0, 1, ... within the journey
  std::string node;
  std::string input;  // "entry", "timer", "event:order_paid", "exit_on:unsubscribe"
  TimeMs at = 0;
  std::string reason;
};

// kPending: waiting for the dispatcher (next_attempt_at); kSent: the provider
// took it; kDead: given up after the retry policy's attempts. Governed
// delivery adds: kDeferred (held by a frequency cap or quiet hours until
// next_attempt_at, then released to kPending or deferred again), kSuppressed
// (not sent: no consent, decided at the node or just before the provider) and
// kDropped (a cap with on_cap: skip, or deferred past max_defer). `last_error`
// holds the reason of the last three.
enum class DeliveryStatus {
  kPending = 0,
  kSent = 1,
  kDead = 2,
  kDeferred = 3,
  kSuppressed = 4,
  kDropped = 5
};

// "pending", "sent", "dead", "deferred", "suppressed", "dropped": the API's
// and the scenario files' name of a status.
const char* delivery_status_name(DeliveryStatus status);
std::optional<DeliveryStatus> delivery_status_from_name(std::string_view name);

// A message (or coupon, or webhook call) a journey produced (docs/delivery.md#providers).
struct DeliveryRecord {
  int64_t id = 0;   // assigned by insert_delivery
  std::string key;  // idempotency key: "<journey id>:<node>:<visit>", UNIQUE
  int64_t journey_id = 0;
  std::string channel;  // sms, email, coupon, webhook
  std::string user_id;
  std::string flow;
  int flow_version = 0;
  std::string node;
  std::string variant;  // the journey's A/B assignments when it was made (rollups)
  TimeMs at = 0;
  std::string to;
  std::string subject;  // email only
  std::string body;
  DeliveryStatus status = DeliveryStatus::kPending;
  // Governed delivery: the flow's category ("marketing", "transactional") and
  // priority (0..100), and when the message was or will be released to the
  // provider (`at`, or the end of a deferral).
  std::string category = "marketing";
  int priority = 50;
  TimeMs release_at = 0;  // 0: never released (suppressed or dropped)
  int attempts = 0;
  TimeMs next_attempt_at = 0;
  std::string last_error;
  // The provider's newest feedback ("delivered", "bounced hard", "opened",
  // ...) and when it came; empty and 0 before any.
  std::string feedback;
  TimeMs feedback_at = 0;
};

// A message of a user already released to the provider (status pending,
// sent or dead), as frequency caps count it.
struct ReleasedMessage {
  TimeMs release_at = 0;
  std::string channel;
  std::string category;  // "marketing", "transactional"
};

// What a provider reported about a delivery (the message_* events).
enum class Feedback { kDelivered, kBounced, kComplained, kOpened, kClicked };

// A user's consent for one channel ("*": every channel). The newest record of
// the channel or of "*" decides; no record means subscribed.
struct ConsentRecord {
  std::string user_id;
  std::string channel;
  bool subscribed = true;
  TimeMs at = 0;
  std::string reason;  // "api", "event unsubscribe", "hard bounce of delivery 12", ...
};

// What became of one message node's deliveries, and the provider's feedback.
// `created` counts every delivery; sent, deferred, suppressed, dropped and
// dead count them by their status now (so a deferred message that was later
// sent counts as sent); the feedback counts are deliveries that got that
// feedback at least once.
struct MessageCount {
  std::string node;
  std::string channel;
  int64_t created = 0, sent = 0, deferred = 0, suppressed = 0, dropped = 0, dead = 0;
  int64_t delivered = 0, opened = 0, clicked = 0, bounced = 0, complained = 0;
};

struct NodeCount {
  std::string node;
  int64_t entered = 0;  // step records that entered the node
  int64_t waiting = 0;  // live journeys currently at the node and waiting
  int64_t exited = 0;   // journeys that ended at the node (exit node, exit_on, failure)
};

struct VariantCount {
  std::string node;
  std::string variant;
  int64_t journeys = 0;
  int64_t conversions = 0;
};

// A flow's journeys by where they are in their lifecycle.
struct FlowTotals {
  int64_t journeys = 0;
  int64_t live = 0;
  int64_t waiting = 0;  // live and waiting on a timer or an event
  int64_t conversions = 0;
};

struct FlowCounts {
  int64_t journeys = 0;
  int64_t live = 0;
  int64_t conversions = 0;
  std::vector<NodeCount> nodes;
  std::vector<VariantCount> variants;
  std::vector<MessageCount> messages;  // per message node, in node order
};

// A journey as the drill-down lists it.
struct JourneySummary {
  int64_t id = 0;
  std::string user_id;
  Lifecycle state = Lifecycle::kEntered;
  std::string node;
  std::string variant;
  TimeMs entered_at = 0;
  std::optional<TimeMs> converted_at;
  std::optional<double> revenue;
};

// Which journeys of a flow to list, newest first: ids below `before` (0: any).
struct JourneyQuery {
  std::string flow;
  std::string node;               // "" any
  std::vector<Lifecycle> states;  // empty: any
  bool converted_only = false;
  std::string variant;  // "node=variant" or a bare variant name, in the list; "" any
  int64_t before = 0;
  size_t limit = 100;
};

// An ingested event kept for replay (docs/operations.md#event-retention), as
// the engine applied it: its user is the resolved one (an anonymous id merged
// into a user is that user), and a later merge moves the anonymous id's rows.
struct RetainedEvent {
  int64_t seq = 0;  // assigned by retain_event: ingest order
  std::string id;   // the event's idempotency id; may be empty
  std::string type;
  std::string user_id;
  TimeMs at = 0;                  // the event's own time
  std::string properties = "{}";  // JSON object: properties, or traits when `identify`
  bool identify = false;
};

// Which retained events to read: of one user (empty: any) with `from` <= at <
// `to`, after the cursor (at, seq) in (at, seq) order, at most `limit`.
struct RetainedEventQuery {
  std::string user_id;
  TimeMs from = INT64_MIN, to = INT64_MAX;
  TimeMs after_at = INT64_MIN;
  int64_t after_seq = 0;
  size_t limit = 1000;
};

// Names the stored data holds, for the warnings of names never seen
// (dsl/known_names.h): top-level trait names of stored profiles, and the types of
// the events that started or last moved stored journeys. Sorted, no repeats.
struct StoredNames {
  std::vector<std::string> traits;
  std::vector<std::string> event_types;
};

// Behavioural counters (docs/expressions.md#behaviour): one counted event of
// a user, for every counter it matched and, when some flow reads last_seen()
// of its type, the time it was seen.
struct BehaviourHit {
  std::string event_type;
  TimeMs at = 0;           // when the user was seen (the event's time, at most now)
  bool last_seen = false;  // keep `at` as the type's last_seen
  int64_t day = 0;         // `at`'s UTC day (days since the epoch)
  struct Counter {
    std::string key;         // expr::CounterUse::key
    int64_t oldest_day = 0;  // buckets of earlier days are dropped: the longest window read
  };
  std::vector<Counter> counters;  // each gets one more event on `day`
};

// What a user's counters hold: events per (counter key, UTC day), and when the
// user was last seen per event type.
struct BehaviourRecord {
  struct Bucket {
    std::string key;
    int64_t day = 0;
    int64_t count = 0;
  };
  struct Seen {
    std::string event_type;
    TimeMs at = 0;
  };
  std::vector<Bucket> buckets;  // by key, then day
  std::vector<Seen> last_seen;
};

class StoreReader {
 public:
  virtual ~StoreReader() = default;

  virtual std::vector<FlowVersionRecord> flow_versions() = 0;
  // Every flow's lifecycle state (flows without a record are active).
  virtual std::vector<FlowStateRecord> flow_states() = 0;
  // Live journeys of a flow with id > `after_id`, in id order, at most
  // `limit`: the bounded window that stop, resume and migration walk.
  virtual std::vector<JourneyRecord> live_journeys(const std::string& flow, int64_t after_id,
                                                   size_t limit) = 0;
  virtual std::optional<std::string> profile(const std::string& user_id) = 0;  // JSON object
  // Bounded: reads at most `rows` profiles and the newest `rows` journeys, and keeps
  // at most `limit` names in each list.
  virtual StoredNames stored_names(size_t rows, size_t limit) = 0;
  virtual std::optional<JourneyRecord> journey(int64_t id) = 0;
  // Every journey of a user (of one flow when `flow` is non-empty), oldest first.
  virtual std::vector<JourneyRecord> journeys_of(const std::string& user_id,
                                                 const std::string& flow) = 0;
  virtual std::vector<StepRecord> steps(int64_t journey_id) = 0;
  // Deliveries filtered by user and/or flow (empty = any), in creation order.
  virtual std::vector<DeliveryRecord> deliveries(const std::string& user_id,
                                                 const std::string& flow, size_t limit) = 0;
  virtual FlowCounts counts(const std::string& flow) = 0;
  // The totals of counts() without its per-node and per-variant parts, which
  // read every journey's history: a few times cheaper, for /metrics.
  virtual FlowTotals totals(const std::string& flow) = 0;
  // The earliest pending timer's due time (journeys of paused flows left out).
  virtual std::optional<TimeMs> next_timer_due() = 0;
  // Journeys with a pending timer.
  virtual int64_t pending_timer_count() = 0;
  virtual int64_t coupon_codes_left(const std::string& pool) = 0;
  // Pending deliveries whose next attempt is due at `now`, oldest first. Read
  // through a reader, these are committed deliveries only: what may be sent.
  virtual std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) = 0;

  // Governed delivery (runtime/governance.h).
  // One delivery by id or by idempotency key (provider feedback names either).
  virtual std::optional<DeliveryRecord> delivery(int64_t id) = 0;
  virtual std::optional<DeliveryRecord> delivery_by_key(const std::string& key) = 0;
  // The user's consent records, newest per channel, by channel.
  virtual std::vector<ConsentRecord> consent(const std::string& user_id) = 0;
  // The user's messages released after `since` (frequency caps), oldest first.
  virtual std::vector<ReleasedMessage> released_since(const std::string& user_id, TimeMs since) = 0;
  // When the earliest deferred delivery is due for its next judgement.
  virtual std::optional<TimeMs> next_deferred_due() = 0;
  // The same for one channel: the dispatcher feeds each channel on its own, so
  // a backlog of one never hides the due deliveries of another.
  virtual std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                            size_t limit) = 0;

  // Identity (docs/events.md#identity). The user an anonymous id was merged
  // into; nullopt when it was not.
  virtual std::optional<std::string> merged_into(const std::string& anonymous_id) = 0;
  // The anonymous ids merged into `user_id`, oldest first.
  virtual std::vector<std::string> merged_ids(const std::string& user_id) = 0;
  // Flow results (runtime/rollups.h, docs/results.md#rollups): the all-time
  // rows (hour kAllTimeHour) of the flow.
  virtual std::vector<RollupRow> rollup_totals(const std::string& flow) = 0;
  // The flow's own counts (node "") of each hour in [from, to) that has any,
  // summed over versions and variants (key.version 0, key.variant ""), in
  // hour order: the series over time, read from an index of those rows alone.
  virtual std::vector<RollupRow> rollup_hours(const std::string& flow, TimeMs from, TimeMs to) = 0;
  // All time when `all_time`, else the hours in [from, to) (never the
  // all-time rows, whatever `from`).
  virtual std::vector<MessageRollupRow> message_rollups(const std::string& flow, bool all_time,
                                                        TimeMs from, TimeMs to) = 0;
  // The messages of the hours in [from, to) as the series counts them: hour,
  // channel, status (no feedback rows) and count, without the other columns.
  virtual std::vector<MessageHour> message_hours(const std::string& flow, TimeMs from,
                                                 TimeMs to) = 0;
  virtual std::vector<EdgeRow> rollup_edges(const std::string& flow) = 0;
  // The drill-down: a flow's journeys by the query, newest first (held-out
  // journeys only when the query names their node).
  virtual std::vector<JourneySummary> flow_journeys(const JourneyQuery& query) = 0;

  // Retained events (docs/operations.md#event-retention), by the query's window.
  virtual std::vector<RetainedEvent> retained_events(const RetainedEventQuery& query) = 0;

  // The user's behavioural counters and last_seen times (none: empty).
  virtual BehaviourRecord behaviour(const std::string& user_id) = 0;

  // Broadcasts (docs/flows.md#broadcasts). The runs of `flow` (every flow's
  // when empty), by flow then oldest first.
  virtual std::vector<BroadcastRecord> broadcasts(const std::string& flow) = 0;
  // Profiles (user id, traits JSON) with user id > `after`, in user id order,
  // at most `limit`: the window a broadcast walks.
  virtual std::vector<std::pair<std::string, std::string>> profiles_after(const std::string& after,
                                                                          size_t limit) = 0;
  virtual int64_t profile_count() = 0;
};

// Work due this soon after its commit wakes the other processes sharing the
// store (Store::listen_for_wakes); work due later reaches them by their poll
// (EngineOptions::poll_ms, as long by default).
constexpr TimeMs kWakeHorizonMs = 1'000;

// Listening for other processes' commits (see Store::listen_for_wakes);
// destroying it stops the listening.
class WakeListener {
 public:
  virtual ~WakeListener() = default;
};

class Store : public StoreReader {
 public:
  // One atomic unit of mutations. REQUIRES: no transaction open (begin) / one open.
  virtual Status begin() = 0;
  // Errors: a call in the transaction failed (its error; rolled back), or the
  // commit itself failed (rolled back).
  virtual Status commit() = 0;
  virtual void rollback() = 0;

  // Holds the user's journeys for this transaction (see Exclusivity above).
  virtual Status lock_user(const std::string& user_id) = 0;

  // The stored value of a named setting (such as the journey id key),
  // storing `value_if_absent` first when it has none: several processes
  // asking at once all get the one value that was stored first.
  virtual Result<std::string> meta_value(const std::string& key,
                                         const std::string& value_if_absent) = 0;

  // Both change the flows' generation (flows_generation).
  virtual Status add_flow_version(const FlowVersionRecord& record) = 0;
  // Replaces the flow's lifecycle state. While a flow is paused, due_journeys()
  // and next_timer_due() leave its journeys out (their timers wait for resume).
  virtual Status set_flow_state(const FlowStateRecord& record) = 0;
  // A number that every committed add_flow_version or set_flow_state (of any
  // process) changes, as of this transaction's start (0 before any). A caller
  // that read it equal to the value it loaded its flows at needs not read
  // flow_versions() or flow_states() again. REQUIRES: a transaction open.
  virtual Result<int64_t> flows_generation() = 0;
  virtual Status put_profile(const std::string& user_id, const std::string& traits_json,
                             TimeMs at) = 0;

  // Records an event id as seen. False when it was seen before (a duplicate).
  virtual Result<bool> mark_event_seen(const std::string& event_id, TimeMs at) = 0;
  // Forgets ids seen before `before` (bounded dedupe retention). Returns how many.
  // A store may forget in bounded sweeps rather than all at once, so a call
  // need not reach every old id: the contract is only that an id seen within
  // the retention is never forgotten and an old one is forgotten eventually
  // (SQLite sweeps a range of ids per call and forgets within about two
  // retention periods: runtime/sqlite/SCHEMA.md).
  virtual Result<int64_t> prune_events_seen(TimeMs before) = 0;

  // A new journey id (see Ids above). The writer takes the id before the
  // journey's first step, which records it, and inserts the journey once,
  // after that step.
  virtual Result<int64_t> new_journey_id() = 0;
  // REQUIRES: record.id from new_journey_id(), not inserted before.
  virtual Status insert_journey(const JourneyRecord& record) = 0;

  // Event retention: keeps one applied event (merge_user moves its rows,
  // erase_user deletes them). Prunes, at most `limit` rows: events with at <
  // `before`, then the oldest by seq beyond the newest `keep_most`. Returns
  // how many it deleted (the caller prunes again while it deletes `limit`).
  virtual Status retain_event(const RetainedEvent& event) = 0;
  virtual Result<int64_t> prune_retained_events(TimeMs before, int64_t keep_most, size_t limit) = 0;

  virtual Status update_journey(const JourneyRecord& record) = 0;
  // Adds `steps` (the journey's next ones: consecutive seq from record.steps
  // before they were taken) to record.history, written by the next
  // insert/update_journey of `record`. Past a bound the older history moves to
  // a row of its own here, so a journey row stays small however long it runs.
  virtual Status append_history(JourneyRecord& record, const std::vector<StepRecord>& steps) = 0;

  // Journeys whose timer is due at `now`, in (due, id) order, at most `limit`
  // (journeys of paused flows left out):
  // a bounded window, so the caller never holds more than `limit` in memory.
  // A journey's timer is written with the journey (insert/update_journey).
  // Journeys another process's open transaction holds are skipped.
  virtual Result<std::vector<JourneyRecord>> due_journeys(TimeMs now, size_t limit) = 0;

  // Inserts into the outbox. False (and no row) when the key exists already.
  virtual Result<bool> insert_delivery(const DeliveryRecord& record) = 0;
  virtual Status mark_sent(int64_t delivery_id, TimeMs at) = 0;
  // Records a failed attempt; moves the delivery to dead letters when `dead`.
  virtual Status record_failure(int64_t delivery_id, int attempts, TimeMs next_attempt_at,
                                const std::string& error, bool dead, TimeMs at) = 0;
  // Leases pending deliveries of `channel` due at `now` (at most `limit`, in
  // (next_attempt_at, id) order, rows another open transaction holds skipped)
  // to the caller: their next_attempt_at becomes `lease_until`, so no other
  // process takes them before then. The caller records each outcome
  // (mark_sent, record_failure, ...); a process that dies holding a lease
  // leaves its deliveries due again at `lease_until`, when another process
  // sends them with the same idempotency key.
  virtual Result<std::vector<DeliveryRecord>> lease_deliveries(const std::string& channel,
                                                               TimeMs now, size_t limit,
                                                               TimeMs lease_until) = 0;
  // Whether other processes may write the same data at the same time
  // (PostgreSQL): the engine then leases deliveries before sending them.
  virtual bool shared() const { return false; }
  // Several processes: calls `on_wake`, on a thread of the listener's own,
  // soon after another process commits a transaction that deployed a flow
  // version, changed a flow's state, or armed a timer or deferred a message
  // due within about a second (kWakeHorizonMs), so the caller looks at the
  // store before its next poll (which stays the fallback: a wake-up can be
  // lost with a connection). Pending deliveries wake nobody: dispatchers look
  // for due ones every few milliseconds anyway. Also called after the listener
  // (re)connects. Null when no other process writes (SQLite). Touches no
  // transaction: callable at any time.
  virtual std::unique_ptr<WakeListener> listen_for_wakes(std::function<void()> on_wake) = 0;
  // A pending delivery that must not be sent after all (consent withdrawn
  // after the node ran): status kSuppressed with `reason` as its last error.
  virtual Status mark_suppressed(int64_t delivery_id, const std::string& reason, TimeMs at) = 0;

  // Governed delivery. Writes `record` as the user's newest consent for its
  // channel, replacing the previous one (the caller decides whether it should:
  // governance::replaces).
  virtual Status put_consent(const ConsentRecord& record) = 0;
  // Deferred deliveries due at `now`, in (next_attempt_at, id) order, at most
  // `limit`: the release pass's bounded window.
  virtual Result<std::vector<DeliveryRecord>> due_deferred(TimeMs now, size_t limit) = 0;
  // Every deferred delivery of one user due at `now`, highest priority first,
  // then oldest: the order the release pass judges them in.
  virtual Result<std::vector<DeliveryRecord>> due_deferred_of_user(const std::string& user_id,
                                                                   TimeMs now) = 0;
  // The governance verdict on a delivery: kPending releases it (release_at =
  // next_attempt_at = `release_at`, counted by caps from then), kDeferred holds
  // it until `release_at`, kSuppressed and kDropped end it. `reason` becomes
  // its last error (empty when released).
  virtual Status set_delivery_verdict(int64_t delivery_id, DeliveryStatus status, TimeMs release_at,
                                      const std::string& reason) = 0;
  // Records provider feedback: the newest kind and time (`detail`, such as a
  // bounce type, is appended to the kind's name), and the first time of each
  // kind, which per-node counts group by.
  virtual Status record_feedback(int64_t delivery_id, Feedback kind, const std::string& detail,
                                 TimeMs at) = 0;

  // Adds codes to a pool; codes already present are ignored. Returns how many were new.
  virtual Result<int64_t> add_coupon_codes(const std::string& pool,
                                           const std::vector<std::string>& codes) = 0;
  // Claims the oldest unclaimed code for `journey_id`; nullopt when the pool
  // is empty. Codes another process's open transaction claims are skipped.
  virtual Result<std::optional<std::string>> claim_coupon(const std::string& pool,
                                                          int64_t journey_id, TimeMs at) = 0;

  // Counts one event of the user (docs/expressions.md#behaviour): +1 on
  // (key, hit.day) of each counter, dropping that key's buckets before its
  // oldest_day, and last_seen of the type moved to hit.at unless later already.
  // merge_user adds `from`'s counters to `to`'s; erase_user deletes them.
  virtual Status record_behaviour(const std::string& user_id, const BehaviourHit& hit) = 0;

  // Identity. Gives `to` what `from` holds: its journeys (ended ones too), their
  // deliveries, the consent records `to` has none of for the channel, and the
  // ids merged into `from`; deletes `from`'s profile and consent and records
  // `from` as merged into `to`. The caller merges the traits and ends
  // conflicting journeys first (Processor::merge_identity).
  virtual Status merge_user(const std::string& from, const std::string& to, TimeMs at) = 0;

  // Erasure (docs/security.md#erasure). Deletes the user's retained events;
  // gives the user's journeys and their deliveries `replacement`, an id that
  // names nobody, and erases what they hold about the user: the trigger and
  // last events, every step's reason, the delivery addresses, subjects,
  // bodies, errors and attempt errors; a delivery not yet released (pending,
  // deferred) is suppressed with reason `erased`. Deletes the profile, consent and merged ids. Nodes, inputs,
  // times, states, variants and statuses stay, so counts do not change. The
  // caller ends live journeys first. Returns how many deliveries it erased.
  virtual Result<int64_t> erase_user(const std::string& user_id,
                                     const std::string& replacement) = 0;
  // Adds a commit batch's rollups (inside the open transaction): each key's
  // counts to its hour's row and to its all-time row. Message rollups follow
  // later status changes and feedback of every delivery by themselves.
  virtual Status add_rollups(const RollupBatch& batch) = 0;
  // Forgets hourly rollups of hours before `before` (all-time sums stay).
  virtual int64_t prune_rollups(TimeMs before) = 0;

  // Writes a broadcast run (by flow and run), replacing the previous record.
  virtual Status put_broadcast(const BroadcastRecord& record) = 0;
  // Holds the run (flow, run) for this transaction and reads it as it stands
  // then. nullopt when there is no such run, or when another process's open
  // transaction holds it: skipped, never waited for (that one is walking it).
  // So one node at a time walks a run's window and moves its cursor.
  virtual Result<std::optional<BroadcastRecord>> claim_broadcast(const std::string& flow,
                                                                 const std::string& run) = 0;
  // The window a broadcast walks: profiles_after, each user's lock (lock_user)
  // taken for this transaction without waiting, the traits read once it is
  // held. The window ends before the first user another transaction holds, so
  // it may be shorter than `limit` (even empty) with more profiles after it.
  virtual Result<std::vector<std::pair<std::string, std::string>>> lock_profiles_after(
      const std::string& after, size_t limit) = 0;

  // A separate read-only view of the committed state, for query threads.
  // Errors: it cannot be opened (the database went away).
  virtual Result<std::unique_ptr<StoreReader>> open_reader() = 0;
};

// How the engine gets its store: called once, by Engine::open.
using StoreFactory = std::function<Result<std::unique_ptr<Store>>()>;

}  // namespace trellis::runtime

// The SQLite store's writer: the one connection that mutates the file, in
// transactions, with the compact step history and the batched journey inserts.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "runtime/sqlite/checkpointer.h"
#include "runtime/sqlite/reader.h"
#include "runtime/sqlite/statement.h"
#include "runtime/sqlite/step_words.h"
#include "runtime/journey_filter.h"
#include "runtime/store.h"

namespace trellis::runtime::sqlite {

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::string path);

  // sqlite3_close_v2 defers the close until the statement members below are
  // finalised, which happens right after this body.
  ~SqliteStore() override;

  // Moves checkpoints off the writer when a second connection can be opened;
  // otherwise SQLite's automatic checkpoints on the writer stay on.
  void start_checkpointer();

  // Fills the all-time rollups of a file that had journeys before the results
  // schema from their histories (SqliteReader::scanned_counts), once: the
  // migration leaves a mark in `meta`, forgotten in the same transaction. A
  // no-op otherwise. Runs on this store's own reader, after every migration.
  Status backfill_rollups();

  // --- reads: the writer connection sees its own uncommitted writes ---
  std::vector<FlowVersionRecord> flow_versions() override { return reader_.flow_versions(); }
  std::vector<FlowStateRecord> flow_states() override { return reader_.flow_states(); }
  std::vector<JourneyRecord> live_journeys(const std::string& flow, int64_t after_id,
                                           size_t limit) override {
    flush_journeys();
    return reader_.live_journeys(flow, after_id, limit);
  }
  std::optional<std::string> profile(const std::string& u) override { return reader_.profile(u); }
  StoredNames stored_names(size_t rows, size_t limit) override {
    return reader_.stored_names(rows, limit);
  }
  std::vector<BroadcastRecord> broadcasts(const std::string& f) override {
    return reader_.broadcasts(f);
  }
  std::vector<std::pair<std::string, std::string>> profiles_after(const std::string& after,
                                                                  size_t limit) override {
    return reader_.profiles_after(after, limit);
  }
  int64_t profile_count() override { return reader_.profile_count(); }
  Status put_broadcast(const BroadcastRecord& r) override;
  // One writer: nothing else holds a run or a user.
  Result<std::optional<BroadcastRecord>> claim_broadcast(const std::string& flow,
                                                         const std::string& run) override;
  Result<std::vector<std::pair<std::string, std::string>>> lock_profiles_after(
      const std::string& after, size_t limit) override {
    return reader_.profiles_after(after, limit);
  }
  std::optional<JourneyRecord> journey(int64_t id) override;
  std::vector<JourneyRecord> journeys_of(const std::string& u, const std::string& f) override;
  std::vector<StepRecord> steps(int64_t id) override;
  std::vector<DeliveryRecord> deliveries(const std::string& u, const std::string& f,
                                         size_t limit) override;
  FlowCounts counts(const std::string& flow) override;
  FlowTotals totals(const std::string& flow) override;
  std::vector<RollupRow> rollup_totals(const std::string& flow) override {
    return reader_.rollup_totals(flow);
  }
  std::vector<RollupRow> rollup_hours(const std::string& flow, TimeMs from, TimeMs to) override {
    return reader_.rollup_hours(flow, from, to);
  }
  std::vector<MessageRollupRow> message_rollups(const std::string& flow, bool all_time, TimeMs from,
                                                TimeMs to) override {
    return reader_.message_rollups(flow, all_time, from, to);
  }
  std::vector<MessageHour> message_hours(const std::string& flow, TimeMs from, TimeMs to) override {
    return reader_.message_hours(flow, from, to);
  }
  std::vector<EdgeRow> rollup_edges(const std::string& flow) override {
    return reader_.rollup_edges(flow);
  }
  std::vector<JourneySummary> flow_journeys(const JourneyQuery& query) override;
  Status add_rollups(const RollupBatch& batch) override;
  int64_t prune_rollups(TimeMs before) override { return reader_.rollups().prune(before); }
  std::optional<TimeMs> next_timer_due() override;
  int64_t pending_timer_count() override;
  int64_t coupon_codes_left(const std::string& pool) override;

  // --- transactions ---
  Status begin() override;
  Status commit() override;
  void rollback() override;

  // --- mutations ---
  Result<std::string> meta_value(const std::string& key,
                                 const std::string& value_if_absent) override;
  Status add_flow_version(const FlowVersionRecord& r) override;
  Status set_flow_state(const FlowStateRecord& r) override;
  Result<int64_t> flows_generation() override;
  Status put_profile(const std::string& user_id, const std::string& traits, TimeMs at) override;
  Status lock_user(const std::string&) override { return Status(); }  // the only writer
  Result<bool> mark_event_seen(const std::string& id, TimeMs at) override;
  Result<int64_t> prune_events_seen(TimeMs before) override;
  // Ids count up from the largest in the file, read when the store opens and
  // again when another process wrote the file (begin()).
  Result<int64_t> new_journey_id() override;
  // A new journey waits in pending_journeys_ and is written with others,
  // kJourneyChunk rows per INSERT: running one statement per row was most of
  // a new journey's cost. Every read of journeys and commit() write them first.
  Status insert_journey(const JourneyRecord& j) override;
  Status update_journey(const JourneyRecord& j) override;
  // The history is compact (step_codec), appended to in place; one written
  // before schema 6 (JSON) is converted on its journey's next step. Past
  // kInlineHistoryBytes the older part moves to a step_groups row, so a
  // long-running journey's row (rewritten by every step) stays small.
  Status append_history(JourneyRecord& j, const std::vector<StepRecord>& steps) override;
  Result<std::vector<JourneyRecord>> due_journeys(TimeMs now, size_t limit) override;
  Result<bool> insert_delivery(const DeliveryRecord& d) override;
  std::optional<DeliveryRecord> delivery(int64_t id) override { return reader_.delivery(id); }
  std::optional<DeliveryRecord> delivery_by_key(const std::string& key) override;
  std::vector<ConsentRecord> consent(const std::string& user_id) override;
  std::vector<ReleasedMessage> released_since(const std::string& user_id, TimeMs since) override;
  std::optional<TimeMs> next_deferred_due() override { return reader_.next_deferred_due(); }
  Status put_consent(const ConsentRecord& r) override;
  Result<std::vector<DeliveryRecord>> due_deferred(TimeMs now, size_t limit) override;
  Result<std::vector<DeliveryRecord>> due_deferred_of_user(const std::string& user_id,
                                                           TimeMs now) override;
  Status set_delivery_verdict(int64_t id, DeliveryStatus status, TimeMs release_at,
                              const std::string& reason) override;
  Status record_feedback(int64_t id, Feedback kind, const std::string& detail, TimeMs at) override;
  std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) override;
  std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                    size_t limit) override;
  Status mark_sent(int64_t id, TimeMs at) override;
  Status mark_suppressed(int64_t id, const std::string& reason, TimeMs) override;
  Result<std::vector<DeliveryRecord>> lease_deliveries(const std::string& channel, TimeMs now,
                                                       size_t limit, TimeMs lease_until) override;
  Status record_failure(int64_t id, int attempts, TimeMs next, const std::string& error, bool dead,
                        TimeMs at) override;
  Result<int64_t> add_coupon_codes(const std::string& pool,
                                   const std::vector<std::string>& codes) override;
  Result<std::optional<std::string>> claim_coupon(const std::string& pool, int64_t journey_id,
                                                  TimeMs at) override;

  // Identity and erasure (runtime/sqlite/identity.cpp). Most events name an
  // id never merged: merged_into answers those from merged_filter_.
  std::optional<std::string> merged_into(const std::string& id) override;
  std::vector<std::string> merged_ids(const std::string& user_id) override {
    return reader_.merged_ids(user_id);
  }
  BehaviourRecord behaviour(const std::string& user_id) override {
    return reader_.behaviour(user_id);
  }
  Status record_behaviour(const std::string& user_id, const BehaviourHit& hit) override;
  Status merge_user(const std::string& from, const std::string& to, TimeMs at) override;
  Result<int64_t> erase_user(const std::string& user_id, const std::string& replacement) override;

  // Event retention (runtime/sqlite/retention.cpp).
  std::vector<RetainedEvent> retained_events(const RetainedEventQuery& query) override {
    return reader_.retained_events(query);
  }
  Status retain_event(const RetainedEvent& event) override;
  Result<int64_t> prune_retained_events(TimeMs before, int64_t keep_most, size_t limit) override;

  Result<std::unique_ptr<StoreReader>> open_reader() override;
  // The only writer: nobody else commits anything to wake up for.
  std::unique_ptr<WakeListener> listen_for_wakes(std::function<void()>) override { return nullptr; }

  sqlite3* db() { return db_; }

 private:
  static constexpr size_t kJourneyChunk = 32;

  void flush_journeys();
  // Reads what this store caches of the file (largest journey id, journey
  // filter, step words) again: at open, and at begin() when another process
  // committed since this store's last transaction (PRAGMA data_version).
  void load_caches();
  // A journey added inside a transaction that rolls back stays in the filter:
  // a false positive, which only costs a lookup.
  void rebuild_filter(size_t capacity);
  // The same for merged ids (identity.cpp): most events name an id never merged.
  void rebuild_merged_filter(size_t capacity);
  // The current transaction's first error as a Status (empty: none).
  Status failed() const { return error_.empty() ? Status() : Status(Error{error_}); }

  // Journey counts (SCHEMA.md "journey_counts"): what a journey row counts
  // under, the changes of the open transaction added up by key, and the
  // counted values of the rows this transaction read or wrote, so that an
  // update knows what it moves a journey from without reading the row again.
  struct Counted {
    std::string flow, node;
    int state = 0;
    bool converted = false, timer = false;
  };
  struct CountChange {
    int64_t journeys = 0, conversions = 0, timers = 0;
  };
  using CountKey = std::tuple<std::string, std::string, int>;
  static Counted counted_of(const JourneyRecord& j);
  void count(const Counted& c, int64_t sign);
  void remember_counted(const JourneyRecord& j) { counted_[j.id] = counted_of(j); }
  void count_update(const JourneyRecord& j);
  void flush_counts();
  void forget_counts();

  Status done(Use& u);
  // Runs a one-off statement (identity.cpp); a failure fails the transaction.
  Status run_once(Stmt& statement);
  // Erasure: the words of `candidates` no history uses any more are erased.
  Status erase_unused_words(std::set<int64_t> candidates);

  sqlite3* db_;
  std::string path_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::string error_;  // first failure inside the open transaction; commit() fails then
  std::vector<JourneyRecord> pending_journeys_;  // inserted, not yet written (see insert_journey)
  std::map<CountKey, CountChange, std::less<>> count_changes_;  // not yet written to journey_counts
  std::unordered_map<int64_t, Counted> counted_;  // rows as this transaction knows them
  std::string sweep_from_;                        // where the next prune of events_seen starts
  int64_t seen_since_prune_ = 0;                  // ids marked since the previous prune
  int64_t last_journey_id_ = 0;                   // the last id handed out
  int64_t data_version_ = 0;                      // PRAGMA data_version after our last commit
  // Which (user, flow) pairs have journeys: journeys_of skips the query for
  // the rest (the trigger of every new journey). Ours alone to keep while we
  // are the only writer; rebuilt by load_caches otherwise.
  JourneyFilter journey_filter_;
  JourneyFilter merged_filter_;  // anonymous ids merged into a user (flow "")
  SqliteReader reader_;
  WriterWords words_;
  Stmt begin_, commit_, rollback_, add_flow_, set_flow_state_, put_profile_, seen_, sweep_end_,
      prune_, prune_range_, insert_journey_, insert_journeys_, max_journey_, journey_owners_,
      data_version_stmt_, put_meta_, get_meta_, bump_flows_, update_journey_, append_group_,
      due_journeys_, insert_delivery_, mark_sent_, mark_suppressed_, record_failure_,
      record_attempt_, put_consent_, due_deferred_, due_deferred_of_user_, set_verdict_,
      record_feedback_, add_code_, free_code_, claim_code_, counted_as_, add_counts_, retain_,
      prune_retained_old_, prune_retained_over_, count_behaviour_, drop_buckets_, note_seen_,
      put_broadcast_;
};

}  // namespace trellis::runtime::sqlite

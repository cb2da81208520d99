// The PostgreSQL store's writer: the connection that holds the engine's
// transactions (READ COMMITTED), plus one that commits new step words at once.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "runtime/postgres/connection.h"
#include "runtime/postgres/reader.h"
#include "runtime/postgres/words.h"
#include "runtime/store.h"

namespace trellis::runtime::postgres {

class Writer final : public Store {
 public:
  Writer(std::unique_ptr<Connection> conn, std::unique_ptr<Connection> words_conn,
         std::string conninfo);
  ~Writer() override;

  // --- reads, on the writer's connection: inside a transaction they see its writes ---
  std::vector<FlowVersionRecord> flow_versions() override { return reader_.flow_versions(); }
  std::vector<FlowStateRecord> flow_states() override { return reader_.flow_states(); }
  std::vector<JourneyRecord> live_journeys(const std::string& flow, int64_t after_id,
                                           size_t limit) override {
    return reader_.live_journeys(flow, after_id, limit);
  }
  std::optional<std::string> profile(const std::string& u) override { return reader_.profile(u); }
  StoredNames stored_names(size_t rows, size_t limit) override {
    return reader_.stored_names(rows, limit);
  }
  std::optional<JourneyRecord> journey(int64_t id) override { return reader_.journey(id); }
  std::vector<JourneyRecord> journeys_of(const std::string& u, const std::string& f) override {
    return reader_.journeys_of(u, f);
  }
  std::vector<StepRecord> steps(int64_t id) override { return reader_.steps(id); }
  std::vector<DeliveryRecord> deliveries(const std::string& u, const std::string& f,
                                         size_t limit) override {
    return reader_.deliveries(u, f, limit);
  }
  FlowCounts counts(const std::string& flow) override { return reader_.counts(flow); }
  FlowTotals totals(const std::string& flow) override { return reader_.totals(flow); }
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
  std::vector<JourneySummary> flow_journeys(const JourneyQuery& query) override {
    return reader_.flow_journeys(query);
  }
  std::optional<TimeMs> next_timer_due() override { return reader_.next_timer_due(); }
  int64_t pending_timer_count() override { return reader_.pending_timer_count(); }
  int64_t coupon_codes_left(const std::string& pool) override {
    return reader_.coupon_codes_left(pool);
  }
  std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) override {
    return reader_.pending_deliveries(now, limit);
  }
  std::optional<DeliveryRecord> delivery(int64_t id) override { return reader_.delivery(id); }
  std::optional<DeliveryRecord> delivery_by_key(const std::string& key) override {
    return reader_.delivery_by_key(key);
  }
  std::vector<ConsentRecord> consent(const std::string& u) override { return reader_.consent(u); }
  std::vector<ReleasedMessage> released_since(const std::string& u, TimeMs since) override {
    return reader_.released_since(u, since);
  }
  std::optional<TimeMs> next_deferred_due() override { return reader_.next_deferred_due(); }
  std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                    size_t limit) override {
    return reader_.pending_deliveries_of(channel, now, limit);
  }
  std::optional<std::string> merged_into(const std::string& id) override {
    return reader_.merged_into(id);
  }
  std::vector<std::string> merged_ids(const std::string& user_id) override {
    return reader_.merged_ids(user_id);
  }
  BehaviourRecord behaviour(const std::string& user_id) override {
    return reader_.behaviour(user_id);
  }
  std::vector<BroadcastRecord> broadcasts(const std::string& flow) override {
    return reader_.broadcasts(flow);
  }
  std::vector<std::pair<std::string, std::string>> profiles_after(const std::string& after,
                                                                  size_t limit) override {
    return reader_.profiles_after(after, limit);
  }
  int64_t profile_count() override { return reader_.profile_count(); }
  Status put_broadcast(const BroadcastRecord& r) override;
  // FOR UPDATE SKIP LOCKED on the run's row.
  Result<std::optional<BroadcastRecord>> claim_broadcast(const std::string& flow,
                                                         const std::string& run) override;
  // pg_try_advisory_xact_lock per user (as due_journeys), then the traits.
  Result<std::vector<std::pair<std::string, std::string>>> lock_profiles_after(
      const std::string& after, size_t limit) override;

  // --- transactions ---
  Status begin() override;
  Status commit() override;
  void rollback() override;
  // A transaction-scoped advisory lock on the user's name (hashed to 64 bits).
  Status lock_user(const std::string& user_id) override;

  // --- mutations ---
  Result<std::string> meta_value(const std::string& key,
                                 const std::string& value_if_absent) override;
  Status add_flow_version(const FlowVersionRecord& r) override;
  Status set_flow_state(const FlowStateRecord& r) override;
  Result<int64_t> flows_generation() override;
  Status put_profile(const std::string& user_id, const std::string& traits, TimeMs at) override;
  Result<bool> mark_event_seen(const std::string& id, TimeMs at) override;
  Result<int64_t> prune_events_seen(TimeMs before) override;
  Status retain_event(const RetainedEvent& event) override;
  Result<int64_t> prune_retained_events(TimeMs before, int64_t keep_most, size_t limit) override;
  std::vector<RetainedEvent> retained_events(const RetainedEventQuery& query) override {
    return reader_.retained_events(query);
  }
  // Ids come from the journey_ids sequence, which hands out 64 at a time.
  Result<int64_t> new_journey_id() override;
  Status insert_journey(const JourneyRecord& j) override;
  Status update_journey(const JourneyRecord& j) override;
  Status append_history(JourneyRecord& j, const std::vector<StepRecord>& steps) override;
  // Due journeys locked FOR UPDATE SKIP LOCKED whose users this transaction
  // could lock at once (pg_try_advisory_xact_lock): a journey another node is
  // firing or whose user another node is stepping is left for a later pass.
  Result<std::vector<JourneyRecord>> due_journeys(TimeMs now, size_t limit) override;
  Result<bool> insert_delivery(const DeliveryRecord& d) override;
  Status mark_sent(int64_t id, TimeMs at) override;
  Status record_failure(int64_t id, int attempts, TimeMs next, const std::string& error, bool dead,
                        TimeMs at) override;
  Status mark_suppressed(int64_t id, const std::string& reason, TimeMs at) override;
  // FOR UPDATE SKIP LOCKED: two nodes leasing at once take different rows.
  Result<std::vector<DeliveryRecord>> lease_deliveries(const std::string& channel, TimeMs now,
                                                       size_t limit, TimeMs lease_until) override;
  bool shared() const override { return true; }
  // LISTEN on its own connection (wake_listener.cpp); commit() sends the
  // NOTIFY when the transaction armed something due soon (note_due).
  std::unique_ptr<WakeListener> listen_for_wakes(std::function<void()> on_wake) override;
  Status put_consent(const ConsentRecord& r) override;
  Result<std::vector<DeliveryRecord>> due_deferred(TimeMs now, size_t limit) override;
  Result<std::vector<DeliveryRecord>> due_deferred_of_user(const std::string& user_id,
                                                           TimeMs now) override;
  Status set_delivery_verdict(int64_t id, DeliveryStatus status, TimeMs release_at,
                              const std::string& reason) override;
  Status record_feedback(int64_t id, Feedback kind, const std::string& detail, TimeMs at) override;
  Result<int64_t> add_coupon_codes(const std::string& pool,
                                   const std::vector<std::string>& codes) override;
  Result<std::optional<std::string>> claim_coupon(const std::string& pool, int64_t journey_id,
                                                  TimeMs at) override;

  // Behavioural counters, and identity and erasure (identity.cpp).
  Status record_behaviour(const std::string& user_id, const BehaviourHit& hit) override;
  Status merge_user(const std::string& from, const std::string& to, TimeMs at) override;
  Result<int64_t> erase_user(const std::string& user_id, const std::string& replacement) override;

  // Flow results (rollups.cpp): a commit batch's rollups, added up with the
  // transaction's message status changes and written by commit()
  // (write_rollups); hourly rows before `before` forgotten.
  Status add_rollups(const RollupBatch& batch) override;
  int64_t prune_rollups(TimeMs before) override;
  // Fills the all-time rollups of a database that held journeys before
  // schema 5 from their histories, once (the migration leaves a mark in
  // meta, taken in the same transaction). A no-op otherwise.
  Status backfill_rollups();

  Result<std::unique_ptr<StoreReader>> open_reader() override;

 private:
  static constexpr int64_t kIdBlock = 64;  // the sequence's INCREMENT BY
  // Notes work this transaction made due at `due` (written at `at`): when it
  // is due before other nodes' next poll, the commit wakes them.
  void note_due(TimeMs due, TimeMs at);
  bool wake_others_ = false;
  Status bump_flows_generation();
  int64_t flows_generation_ = 0;  // read at begin()
  // Runs a statement of the open transaction; the first failure is kept and
  // fails the commit.
  Result<Rows> run(const char* name, const char* sql, const Params& params = Params());
  Status done(const char* name, const char* sql, const Params& params = Params()) {
    Result<Rows> r = run(name, sql, params);
    return r.ok() ? Status() : Status(r.error());
  }

  // UPDATE deliveries SET `set` WHERE `where`, noting what each changed row
  // moves in the message rollups (its status, its first feedback of a kind)
  // for write_rollups. Returns how many rows it changed.
  Result<int64_t> updated_deliveries(const char* name, const char* set, const char* where,
                                     const Params& params);
  Status update_deliveries(const char* name, const char* set, const char* where,
                           const Params& params) {
    Result<int64_t> r = updated_deliveries(name, set, where, params);
    return r.ok() ? Status() : Status(r.error());
  }
  // The rollups of the open transaction, written by commit() in one order
  // (rollups.cpp): rows, then messages (new ones and status changes), then
  // arrows, then journey counts, each in key order, so that two nodes' transactions take these
  // hot rows' locks in the same order and never wait on each other in a circle.
  Status write_rollups();
  void forget_rollups();
  // Journey counts (rollups.cpp): each journey insert and update adds its
  // change by (flow, node, state); write_rollups writes them last, in key
  // order, with one upsert.
  void count_journey(const std::string& flow, const std::string& node, int state, bool converted,
                     int64_t sign);
  void count_update(const JourneyRecord& now, const std::string& old_node, int old_state,
                    bool old_converted);
  Status write_journey_counts();

  // Erasure: the words of `candidates` no history uses any more are overwritten.
  Status erase_unused_words(std::set<int64_t> candidates);

  std::unique_ptr<Connection> conn_;
  std::unique_ptr<Connection> words_conn_;
  std::string conninfo_;
  Words words_;
  std::optional<Error> error_;  // first failure inside the open transaction
  Reader reader_;
  bool in_transaction_ = false;
  std::unordered_set<std::string> locked_users_;  // in the open transaction
  // What the open transaction adds to the rollups (write_rollups).
  struct MessageChange {
    int64_t messages = 0, delivered = 0, opened = 0, clicked = 0, bounced = 0, complained = 0;
  };
  std::map<RollupKey, RollupCounts> rollup_rows_;
  std::map<MessageKey, MessageChange> message_changes_;
  std::map<EdgeKey, int64_t> edge_changes_;
  struct JourneyCountKey {
    std::string flow, node;
    int state = 0;
    bool operator<(const JourneyCountKey& o) const {
      return std::tie(flow, node, state) < std::tie(o.flow, o.node, o.state);
    }
  };
  struct JourneyCountChange {
    int64_t journeys = 0, conversions = 0;
  };
  std::map<JourneyCountKey, JourneyCountChange> count_changes_;
  int64_t next_id_ = 0, ids_left_ = 0;  // the block of journey ids in hand
};

}  // namespace trellis::runtime::postgres

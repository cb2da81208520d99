// The SQLite store's reads: the statements every read-only view and the
// writer share.
#pragma once

#include <sqlite3.h>

#include <string>
#include <vector>

#include "runtime/sqlite/rollups.h"
#include "runtime/sqlite/statement.h"
#include "runtime/sqlite/step_words.h"
#include "runtime/stored_counts.h"
#include "runtime/store.h"

namespace trellis::runtime::sqlite {

// Read statements shared by the writer and reader connections.
class SqliteReader : public StoreReader {
 public:
  explicit SqliteReader(sqlite3* db, bool owns);
  ~SqliteReader() override;

  std::vector<FlowVersionRecord> flow_versions() override;
  std::vector<FlowStateRecord> flow_states() override;
  std::vector<JourneyRecord> live_journeys(const std::string& flow, int64_t after_id,
                                           size_t limit) override;

  std::optional<std::string> profile(const std::string& user_id) override;
  StoredNames stored_names(size_t rows, size_t limit) override;

  std::optional<JourneyRecord> journey(int64_t id) override;

  std::vector<JourneyRecord> journeys_of(const std::string& user_id,
                                         const std::string& flow) override;

  std::vector<StepRecord> steps(int64_t journey_id) override;

  std::vector<DeliveryRecord> deliveries(const std::string& user_id, const std::string& flow,
                                         size_t limit) override;

  // From the all-time rollups and journey_counts: a few hundred rows
  // whatever the number of journeys (docs/results.md#rollups).
  FlowCounts counts(const std::string& flow) override;
  // The same counted from every journey's history and delivery, as before
  // rollups existed: what a store upgraded from schema 10 or older fills them from.
  FlowCounts scanned_counts(const std::string& flow);

  std::vector<RollupRow> rollup_totals(const std::string& flow) override {
    return rollups_.totals(flow);
  }
  std::vector<RollupRow> rollup_hours(const std::string& flow, TimeMs from, TimeMs to) override {
    return rollups_.flow_hours(flow, from, to);
  }
  std::vector<MessageRollupRow> message_rollups(const std::string& flow, bool all_time, TimeMs from,
                                                TimeMs to) override {
    return rollups_.messages(flow, all_time, from, to);
  }
  std::vector<MessageHour> message_hours(const std::string& flow, TimeMs from, TimeMs to) override {
    return rollups_.message_hours(flow, from, to);
  }
  std::vector<EdgeRow> rollup_edges(const std::string& flow) override {
    return rollups_.edges(flow);
  }
  std::vector<JourneySummary> flow_journeys(const JourneyQuery& query) override {
    return rollups_.journeys(query);
  }
  SqliteRollups& rollups() { return rollups_; }

  FlowTotals totals(const std::string& flow) override;
  // The flow's journeys by node and state (journey_counts), held-out ones left out.
  std::vector<StateCount> states(const std::string& flow);

  std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) override;

  std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                    size_t limit) override;

  std::optional<TimeMs> next_timer_due() override;

  std::optional<DeliveryRecord> delivery(int64_t id) override;

  std::optional<DeliveryRecord> delivery_by_key(const std::string& key) override;

  std::vector<ConsentRecord> consent(const std::string& user_id) override;

  std::vector<ReleasedMessage> released_since(const std::string& user_id, TimeMs since) override;

  std::optional<TimeMs> next_deferred_due() override;

  int64_t pending_timer_count() override;

  int64_t coupon_codes_left(const std::string& pool) override;

  std::optional<std::string> merged_into(const std::string& anonymous_id) override;

  std::vector<std::string> merged_ids(const std::string& user_id) override;

  std::vector<RetainedEvent> retained_events(const RetainedEventQuery& query) override;
  BehaviourRecord behaviour(const std::string& user_id) override;
  std::vector<BroadcastRecord> broadcasts(const std::string& flow) override;
  std::vector<std::pair<std::string, std::string>> profiles_after(const std::string& after,
                                                                  size_t limit) override;
  int64_t profile_count() override;

  // The writer's reader decodes with the writer's dictionary, which holds
  // the words of its open transaction too.
  void use_words(step_codec::Words* words) { words_ = words; }
  // The writer's reader reports a failed read into the writer's transaction
  // error (the store contract: a failed read fails the transaction).
  void report_errors_to(std::string* sink) { errors_ = sink; }

 protected:
  sqlite3* db_;
  bool owns_;
  SqliteRollups rollups_;

 private:
  // Expands the step_groups rows of a journey into one StepRecord per node.
  void append_grouped_steps(int64_t journey_id, const std::string& user_id,
                            std::vector<StepRecord>& out);

  // Decodes a history whose first step is `seq`: compact (step_codec), or a
  // JSON array of {node, input, reason[, at]} written before schema 6, from a
  // step_groups row (one `at` for all) or a journey's history (each its own).
  void append_encoded_steps(const std::string& text, int64_t journey_id, int seq, TimeMs at,
                            const std::string& flow, const std::string& user_id,
                            std::vector<StepRecord>& out);

  static void append_json_steps(const std::string& text, int64_t journey_id, int seq, TimeMs at,
                                const std::string& flow, std::vector<StepRecord>& out);

  Stmt flow_versions_, flow_states_, live_journeys_, profile_, journey_, journeys_of_, steps_,
      step_groups_, history_, deliveries_, next_due_, timer_count_, coupons_left_, entered_,
      entered_grouped_, entered_inline_, encoded_grouped_, encoded_inline_, by_state_, variants_,
      pending_, delivery_, delivery_by_key_, consent_, released_, next_deferred_, messages_,
      pending_of_, merged_into_, merged_ids_, retained_, retained_of_user_, trait_names_,
      journey_events_, behaviour_counts_, behaviour_seen_, broadcasts_, profiles_after_,
      profile_count_;
  ReaderWords own_words_;
  step_codec::Words* words_ = &own_words_;
  std::string* errors_ = nullptr;  // where failed reads are reported; null: nowhere

 public:
  // The JSON steps of rows written before schema 6 (append_history converts them).
  static std::vector<StepRecord> json_steps(const std::string& text, int seq);
};

}  // namespace trellis::runtime::sqlite

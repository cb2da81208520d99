// The PostgreSQL store's reads: every read-only view, and the writer's reads
// inside its transaction (on the writer's connection, so that it reads its
// own writes).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runtime/postgres/connection.h"
#include "runtime/postgres/words.h"
#include "runtime/stored_counts.h"
#include "runtime/store.h"

namespace trellis::runtime::postgres {

class Reader : public StoreReader {
 public:
  // `conn` and `words` are borrowed. `errors` (null: none) receives the first
  // failed read (the writer's transaction error); `reconnect` lets a
  // read-only view connect again after the server went away.
  Reader(Connection& conn, step_codec::Words& words, std::optional<Error>* errors, bool reconnect)
      : conn_(conn), words_(words), errors_(errors), reconnect_(reconnect) {}

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
  // From the all-time rollups and the journeys by node and state (rollups.cpp).
  FlowCounts counts(const std::string& flow) override;
  FlowTotals totals(const std::string& flow) override;
  // The same counted from every journey's history and delivery: what a
  // database that held journeys before schema 5 fills its rollups from.
  FlowCounts scanned_counts(const std::string& flow);
  // The flow's journeys by node and state, held-out ones left out.
  std::vector<StateCount> states(const std::string& flow);
  // Flow results (rollups.cpp).
  std::vector<RollupRow> rollup_totals(const std::string& flow) override;
  std::vector<RollupRow> rollup_hours(const std::string& flow, TimeMs from, TimeMs to) override;
  std::vector<MessageRollupRow> message_rollups(const std::string& flow, bool all_time, TimeMs from,
                                                TimeMs to) override;
  std::vector<MessageHour> message_hours(const std::string& flow, TimeMs from, TimeMs to) override;
  std::vector<EdgeRow> rollup_edges(const std::string& flow) override;
  std::vector<JourneySummary> flow_journeys(const JourneyQuery& query) override;
  std::optional<TimeMs> next_timer_due() override;
  int64_t pending_timer_count() override;
  int64_t coupon_codes_left(const std::string& pool) override;
  std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) override;
  std::optional<DeliveryRecord> delivery(int64_t id) override;
  std::optional<DeliveryRecord> delivery_by_key(const std::string& key) override;
  std::vector<ConsentRecord> consent(const std::string& user_id) override;
  std::vector<ReleasedMessage> released_since(const std::string& user_id, TimeMs since) override;
  std::optional<TimeMs> next_deferred_due() override;
  std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                    size_t limit) override;
  std::optional<std::string> merged_into(const std::string& anonymous_id) override;
  std::vector<std::string> merged_ids(const std::string& user_id) override;
  std::vector<RetainedEvent> retained_events(const RetainedEventQuery& query) override;
  BehaviourRecord behaviour(const std::string& user_id) override;
  std::vector<BroadcastRecord> broadcasts(const std::string& flow) override;
  std::vector<std::pair<std::string, std::string>> profiles_after(const std::string& after,
                                                                  size_t limit) override;
  int64_t profile_count() override;

 protected:
  // Runs a read; on failure reports it and returns an empty result.
  std::optional<Rows> query(const char* name, const char* sql, const Params& params = Params());
  std::vector<DeliveryRecord> delivery_list(const char* name, const char* sql,
                                            const Params& params);

  Connection& conn_;
  step_codec::Words& words_;
  std::optional<Error>* errors_;
  bool reconnect_;
};

// A read-only view on a connection of its own.
class OwnedReader final : public Reader {
 public:
  OwnedReader(std::unique_ptr<Connection> conn, std::unique_ptr<Words> words)
      : Reader(*conn, *words, nullptr, /*reconnect=*/true),
        conn_owned_(std::move(conn)),
        words_owned_(std::move(words)) {}

 private:
  std::unique_ptr<Connection> conn_owned_;
  std::unique_ptr<Words> words_owned_;
};

}  // namespace trellis::runtime::postgres

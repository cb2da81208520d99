// The SQLite side of flow results (docs/results.md#rollups): writes a commit
// batch's rollups and reads rollups, message counts and arrows back. Self-
// contained over a connection the store owns (the tables come from the
// store's migrations); the store forwards its Store/StoreReader calls here.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "dsl/ir/result.h"
#include "runtime/rollups.h"
#include "runtime/store.h"

namespace trellis::runtime::sqlite {

class SqliteRollups {
 public:
  explicit SqliteRollups(sqlite3* db);
  ~SqliteRollups();
  SqliteRollups(const SqliteRollups&) = delete;
  SqliteRollups& operator=(const SqliteRollups&) = delete;

  // Inside the store's open transaction: one upsert per key for its hour and
  // one for all time.
  Status add(const RollupBatch& batch);
  // Deletes hourly rows (not the all-time ones) of hours before `before`.
  int64_t prune(TimeMs before);

  std::vector<RollupRow> totals(const std::string& flow);  // hour = kAllTimeHour
  // The flow itself (node "") by the hour in [from, to), summed over
  // versions and variants (StoreReader::rollup_hours).
  std::vector<RollupRow> flow_hours(const std::string& flow, TimeMs from, TimeMs to);
  // Message rows: all time when `all_time`, else hourly in [from, to).
  std::vector<MessageRollupRow> messages(const std::string& flow, bool all_time, TimeMs from,
                                         TimeMs to);
  std::vector<MessageHour> message_hours(const std::string& flow, TimeMs from, TimeMs to);
  std::vector<EdgeRow> edges(const std::string& flow);
  // The drill-down list (JourneyQuery), by id descending, read in
  // its id order (no index by node): a rare filter scans the flow's journeys.
  std::vector<JourneySummary> journeys(const JourneyQuery& query);

 private:
  struct Statements;
  sqlite3* db_;
  std::unique_ptr<Statements> s_;
};

// Migration SQL for the rollup tables and the triggers that keep message
// rollups with every delivery write (runtime/SCHEMA.md).
extern const char* const kRollupsMigration;

}  // namespace trellis::runtime::sqlite

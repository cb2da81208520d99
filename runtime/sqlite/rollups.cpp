#include "runtime/sqlite/rollups.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <variant>

#include "runtime/sqlite/rows.h"
#include "runtime/sqlite/statement.h"
#include "runtime/stored_counts.h"

namespace trellis::runtime::sqlite {

// New messages come in the step function's batch (RollupBatch::messages, one
// upsert per key and commit, as cheap as the other rollups); after that,
// message rollups follow the deliveries table by triggers, so that every path
// that changes a delivery's status (the release pass, the dispatcher,
// provider feedback) keeps them in its own transaction. Status -1 rows hold
// the feedback counts (deliveries that got each kind at least once).
const char* const kRollupsMigration = R"sql(
ALTER TABLE journeys ADD COLUMN revenue REAL;
ALTER TABLE journeys ADD COLUMN last_message TEXT NOT NULL DEFAULT '';
ALTER TABLE journeys ADD COLUMN converted_after TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN variant TEXT NOT NULL DEFAULT '';
CREATE TABLE rollups(
  flow TEXT NOT NULL, hour INTEGER NOT NULL, version INTEGER NOT NULL, node TEXT NOT NULL,
  variant TEXT NOT NULL, entered INTEGER NOT NULL, exited INTEGER NOT NULL,
  converted INTEGER NOT NULL, revenue REAL NOT NULL, revenue_sq REAL NOT NULL,
  PRIMARY KEY(flow, hour, version, node, variant)) WITHOUT ROWID;
CREATE TABLE rollup_edges(
  flow TEXT NOT NULL, version INTEGER NOT NULL, from_node TEXT NOT NULL, to_node TEXT NOT NULL,
  journeys INTEGER NOT NULL, PRIMARY KEY(flow, version, from_node, to_node)) WITHOUT ROWID;
CREATE TABLE message_rollups(
  flow TEXT NOT NULL, hour INTEGER NOT NULL, version INTEGER NOT NULL, node TEXT NOT NULL,
  channel TEXT NOT NULL, variant TEXT NOT NULL, status INTEGER NOT NULL,
  messages INTEGER NOT NULL, delivered INTEGER NOT NULL, opened INTEGER NOT NULL,
  clicked INTEGER NOT NULL, bounced INTEGER NOT NULL, complained INTEGER NOT NULL,
  PRIMARY KEY(flow, hour, version, node, channel, variant, status)) WITHOUT ROWID;
INSERT INTO message_rollups
  SELECT flow, hour, flow_version, node, channel, '', status, count(*), 0, 0, 0, 0, 0
  FROM (SELECT *, at - (at % 3600000) AS hour FROM deliveries UNION ALL
        SELECT *, -1 FROM deliveries)
  WHERE channel != 'coupon' GROUP BY flow, hour, flow_version, node, channel, status;
INSERT INTO message_rollups
  SELECT flow, hour, flow_version, node, channel, '', -1, 0, count(delivered_at),
    count(opened_at), count(clicked_at), count(bounced_at), count(complained_at)
  FROM (SELECT *, at - (at % 3600000) AS hour FROM deliveries UNION ALL
        SELECT *, -1 FROM deliveries)
  WHERE channel != 'coupon' GROUP BY flow, hour, flow_version, node, channel;
CREATE TRIGGER message_rollups_status AFTER UPDATE OF status ON deliveries
  WHEN new.channel != 'coupon' AND old.status <> new.status
BEGIN
  UPDATE message_rollups SET messages = messages - 1
    WHERE flow = old.flow AND hour IN (old.at - (old.at % 3600000), -1)
      AND version = old.flow_version AND node = old.node AND channel = old.channel
      AND variant = old.variant AND status = old.status;
  INSERT INTO message_rollups VALUES
    (new.flow, new.at - (new.at % 3600000), new.flow_version, new.node, new.channel,
     new.variant, new.status, 1, 0, 0, 0, 0, 0),
    (new.flow, -1, new.flow_version, new.node, new.channel, new.variant, new.status,
     1, 0, 0, 0, 0, 0)
  ON CONFLICT DO UPDATE SET messages = messages + 1;
END;
CREATE TRIGGER message_rollups_feedback AFTER UPDATE ON deliveries
  WHEN new.channel != 'coupon' AND (
    (old.delivered_at IS NULL AND new.delivered_at IS NOT NULL) OR
    (old.opened_at IS NULL AND new.opened_at IS NOT NULL) OR
    (old.clicked_at IS NULL AND new.clicked_at IS NOT NULL) OR
    (old.bounced_at IS NULL AND new.bounced_at IS NOT NULL) OR
    (old.complained_at IS NULL AND new.complained_at IS NOT NULL))
BEGIN
  INSERT INTO message_rollups
    SELECT new.flow, h.hour, new.flow_version, new.node, new.channel, new.variant, -1, 0,
      old.delivered_at IS NULL AND new.delivered_at IS NOT NULL,
      old.opened_at IS NULL AND new.opened_at IS NOT NULL,
      old.clicked_at IS NULL AND new.clicked_at IS NOT NULL,
      old.bounced_at IS NULL AND new.bounced_at IS NOT NULL,
      old.complained_at IS NULL AND new.complained_at IS NOT NULL
    FROM (SELECT new.at - (new.at % 3600000) AS hour UNION ALL SELECT -1) h WHERE true
  ON CONFLICT DO UPDATE SET delivered = delivered + excluded.delivered,
    opened = opened + excluded.opened, clicked = clicked + excluded.clicked,
    bounced = bounced + excluded.bounced, complained = complained + excluded.complained;
END;
INSERT INTO meta(k, v) SELECT 'rollups_backfill', 'pending' WHERE EXISTS (SELECT 1 FROM journeys);
)sql";

struct SqliteRollups::Statements {
  Stmt upsert, upsert_edge, upsert_message, prune_rows, prune_messages, totals, flow_hours,
      messages_all, messages_hours, message_series, edges;

  explicit Statements(sqlite3* db)
      : upsert(db,
               "INSERT INTO rollups VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
               "ON CONFLICT DO UPDATE SET entered = entered + excluded.entered, "
               "exited = exited + excluded.exited, "
               "converted = converted + excluded.converted, "
               "revenue = revenue + excluded.revenue, "
               "revenue_sq = revenue_sq + excluded.revenue_sq"),
        upsert_edge(db,
                    "INSERT INTO rollup_edges VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO "
                    "UPDATE SET journeys = journeys + excluded.journeys"),
        upsert_message(db,
                       "INSERT INTO message_rollups VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                       "0, 0, 0, 0, 0) ON CONFLICT DO UPDATE SET messages = messages + "
                       "excluded.messages"),
        prune_rows(db, "DELETE FROM rollups WHERE hour >= 0 AND hour < ?1"),
        prune_messages(db, "DELETE FROM message_rollups WHERE hour >= 0 AND hour < ?1"),
        totals(
            db,
            sql("SELECT ", kRollupColumns, " FROM rollups WHERE flow = ?1 AND hour = -1").c_str()),
        flow_hours(db, rollup_hours_sql('?').c_str()),
        messages_all(db, sql("SELECT ", kMessageRollupColumns,
                             " FROM message_rollups WHERE flow = ?1 AND hour = -1")
                             .c_str()),
        messages_hours(db, sql("SELECT ", kMessageRollupColumns,
                               " FROM message_rollups WHERE flow = ?1 AND hour >= ?2 AND "
                               "hour < ?3")
                               .c_str()),
        message_series(db, message_hours_sql('?').c_str()),
        edges(db, sql("SELECT ", kEdgeColumns, " FROM rollup_edges WHERE flow = ?1").c_str()) {}
};

SqliteRollups::SqliteRollups(sqlite3* db) : db_(db), s_(std::make_unique<Statements>(db)) {}
SqliteRollups::~SqliteRollups() = default;

Status SqliteRollups::add(const RollupBatch& batch) {
  std::string error;
  for (const auto& [key, counts] : rollup_rows_to_write(batch)) {
    Use u(s_->upsert);
    u->bind(1, key.flow)
        .bind(2, key.hour)
        .bind(3, key.version)
        .bind(4, key.node)
        .bind(5, key.variant)
        .bind(6, counts.entered)
        .bind(7, counts.exited)
        .bind(8, counts.converted)
        .bind(9, std::optional<double>(counts.revenue))
        .bind(10, std::optional<double>(counts.revenue_sq));
    u->step(&error);
    if (!error.empty()) return Error{"rollups: " + error};
  }
  for (const auto& [key, n] : message_rows_to_write(batch)) {
    Use u(s_->upsert_message);
    u->bind(1, key.flow)
        .bind(2, key.hour)
        .bind(3, key.version)
        .bind(4, key.node)
        .bind(5, key.channel)
        .bind(6, key.variant)
        .bind(7, key.status)
        .bind(8, n);
    u->step(&error);
    if (!error.empty()) return Error{"rollups: " + error};
  }
  for (const auto& [key, journeys] : batch.edges) {
    Use u(s_->upsert_edge);
    u->bind(1, key.flow).bind(2, key.version).bind(3, key.from).bind(4, key.to).bind(5, journeys);
    u->step(&error);
    if (!error.empty()) return Error{"rollups: " + error};
  }
  return {};
}

int64_t SqliteRollups::prune(TimeMs before) {
  int64_t removed = 0;
  for (Stmt* s : {&s_->prune_rows, &s_->prune_messages}) {
    Use u(*s);
    u->bind(1, before);
    std::string error;
    u->step(&error);
    if (error.empty()) removed += sqlite3_changes(db_);
  }
  return removed;
}

std::vector<RollupRow> SqliteRollups::totals(const std::string& flow) {
  std::vector<RollupRow> out;
  Use u(s_->totals);
  u->bind(1, flow);
  while (u->step()) out.push_back(read_rollup_row(u.stmt, flow));
  return out;
}

std::vector<RollupRow> SqliteRollups::flow_hours(const std::string& flow, TimeMs from, TimeMs to) {
  std::vector<RollupRow> out;
  Use u(s_->flow_hours);
  u->bind(1, flow).bind(2, std::max<TimeMs>(from, 0)).bind(3, to);
  while (u->step()) out.push_back(read_rollup_row(u.stmt, flow));
  return out;
}

std::vector<MessageRollupRow> SqliteRollups::messages(const std::string& flow, bool all_time,
                                                      TimeMs from, TimeMs to) {
  std::vector<MessageRollupRow> out;
  Use u(all_time ? s_->messages_all : s_->messages_hours);
  u->bind(1, flow);
  if (!all_time) u->bind(2, std::max<TimeMs>(from, 0)).bind(3, to);
  while (u->step()) out.push_back(read_message_rollup_row(u.stmt));
  return out;
}

std::vector<MessageHour> SqliteRollups::message_hours(const std::string& flow, TimeMs from,
                                                      TimeMs to) {
  std::vector<MessageHour> out;
  Use u(s_->message_series);
  u->bind(1, flow).bind(2, std::max<TimeMs>(from, 0)).bind(3, to);
  while (u->step()) out.push_back(read_message_hour(u.stmt));
  return out;
}

std::vector<EdgeRow> SqliteRollups::edges(const std::string& flow) {
  std::vector<EdgeRow> out;
  Use u(s_->edges);
  u->bind(1, flow);
  while (u->step()) out.push_back(read_edge_row(u.stmt, flow));
  return out;
}

std::vector<JourneySummary> SqliteRollups::journeys(const JourneyQuery& q) {
  // Prepared per call: the filters vary, and the drill-down is not a hot path.
  const JourneyListSql list = journey_list_sql(q, '?', "instr");
  Stmt stmt(db_, list.sql.c_str());
  for (size_t i = 0; i < list.params.size(); ++i)
    std::visit([&](const auto& value) { stmt.bind(static_cast<int>(i + 1), value); },
               list.params[i]);
  std::vector<JourneySummary> out;
  while (stmt.step()) out.push_back(read_journey_summary(stmt));
  return out;
}

}  // namespace trellis::runtime::sqlite

#include "runtime/sqlite/rollups.h"

#include "runtime/sqlite/statement.h"

#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <map>

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

namespace {

sqlite3_stmt* prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    std::fprintf(stderr, "trellis: bad SQL (%s): %s\n", sqlite3_errmsg(db), sql);
    std::abort();
  }
  return stmt;
}

// Resets a statement when the scope ends, whatever happened.
class Run {
 public:
  explicit Run(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Run() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Run& text(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Run& i64(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Run& real(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  int step() { return sqlite3_step(stmt_); }
  bool row() { return step() == SQLITE_ROW; }
  int64_t col_i64(int i) const { return sqlite3_column_int64(stmt_, i); }
  double col_real(int i) const { return sqlite3_column_double(stmt_, i); }
  std::string col_text(int i) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }

 private:
  sqlite3_stmt* stmt_;
};

RollupRow read_rollup(const Run& r, const std::string& flow) {
  RollupRow row;
  row.key.flow = flow;
  row.key.hour = r.col_i64(0);
  row.key.version = static_cast<int>(r.col_i64(1));
  row.key.node = r.col_text(2);
  row.key.variant = r.col_text(3);
  row.counts.entered = r.col_i64(4);
  row.counts.exited = r.col_i64(5);
  row.counts.converted = r.col_i64(6);
  row.counts.revenue = r.col_real(7);
  row.counts.revenue_sq = r.col_real(8);
  return row;
}

constexpr const char* kRollupColumns =
    "hour, version, node, variant, entered, exited, converted, revenue, revenue_sq";

std::string select_rollups(const char* where) {
  return std::string("SELECT ") + kRollupColumns + " FROM rollups WHERE " + where;
}

}  // namespace

struct SqliteRollups::Statements {
  sqlite3_stmt* upsert;
  sqlite3_stmt* upsert_edge;
  sqlite3_stmt* upsert_message;
  sqlite3_stmt* prune_rows;
  sqlite3_stmt* prune_messages;
  sqlite3_stmt* totals;
  sqlite3_stmt* flow_hours;
  sqlite3_stmt* messages_all;
  sqlite3_stmt* messages_hours;
  sqlite3_stmt* edges;

  explicit Statements(sqlite3* db)
      : upsert(prepare(db,
                       "INSERT INTO rollups VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
                       "ON CONFLICT DO UPDATE SET entered = entered + excluded.entered, "
                       "exited = exited + excluded.exited, "
                       "converted = converted + excluded.converted, "
                       "revenue = revenue + excluded.revenue, "
                       "revenue_sq = revenue_sq + excluded.revenue_sq")),
        upsert_edge(prepare(db,
                            "INSERT INTO rollup_edges VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT DO "
                            "UPDATE SET journeys = journeys + excluded.journeys")),
        upsert_message(prepare(db,
                               "INSERT INTO message_rollups VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                               "0, 0, 0, 0, 0) ON CONFLICT DO UPDATE SET messages = messages + "
                               "excluded.messages")),
        prune_rows(prepare(db, "DELETE FROM rollups WHERE hour >= 0 AND hour < ?1")),
        prune_messages(prepare(db, "DELETE FROM message_rollups WHERE hour >= 0 AND hour < ?1")),
        totals(prepare(db, select_rollups("flow = ?1 AND hour = -1").c_str())),
        flow_hours(prepare(
            db, select_rollups("flow = ?1 AND hour >= ?2 AND hour < ?3 AND node = ''").c_str())),
        messages_all(prepare(db,
                             "SELECT hour, version, node, channel, variant, status, messages, "
                             "delivered, opened, clicked, bounced, complained FROM message_rollups "
                             "WHERE flow = ?1 AND hour = -1")),
        messages_hours(prepare(db,
                               "SELECT hour, version, node, channel, variant, status, messages, "
                               "delivered, opened, clicked, bounced, complained FROM "
                               "message_rollups WHERE flow = ?1 AND hour >= ?2 AND hour < ?3")),
        edges(prepare(db,
                      "SELECT version, from_node, to_node, journeys FROM rollup_edges WHERE "
                      "flow = ?1")) {}
  ~Statements() {
    for (sqlite3_stmt* s : {upsert, upsert_edge, upsert_message, prune_rows, prune_messages, totals, flow_hours,
                            messages_all, messages_hours, edges})
      sqlite3_finalize(s);
  }
};

SqliteRollups::SqliteRollups(sqlite3* db) : db_(db), s_(std::make_unique<Statements>(db)) {}
SqliteRollups::~SqliteRollups() = default;

Status SqliteRollups::add(const RollupBatch& batch) {
  // The all-time sums first, so each all-time key is written once however
  // many hours the batch spans.
  std::map<RollupKey, RollupCounts> all_time;
  for (const auto& [key, counts] : batch.rows) {
    RollupKey total = key;
    total.hour = kAllTimeHour;
    all_time[total] += counts;
  }
  const std::map<RollupKey, RollupCounts>* sources[] = {&batch.rows, &all_time};
  for (const auto* rows : sources) {
    for (const auto& [key, counts] : *rows) {
      if (rows == &batch.rows && key.hour == kAllTimeHour) continue;  // all-time only
      Run r(s_->upsert);
      r.text(1, key.flow)
          .i64(2, key.hour)
          .i64(3, key.version)
          .text(4, key.node)
          .text(5, key.variant)
          .i64(6, counts.entered)
          .i64(7, counts.exited)
          .i64(8, counts.converted)
          .real(9, counts.revenue)
          .real(10, counts.revenue_sq);
      if (r.step() != SQLITE_DONE) return Error{std::string("rollups: ") + sqlite3_errmsg(db_)};
    }
  }
  std::map<MessageKey, int64_t> messages_all_time;
  for (const auto& [key, n] : batch.messages) {
    MessageKey total = key;
    total.hour = kAllTimeHour;
    messages_all_time[total] += n;
  }
  const std::map<MessageKey, int64_t>* message_sources[] = {&batch.messages, &messages_all_time};
  for (const auto* rows : message_sources) {
    for (const auto& [key, n] : *rows) {
      Run r(s_->upsert_message);
      r.text(1, key.flow)
          .i64(2, key.hour)
          .i64(3, key.version)
          .text(4, key.node)
          .text(5, key.channel)
          .text(6, key.variant)
          .i64(7, key.status)
          .i64(8, n);
      if (r.step() != SQLITE_DONE) return Error{std::string("rollups: ") + sqlite3_errmsg(db_)};
    }
  }
  for (const auto& [key, journeys] : batch.edges) {
    Run r(s_->upsert_edge);
    r.text(1, key.flow).i64(2, key.version).text(3, key.from).text(4, key.to).i64(5, journeys);
    if (r.step() != SQLITE_DONE) return Error{std::string("rollups: ") + sqlite3_errmsg(db_)};
  }
  return {};
}

int64_t SqliteRollups::prune(TimeMs before) {
  int64_t removed = 0;
  for (sqlite3_stmt* s : {s_->prune_rows, s_->prune_messages}) {
    Run r(s);
    r.i64(1, before);
    if (r.step() == SQLITE_DONE) removed += sqlite3_changes(db_);
  }
  return removed;
}

std::vector<RollupRow> SqliteRollups::totals(const std::string& flow) {
  std::vector<RollupRow> out;
  Run r(s_->totals);
  r.text(1, flow);
  while (r.row()) out.push_back(read_rollup(r, flow));
  return out;
}

std::vector<RollupRow> SqliteRollups::flow_hours(const std::string& flow, TimeMs from, TimeMs to) {
  std::vector<RollupRow> out;
  Run r(s_->flow_hours);
  r.text(1, flow).i64(2, from).i64(3, to);
  while (r.row()) out.push_back(read_rollup(r, flow));
  return out;
}

std::vector<MessageRollupRow> SqliteRollups::messages(const std::string& flow, bool all_time,
                                                      TimeMs from, TimeMs to) {
  std::vector<MessageRollupRow> out;
  Run r(all_time ? s_->messages_all : s_->messages_hours);
  r.text(1, flow);
  if (!all_time) r.i64(2, from).i64(3, to);
  while (r.row()) {
    MessageRollupRow m;
    m.hour = r.col_i64(0);
    m.version = static_cast<int>(r.col_i64(1));
    m.node = r.col_text(2);
    m.channel = r.col_text(3);
    m.variant = r.col_text(4);
    m.status = static_cast<int>(r.col_i64(5));
    m.messages = r.col_i64(6);
    m.delivered = r.col_i64(7);
    m.opened = r.col_i64(8);
    m.clicked = r.col_i64(9);
    m.bounced = r.col_i64(10);
    m.complained = r.col_i64(11);
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<EdgeRow> SqliteRollups::edges(const std::string& flow) {
  std::vector<EdgeRow> out;
  Run r(s_->edges);
  r.text(1, flow);
  while (r.row()) {
    EdgeRow e;
    e.key.flow = flow;
    e.key.version = static_cast<int>(r.col_i64(0));
    e.key.from = r.col_text(1);
    e.key.to = r.col_text(2);
    e.journeys = r.col_i64(3);
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<JourneySummary> SqliteRollups::journeys(const JourneyQuery& q) {
  // Built per call: the filters vary, and the drill-down is not a hot path.
  std::string sql =
      "SELECT id, user_id, state, node, variant, entered_at, converted_at, revenue FROM journeys "
      "WHERE flow = ?1 AND id < ?2";
  sql += q.node.empty() ? " AND node != '~holdout'" : " AND node = ?3";
  if (q.converted_only) sql += " AND converted_at IS NOT NULL";
  if (!q.states.empty()) {
    sql += " AND state IN (";
    for (size_t i = 0; i < q.states.size(); ++i)
      sql += (i ? "," : "") + std::to_string(static_cast<int>(q.states[i]));
    sql += ")";
  }
  if (!q.variant.empty()) sql += " AND (';' || variant || ';') LIKE ('%;' || ?4 || ';%')";
  sql += " ORDER BY id DESC LIMIT ?5";
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) return {};
  std::vector<JourneySummary> out;
  {
    Run r(stmt);
    r.text(1, q.flow).i64(2, q.before > 0 ? q.before : INT64_MAX);
    if (!q.node.empty()) r.text(3, q.node);
    if (!q.variant.empty()) r.text(4, q.variant);
    r.i64(5, static_cast<int64_t>(q.limit));
    while (r.row()) {
      JourneySummary j;
      j.id = r.col_i64(0);
      j.user_id = r.col_text(1);
      j.state = static_cast<Lifecycle>(r.col_i64(2));
      j.node = r.col_text(3);
      j.variant = r.col_text(4);
      j.entered_at = r.col_i64(5);
      if (sqlite3_column_type(stmt, 6) != SQLITE_NULL) j.converted_at = r.col_i64(6);
      if (sqlite3_column_type(stmt, 7) != SQLITE_NULL) j.revenue = r.col_real(7);
      out.push_back(std::move(j));
    }
  }
  sqlite3_finalize(stmt);
  return out;
}

}  // namespace trellis::runtime::sqlite

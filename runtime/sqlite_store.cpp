#include "runtime/sqlite_store.h"

#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

#include "runtime/step_codec.h"

namespace trellis::runtime {

namespace {

// The schema as its history: migration N takes a file from schema version N-1
// to N, in one transaction with the version it records in `meta`. A new file
// runs them all; an older file runs the ones it lacks. SCHEMA.md explains each
// table. Released migrations are never edited: a change adds a migration.
constexpr const char* kMigrations[] = {
    // Version 1: the first schema.
    R"sql(
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS flow_versions(
  name TEXT NOT NULL, version INTEGER NOT NULL, source TEXT NOT NULL,
  deployed_at INTEGER NOT NULL, PRIMARY KEY(name, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profiles(
  user_id TEXT PRIMARY KEY, traits TEXT NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events_seen(
  id TEXT PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_seen_by_at ON events_seen(at);
CREATE TABLE IF NOT EXISTS journeys(
  id INTEGER PRIMARY KEY, flow TEXT NOT NULL, version INTEGER NOT NULL,
  user_id TEXT NOT NULL, key TEXT NOT NULL, state INTEGER NOT NULL, node TEXT NOT NULL,
  waiting_for TEXT NOT NULL, visits TEXT NOT NULL, coupon_code TEXT NOT NULL,
  variant TEXT NOT NULL, trigger_event TEXT NOT NULL, last_event TEXT NOT NULL,
  steps INTEGER NOT NULL, entered_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  ended_at INTEGER, converted_at INTEGER);
CREATE INDEX IF NOT EXISTS journeys_by_user ON journeys(user_id, flow);
CREATE TABLE IF NOT EXISTS steps(
  journey_id INTEGER NOT NULL, seq INTEGER NOT NULL, flow TEXT NOT NULL, node TEXT NOT NULL,
  input TEXT NOT NULL, at INTEGER NOT NULL, reason TEXT NOT NULL,
  PRIMARY KEY(journey_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers(
  journey_id INTEGER PRIMARY KEY, due INTEGER NOT NULL, node TEXT NOT NULL,
  visit INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS timers_by_due ON timers(due, journey_id);
CREATE TABLE IF NOT EXISTS deliveries(
  id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, journey_id INTEGER NOT NULL,
  channel TEXT NOT NULL, user_id TEXT NOT NULL, flow TEXT NOT NULL,
  flow_version INTEGER NOT NULL, node TEXT NOT NULL, at INTEGER NOT NULL,
  to_addr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL,
  status INTEGER NOT NULL, attempts INTEGER NOT NULL, next_attempt_at INTEGER NOT NULL,
  last_error TEXT NOT NULL, sent_at INTEGER);
CREATE INDEX IF NOT EXISTS deliveries_pending ON deliveries(next_attempt_at, id) WHERE status = 0;
CREATE INDEX IF NOT EXISTS deliveries_by_user ON deliveries(user_id, flow);
CREATE TABLE IF NOT EXISTS delivery_attempts(
  delivery_id INTEGER NOT NULL, attempt INTEGER NOT NULL, at INTEGER NOT NULL,
  error TEXT NOT NULL, dead INTEGER NOT NULL, PRIMARY KEY(delivery_id, attempt)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS coupon_codes(
  id INTEGER PRIMARY KEY, pool TEXT NOT NULL, code TEXT NOT NULL,
  claimed_by INTEGER, claimed_at INTEGER, UNIQUE(pool, code));
CREATE INDEX IF NOT EXISTS coupon_codes_free ON coupon_codes(pool, id) WHERE claimed_by IS NULL;
)sql",
    R"sql(
-- Version 2: a wake that runs several nodes writes them as one row (a JSON array of
-- {node, input, reason}; `seq` is the first step's) instead of one row each.
CREATE TABLE IF NOT EXISTS step_groups(
  journey_id INTEGER NOT NULL, seq INTEGER NOT NULL, flow TEXT NOT NULL, at INTEGER NOT NULL,
  steps TEXT NOT NULL, PRIMARY KEY(journey_id, seq)) WITHOUT ROWID;
)sql",
    // Version 3: a journey's timer and its newest steps live in its own row (it
    // has at most one timer), so a step writes one row: arming, firing and
    // cancelling the timer and recording the step history ride on the journey
    // update, and catch-up reads due journeys straight from one index.
    R"sql(
ALTER TABLE journeys ADD COLUMN timer_due INTEGER;
ALTER TABLE journeys ADD COLUMN timer_node TEXT;
ALTER TABLE journeys ADD COLUMN timer_visit INTEGER;
UPDATE journeys SET timer_due = t.due, timer_node = t.node, timer_visit = t.visit
  FROM timers t WHERE t.journey_id = journeys.id;
DROP TABLE timers;
CREATE INDEX journeys_by_timer ON journeys(timer_due, id) WHERE timer_due IS NOT NULL;
ALTER TABLE journeys ADD COLUMN history TEXT NOT NULL DEFAULT '[]';
ALTER TABLE journeys ADD COLUMN history_seq INTEGER NOT NULL DEFAULT 0;
UPDATE journeys SET history_seq = steps;
)sql",
    // Version 4: governed delivery. Consent per user and channel (the newest
    // record only); each delivery's flow category and priority, when it was
    // released (caps count from then) and the provider's feedback: the newest,
    // and the first time of each kind for per-node counts. Indexes for a
    // user's released messages (caps) and for deferred deliveries by due time
    // (the release pass).
    R"sql(
CREATE TABLE consent(
  user_id TEXT NOT NULL, channel TEXT NOT NULL, subscribed INTEGER NOT NULL, at INTEGER NOT NULL,
  reason TEXT NOT NULL, PRIMARY KEY(user_id, channel)) WITHOUT ROWID;
ALTER TABLE deliveries ADD COLUMN category TEXT NOT NULL DEFAULT 'marketing';
ALTER TABLE deliveries ADD COLUMN priority INTEGER NOT NULL DEFAULT 50;
ALTER TABLE deliveries ADD COLUMN release_at INTEGER;
UPDATE deliveries SET release_at = at;
ALTER TABLE deliveries ADD COLUMN feedback TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN feedback_at INTEGER;
ALTER TABLE deliveries ADD COLUMN delivered_at INTEGER;
ALTER TABLE deliveries ADD COLUMN opened_at INTEGER;
ALTER TABLE deliveries ADD COLUMN clicked_at INTEGER;
ALTER TABLE deliveries ADD COLUMN bounced_at INTEGER;
ALTER TABLE deliveries ADD COLUMN complained_at INTEGER;
CREATE INDEX deliveries_released ON deliveries(user_id, release_at) WHERE status IN (0, 1, 2);
CREATE INDEX deliveries_deferred ON deliveries(next_attempt_at, id) WHERE status = 3;
)sql",
    // Version 5: the dispatcher reads each channel's due deliveries on its own
    // (a backlog on one channel must not hide another's), in due order.
    R"sql(
CREATE INDEX deliveries_pending_by_channel ON deliveries(channel, next_attempt_at, id)
  WHERE status = 0;
)sql",
    // Version 6: compact step history (runtime/step_codec.h). New steps are
    // written as a BLOB of small integers that refer to this dictionary of node
    // names, inputs and reason shapes; rows written before keep their JSON
    // (TEXT) until their journey's next step rewrites them in the new form.
    R"sql(
CREATE TABLE step_words(id INTEGER PRIMARY KEY, text BLOB NOT NULL);
)sql",
    // Version 7: journeys by flow, node and state, with their conversions and
    // armed timers, kept by triggers in the transaction of every journey
    // write, so that the flow list, stats and /metrics read a few rows
    // instead of counting every journey.
    R"sql(
CREATE TABLE journey_counts(
  flow TEXT NOT NULL, node TEXT NOT NULL, state INTEGER NOT NULL, journeys INTEGER NOT NULL,
  conversions INTEGER NOT NULL, timers INTEGER NOT NULL,
  PRIMARY KEY(flow, node, state)) WITHOUT ROWID;
INSERT INTO journey_counts
  SELECT flow, node, state, count(*), count(converted_at), count(timer_due) FROM journeys
  GROUP BY flow, node, state;
CREATE TRIGGER journey_counts_insert AFTER INSERT ON journeys BEGIN
  INSERT INTO journey_counts VALUES(new.flow, new.node, new.state, 1,
    new.converted_at IS NOT NULL, new.timer_due IS NOT NULL)
  ON CONFLICT DO UPDATE SET journeys = journeys + 1,
    conversions = conversions + excluded.conversions, timers = timers + excluded.timers;
END;
CREATE TRIGGER journey_counts_update AFTER UPDATE ON journeys
  WHEN old.flow IS NOT new.flow OR old.node IS NOT new.node OR old.state IS NOT new.state
    OR (old.converted_at IS NULL) <> (new.converted_at IS NULL)
    OR (old.timer_due IS NULL) <> (new.timer_due IS NULL)
BEGIN
  UPDATE journey_counts SET journeys = journeys - 1,
    conversions = conversions - (old.converted_at IS NOT NULL),
    timers = timers - (old.timer_due IS NOT NULL)
  WHERE flow = old.flow AND node = old.node AND state = old.state;
  INSERT INTO journey_counts VALUES(new.flow, new.node, new.state, 1,
    new.converted_at IS NOT NULL, new.timer_due IS NOT NULL)
  ON CONFLICT DO UPDATE SET journeys = journeys + 1,
    conversions = conversions + excluded.conversions, timers = timers + excluded.timers;
END;
CREATE TRIGGER journey_counts_delete AFTER DELETE ON journeys BEGIN
  UPDATE journey_counts SET journeys = journeys - 1,
    conversions = conversions - (old.converted_at IS NOT NULL),
    timers = timers - (old.timer_due IS NOT NULL)
  WHERE flow = old.flow AND node = old.node AND state = old.state;
END;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// A journey row keeps its newest steps up to about this size (most journeys'
// whole history: a step is about 8 to 20 bytes); older steps move to a
// step_groups row, written once, so that the row every step rewrites stays small.
constexpr size_t kInlineHistoryBytes = 512;

// The dictionary of step words stops growing here; a text it lacks is then
// stored in the step itself. It bounds the memory the writer keeps for it
// (reason shapes vary with what flows print, not with journeys).
constexpr size_t kMaxStepWords = 65536;

// A prepared statement, reset after each use. Preparation failures are
// programming errors in the SQL above, so they abort with the message.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "trellis: bad SQL (%s): %s\n", sqlite3_errmsg(db), sql);
      std::abort();
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_blob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // A compact form (step_codec) as a BLOB, copied (it is a temporary); any
  // other text as TEXT, borrowed.
  Stmt& bind_compact(int i, const std::string& original, std::string compact) {
    if (!step_codec::is_encoded(compact)) return bind(i, original);
    sqlite3_bind_blob(stmt_, i, compact.data(), static_cast<int>(compact.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, const std::optional<int64_t>& v) {
    if (v)
      sqlite3_bind_int64(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // True while rows come; false when done. Errors set `error` (if given).
  bool step(std::string* error = nullptr) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE && error && error->empty()) *error = sqlite3_errmsg(db_);
    return false;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
  std::optional<int64_t> opt_i64(int c) const {
    if (sqlite3_column_type(stmt_, c) == SQLITE_NULL) return std::nullopt;
    return i64(c);
  }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, c)) : std::string();
  }
  // A TEXT or BLOB column's bytes as they are.
  std::string bytes(int c) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, c)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets the statement when a scope ends, so early returns cannot leak a
// statement that holds a read snapshot open.
struct Use {
  explicit Use(Stmt& s) : stmt(s) {}
  ~Use() { stmt.reset(); }
  Stmt& stmt;
  Stmt* operator->() { return &stmt; }
};

Status exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown SQLite error";
    sqlite3_free(message);
    return Error{text};
  }
  return Status();
}

Result<sqlite3*> open_db(const std::string& path, bool read_only) {
  // Memory statistics take a global mutex on every allocation; we never read them.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"cannot open " + path + ": " + message};
  }
  // Readers and the writer never wait long on each other in WAL mode; the
  // timeout covers checkpoints.
  sqlite3_busy_timeout(db, 5000);
  return db;
}

constexpr const char* kJourneyColumns =
    "id, flow, version, user_id, key, state, node, waiting_for, visits, coupon_code, variant, "
    "trigger_event, last_event, steps, entered_at, updated_at, ended_at, converted_at, timer_due, "
    "timer_node, timer_visit, history, history_seq";

// The visit counts and stored events are compacted in the row
// (step_codec::encode_visits, encode_event); the record holds their text.
JourneyRecord read_journey(const Stmt& s, step_codec::Words& words) {
  JourneyRecord j;
  j.id = s.i64(0);
  j.flow = s.text(1);
  j.version = static_cast<int>(s.i64(2));
  j.user_id = s.text(3);
  j.key = s.text(4);
  j.state = static_cast<Lifecycle>(s.i64(5));
  j.node = s.text(6);
  j.waiting_for = s.text(7);
  j.entered_at = s.i64(14);
  j.visits = step_codec::decode_visits(s.bytes(8), words);
  j.coupon_code = s.text(9);
  j.variant = s.text(10);
  j.trigger_event = step_codec::decode_event(s.bytes(11), j.entered_at, words);
  j.last_event = step_codec::decode_event(s.bytes(12), j.entered_at, words);
  j.steps = static_cast<int>(s.i64(13));
  j.updated_at = s.i64(15);
  j.ended_at = s.opt_i64(16);
  j.converted_at = s.opt_i64(17);
  if (std::optional<int64_t> due = s.opt_i64(18))
    j.timer = JourneyTimer{*due, s.text(19), static_cast<int>(s.i64(20))};
  j.history = s.bytes(21);
  j.history_seq = static_cast<int>(s.i64(22));
  return j;
}

constexpr const char* kDeliveryColumns =
    "id, key, journey_id, channel, user_id, flow, flow_version, node, at, to_addr, subject, "
    "body, status, attempts, next_attempt_at, last_error, category, priority, release_at, "
    "feedback, feedback_at";

DeliveryRecord read_delivery(const Stmt& s) {
  DeliveryRecord d;
  d.id = s.i64(0);
  d.key = s.text(1);
  d.journey_id = s.i64(2);
  d.channel = s.text(3);
  d.user_id = s.text(4);
  d.flow = s.text(5);
  d.flow_version = static_cast<int>(s.i64(6));
  d.node = s.text(7);
  d.at = s.i64(8);
  d.to = s.text(9);
  d.subject = s.text(10);
  d.body = s.text(11);
  d.status = static_cast<DeliveryStatus>(s.i64(12));
  d.attempts = static_cast<int>(s.i64(13));
  d.next_attempt_at = s.i64(14);
  d.last_error = s.text(15);
  d.category = s.text(16);
  d.priority = static_cast<int>(s.i64(17));
  d.release_at = s.opt_i64(18).value_or(0);
  d.feedback = s.text(19);
  d.feedback_at = s.opt_i64(20).value_or(0);
  return d;
}

// Suppressed and dropped deliveries were never released: NULL, not 0, so that
// caps never count them whatever their status becomes.
std::optional<int64_t> release_column(TimeMs release_at) {
  return release_at > 0 ? std::optional<int64_t>(release_at) : std::nullopt;
}

const char* feedback_name(Feedback kind) {
  switch (kind) {
    case Feedback::kDelivered:
      return "delivered";
    case Feedback::kBounced:
      return "bounced";
    case Feedback::kComplained:
      return "complained";
    case Feedback::kOpened:
      return "opened";
    case Feedback::kClicked:
      return "clicked";
  }
  return "";
}

// Binds a journey's timer to parameters i, i+1, i+2 (due, node, visit): NULLs when none.
void bind_timer(Stmt& s, int i, const std::optional<JourneyTimer>& timer) {
  if (!timer) {
    s.bind(i, std::optional<int64_t>()).bind(i + 1, std::optional<int64_t>()).bind(i + 2, std::optional<int64_t>());
    return;
  }
  s.bind(i, timer->due).bind(i + 1, timer->node).bind(i + 2, timer->visit);
}

// INSERT of `rows` journeys; parameters row by row in kJourneyInsertColumns order.
constexpr const char* kJourneyInsertColumns =
    "flow, version, user_id, key, state, node, waiting_for, visits, coupon_code, variant, "
    "trigger_event, last_event, steps, entered_at, updated_at, ended_at, converted_at, id, "
    "timer_due, timer_node, timer_visit, history, history_seq";
constexpr int kJourneyInsertParams = 23;

std::string insert_journeys_sql(int rows) {
  std::string row = "(?";
  for (int i = 1; i < kJourneyInsertParams; ++i) row += ",?";
  row += ')';
  std::string out = std::string("INSERT INTO journeys(") + kJourneyInsertColumns + ") VALUES" + row;
  for (int r = 1; r < rows; ++r) out += "," + row;
  return out;
}

// Binds every column of a journey, in kJourneyInsertColumns order, starting at
// parameter `base` + 1. The UPDATE numbers its parameters the same way and
// leaves unused the columns a journey never changes (flow, user, trigger...).
// The UPDATE never changes the trigger event (nor flow, user, key, entry
// time): `insert` false skips compacting it again for every step.
void bind_journey(Stmt& s, int base, const JourneyRecord& j, step_codec::Words& words,
                  bool insert = true) {
  s.bind(base + 1, j.flow)
      .bind(base + 2, j.version)
      .bind(base + 3, j.user_id)
      .bind(base + 4, j.key)
      .bind(base + 5, static_cast<int>(j.state))
      .bind(base + 6, j.node)
      .bind(base + 7, j.waiting_for)
      .bind_compact(base + 8, j.visits, step_codec::encode_visits(j.visits, words))
      .bind(base + 9, j.coupon_code)
      .bind(base + 10, j.variant)
      .bind_compact(base + 11, j.trigger_event,
                    insert ? step_codec::encode_event(j.trigger_event, j.entered_at, words)
                           : std::string())
      .bind_compact(base + 12, j.last_event, step_codec::encode_event(j.last_event, j.entered_at, words))
      .bind(base + 13, j.steps)
      .bind(base + 14, j.entered_at)
      .bind(base + 15, j.updated_at)
      .bind(base + 16, j.ended_at)
      .bind(base + 17, j.converted_at)
      .bind(base + 18, j.id > 0 ? std::optional<int64_t>(j.id) : std::nullopt);
  bind_timer(s, base + 19, j.timer);
  // The compact history is a BLOB; a JSON one (schema 5 and before) stays TEXT.
  if (step_codec::is_encoded(j.history))
    s.bind_blob(base + 22, j.history);
  else
    s.bind(base + 22, j.history);
  s.bind(base + 23, j.history_seq);
}

std::string sql(const char* head, const char* columns, const char* tail) {
  return std::string(head) + columns + tail;
}

// The step dictionary as a reader sees it: words are never changed once
// committed, so each is read once and kept (at most kMaxStepWords of them).
class ReaderWords final : public step_codec::Words {
 public:
  explicit ReaderWords(sqlite3* db) : word_(db, "SELECT text FROM step_words WHERE id = ?") {}
  std::optional<int64_t> id_of(const std::string&) override { return std::nullopt; }
  const std::string* text_of(int64_t id) override {
    auto it = texts_.find(id);
    if (it != texts_.end()) return &it->second;
    Use u(word_);
    u->bind(1, id);
    if (!u->step()) return nullptr;
    return &texts_.emplace(id, u->bytes(0)).first->second;
  }

 private:
  Stmt word_;
  std::unordered_map<int64_t, std::string> texts_;
};

// Read statements shared by the writer and reader connections.
class SqliteReader : public StoreReader {
 public:
  explicit SqliteReader(sqlite3* db, bool owns)
      : db_(db),
        owns_(owns),
        flow_versions_(
            db,
            "SELECT name, version, source, deployed_at FROM flow_versions ORDER BY name, version"),
        profile_(db, "SELECT traits FROM profiles WHERE user_id = ?"),
        journey_(db, sql("SELECT ", kJourneyColumns, " FROM journeys WHERE id = ?").c_str()),
        journeys_of_(db,
                     sql("SELECT ", kJourneyColumns,
                         " FROM journeys WHERE user_id = ?1 AND (?2 = '' OR flow = ?2) ORDER BY id")
                         .c_str()),
        steps_(db,
               "SELECT journey_id, seq, node, input, at, reason, flow FROM steps WHERE journey_id "
               "= ? ORDER BY seq"),
        step_groups_(db,
                     "SELECT journey_id, seq, steps, at, flow FROM step_groups WHERE journey_id "
                     "= ? ORDER BY seq"),
        history_(db, "SELECT history, history_seq, flow, user_id FROM journeys WHERE id = ?"),
        deliveries_(
            db, sql("SELECT ", kDeliveryColumns,
                    " FROM deliveries WHERE (?1 = '' OR user_id = ?1) AND (?2 = '' OR flow = ?2)"
                    " ORDER BY id LIMIT ?3")
                    .c_str()),
        next_due_(db,
                  "SELECT timer_due FROM journeys WHERE timer_due IS NOT NULL "
                  "ORDER BY timer_due LIMIT 1"),
        timer_count_(db, "SELECT coalesce(sum(timers), 0) FROM journey_counts"),
        coupons_left_(db,
                      "SELECT count(*) FROM coupon_codes WHERE pool = ? AND claimed_by IS NULL"),
        entered_(
            db,
            "SELECT node, count(*) FROM steps WHERE flow = ? AND input = 'entry' GROUP BY node"),
        // The JSON history of rows written before schema 6 (TEXT); the compact
        // one (BLOB) is decoded here (encoded_grouped_, encoded_inline_).
        entered_grouped_(db,
                         "SELECT json_extract(e.value, '$.node'), count(*) FROM step_groups g, "
                         "json_each(g.steps) e WHERE g.flow = ? AND typeof(g.steps) = 'text' AND "
                         "json_extract(e.value, '$.input') = 'entry' GROUP BY 1"),
        entered_inline_(db,
                        "SELECT json_extract(e.value, '$.node'), count(*) FROM journeys j, "
                        "json_each(j.history) e WHERE j.flow = ? AND typeof(j.history) = 'text' "
                        "AND json_extract(e.value, '$.input') = 'entry' GROUP BY 1"),
        encoded_grouped_(db,
                         "SELECT steps FROM step_groups WHERE flow = ? AND typeof(steps) = 'blob'"),
        encoded_inline_(db,
                        "SELECT history FROM journeys WHERE flow = ? AND typeof(history) = 'blob'"),
        by_state_(db,
                  "SELECT node, state, journeys, conversions FROM journey_counts WHERE flow = ? "
                  "AND journeys > 0"),
        variants_(db,
                  "SELECT variant, converted_at IS NOT NULL, count(*) FROM journeys "
                  "WHERE flow = ? AND variant != '' GROUP BY 1, 2"),
        pending_(db, sql("SELECT ", kDeliveryColumns,
                         " FROM deliveries WHERE status = 0 AND next_attempt_at <= ? "
                         "ORDER BY next_attempt_at, id LIMIT ?")
                         .c_str()),
        delivery_(db, sql("SELECT ", kDeliveryColumns, " FROM deliveries WHERE id = ?").c_str()),
        delivery_by_key_(db,
                         sql("SELECT ", kDeliveryColumns, " FROM deliveries WHERE key = ?").c_str()),
        consent_(db,
                 "SELECT user_id, channel, subscribed, at, reason FROM consent WHERE user_id = ? "
                 "ORDER BY channel"),
        released_(db,
                  "SELECT release_at, channel, category FROM deliveries WHERE user_id = ? AND "
                  "release_at > ? AND status IN (0, 1, 2) ORDER BY release_at"),
        next_deferred_(db,
                       "SELECT next_attempt_at FROM deliveries WHERE status = 3 "
                       "ORDER BY next_attempt_at LIMIT 1"),
        messages_(db,
                  "SELECT node, channel, count(*), sum(status = 1), sum(status = 3), "
                  "sum(status = 4), sum(status = 5), sum(status = 2), count(delivered_at), "
                  "count(opened_at), count(clicked_at), count(bounced_at), count(complained_at) "
                  "FROM deliveries WHERE flow = ? AND channel != 'coupon' GROUP BY node, channel"),
        pending_of_(db, sql("SELECT ", kDeliveryColumns,
                            " FROM deliveries WHERE status = 0 AND channel = ? AND "
                            "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?")
                            .c_str()),
        own_words_(db) {}
  ~SqliteReader() override {
    // Deferred by close_v2 until the statement members are finalised.
    if (owns_) sqlite3_close_v2(db_);
  }

  std::vector<FlowVersionRecord> flow_versions() override {
    std::vector<FlowVersionRecord> out;
    Use u(flow_versions_);
    while (u->step()) {
      out.push_back({u->text(0), static_cast<int>(u->i64(1)), u->text(2), u->i64(3)});
    }
    return out;
  }

  std::optional<std::string> profile(const std::string& user_id) override {
    Use u(profile_);
    u->bind(1, user_id);
    if (!u->step()) return std::nullopt;
    return u->text(0);
  }

  std::optional<JourneyRecord> journey(int64_t id) override {
    Use u(journey_);
    u->bind(1, id);
    if (!u->step()) return std::nullopt;
    return read_journey(u.stmt, *words_);
  }

  std::vector<JourneyRecord> journeys_of(const std::string& user_id,
                                         const std::string& flow) override {
    std::vector<JourneyRecord> out;
    Use u(journeys_of_);
    u->bind(1, user_id).bind(2, flow);
    while (u->step()) out.push_back(read_journey(u.stmt, *words_));
    return out;
  }

  std::vector<StepRecord> steps(int64_t journey_id) override {
    std::vector<StepRecord> out;
    Use u(steps_);
    u->bind(1, journey_id);
    while (u->step()) {
      StepRecord s;
      s.journey_id = u->i64(0);
      s.seq = static_cast<int>(u->i64(1));
      s.node = u->text(2);
      s.input = u->text(3);
      s.at = u->i64(4);
      s.reason = u->text(5);
      s.flow = u->text(6);
      out.push_back(std::move(s));
    }
    std::string user_id;
    {
      Use h(history_);
      h->bind(1, journey_id);
      if (h->step()) {
        user_id = h->text(3);
        append_encoded_steps(h->bytes(0), journey_id, static_cast<int>(h->i64(1)), 0, h->text(2),
                             user_id, out);
      }
    }
    append_grouped_steps(journey_id, user_id, out);
    std::stable_sort(out.begin(), out.end(),
                     [](const StepRecord& a, const StepRecord& b) { return a.seq < b.seq; });
    return out;
  }

  std::vector<DeliveryRecord> deliveries(const std::string& user_id, const std::string& flow,
                                         size_t limit) override {
    std::vector<DeliveryRecord> out;
    Use u(deliveries_);
    u->bind(1, user_id).bind(2, flow).bind(3, static_cast<int64_t>(limit));
    while (u->step()) out.push_back(read_delivery(u.stmt));
    return out;
  }

  FlowCounts counts(const std::string& flow) override;

  FlowTotals totals(const std::string& flow) override {
    FlowTotals out;
    Use u(by_state_);
    u->bind(1, flow);
    while (u->step()) {
      const auto state = static_cast<Lifecycle>(u->i64(1));
      const int64_t n = u->i64(2);
      out.journeys += n;
      if (is_live(state)) out.live += n;
      if (is_waiting(state)) out.waiting += n;
      out.conversions += u->i64(3);
    }
    return out;
  }

  std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) override {
    std::vector<DeliveryRecord> out;
    Use u(pending_);
    u->bind(1, now).bind(2, static_cast<int64_t>(limit));
    while (u->step()) out.push_back(read_delivery(u.stmt));
    return out;
  }

  std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                    size_t limit) override {
    std::vector<DeliveryRecord> out;
    Use u(pending_of_);
    u->bind(1, channel).bind(2, now).bind(3, static_cast<int64_t>(limit));
    while (u->step()) out.push_back(read_delivery(u.stmt));
    return out;
  }

  std::optional<TimeMs> next_timer_due() override {
    Use u(next_due_);
    if (!u->step()) return std::nullopt;
    return u->i64(0);
  }

  std::optional<DeliveryRecord> delivery(int64_t id) override {
    Use u(delivery_);
    u->bind(1, id);
    if (!u->step()) return std::nullopt;
    return read_delivery(u.stmt);
  }

  std::optional<DeliveryRecord> delivery_by_key(const std::string& key) override {
    Use u(delivery_by_key_);
    u->bind(1, key);
    if (!u->step()) return std::nullopt;
    return read_delivery(u.stmt);
  }

  std::vector<ConsentRecord> consent(const std::string& user_id) override {
    std::vector<ConsentRecord> out;
    Use u(consent_);
    u->bind(1, user_id);
    while (u->step())
      out.push_back({u->text(0), u->text(1), u->i64(2) != 0, u->i64(3), u->text(4)});
    return out;
  }

  std::vector<ReleasedMessage> released_since(const std::string& user_id, TimeMs since) override {
    std::vector<ReleasedMessage> out;
    Use u(released_);
    u->bind(1, user_id).bind(2, since);
    while (u->step()) out.push_back({u->i64(0), u->text(1), u->text(2)});
    return out;
  }

  std::optional<TimeMs> next_deferred_due() override {
    Use u(next_deferred_);
    if (!u->step()) return std::nullopt;
    return u->i64(0);
  }

  int64_t pending_timer_count() override {
    Use u(timer_count_);
    return u->step() ? u->i64(0) : 0;
  }

  int64_t coupon_codes_left(const std::string& pool) override {
    Use u(coupons_left_);
    u->bind(1, pool);
    return u->step() ? u->i64(0) : 0;
  }

  // The writer's reader decodes with the writer's dictionary, which holds
  // the words of its open transaction too.
  void use_words(step_codec::Words* words) { words_ = words; }

 protected:
  sqlite3* db_;
  bool owns_;

 private:
  // Expands the step_groups rows of a journey into one StepRecord per node.
  void append_grouped_steps(int64_t journey_id, const std::string& user_id,
                            std::vector<StepRecord>& out) {
    Use u(step_groups_);
    u->bind(1, journey_id);
    while (u->step())
      append_encoded_steps(u->bytes(2), journey_id, static_cast<int>(u->i64(1)), u->i64(3),
                           u->text(4), user_id, out);
  }

  // Decodes a history whose first step is `seq`: compact (step_codec), or a
  // JSON array of {node, input, reason[, at]} written before schema 6, from a
  // step_groups row (one `at` for all) or a journey's history (each its own).
  void append_encoded_steps(const std::string& text, int64_t journey_id, int seq, TimeMs at,
                            const std::string& flow, const std::string& user_id,
                            std::vector<StepRecord>& out) {
    if (step_codec::is_encoded(text)) {
      step_codec::decode(text, user_id, *words_, /*render_reason=*/true,
                         [&](const step_codec::DecodedStep& d) {
                           StepRecord s;
                           s.journey_id = journey_id;
                           s.seq = seq++;
                           s.node = d.node;
                           s.input = d.input;
                           s.at = d.at;
                           s.reason = d.reason;
                           s.flow = flow;
                           out.push_back(std::move(s));
                         });
      return;
    }
    append_json_steps(text, journey_id, seq, at, flow, out);
  }

  static void append_json_steps(const std::string& text, int64_t journey_id, int seq, TimeMs at,
                                const std::string& flow, std::vector<StepRecord>& out) {
    const nlohmann::json list = nlohmann::json::parse(text, nullptr, false);
    if (!list.is_array()) return;
    for (const auto& item : list) {
      if (!item.is_object()) continue;
      StepRecord s;
      s.journey_id = journey_id;
      s.seq = seq++;
      s.node = item.value("node", "");
      s.input = item.value("input", "");
      s.at = item.value("at", at);
      s.reason = item.value("reason", "");
      s.flow = flow;
      out.push_back(std::move(s));
    }
  }

  Stmt flow_versions_, profile_, journey_, journeys_of_, steps_, step_groups_, history_, deliveries_,
      next_due_, timer_count_, coupons_left_, entered_, entered_grouped_, entered_inline_,
      encoded_grouped_, encoded_inline_, by_state_, variants_, pending_, delivery_,
      delivery_by_key_, consent_, released_, next_deferred_, messages_, pending_of_;
  ReaderWords own_words_;
  step_codec::Words* words_ = &own_words_;

 public:
  // The JSON steps of rows written before schema 6 (append_history converts them).
  static std::vector<StepRecord> json_steps(const std::string& text, int seq) {
    std::vector<StepRecord> out;
    append_json_steps(text, 0, seq, 0, "", out);
    return out;
  }
};

NodeCount& node_count(std::map<std::string, NodeCount>& m, const std::string& node) {
  NodeCount& c = m[node];
  c.node = node;
  return c;
}

FlowCounts SqliteReader::counts(const std::string& flow) {
  FlowCounts out;
  std::map<std::string, NodeCount> nodes;
  {
    Use u(entered_);
    u->bind(1, flow);
    while (u->step()) node_count(nodes, u->text(0)).entered = u->i64(1);
  }
  for (Stmt* grouped : {&entered_grouped_, &entered_inline_}) {
    Use u(*grouped);
    u->bind(1, flow);
    while (u->step()) node_count(nodes, u->text(0)).entered += u->i64(1);
  }
  for (Stmt* encoded : {&encoded_grouped_, &encoded_inline_}) {
    Use u(*encoded);
    u->bind(1, flow);
    while (u->step())
      step_codec::decode(u->bytes(0), "", *words_, /*render_reason=*/false,
                         [&](const step_codec::DecodedStep& d) {
                           if (d.input == "entry") ++node_count(nodes, d.node).entered;
                         });
  }
  {
    Use u(by_state_);
    u->bind(1, flow);
    while (u->step()) {
      const auto state = static_cast<Lifecycle>(u->i64(1));
      const int64_t n = u->i64(2);
      NodeCount& c = node_count(nodes, u->text(0));
      out.journeys += n;
      if (is_live(state)) out.live += n;
      out.conversions += u->i64(3);
      if (is_waiting(state)) c.waiting += n;
      if (!is_live(state)) c.exited += n;
    }
  }
  {
    // `variant` is "node=variant;node2=variant2"; split here rather than keep
    // a row per assignment, which would cost a write per A/B step.
    std::map<std::pair<std::string, std::string>, VariantCount> variants;
    Use u(variants_);
    u->bind(1, flow);
    while (u->step()) {
      const std::string list = u->text(0);
      const bool converted = u->i64(1) != 0;
      const int64_t n = u->i64(2);
      size_t start = 0;
      while (start < list.size()) {
        size_t end = list.find(';', start);
        if (end == std::string::npos) end = list.size();
        const std::string item = list.substr(start, end - start);
        const size_t eq = item.find('=');
        if (eq != std::string::npos) {
          VariantCount& v = variants[{item.substr(0, eq), item.substr(eq + 1)}];
          v.node = item.substr(0, eq);
          v.variant = item.substr(eq + 1);
          v.journeys += n;
          if (converted) v.conversions += n;
        }
        start = end + 1;
      }
    }
    for (auto& [k, v] : variants) out.variants.push_back(v);
  }
  for (auto& [k, v] : nodes) out.nodes.push_back(v);
  {
    Use u(messages_);
    u->bind(1, flow);
    while (u->step()) {
      MessageCount m;
      m.node = u->text(0);
      m.channel = u->text(1);
      m.created = u->i64(2);
      m.sent = u->i64(3);
      m.deferred = u->i64(4);
      m.suppressed = u->i64(5);
      m.dropped = u->i64(6);
      m.dead = u->i64(7);
      m.delivered = u->i64(8);
      m.opened = u->i64(9);
      m.clicked = u->i64(10);
      m.bounced = u->i64(11);
      m.complained = u->i64(12);
      out.messages.push_back(std::move(m));
    }
  }
  return out;
}

// Checkpoints the WAL on its own thread and connection, so that the writer
// never stalls on copying pages into the database file and fsyncing it (which
// is what made timer lateness spike when the writer checkpointed itself). The
// writer's wal_hook reports the WAL size after each commit; past kWalPages the
// checkpointer runs a PASSIVE checkpoint, which never blocks the writer. It
// runs at a lower CPU priority: on a busy machine the writer goes first.
class Checkpointer {
 public:
  static constexpr int kWalPages = 1000;  // SQLite's own default threshold
  // The WAL starts over from its beginning only when a writer begins with every
  // frame copied back, and the checkpointer is always one transaction behind a
  // writer that never pauses: under a sustained burst the WAL grew past a
  // gigabyte, and growing the file cost the writer a fifth of its time. Past
  // this size the writer, between two transactions, copies that last
  // transaction itself, and its next transaction starts the WAL over (as soon
  // as no reader still reads from it: SQLite checks without waiting).
  static constexpr int kWalRestartPages = 8 * kWalPages;

  explicit Checkpointer(const std::string& path) {
    Result<sqlite3*> db = open_db(path, /*read_only=*/false);
    if (!db.ok()) return;
    db_ = db.value();
    // A connection learns that the file is in WAL mode when it first reads it;
    // until then sqlite3_wal_checkpoint_v2 does nothing and says so only by
    // returning -1 frames. Read the schema once, and check that it worked.
    int wal_frames = 0;
    if (!exec(db_, "SELECT count(*) FROM sqlite_master") ||
        sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, nullptr) !=
            SQLITE_OK ||
        wal_frames < 0) {
      sqlite3_close_v2(db_);
      db_ = nullptr;
      return;
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~Checkpointer() {
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (db_) sqlite3_close_v2(db_);
  }
  bool running() const { return db_ != nullptr; }

  // Called by the writer after a commit, on its own connection: when the WAL
  // has grown past kWalRestartPages, waits for the checkpoint in progress (two
  // checkpoints cannot run at once), then copies what is left, so that the next
  // transaction can start the WAL over. The passive runs have copied most of it
  // by then, so the writer pauses for about one transaction's pages. PASSIVE,
  // not RESTART: a RESTART would also wait for every reader, and a long /metrics
  // scan would then stall the writer.
  void finish_checkpoint_if_long(sqlite3* writer) {
    if (wal_pages_.load() < kWalRestartPages) return;
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return !checkpointing_; });
    sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }

  static int on_commit(void* self, sqlite3*, const char*, int pages) {
    static_cast<Checkpointer*>(self)->wal_pages_ = pages;
    if (pages >= kWalPages) {
      auto* c = static_cast<Checkpointer*>(self);
      {
        std::lock_guard<std::mutex> l(c->mu_);
        c->pending_ = true;
      }
      c->cv_.notify_all();
    }
    return SQLITE_OK;
  }

 private:
  void loop() {
    // Background work: on a busy machine the writer, which callers wait on,
    // should get the CPU first.
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return pending_ || stop_; });
      if (stop_) return;
      pending_ = false;
      checkpointing_ = true;
      l.unlock();
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      l.lock();
      checkpointing_ = false;
      cv_.notify_all();  // a writer may wait to restart the WAL
    }
  }

  sqlite3* db_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;        // guarded by mu_
  bool checkpointing_ = false;  // guarded by mu_
  bool stop_ = false;           // guarded by mu_
  std::atomic<int> wal_pages_{0};  // WAL size after the writer's last commit
};

// The step dictionary as the writer keeps it: every word, both ways, loaded
// when the store opens (at most kMaxStepWords). A word added inside a
// transaction that rolls back is forgotten with it.
class WriterWords final : public step_codec::Words {
 public:
  explicit WriterWords(sqlite3* db) : insert_(db, "INSERT INTO step_words(id, text) VALUES(?, ?)") {
    Stmt all(db, "SELECT id, text FROM step_words");
    while (all.step()) remember(all.i64(0), all.bytes(1));
  }
  std::optional<int64_t> id_of(const std::string& text) override {
    auto it = ids_.find(text);
    if (it != ids_.end()) return it->second;
    if (ids_.size() >= kMaxStepWords) return std::nullopt;
    const int64_t id = static_cast<int64_t>(std::max<size_t>(texts_.size(), 1));
    Use u(insert_);
    u->bind(1, id).bind_blob(2, text);
    std::string error;
    u->step(&error);
    if (!error.empty()) return std::nullopt;  // stored literally instead
    remember(id, text);
    added_.push_back(id);
    return id;
  }
  const std::string* text_of(int64_t id) override {
    return id > 0 && static_cast<size_t>(id) < texts_.size() ? texts_[static_cast<size_t>(id)]
                                                              : nullptr;
  }
  void committed() { added_.clear(); }
  void rolled_back() {
    // Newest first, so that the ids handed out next are the same again.
    for (auto it = added_.rbegin(); it != added_.rend(); ++it) {
      ids_.erase(*texts_[static_cast<size_t>(*it)]);
      texts_.pop_back();
    }
    added_.clear();
  }

 private:
  void remember(int64_t id, const std::string& text) {
    if (id <= 0) return;
    const std::string* key = &ids_.emplace(text, id).first->first;  // node-based: stable
    if (texts_.size() <= static_cast<size_t>(id)) texts_.resize(static_cast<size_t>(id) + 1);
    texts_[static_cast<size_t>(id)] = key;
  }

  Stmt insert_;
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<const std::string*> texts_;  // by id; [0] unused
  std::vector<int64_t> added_;             // in the open transaction
};

class SqliteStore final : public Store {
 public:
  SqliteStore(sqlite3* db, std::string path)
      : db_(db),
        path_(std::move(path)),
        reader_(db, /*owns=*/false),
        words_(db),
        begin_(db, "BEGIN IMMEDIATE"),
        commit_(db, "COMMIT"),
        rollback_(db, "ROLLBACK"),
        add_flow_(db,
                  "INSERT INTO flow_versions(name, version, source, deployed_at) VALUES(?,?,?,?)"),
        put_profile_(db,
                     "INSERT INTO profiles(user_id, traits, updated_at) VALUES(?1,?2,?3) "
                     "ON CONFLICT(user_id) DO UPDATE SET traits = ?2, updated_at = ?3"),
        seen_(db, "INSERT OR IGNORE INTO events_seen(id, at) VALUES(?, ?)"),
        prune_(db, "DELETE FROM events_seen WHERE at < ?"),
        insert_journey_(db, insert_journeys_sql(1).c_str()),
        insert_journeys_(db, insert_journeys_sql(kJourneyChunk).c_str()),
        max_journey_(db, "SELECT coalesce(max(id), 0) FROM journeys"),
        journey_owners_(db, "SELECT user_id, flow FROM journeys"),
        update_journey_(db,
                        // Parameters numbered as bind_journey() binds them.
                        "UPDATE journeys SET state=?5, node=?6, waiting_for=?7, visits=?8, "
                        "coupon_code=?9, variant=?10, last_event=?12, steps=?13, updated_at=?15, "
                        "ended_at=?16, converted_at=?17, timer_due=?19, timer_node=?20, "
                        "timer_visit=?21, history=?22, history_seq=?23 WHERE id=?18"),
        append_group_(db,
                      "INSERT INTO step_groups(journey_id, seq, flow, at, steps) "
                      "VALUES(?,?,?,?,?)"),
        due_journeys_(db, sql("SELECT ", kJourneyColumns,
                              " FROM journeys WHERE timer_due <= ? ORDER BY timer_due, id LIMIT ?")
                              .c_str()),
        insert_delivery_(
            db,
            "INSERT OR IGNORE INTO deliveries(key, journey_id, channel, user_id, flow, "
            "flow_version, node, at, to_addr, subject, body, status, attempts, "
            "next_attempt_at, last_error, category, priority, release_at) "
            "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?,?)"),
        mark_sent_(db, "UPDATE deliveries SET status = 1, sent_at = ? WHERE id = ?"),
        mark_suppressed_(db,
                         "UPDATE deliveries SET status = 4, last_error = ?2 WHERE id = ?1 "
                         "AND status = 0"),
        record_failure_(db,
                        "UPDATE deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, "
                        "last_error = ?5 WHERE id = ?1"),
        record_attempt_(
            db,
            "INSERT OR REPLACE INTO delivery_attempts(delivery_id, attempt, at, error, dead) "
            "VALUES(?,?,?,?,?)"),
        put_consent_(db,
                     "INSERT OR REPLACE INTO consent(user_id, channel, subscribed, at, reason) "
                     "VALUES(?,?,?,?,?)"),
        due_deferred_(db, sql("SELECT ", kDeliveryColumns,
                              " FROM deliveries WHERE status = 3 AND next_attempt_at <= ? "
                              "ORDER BY next_attempt_at, id LIMIT ?")
                              .c_str()),
        due_deferred_of_user_(db, sql("SELECT ", kDeliveryColumns,
                                      " FROM deliveries WHERE user_id = ? AND status = 3 AND "
                                      "next_attempt_at <= ? ORDER BY priority DESC, at, id")
                                      .c_str()),
        set_verdict_(db,
                     "UPDATE deliveries SET status = ?2, release_at = ?3, next_attempt_at = "
                     "coalesce(?3, next_attempt_at), last_error = ?4 WHERE id = ?1"),
        record_feedback_(
            db,
            // ?2 is the kind's name: the first time of each kind is kept.
            "UPDATE deliveries SET feedback = ?3, feedback_at = ?4, "
            "delivered_at = CASE WHEN ?2 = 'delivered' THEN coalesce(delivered_at, ?4) ELSE "
            "delivered_at END, "
            "opened_at = CASE WHEN ?2 = 'opened' THEN coalesce(opened_at, ?4) ELSE opened_at END, "
            "clicked_at = CASE WHEN ?2 = 'clicked' THEN coalesce(clicked_at, ?4) ELSE clicked_at "
            "END, "
            "bounced_at = CASE WHEN ?2 = 'bounced' THEN coalesce(bounced_at, ?4) ELSE bounced_at "
            "END, "
            "complained_at = CASE WHEN ?2 = 'complained' THEN coalesce(complained_at, ?4) ELSE "
            "complained_at END WHERE id = ?1"),
        add_code_(db, "INSERT OR IGNORE INTO coupon_codes(pool, code) VALUES(?, ?)"),
        free_code_(db,
                   "SELECT id, code FROM coupon_codes WHERE pool = ? AND claimed_by IS NULL "
                   "ORDER BY id LIMIT 1"),
        claim_code_(db, "UPDATE coupon_codes SET claimed_by = ?, claimed_at = ? WHERE id = ?") {
    reader_.use_words(&words_);
  }

  // sqlite3_close_v2 defers the close until the statement members below are
  // finalised, which happens right after this body.
  ~SqliteStore() override {
    sqlite3_wal_hook(db_, nullptr, nullptr);
    checkpointer_.reset();
    sqlite3_close_v2(db_);
  }

  // Moves checkpoints off the writer when a second connection can be opened;
  // otherwise SQLite's automatic checkpoints on the writer stay on.
  void start_checkpointer() {
    auto c = std::make_unique<Checkpointer>(path_);
    if (!c->running()) return;
    checkpointer_ = std::move(c);
    (void)exec(db_, "PRAGMA wal_autocheckpoint=0");
    sqlite3_wal_hook(db_, &Checkpointer::on_commit, checkpointer_.get());
  }

  // --- reads: the writer connection sees its own uncommitted writes ---
  std::vector<FlowVersionRecord> flow_versions() override { return reader_.flow_versions(); }
  std::optional<std::string> profile(const std::string& u) override { return reader_.profile(u); }
  std::optional<JourneyRecord> journey(int64_t id) override {
    flush_journeys();
    return reader_.journey(id);
  }
  std::vector<JourneyRecord> journeys_of(const std::string& u, const std::string& f) override {
    flush_journeys();
    return reader_.journeys_of(u, f);
  }
  std::vector<StepRecord> steps(int64_t id) override {
    flush_journeys();
    return reader_.steps(id);
  }
  std::vector<DeliveryRecord> deliveries(const std::string& u, const std::string& f,
                                         size_t limit) override {
    return reader_.deliveries(u, f, limit);
  }
  FlowCounts counts(const std::string& flow) override {
    flush_journeys();
    return reader_.counts(flow);
  }
  FlowTotals totals(const std::string& flow) override {
    flush_journeys();
    return reader_.totals(flow);
  }
  std::optional<TimeMs> next_timer_due() override {
    flush_journeys();
    return reader_.next_timer_due();
  }
  int64_t pending_timer_count() override {
    flush_journeys();
    return reader_.pending_timer_count();
  }
  int64_t coupon_codes_left(const std::string& pool) override {
    return reader_.coupon_codes_left(pool);
  }

  // --- transactions ---
  Status begin() override {
    error_.clear();
    Use u(begin_);
    u->step(&error_);
    return error_.empty() ? Status() : Status(Error{"begin: " + error_});
  }
  Status commit() override {
    flush_journeys();
    if (!error_.empty()) {
      rollback();
      return Error{error_};
    }
    Use u(commit_);
    u->step(&error_);
    if (!error_.empty()) {
      rollback();
      return Error{"commit: " + error_};
    }
    words_.committed();
    if (checkpointer_) checkpointer_->finish_checkpoint_if_long(db_);
    return Status();
  }
  void rollback() override {
    pending_journeys_.clear();
    words_.rolled_back();
    if (sqlite3_get_autocommit(db_)) return;
    std::string ignored;
    Use u(rollback_);
    u->step(&ignored);
  }

  // --- mutations ---
  Status add_flow_version(const FlowVersionRecord& r) override {
    Use u(add_flow_);
    u->bind(1, r.name).bind(2, r.version).bind(3, r.source).bind(4, r.deployed_at);
    return done(u);
  }
  Status put_profile(const std::string& user_id, const std::string& traits, TimeMs at) override {
    Use u(put_profile_);
    u->bind(1, user_id).bind(2, traits).bind(3, at);
    return done(u);
  }
  bool mark_event_seen(const std::string& id, TimeMs at) override {
    Use u(seen_);
    u->bind(1, id).bind(2, at);
    u->step(&error_);
    return sqlite3_changes(db_) > 0;
  }
  int64_t prune_events_seen(TimeMs before) override {
    Use u(prune_);
    u->bind(1, before);
    u->step(&error_);
    return sqlite3_changes(db_);
  }
  // A new journey with its id waits in pending_journeys_ and is written with
  // others, kJourneyChunk rows per INSERT: running one statement per row was most
  // of a new journey's cost. Every read of journeys and commit() write them first.
  int64_t insert_journey(const JourneyRecord& j) override {
    if (j.id > 0) {
      pending_journeys_.push_back(j);
      if (pending_journeys_.size() == kJourneyChunk) flush_journeys();
      return j.id;
    }
    flush_journeys();
    Use u(insert_journey_);
    bind_journey(u.stmt, 0, j, words_);
    u->step(&error_);
    return sqlite3_last_insert_rowid(db_);
  }
  void for_each_journey_owner(
      const std::function<void(const std::string& user, const std::string& flow)>& visit)
      override {
    flush_journeys();
    Use u(journey_owners_);
    while (u->step(&error_)) visit(u->text(0), u->text(1));
  }
  int64_t max_journey_id() override {
    flush_journeys();
    Use u(max_journey_);
    return u->step(&error_) ? u->i64(0) : 0;
  }
  Status update_journey(const JourneyRecord& j) override {
    flush_journeys();
    Use u(update_journey_);
    bind_journey(u.stmt, 0, j, words_, /*insert=*/false);
    return done(u);
  }
  // The history is compact (step_codec), appended to in place; one written
  // before schema 6 (JSON) is converted on its journey's next step. Past
  // kInlineHistoryBytes the older part moves to a step_groups row, so a
  // long-running journey's row (rewritten by every step) stays small.
  Status append_history(JourneyRecord& j, const std::vector<StepRecord>& steps) override {
    if (steps.empty()) return Status();
    if (!step_codec::is_encoded(j.history)) {
      const std::vector<StepRecord> older = SqliteReader::json_steps(j.history, j.history_seq);
      j.history.clear();
      step_codec::append(j.history, older, j.user_id, words_);
    }
    if (steps.front().seq > j.history_seq && j.history.size() > kInlineHistoryBytes) {
      Use u(append_group_);
      u->bind(1, j.id).bind(2, j.history_seq).bind(3, j.flow).bind(4, steps.front().at);
      u->bind_blob(5, j.history);
      if (Status s = done(u); !s) return s;
      j.history.clear();
      j.history_seq = steps.front().seq;
    }
    step_codec::append(j.history, steps, j.user_id, words_);
    return Status();
  }
  std::vector<JourneyRecord> due_journeys(TimeMs now, size_t limit) override {
    flush_journeys();
    std::vector<JourneyRecord> out;
    out.reserve(limit);
    Use u(due_journeys_);
    u->bind(1, now).bind(2, static_cast<int64_t>(limit));
    while (u->step(&error_)) out.push_back(read_journey(u.stmt, words_));
    return out;
  }
  bool insert_delivery(const DeliveryRecord& d) override {
    Use u(insert_delivery_);
    u->bind(1, d.key)
        .bind(2, d.journey_id)
        .bind(3, d.channel)
        .bind(4, d.user_id)
        .bind(5, d.flow)
        .bind(6, d.flow_version)
        .bind(7, d.node)
        .bind(8, d.at)
        .bind(9, d.to)
        .bind(10, d.subject)
        .bind(11, d.body)
        .bind(12, static_cast<int>(d.status))
        .bind(13, d.next_attempt_at)
        .bind(14, d.last_error)
        .bind(15, d.category)
        .bind(16, d.priority)
        .bind(17, release_column(d.release_at));
    u->step(&error_);
    return sqlite3_changes(db_) > 0;
  }
  std::optional<DeliveryRecord> delivery(int64_t id) override { return reader_.delivery(id); }
  std::optional<DeliveryRecord> delivery_by_key(const std::string& key) override {
    return reader_.delivery_by_key(key);
  }
  std::vector<ConsentRecord> consent(const std::string& user_id) override {
    return reader_.consent(user_id);
  }
  std::vector<ReleasedMessage> released_since(const std::string& user_id, TimeMs since) override {
    return reader_.released_since(user_id, since);
  }
  std::optional<TimeMs> next_deferred_due() override { return reader_.next_deferred_due(); }
  Status put_consent(const ConsentRecord& r) override {
    Use u(put_consent_);
    u->bind(1, r.user_id).bind(2, r.channel).bind(3, r.subscribed ? 1 : 0).bind(4, r.at).bind(5,
                                                                                          r.reason);
    return done(u);
  }
  std::vector<DeliveryRecord> due_deferred(TimeMs now, size_t limit) override {
    std::vector<DeliveryRecord> out;
    Use u(due_deferred_);
    u->bind(1, now).bind(2, static_cast<int64_t>(limit));
    while (u->step(&error_)) out.push_back(read_delivery(u.stmt));
    return out;
  }
  std::vector<DeliveryRecord> due_deferred_of_user(const std::string& user_id,
                                                   TimeMs now) override {
    std::vector<DeliveryRecord> out;
    Use u(due_deferred_of_user_);
    u->bind(1, user_id).bind(2, now);
    while (u->step(&error_)) out.push_back(read_delivery(u.stmt));
    return out;
  }
  Status set_delivery_verdict(int64_t id, DeliveryStatus status, TimeMs release_at,
                              const std::string& reason) override {
    Use u(set_verdict_);
    u->bind(1, id).bind(2, static_cast<int>(status)).bind(3, release_column(release_at)).bind(4,
                                                                                            reason);
    return done(u);
  }
  Status record_feedback(int64_t id, Feedback kind, const std::string& detail,
                         TimeMs at) override {
    const std::string name = feedback_name(kind);
    const std::string newest = detail.empty() ? name : name + " " + detail;
    Use u(record_feedback_);  // after the strings it binds: SQLite borrows them
    u->bind(1, id).bind(2, name).bind(3, newest).bind(4, at);
    return done(u);
  }
  std::vector<DeliveryRecord> pending_deliveries(TimeMs now, size_t limit) override {
    return reader_.pending_deliveries(now, limit);
  }
  std::vector<DeliveryRecord> pending_deliveries_of(const std::string& channel, TimeMs now,
                                                    size_t limit) override {
    return reader_.pending_deliveries_of(channel, now, limit);
  }
  Status mark_sent(int64_t id, TimeMs at) override {
    Use u(mark_sent_);
    u->bind(1, at).bind(2, id);
    return done(u);
  }
  Status mark_suppressed(int64_t id, const std::string& reason, TimeMs) override {
    Use u(mark_suppressed_);
    u->bind(1, id).bind(2, reason);
    return done(u);
  }
  Status record_failure(int64_t id, int attempts, TimeMs next, const std::string& error, bool dead,
                        TimeMs at) override {
    {
      Use u(record_failure_);
      u->bind(1, id)
          .bind(2, static_cast<int>(dead ? DeliveryStatus::kDead : DeliveryStatus::kPending))
          .bind(3, attempts)
          .bind(4, next)
          .bind(5, error);
      if (Status s = done(u); !s) return s;
    }
    Use u(record_attempt_);
    u->bind(1, id).bind(2, attempts).bind(3, at).bind(4, error).bind(5, dead ? 1 : 0);
    return done(u);
  }
  int64_t add_coupon_codes(const std::string& pool,
                           const std::vector<std::string>& codes) override {
    int64_t added = 0;
    for (const auto& code : codes) {
      Use u(add_code_);
      u->bind(1, pool).bind(2, code);
      u->step(&error_);
      added += sqlite3_changes(db_);
    }
    return added;
  }
  std::optional<std::string> claim_coupon(const std::string& pool, int64_t journey_id,
                                          TimeMs at) override {
    int64_t id;
    std::string code;
    {
      Use u(free_code_);
      u->bind(1, pool);
      if (!u->step(&error_)) return std::nullopt;
      id = u->i64(0);
      code = u->text(1);
    }
    Use u(claim_code_);
    u->bind(1, journey_id).bind(2, at).bind(3, id);
    u->step(&error_);
    return code;
  }

  std::unique_ptr<StoreReader> open_reader() override;

  sqlite3* db() { return db_; }

 private:
  static constexpr size_t kJourneyChunk = 32;

  void flush_journeys() {
    size_t next = 0;
    for (; pending_journeys_.size() - next >= kJourneyChunk; next += kJourneyChunk) {
      Use u(insert_journeys_);
      for (size_t r = 0; r < kJourneyChunk; ++r)
        bind_journey(u.stmt, static_cast<int>(r) * kJourneyInsertParams,
                            pending_journeys_[next + r], words_);
      u->step(&error_);
    }
    for (; next < pending_journeys_.size(); ++next) {
      Use u(insert_journey_);
      bind_journey(u.stmt, 0, pending_journeys_[next], words_);
      u->step(&error_);
    }
    pending_journeys_.clear();
  }

  Status done(Use& u) {
    std::string error;
    u->step(&error);
    if (!error.empty()) {
      if (error_.empty()) error_ = error;
      return Error{error};
    }
    return Status();
  }

  sqlite3* db_;
  std::string path_;
  std::unique_ptr<Checkpointer> checkpointer_;
  std::string error_;  // first failure inside the open transaction; commit() fails then
  std::vector<JourneyRecord> pending_journeys_;  // inserted, not yet written (see insert_journey)
  SqliteReader reader_;
  WriterWords words_;
  Stmt begin_, commit_, rollback_, add_flow_, put_profile_, seen_, prune_, insert_journey_,
      insert_journeys_, max_journey_, journey_owners_, update_journey_, append_group_, due_journeys_, insert_delivery_, mark_sent_,
      mark_suppressed_, record_failure_, record_attempt_, put_consent_, due_deferred_,
      due_deferred_of_user_, set_verdict_, record_feedback_, add_code_, free_code_, claim_code_;
};

// The reader shares the file through its own connection, so queries run
// while the writer holds a transaction open (WAL snapshot isolation).
// An in-memory database cannot be shared this way; it is not supported.
std::unique_ptr<StoreReader> SqliteStore::open_reader() {
  Result<sqlite3*> db = open_db(path_, /*read_only=*/true);
  if (!db.ok()) return nullptr;
  return std::make_unique<SqliteReader>(db.value(), /*owns=*/true);
}

// The schema version a file records: 0 for a new file.
Result<int> schema_version(sqlite3* db) {
  int version = 0;
  bool has_meta = false;
  {
    Stmt s(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'");
    has_meta = s.step() && s.i64(0) > 0;
  }
  if (!has_meta) return version;
  Stmt s(db, "SELECT v FROM meta WHERE k = 'schema_version'");
  if (s.step()) version = std::atoi(s.text(0).c_str());
  return version;
}

// Runs the migrations a file lacks, each in its own transaction, up to `target`.
Status migrate(sqlite3* db, int target) {
  Result<int> current = schema_version(db);
  if (!current.ok()) return current.error();
  if (current.value() > kSchemaVersion)
    return Error{"schema version " + std::to_string(current.value()) +
                 " is newer than this trellis knows (" + std::to_string(kSchemaVersion) +
                 "): upgrade trellis"};
  for (int version = current.value() + 1; version <= target; ++version) {
    const std::string script = std::string("BEGIN IMMEDIATE;") + kMigrations[version - 1] +
                               "INSERT OR REPLACE INTO meta(k, v) VALUES('schema_version', '" +
                               std::to_string(version) + "');COMMIT;";
    if (Status s = exec(db, script.c_str()); !s) {
      (void)exec(db, "ROLLBACK");
      return Error{"migrating to schema version " + std::to_string(version) + ": " + s.message()};
    }
  }
  return Status();
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  Result<sqlite3*> opened = open_db(options.path, /*read_only=*/false);
  if (!opened.ok()) return opened.error();
  sqlite3* db = opened.value();
  auto fail = [db](const std::string& what, const Status& s) -> Result<std::unique_ptr<Store>> {
    sqlite3_close_v2(db);
    return Error{what + ": " + s.message()};
  };
  // 4 KiB pages for a new file (an existing one keeps its own). 8 KiB pages
  // suited the 1 KiB rows of schema 5; with compact rows (about 230 bytes on
  // disk) 4 KiB pages write a sixth fewer bytes per event and fewer per fired
  // timer at the same rates (docs/benchmarks.md).
  (void)exec(db, "PRAGMA page_size=4096");
  if (Status s = exec(db, "PRAGMA journal_mode=WAL"); !s) return fail("WAL mode", s);
  const std::string sync =
      "PRAGMA synchronous=" +
      (options.synchronous == "FULL" ? std::string("FULL") : std::string("NORMAL"));
  if (Status s = exec(db, sync.c_str()); !s) return fail("synchronous", s);
  // A larger page cache keeps the journeys_by_user and timers_by_due indexes hot
  // at a million journeys; it is a bound, not an allocation (64 MiB).
  (void)exec(db, "PRAGMA cache_size=-65536");
  (void)exec(db, "PRAGMA temp_store=MEMORY");
  // A WAL that grew under a sustained burst (a writer that never pauses never
  // lets a checkpoint finish) is cut back to 64 MiB once it starts over.
  (void)exec(db, "PRAGMA journal_size_limit=67108864");
  if (Status s = migrate(db, kSchemaVersion); !s) return fail(options.path, s);
  auto store = std::make_unique<SqliteStore>(db, options.path);
  store->start_checkpointer();
  return std::unique_ptr<Store>(std::move(store));
}

Status create_sqlite_file_at_version(const std::string& path, int version) {
  Result<sqlite3*> opened = open_db(path, /*read_only=*/false);
  if (!opened.ok()) return opened.error();
  Status s = exec(opened.value(), "PRAGMA journal_mode=WAL");
  if (s) s = migrate(opened.value(), std::min(version, kSchemaVersion));
  sqlite3_close_v2(opened.value());
  return s;
}

int sqlite_schema_version() { return kSchemaVersion; }

}  // namespace trellis::runtime

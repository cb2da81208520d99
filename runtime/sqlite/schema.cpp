#include "runtime/sqlite/schema.h"

#include <cstdlib>
#include <iterator>
#include <string>

#include "runtime/sqlite/rollups.h"
#include "runtime/sqlite/statement.h"

namespace trellis::runtime::sqlite {

namespace {

// The schema as its history: migration N takes a file from schema version N-1
// to N, in one transaction with the version it records in `meta`. A new file
// runs them all; an older file runs the ones it lacks. SCHEMA.md explains each
// table. Released migrations are never edited: a change adds a migration.
const char* const kMigrations[] = {
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
    // Version 8: the writer keeps journey_counts itself (writer.cpp, "Journey
    // counts"): it knows each row's old and new flow, node and state, adds the
    // changes up in memory and writes them once per transaction. The insert
    // and update triggers ran a trigger program for every journey write, about
    // a quarter of a fired timer's instructions. A delete (rare, and possibly
    // by hand) still counts through a trigger, now an upsert, so it is right
    // whatever the writer has not yet written in the same transaction.
    R"sql(
DROP TRIGGER journey_counts_insert;
DROP TRIGGER journey_counts_update;
DROP TRIGGER journey_counts_delete;
CREATE TRIGGER journey_counts_delete AFTER DELETE ON journeys BEGIN
  INSERT INTO journey_counts VALUES(old.flow, old.node, old.state, -1,
    -(old.converted_at IS NOT NULL), -(old.timer_due IS NOT NULL))
  ON CONFLICT DO UPDATE SET journeys = journeys + excluded.journeys,
    conversions = conversions + excluded.conversions, timers = timers + excluded.timers;
END;
)sql",
    // Version 9: identity. An anonymous id merged into a user (identify, alias).
    R"sql(
CREATE TABLE merged_ids(
  anonymous_id TEXT PRIMARY KEY, user_id TEXT NOT NULL, at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX merged_ids_by_user ON merged_ids(user_id);
)sql",
    // Version 10: who deployed each version, and each flow's lifecycle state
    // (paused, stopped, archived; no row: active).
    R"sql(
ALTER TABLE flow_versions ADD COLUMN author TEXT NOT NULL DEFAULT '';
CREATE TABLE flow_states(
  name TEXT PRIMARY KEY, state TEXT NOT NULL, at INTEGER NOT NULL, by TEXT NOT NULL,
  reason TEXT NOT NULL) WITHOUT ROWID;
)sql",
    // Version 11: events_seen without its index by time (a second b-tree
    // written for every event); prunes sweep the table by id instead.
    R"sql(
DROP INDEX events_seen_by_at;
)sql",
    // Version 12: flow results (docs/results.md): a conversion's value and the
    // message it is attributed to, each delivery's A/B variant, hourly and
    // all-time rollups, arrows taken, and message rollups kept by triggers
    // (runtime/sqlite/rollups.cpp).
    kRollupsMigration,
    // Version 13: ingested events kept for replay (retention: in the
    // configuration; pruned by age and count).
    R"sql(
CREATE TABLE retained_events(
  seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, user_id TEXT NOT NULL, type TEXT NOT NULL,
  id TEXT NOT NULL, identify INTEGER NOT NULL, properties TEXT NOT NULL);
CREATE INDEX retained_events_by_at ON retained_events(at);
CREATE INDEX retained_events_by_user ON retained_events(user_id);
)sql",
    // Version 14: behavioural counters for count() and last_seen(): events per
    // user, counter and UTC day; when a user was last seen per event type.
    R"sql(
CREATE TABLE behaviour_counts(
  user_id TEXT NOT NULL, key TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY(user_id, key, day)) WITHOUT ROWID;
CREATE TABLE behaviour_seen(
  user_id TEXT NOT NULL, event_type TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY(user_id, event_type)) WITHOUT ROWID;
)sql",
    // Version 15: broadcasts, the runs of scheduled flows with their cursors
    // (docs/flows.md#broadcasts).
    R"sql(
CREATE TABLE broadcasts(
  flow TEXT NOT NULL, run TEXT NOT NULL, schedule TEXT NOT NULL, state TEXT NOT NULL,
  due_at INTEGER NOT NULL, cursor TEXT NOT NULL, next_pass_at INTEGER NOT NULL,
  entered INTEGER NOT NULL, walked INTEGER NOT NULL, total INTEGER NOT NULL,
  passes INTEGER NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
  PRIMARY KEY(flow, run)) WITHOUT ROWID;
)sql",
    // Version 16: the series over time reads the flow's own rollups (node "")
    // of a range of hours from an index of those rows alone, holding what it
    // sums: a year is 8,760 entries a variant instead of every node's rows
    // (docs/benchmarks.md#flow-results-benchresults_benchcpp).
    R"sql(
CREATE INDEX rollups_flow_hours ON rollups(flow, hour, entered, exited, converted, revenue,
  revenue_sq) WHERE node = '';
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

}  // namespace

int latest_schema_version() { return kSchemaVersion; }

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

}  // namespace trellis::runtime::sqlite

#include "runtime/postgres/schema.h"

#include <iterator>
#include <string>

namespace trellis::runtime::postgres {

namespace {

// Migration N takes the database from schema version N-1 to N, in one
// transaction with the version it records in `meta`. Released migrations are
// never edited: a change adds a migration.
//
// The tables are SQLite's (runtime/sqlite/SCHEMA.md) with the same columns and
// encodings (runtime/step_codec.h: compact history, visits and events as
// bytea), except: journey ids come from a sequence that hands out blocks of
// 64, so that nodes allocate them without a round trip each; step words get
// their ids from the database (several nodes add words); per-flow journey
// counts are kept by the writer and written at commit (version 7), not by
// triggers, whose hot rows every node would lock in a different order.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE meta(k text PRIMARY KEY, v text NOT NULL);
CREATE TABLE flow_versions(
  name text NOT NULL, version integer NOT NULL, source text NOT NULL,
  deployed_at bigint NOT NULL, author text NOT NULL DEFAULT '', PRIMARY KEY(name, version));
CREATE TABLE flow_states(
  name text PRIMARY KEY, state text NOT NULL, at bigint NOT NULL, by text NOT NULL,
  reason text NOT NULL);
CREATE TABLE profiles(user_id text PRIMARY KEY, traits text NOT NULL, updated_at bigint NOT NULL);
CREATE TABLE events_seen(id text PRIMARY KEY, at bigint NOT NULL);
CREATE INDEX events_seen_by_at ON events_seen(at);
CREATE SEQUENCE journey_ids INCREMENT BY 64;
CREATE TABLE journeys(
  id bigint PRIMARY KEY, flow text NOT NULL, version integer NOT NULL,
  user_id text NOT NULL, key text NOT NULL, state integer NOT NULL, node text NOT NULL,
  waiting_for text NOT NULL, visits bytea NOT NULL, coupon_code text NOT NULL,
  variant text NOT NULL, trigger_event bytea NOT NULL, last_event bytea NOT NULL,
  steps integer NOT NULL, entered_at bigint NOT NULL, updated_at bigint NOT NULL,
  ended_at bigint, converted_at bigint, timer_due bigint, timer_node text, timer_visit integer,
  history bytea NOT NULL, history_seq integer NOT NULL);
CREATE INDEX journeys_by_user ON journeys(user_id, flow);
CREATE INDEX journeys_by_timer ON journeys(timer_due, id) WHERE timer_due IS NOT NULL;
CREATE INDEX journeys_by_flow ON journeys(flow, node, state);
CREATE TABLE step_groups(
  journey_id bigint NOT NULL, seq integer NOT NULL, flow text NOT NULL, at bigint NOT NULL,
  steps bytea NOT NULL, PRIMARY KEY(journey_id, seq));
CREATE INDEX step_groups_by_flow ON step_groups(flow);
CREATE TABLE step_words(id bigserial PRIMARY KEY, text bytea NOT NULL UNIQUE);
CREATE TABLE deliveries(
  id bigserial PRIMARY KEY, key text NOT NULL UNIQUE, journey_id bigint NOT NULL,
  channel text NOT NULL, user_id text NOT NULL, flow text NOT NULL,
  flow_version integer NOT NULL, node text NOT NULL, at bigint NOT NULL,
  to_addr text NOT NULL, subject text NOT NULL, body text NOT NULL,
  status integer NOT NULL, attempts integer NOT NULL, next_attempt_at bigint NOT NULL,
  last_error text NOT NULL, sent_at bigint,
  category text NOT NULL DEFAULT 'marketing', priority integer NOT NULL DEFAULT 50,
  release_at bigint, feedback text NOT NULL DEFAULT '', feedback_at bigint,
  delivered_at bigint, opened_at bigint, clicked_at bigint, bounced_at bigint,
  complained_at bigint);
CREATE INDEX deliveries_pending ON deliveries(next_attempt_at, id) WHERE status = 0;
CREATE INDEX deliveries_pending_by_channel ON deliveries(channel, next_attempt_at, id)
  WHERE status = 0;
CREATE INDEX deliveries_by_user ON deliveries(user_id, flow);
CREATE INDEX deliveries_by_flow ON deliveries(flow);
CREATE INDEX deliveries_released ON deliveries(user_id, release_at) WHERE status IN (0, 1, 2);
CREATE INDEX deliveries_deferred ON deliveries(next_attempt_at, id) WHERE status = 3;
CREATE TABLE delivery_attempts(
  delivery_id bigint NOT NULL, attempt integer NOT NULL, at bigint NOT NULL,
  error text NOT NULL, dead boolean NOT NULL, PRIMARY KEY(delivery_id, attempt));
CREATE TABLE coupon_codes(
  id bigserial PRIMARY KEY, pool text NOT NULL, code text NOT NULL,
  claimed_by bigint, claimed_at bigint, UNIQUE(pool, code));
CREATE INDEX coupon_codes_free ON coupon_codes(pool, id) WHERE claimed_by IS NULL;
CREATE TABLE consent(
  user_id text NOT NULL, channel text NOT NULL, subscribed boolean NOT NULL, at bigint NOT NULL,
  reason text NOT NULL, PRIMARY KEY(user_id, channel));
CREATE TABLE merged_ids(anonymous_id text PRIMARY KEY, user_id text NOT NULL, at bigint NOT NULL);
CREATE INDEX merged_ids_by_user ON merged_ids(user_id);
)sql",
    // Version 2: applied events kept for replay (docs/operations.md#event-retention).
    R"sql(
CREATE TABLE retained_events(
  seq bigserial PRIMARY KEY, at bigint NOT NULL, user_id text NOT NULL, type text NOT NULL,
  id text NOT NULL, identify boolean NOT NULL, properties text NOT NULL);
CREATE INDEX retained_events_by_at ON retained_events(at, seq);
CREATE INDEX retained_events_by_user ON retained_events(user_id);
)sql",
    // Version 3: behavioural counters for count() and last_seen()
    // (runtime/sqlite/SCHEMA.md, "Behavioural counters").
    R"sql(
CREATE TABLE behaviour_counts(
  user_id text NOT NULL, key text NOT NULL, day bigint NOT NULL, count bigint NOT NULL,
  PRIMARY KEY(user_id, key, day));
CREATE TABLE behaviour_seen(
  user_id text NOT NULL, event_type text NOT NULL, at bigint NOT NULL,
  PRIMARY KEY(user_id, event_type));
)sql",
    // Version 4: broadcasts, the runs of scheduled flows with their cursors
    // (SQLite's schema 15; docs/flows.md#broadcasts).
    R"sql(
CREATE TABLE broadcasts(
  flow text NOT NULL, run text NOT NULL, schedule text NOT NULL, state text NOT NULL,
  due_at bigint NOT NULL, cursor text NOT NULL, next_pass_at bigint NOT NULL,
  entered bigint NOT NULL, walked bigint NOT NULL, total bigint NOT NULL,
  passes integer NOT NULL, started_at bigint NOT NULL, finished_at bigint NOT NULL,
  PRIMARY KEY(flow, run));
)sql",
    // Version 5: flow results (docs/results.md#rollups), as SQLite's schema 12
    // (runtime/sqlite/rollups.cpp): a conversion's value and the message it is
    // attributed to, each delivery's A/B variant, hourly and all-time rollups,
    // arrows taken, and message rollups, which the writer keeps with every
    // later status change and feedback (rollups.cpp: no trigger, whose row
    // locks would deadlock nodes writing at once). Journeys stored before are
    // counted into the all-time rollups once, when the store opens
    // (Writer::backfill_rollups), after the mark left here.
    R"sql(
ALTER TABLE journeys ADD COLUMN revenue double precision;
ALTER TABLE journeys ADD COLUMN last_message text NOT NULL DEFAULT '';
ALTER TABLE journeys ADD COLUMN converted_after text NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN variant text NOT NULL DEFAULT '';
CREATE TABLE rollups(
  flow text NOT NULL, hour bigint NOT NULL, version integer NOT NULL, node text NOT NULL,
  variant text NOT NULL, entered bigint NOT NULL, exited bigint NOT NULL,
  converted bigint NOT NULL, revenue double precision NOT NULL,
  revenue_sq double precision NOT NULL, PRIMARY KEY(flow, hour, version, node, variant));
CREATE TABLE rollup_edges(
  flow text NOT NULL, version integer NOT NULL, from_node text NOT NULL, to_node text NOT NULL,
  journeys bigint NOT NULL, PRIMARY KEY(flow, version, from_node, to_node));
CREATE TABLE message_rollups(
  flow text NOT NULL, hour bigint NOT NULL, version integer NOT NULL, node text NOT NULL,
  channel text NOT NULL, variant text NOT NULL, status integer NOT NULL,
  messages bigint NOT NULL, delivered bigint NOT NULL, opened bigint NOT NULL,
  clicked bigint NOT NULL, bounced bigint NOT NULL, complained bigint NOT NULL,
  PRIMARY KEY(flow, hour, version, node, channel, variant, status));
INSERT INTO message_rollups
  SELECT flow, hour, flow_version, node, channel, '', status, count(*), 0, 0, 0, 0, 0
  FROM (SELECT *, at - (at % 3600000) AS hour FROM deliveries UNION ALL
        SELECT *, -1 FROM deliveries) d
  WHERE channel != 'coupon' GROUP BY flow, hour, flow_version, node, channel, status;
INSERT INTO message_rollups
  SELECT flow, hour, flow_version, node, channel, '', -1, 0, count(delivered_at),
    count(opened_at), count(clicked_at), count(bounced_at), count(complained_at)
  FROM (SELECT *, at - (at % 3600000) AS hour FROM deliveries UNION ALL
        SELECT *, -1 FROM deliveries) d
  WHERE channel != 'coupon' GROUP BY flow, hour, flow_version, node, channel;
INSERT INTO meta(k, v) SELECT 'rollups_backfill', 'pending' WHERE EXISTS (SELECT 1 FROM journeys);
)sql",
    // Version 6: the series over time reads the flow's own rollups (node "")
    // from an index of those rows alone, as SQLite's schema 16.
    R"sql(
CREATE INDEX rollups_flow_hours ON rollups(flow, hour)
  INCLUDE (entered, exited, converted, revenue, revenue_sq) WHERE node = '';
)sql",
    // Version 7: journey counts by flow, node and state, kept by the writer
    // as SQLite's (schema 8): added up per transaction from each journey
    // insert and update (the update returns the row's old node, state and
    // conversion) and written at commit after the rollups, in key order, so
    // nodes take these hot rows' locks in one order, as the rollups'. The
    // stats and the flow list read a few rows instead of grouping every
    // journey of the flow (1.7 s at 1M journeys; docs/benchmarks.md#flow-results-benchresults_benchcpp).
    R"sql(
CREATE TABLE journey_counts(
  flow text NOT NULL, node text NOT NULL, state integer NOT NULL, journeys bigint NOT NULL,
  conversions bigint NOT NULL, PRIMARY KEY(flow, node, state));
INSERT INTO journey_counts
  SELECT flow, node, state, count(*), count(converted_at) FROM journeys GROUP BY flow, node, state;
)sql",
};
constexpr int kSchemaVersion = static_cast<int>(std::size(kMigrations));

// Any constant: the advisory lock key nodes take while migrating.
constexpr int64_t kMigrationLock = 0x7472656c6c6973;  // "trellis"

Result<int> schema_version(Connection& conn) {
  Result<Rows> has_meta = conn.run_once("SELECT to_regclass('meta') IS NOT NULL");
  if (!has_meta.ok()) return has_meta.error();
  if (has_meta.value().text(0, 0) != "t") return 0;
  Result<Rows> v = conn.run_once("SELECT v FROM meta WHERE k = 'schema_version'");
  if (!v.ok()) return v.error();
  return v.value().empty() ? 0 : std::stoi(v.value().text(0, 0));
}

Status migrate_locked(Connection& conn) {
  Result<int> current = schema_version(conn);
  if (!current.ok()) return current.error();
  if (current.value() > kSchemaVersion)
    return Error{"schema version " + std::to_string(current.value()) +
                 " is newer than this trellis knows (" + std::to_string(kSchemaVersion) +
                 "): upgrade trellis"};
  for (int version = current.value() + 1; version <= kSchemaVersion; ++version) {
    const std::string script = std::string("BEGIN;") + kMigrations[version - 1] +
                               "INSERT INTO meta(k, v) VALUES('schema_version', '" +
                               std::to_string(version) +
                               "') ON CONFLICT(k) DO UPDATE SET v = excluded.v;COMMIT;";
    if (Status s = conn.exec(script); !s) {
      (void)conn.exec("ROLLBACK");
      return Error{"migrating to schema version " + std::to_string(version) + ": " + s.message()};
    }
  }
  return Status();
}

}  // namespace

int latest_schema_version() { return kSchemaVersion; }

Status migrate(Connection& conn) {
  if (Status s = conn.exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")"); !s)
    return s;
  Status s = migrate_locked(conn);
  (void)conn.exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
  return s;
}

}  // namespace trellis::runtime::postgres

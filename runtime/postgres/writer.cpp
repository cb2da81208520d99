#include "runtime/postgres/writer.h"

#include <algorithm>
#include <tuple>

#include "runtime/postgres/rows.h"

namespace trellis::runtime::postgres {

namespace {

// A journey row keeps its newest steps up to about this size, as in SQLite;
// older steps move to a step_groups row, written once.
constexpr size_t kInlineHistoryBytes = 512;

constexpr const char* kInsertJourney =
    "INSERT INTO journeys(" TRELLIS_PG_JOURNEY_COLUMNS
    ") VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,"
    "$24,$25,$26)";

// The row's node, state and conversion before the update come back for the
// journey counts (count_update): the same row, locked first, since RETURNING
// shows only the new values.
constexpr const char* kUpdateJourney =
    "UPDATE journeys SET state=$2, node=$3, waiting_for=$4, visits=$5, coupon_code=$6, "
    "variant=$7, last_event=$8, steps=$9, updated_at=$10, ended_at=$11, converted_at=$12, "
    "timer_due=$13, timer_node=$14, timer_visit=$15, history=$16, history_seq=$17, "
    "version=$18, revenue=$19, last_message=$20, converted_after=$21 "
    "FROM (SELECT id AS old_id, node AS old_node, state AS old_state, "
    "converted_at IS NOT NULL AS old_converted FROM journeys WHERE id=$1 FOR UPDATE) old "
    "WHERE id=old_id RETURNING old_node, old_state, old_converted";

}  // namespace

Writer::Writer(std::unique_ptr<Connection> conn, std::unique_ptr<Connection> words_conn,
               std::string conninfo)
    : conn_(std::move(conn)),
      words_conn_(std::move(words_conn)),
      conninfo_(std::move(conninfo)),
      words_(*conn_, words_conn_.get()),
      reader_(*conn_, words_, &error_, /*reconnect=*/false) {}

Writer::~Writer() {
  if (in_transaction_) rollback();
}

Result<Rows> Writer::run(const char* name, const char* sql, const Params& params) {
  Result<Rows> r = conn_->run(name, sql, params);
  if (!r.ok() && !error_) error_ = r.error();
  return r;
}

Status Writer::begin() {
  // Between transactions only: a reconnect inside one would run the rest of
  // it outside any transaction.
  conn_->reconnect_if_lost();
  words_conn_->reconnect_if_lost();
  error_.reset();
  locked_users_.clear();
  forget_rollups();
  wake_others_ = false;
  // The flows' generation rides on the BEGIN's round trip: the engine asks
  // for it in every transaction (flows_generation).
  Result<Rows> r = conn_->exec_rows(
      "BEGIN; SELECT coalesce((SELECT v::bigint FROM meta WHERE k = 'flows_generation'), 0)");
  if (!r.ok()) {
    if (conn_->ok()) (void)conn_->exec("ROLLBACK");
    return r.error().prefixed("begin: ");
  }
  flows_generation_ = r.value().i64(0, 0);
  in_transaction_ = true;
  return Status();
}

Result<int64_t> Writer::flows_generation() { return flows_generation_; }

// One counter for every flow change; concurrent deploys take turns on its row.
Status Writer::bump_flows_generation() {
  wake_others_ = true;  // a deploy or state change reaches the other nodes at once
  return done("bump_flows_generation",
              "INSERT INTO meta(k, v) VALUES('flows_generation', '1') ON CONFLICT(k) "
              "DO UPDATE SET v = (meta.v::bigint + 1)::text");
}

Status Writer::commit() {
  if (!error_) (void)write_rollups();
  if (error_) {
    const Error error = *error_;
    rollback();
    return error;
  }
  // Delivered to the listeners at the commit, and only if it commits. The
  // payload is the schema: listeners of other schemas in the database ignore it.
  if (wake_others_) {
    if (Result<Rows> r = run("notify_wake", "SELECT pg_notify('trellis_wake', current_schema())");
        !r.ok()) {
      rollback();
      return r.error();
    }
  }
  in_transaction_ = false;
  if (Status s = conn_->exec("COMMIT"); !s) {
    (void)conn_->exec("ROLLBACK");
    return s.error().prefixed("commit: ");
  }
  return Status();
}

void Writer::rollback() {
  in_transaction_ = false;
  forget_rollups();
  (void)conn_->exec("ROLLBACK");
}

Status Writer::lock_user(const std::string& user_id) {
  if (!locked_users_.insert(user_id).second) return Status();
  return done("lock_user", "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
              Params().add(user_id));
}

Result<std::string> Writer::meta_value(const std::string& key, const std::string& value_if_absent) {
  Result<Rows> r = run("meta_value",
                       "WITH added AS (INSERT INTO meta(k, v) VALUES($1, $2) ON CONFLICT(k) "
                       "DO NOTHING RETURNING v) SELECT v FROM added UNION ALL "
                       "SELECT v FROM meta WHERE k = $1",
                       Params().add(key).add(value_if_absent));
  if (!r.ok()) return r.error();
  if (r.value().empty()) return Error::not_found("meta value " + key + " is missing");
  return r.value().text(0, 0);
}

Status Writer::add_flow_version(const FlowVersionRecord& r) {
  if (Status s = bump_flows_generation(); !s) return s;
  return done("add_flow",
              "INSERT INTO flow_versions(name, version, source, deployed_at, author) "
              "VALUES($1,$2,$3,$4,$5)",
              Params().add(r.name).add(r.version).add(r.source).add(r.deployed_at).add(r.author));
}

Status Writer::set_flow_state(const FlowStateRecord& r) {
  if (Status s = bump_flows_generation(); !s) return s;
  return done("set_flow_state",
              "INSERT INTO flow_states(name, state, at, by, reason) VALUES($1,$2,$3,$4,$5) "
              "ON CONFLICT(name) DO UPDATE SET state = excluded.state, at = excluded.at, "
              "by = excluded.by, reason = excluded.reason",
              Params().add(r.name).add(r.state).add(r.at).add(r.by).add(r.reason));
}

Status Writer::put_broadcast(const BroadcastRecord& r) {
  return done("put_broadcast",
              "INSERT INTO broadcasts(flow, run, schedule, state, due_at, cursor, next_pass_at, "
              "entered, walked, total, passes, started_at, finished_at) "
              "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT(flow, run) DO UPDATE "
              "SET schedule = excluded.schedule, state = excluded.state, due_at = excluded.due_at, "
              "cursor = excluded.cursor, next_pass_at = excluded.next_pass_at, "
              "entered = excluded.entered, walked = excluded.walked, total = excluded.total, "
              "passes = excluded.passes, started_at = excluded.started_at, "
              "finished_at = excluded.finished_at",
              Params()
                  .add(r.flow)
                  .add(r.run)
                  .add(r.schedule)
                  .add(r.state)
                  .add(r.due_at)
                  .add(r.cursor)
                  .add(r.next_pass_at)
                  .add(r.entered)
                  .add(r.walked)
                  .add(r.total)
                  .add(r.passes)
                  .add(r.started_at)
                  .add(r.finished_at));
}

Result<std::optional<BroadcastRecord>> Writer::claim_broadcast(const std::string& flow,
                                                               const std::string& run) {
  Result<Rows> r = this->run("claim_broadcast",
                             "SELECT " TRELLIS_PG_BROADCAST_COLUMNS
                             " FROM broadcasts "
                             "WHERE flow = $1 AND run = $2 FOR UPDATE SKIP LOCKED",
                             Params().add(flow).add(run));
  if (!r.ok()) return r.error();
  if (r.value().empty()) return std::optional<BroadcastRecord>();
  return std::optional<BroadcastRecord>(read_broadcast(r.value(), 0));
}

// Never waits for a user (as due_journeys): a node stepping one of these users
// may wait for a user this transaction holds. The traits are read after the
// locks, in a statement of their own (a later snapshot), so a profile changed
// or erased meanwhile is seen as it is now.
Result<std::vector<std::pair<std::string, std::string>>> Writer::lock_profiles_after(
    const std::string& after, size_t limit) {
  Result<Rows> window =
      run("lock_profiles_after",
          "SELECT user_id, pg_try_advisory_xact_lock(hashtextextended(user_id, 0)) "
          "FROM (SELECT user_id FROM profiles WHERE user_id > $1 "
          "ORDER BY user_id LIMIT $2) w ORDER BY user_id",
          Params().add(after).add(static_cast<int64_t>(limit)));
  if (!window.ok()) return window.error();
  std::vector<std::string> users;
  for (int i = 0; i < window.value().size(); ++i) {
    std::string user = window.value().text(i, 0);
    if (window.value().text(i, 1) != "t" && locked_users_.count(user) == 0) break;
    locked_users_.insert(user);
    users.push_back(std::move(user));
  }
  std::vector<std::pair<std::string, std::string>> out;
  if (users.empty()) return out;
  Result<Rows> traits = run("window_traits",
                            "SELECT user_id, traits FROM profiles WHERE user_id = ANY($1) "
                            "ORDER BY user_id",
                            Params().add(text_array(users)));
  if (!traits.ok()) return traits.error();
  for (int i = 0; i < traits.value().size(); ++i)
    out.emplace_back(traits.value().text(i, 0), traits.value().text(i, 1));
  return out;
}

Status Writer::put_profile(const std::string& user_id, const std::string& traits, TimeMs at) {
  return done("put_profile",
              "INSERT INTO profiles(user_id, traits, updated_at) VALUES($1,$2,$3) "
              "ON CONFLICT(user_id) DO UPDATE SET traits = excluded.traits, "
              "updated_at = excluded.updated_at",
              Params().add(user_id).add(traits).add(at));
}

Result<bool> Writer::mark_event_seen(const std::string& id, TimeMs at) {
  Result<Rows> r =
      run("seen", "INSERT INTO events_seen(id, at) VALUES($1,$2) ON CONFLICT DO NOTHING",
          Params().add(id).add(at));
  if (!r.ok()) return r.error();
  return r.value().changed() > 0;
}

Result<int64_t> Writer::prune_events_seen(TimeMs before) {
  Result<Rows> r = run("prune", "DELETE FROM events_seen WHERE at < $1", Params().add(before));
  if (!r.ok()) return r.error();
  return r.value().changed();
}

Status Writer::retain_event(const RetainedEvent& e) {
  return done(
      "retain",
      "INSERT INTO retained_events(at, user_id, type, id, identify, properties) "
      "VALUES($1,$2,$3,$4,$5,$6)",
      Params().add(e.at).add(e.user_id).add(e.type).add(e.id).add(e.identify).add(e.properties));
}

Result<int64_t> Writer::prune_retained_events(TimeMs before, int64_t keep_most, size_t limit) {
  Result<Rows> old = run("prune_retained_old",
                         "DELETE FROM retained_events WHERE seq IN (SELECT seq FROM "
                         "retained_events WHERE at < $1 LIMIT $2)",
                         Params().add(before).add(static_cast<int64_t>(limit)));
  if (!old.ok()) return old.error();
  const int64_t deleted = old.value().changed();
  if (deleted >= static_cast<int64_t>(limit)) return deleted;
  Result<Rows> over = run("prune_retained_over",
                          "DELETE FROM retained_events WHERE seq IN (SELECT seq FROM "
                          "retained_events WHERE seq <= (SELECT max(seq) FROM retained_events) "
                          "- $1 ORDER BY seq LIMIT $2)",
                          Params().add(keep_most).add(static_cast<int64_t>(limit) - deleted));
  if (!over.ok()) return over.error();
  return deleted + over.value().changed();
}

Result<int64_t> Writer::new_journey_id() {
  if (ids_left_ == 0) {
    Result<Rows> r = run("next_ids", "SELECT nextval('journey_ids')");
    if (!r.ok()) return r.error();
    next_id_ = r.value().i64(0, 0);
    ids_left_ = kIdBlock;
  }
  --ids_left_;
  return next_id_++;
}

// Other nodes look at the store once a second (the engine's poll_ms): work
// due later than that reaches them by their poll, sooner by a wake-up. One
// NOTIFY per transaction at most: PostgreSQL serializes notifying commits
// (a lock on the notification queue), so only what the wake-up speeds up
// sends one.
void Writer::note_due(TimeMs due, TimeMs at) {
  if (due - at <= kWakeHorizonMs) wake_others_ = true;
}

Status Writer::insert_journey(const JourneyRecord& j) {
  if (j.id <= 0) return Error::invalid("insert_journey: the journey has no id (new_journey_id)");
  if (j.timer) note_due(j.timer->due, j.updated_at);
  Status s = done("insert_journey", kInsertJourney, journey_params(j, words_, /*insert=*/true));
  if (s) count_journey(j.flow, j.node, static_cast<int>(j.state), j.converted_at.has_value(), +1);
  return s;
}

Status Writer::update_journey(const JourneyRecord& j) {
  if (j.timer) note_due(j.timer->due, j.updated_at);
  Result<Rows> r =
      run("update_journey", kUpdateJourney, journey_params(j, words_, /*insert=*/false));
  if (!r.ok()) return r.error();
  if (!r.value().empty())  // no such row: the UPDATE changed nothing, nor do the counts
    count_update(j, r.value().text(0, 0), static_cast<int>(r.value().i64(0, 1)),
                 r.value().text(0, 2) == "t");
  return Status();
}

Status Writer::append_history(JourneyRecord& j, const std::vector<StepRecord>& steps) {
  if (steps.empty()) return Status();
  if (!step_codec::is_encoded(j.history)) j.history.clear();  // "[]": a new journey
  if (steps.front().seq > j.history_seq && j.history.size() > kInlineHistoryBytes) {
    if (Status s = done("append_group",
                        "INSERT INTO step_groups(journey_id, seq, flow, at, steps) "
                        "VALUES($1,$2,$3,$4,$5)",
                        Params()
                            .add(j.id)
                            .add(j.history_seq)
                            .add(j.flow)
                            .add(steps.front().at)
                            .bytes(j.history));
        !s)
      return s;
    j.history.clear();
    j.history_seq = steps.front().seq;
  }
  step_codec::append(j.history, steps, j.user_id, words_);
  return Status();
}

Result<std::vector<JourneyRecord>> Writer::due_journeys(TimeMs now, size_t limit) {
  Result<Rows> due = run("due_journeys",
                         "SELECT " TRELLIS_PG_JOURNEY_COLUMNS
                         " FROM journeys WHERE timer_due <= $1 "
                         "AND flow NOT IN (SELECT name FROM flow_states WHERE state = 'paused') "
                         "ORDER BY timer_due, id LIMIT $2 FOR UPDATE OF journeys SKIP LOCKED",
                         Params().add(now).add(static_cast<int64_t>(limit)));
  if (!due.ok()) return due.error();
  std::vector<std::string> users;
  for (int i = 0; i < due.value().size(); ++i) {
    std::string user = due.value().text(i, 3);
    if (locked_users_.count(user) == 0) users.push_back(std::move(user));
  }
  if (!users.empty()) {
    // Never wait for a user here: a node stepping that user may wait for one
    // of these rows, and waiting both ways is a deadlock.
    Result<Rows> locked = run("try_lock_users",
                              "SELECT u FROM unnest($1::text[]) u "
                              "WHERE pg_try_advisory_xact_lock(hashtextextended(u, 0))",
                              Params().add(text_array(users)));
    if (!locked.ok()) return locked.error();
    for (int i = 0; i < locked.value().size(); ++i) locked_users_.insert(locked.value().text(i, 0));
  }
  std::vector<JourneyRecord> out;
  out.reserve(static_cast<size_t>(due.value().size()));
  for (int i = 0; i < due.value().size(); ++i)
    if (locked_users_.count(due.value().text(i, 3)))
      out.push_back(read_journey(due.value(), i, words_));
  return out;
}

Result<bool> Writer::insert_delivery(const DeliveryRecord& d) {
  // A deferred message is released by a timer loop (due_deferred); pending
  // ones are found by every node's dispatcher, which looks every few ms.
  if (d.status == DeliveryStatus::kDeferred) note_due(d.next_attempt_at, d.at);
  Result<Rows> r =
      run("insert_delivery",
          "INSERT INTO deliveries(key, journey_id, channel, user_id, flow, flow_version, node, at, "
          "to_addr, subject, body, status, attempts, next_attempt_at, last_error, category, "
          "priority, release_at, variant) "
          "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,0,$13,$14,$15,$16,$17,$18) "
          "ON CONFLICT(key) DO NOTHING",
          Params()
              .add(d.key)
              .add(d.journey_id)
              .add(d.channel)
              .add(d.user_id)
              .add(d.flow)
              .add(d.flow_version)
              .add(d.node)
              .add(d.at)
              .add(d.to)
              .add(d.subject)
              .add(d.body)
              .add(static_cast<int>(d.status))
              .add(d.next_attempt_at)
              .add(d.last_error)
              .add(d.category)
              .add(d.priority)
              .add(release_column(d.release_at))
              .add(d.variant));
  if (!r.ok()) return r.error();
  return r.value().changed() > 0;
}

Status Writer::mark_sent(int64_t id, TimeMs at) {
  return update_deliveries("mark_sent", "status = 1, sent_at = $2", "id = $1",
                           Params().add(id).add(at));
}

Status Writer::record_failure(int64_t id, int attempts, TimeMs next, const std::string& error,
                              bool dead, TimeMs at) {
  if (Status s = update_deliveries(
          "record_failure",
          "status = $2, attempts = $3, next_attempt_at = $4, "
          "last_error = $5",
          "id = $1",
          Params()
              .add(id)
              .add(static_cast<int>(dead ? DeliveryStatus::kDead : DeliveryStatus::kPending))
              .add(attempts)
              .add(next)
              .add(error));
      !s)
    return s;
  return done("record_attempt",
              "INSERT INTO delivery_attempts(delivery_id, attempt, at, error, dead) "
              "VALUES($1,$2,$3,$4,$5) ON CONFLICT(delivery_id, attempt) DO UPDATE SET "
              "at = excluded.at, error = excluded.error, dead = excluded.dead",
              Params().add(id).add(attempts).add(at).add(error).add(dead));
}

Status Writer::mark_suppressed(int64_t id, const std::string& reason, TimeMs) {
  return update_deliveries("mark_suppressed", "status = 4, last_error = $2",
                           "id = $1 AND status = 0", Params().add(id).add(reason));
}

Result<std::vector<DeliveryRecord>> Writer::lease_deliveries(const std::string& channel, TimeMs now,
                                                             size_t limit, TimeMs lease_until) {
  Result<Rows> r =
      run("lease_deliveries",
          "WITH picked AS (SELECT id, next_attempt_at AS due FROM deliveries "
          "WHERE status = 0 AND channel = $1 AND next_attempt_at <= $2 "
          "ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) "
          "UPDATE deliveries d SET next_attempt_at = $4 FROM picked "
          "WHERE d.id = picked.id RETURNING d.id, d.key, d.journey_id, d.channel, "
          "d.user_id, d.flow, d.flow_version, d.node, d.at, d.to_addr, d.subject, "
          "d.body, d.status, d.attempts, d.next_attempt_at, d.last_error, "
          "d.category, d.priority, d.release_at, d.feedback, d.feedback_at, "
          "d.variant, picked.due",
          Params().add(channel).add(now).add(static_cast<int64_t>(limit)).add(lease_until));
  if (!r.ok()) return r.error();
  std::vector<std::pair<TimeMs, DeliveryRecord>> due;
  for (int i = 0; i < r.value().size(); ++i)
    due.emplace_back(r.value().i64(i, 22), read_delivery(r.value(), i));
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first, a.second.id) < std::tie(b.first, b.second.id);
  });
  std::vector<DeliveryRecord> out;
  for (auto& [at, d] : due) out.push_back(std::move(d));
  return out;
}

Status Writer::put_consent(const ConsentRecord& r) {
  return done(
      "put_consent",
      "INSERT INTO consent(user_id, channel, subscribed, at, reason) VALUES($1,$2,$3,$4,$5) "
      "ON CONFLICT(user_id, channel) DO UPDATE SET subscribed = excluded.subscribed, "
      "at = excluded.at, reason = excluded.reason",
      Params().add(r.user_id).add(r.channel).add(r.subscribed).add(r.at).add(r.reason));
}

Result<std::vector<DeliveryRecord>> Writer::due_deferred(TimeMs now, size_t limit) {
  Result<Rows> r = run("due_deferred",
                       "SELECT " TRELLIS_PG_DELIVERY_COLUMNS
                       " FROM deliveries WHERE status = 3 "
                       "AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
                       Params().add(now).add(static_cast<int64_t>(limit)));
  if (!r.ok()) return r.error();
  std::vector<DeliveryRecord> out;
  for (int i = 0; i < r.value().size(); ++i) out.push_back(read_delivery(r.value(), i));
  return out;
}

Result<std::vector<DeliveryRecord>> Writer::due_deferred_of_user(const std::string& user_id,
                                                                 TimeMs now) {
  // After lock_user: another node that judged them meanwhile left them non-deferred.
  Result<Rows> r = run("due_deferred_of_user",
                       "SELECT " TRELLIS_PG_DELIVERY_COLUMNS
                       " FROM deliveries WHERE user_id = $1 "
                       "AND status = 3 AND next_attempt_at <= $2 ORDER BY priority DESC, at, id",
                       Params().add(user_id).add(now));
  if (!r.ok()) return r.error();
  std::vector<DeliveryRecord> out;
  for (int i = 0; i < r.value().size(); ++i) out.push_back(read_delivery(r.value(), i));
  return out;
}

Status Writer::set_delivery_verdict(int64_t id, DeliveryStatus status, TimeMs release_at,
                                    const std::string& reason) {
  return update_deliveries(
      "set_verdict",
      "status = $2, release_at = $3, "
      "next_attempt_at = coalesce($3, next_attempt_at), last_error = $4",
      "id = $1",
      Params().add(id).add(static_cast<int>(status)).add(release_column(release_at)).add(reason));
}

Status Writer::record_feedback(int64_t id, Feedback kind, const std::string& detail, TimeMs at) {
  const std::string name = feedback_name(kind);
  const std::string newest = detail.empty() ? name : name + " " + detail;
  // $2 is the kind's name: the first time of each kind is kept.
  return update_deliveries(
      "record_feedback",
      "feedback = $3, feedback_at = $4, "
      "delivered_at = CASE WHEN $2 = 'delivered' THEN coalesce(delivered_at, $4) ELSE delivered_at END, "
      "opened_at = CASE WHEN $2 = 'opened' THEN coalesce(opened_at, $4) ELSE opened_at END, "
      "clicked_at = CASE WHEN $2 = 'clicked' THEN coalesce(clicked_at, $4) ELSE clicked_at END, "
      "bounced_at = CASE WHEN $2 = 'bounced' THEN coalesce(bounced_at, $4) ELSE bounced_at END, "
      "complained_at = CASE WHEN $2 = 'complained' THEN coalesce(complained_at, $4) "
      "ELSE complained_at END",
      "id = $1", Params().add(id).add(name).add(newest).add(at));
}

Result<int64_t> Writer::add_coupon_codes(const std::string& pool,
                                         const std::vector<std::string>& codes) {
  if (codes.empty()) return int64_t{0};
  Result<Rows> r = run("add_codes",
                       "INSERT INTO coupon_codes(pool, code) SELECT $1, c FROM "
                       "unnest($2::text[]) WITH ORDINALITY AS t(c, n) ORDER BY n "
                       "ON CONFLICT DO NOTHING",
                       Params().add(pool).add(text_array(codes)));
  if (!r.ok()) return r.error();
  return r.value().changed();
}

Result<std::optional<std::string>> Writer::claim_coupon(const std::string& pool, int64_t journey_id,
                                                        TimeMs at) {
  Result<Rows> r = run("claim_code",
                       "UPDATE coupon_codes SET claimed_by = $2, claimed_at = $3 WHERE id = ("
                       "SELECT id FROM coupon_codes WHERE pool = $1 AND claimed_by IS NULL "
                       "ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING code",
                       Params().add(pool).add(journey_id).add(at));
  if (!r.ok()) return r.error();
  if (r.value().empty()) return std::optional<std::string>();
  return std::optional<std::string>(r.value().text(0, 0));
}

Result<std::unique_ptr<StoreReader>> Writer::open_reader() {
  Result<std::unique_ptr<Connection>> conn = Connection::open(conninfo_);
  if (!conn.ok()) return conn.error();
  auto words = std::make_unique<Words>(*conn.value(), nullptr);
  return std::unique_ptr<StoreReader>(
      std::make_unique<OwnedReader>(std::move(conn.value()), std::move(words)));
}

}  // namespace trellis::runtime::postgres

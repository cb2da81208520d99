#include "runtime/sqlite/writer.h"

#include <algorithm>
#include <optional>
#include <map>
#include <utility>

#include "runtime/sqlite/rows.h"

namespace trellis::runtime::sqlite {

namespace {

// A journey row keeps its newest steps up to about this size (most journeys'
// whole history: a step is about 8 to 20 bytes); older steps move to a
// step_groups row, written once, so that the row every step rewrites stays small.
constexpr size_t kInlineHistoryBytes = 512;

// Each prune visits at least this many seen ids, and twice as many as were
// marked since the previous prune: the sweep outpaces the inserts, so an id
// is forgotten at most about one retention after it expired (see
// prune_events_seen).
constexpr int64_t kMinPruneSweep = 100000;

}  // namespace

SqliteStore::SqliteStore(sqlite3* db, std::string path)
    : db_(db),
      path_(std::move(path)),
      reader_(db, /*owns=*/false),
      words_(db),
      begin_(db, "BEGIN IMMEDIATE"),
      commit_(db, "COMMIT"),
      rollback_(db, "ROLLBACK"),
      add_flow_(db,
                "INSERT INTO flow_versions(name, version, source, deployed_at, author) "
                "VALUES(?,?,?,?,?)"),
      set_flow_state_(db,
                      "INSERT OR REPLACE INTO flow_states(name, state, at, by, reason) "
                      "VALUES(?,?,?,?,?)"),
      put_profile_(db,
                   "INSERT INTO profiles(user_id, traits, updated_at) VALUES(?1,?2,?3) "
                   "ON CONFLICT(user_id) DO UPDATE SET traits = ?2, updated_at = ?3"),
      seen_(db, "INSERT OR IGNORE INTO events_seen(id, at) VALUES(?, ?)"),
      sweep_end_(db, "SELECT id FROM events_seen WHERE id >= ?1 ORDER BY id LIMIT 1 OFFSET ?2"),
      prune_(db, "DELETE FROM events_seen WHERE id >= ?1 AND at < ?2"),
      prune_range_(db, "DELETE FROM events_seen WHERE id >= ?1 AND id < ?3 AND at < ?2"),
      insert_journey_(db, insert_journeys_sql(1).c_str()),
      insert_journeys_(db, insert_journeys_sql(kJourneyChunk).c_str()),
      max_journey_(db, "SELECT coalesce(max(id), 0) FROM journeys"),
      journey_owners_(db, "SELECT user_id, flow FROM journeys"),
      data_version_stmt_(db, "PRAGMA data_version"),
      put_meta_(db, "INSERT OR IGNORE INTO meta(k, v) VALUES(?, ?)"),
      get_meta_(db, "SELECT v FROM meta WHERE k = ?"),
      bump_flows_(db,
                  "INSERT INTO meta(k, v) VALUES('flows_generation', '1') ON CONFLICT(k) "
                  "DO UPDATE SET v = CAST(CAST(v AS INTEGER) + 1 AS TEXT)"),
      update_journey_(
          db,
          // Parameters numbered as bind_journey() binds them.
          "UPDATE journeys SET version=?2, state=?5, node=?6, waiting_for=?7, visits=?8, "
          "coupon_code=?9, variant=?10, last_event=?12, steps=?13, updated_at=?15, "
          "ended_at=?16, converted_at=?17, timer_due=?19, timer_node=?20, "
          "timer_visit=?21, history=?22, history_seq=?23, revenue=?24, last_message=?25, "
          "converted_after=?26 WHERE id=?18"),
      append_group_(db,
                    "INSERT INTO step_groups(journey_id, seq, flow, at, steps) "
                    "VALUES(?,?,?,?,?)"),
      due_journeys_(db, sql("SELECT ", kJourneyColumns,
                            " FROM journeys WHERE timer_due <= ? AND flow NOT IN (SELECT name FROM "
                            "flow_states WHERE state = 'paused') ORDER BY timer_due, id LIMIT ?")
                            .c_str()),
      insert_delivery_(db,
                       "INSERT OR IGNORE INTO deliveries(key, journey_id, channel, user_id, flow, "
                       "flow_version, node, at, to_addr, subject, body, status, attempts, "
                       "next_attempt_at, last_error, category, priority, release_at, variant) "
                       "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?,?,?)"),
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
      claim_code_(db, "UPDATE coupon_codes SET claimed_by = ?, claimed_at = ? WHERE id = ?"),
      counted_as_(db,
                  "SELECT flow, node, state, converted_at IS NOT NULL, timer_due IS NOT NULL "
                  "FROM journeys WHERE id = ?"),
      add_counts_(db,
                  "INSERT INTO journey_counts VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO "
                  "UPDATE SET journeys = journeys + excluded.journeys, conversions = "
                  "conversions + excluded.conversions, timers = timers + excluded.timers"),
      retain_(db,
              "INSERT INTO retained_events(at, user_id, type, id, identify, properties) "
              "VALUES(?,?,?,?,?,?)"),
      prune_retained_old_(db,
                          "DELETE FROM retained_events WHERE seq IN (SELECT seq FROM "
                          "retained_events WHERE at < ?1 LIMIT ?2)"),
      prune_retained_over_(db,
                           "DELETE FROM retained_events WHERE seq IN (SELECT seq FROM "
                           "retained_events WHERE seq <= (SELECT max(seq) FROM retained_events) "
                           "- ?1 ORDER BY seq LIMIT ?2)"),
      count_behaviour_(db,
                       "INSERT INTO behaviour_counts VALUES(?1, ?2, ?3, 1) ON CONFLICT DO "
                       "UPDATE SET count = count + 1 RETURNING count"),
      drop_buckets_(db,
                    "DELETE FROM behaviour_counts WHERE user_id = ?1 AND key = ?2 AND day < ?3"),
      note_seen_(db,
                 "INSERT INTO behaviour_seen VALUES(?1, ?2, ?3) ON CONFLICT DO UPDATE SET "
                 "at = max(at, excluded.at)"),
      put_broadcast_(db,
                     "INSERT OR REPLACE INTO broadcasts(flow, run, schedule, state, due_at, "
                     "cursor, next_pass_at, entered, walked, total, passes, started_at, "
                     "finished_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)") {
  reader_.use_words(&words_);
  reader_.report_errors_to(&error_);
  load_caches();
}

void SqliteStore::rebuild_filter(size_t capacity) {
  flush_journeys();
  journey_filter_ = JourneyFilter(capacity);
  Use u(journey_owners_);
  while (u->step(&error_)) journey_filter_.add(u->text(0), u->text(1));
}

void SqliteStore::load_caches() {
  {
    Use u(max_journey_);
    last_journey_id_ = u->step(&error_) ? u->i64(0) : 0;
  }
  // Journey ids are dense (new_journey_id counts up), so the largest id bounds
  // the number of journeys to size the filter for.
  rebuild_filter(2 * static_cast<size_t>(last_journey_id_));
  rebuild_merged_filter(0);
  words_.reload();
  Use u(data_version_stmt_);
  data_version_ = u->step(&error_) ? u->i64(0) : 0;
}

SqliteStore::~SqliteStore() {
  sqlite3_wal_hook(db_, nullptr, nullptr);
  checkpointer_.reset();
  sqlite3_close_v2(db_);
}

void SqliteStore::start_checkpointer() {
  auto c = std::make_unique<Checkpointer>(path_);
  if (!c->running()) return;
  checkpointer_ = std::move(c);
  (void)exec(db_, "PRAGMA wal_autocheckpoint=0");
  sqlite3_wal_hook(db_, &Checkpointer::on_commit, checkpointer_.get());
}

std::optional<JourneyRecord> SqliteStore::journey(int64_t id) {
  flush_journeys();
  std::optional<JourneyRecord> j = reader_.journey(id);
  if (j) remember_counted(*j);
  return j;
}

std::vector<JourneyRecord> SqliteStore::journeys_of(const std::string& u, const std::string& f) {
  if (!f.empty() && !journey_filter_.may_contain(u, f)) return {};
  flush_journeys();
  std::vector<JourneyRecord> out = reader_.journeys_of(u, f);
  for (const JourneyRecord& j : out) remember_counted(j);
  return out;
}

std::vector<StepRecord> SqliteStore::steps(int64_t id) {
  flush_journeys();
  return reader_.steps(id);
}

std::vector<DeliveryRecord> SqliteStore::deliveries(const std::string& u, const std::string& f,
                                                    size_t limit) {
  return reader_.deliveries(u, f, limit);
}

FlowCounts SqliteStore::counts(const std::string& flow) {
  flush_journeys();
  flush_counts();
  return reader_.counts(flow);
}

FlowTotals SqliteStore::totals(const std::string& flow) {
  flush_journeys();
  flush_counts();
  return reader_.totals(flow);
}

std::vector<JourneySummary> SqliteStore::flow_journeys(const JourneyQuery& query) {
  flush_journeys();
  return reader_.flow_journeys(query);
}

Status SqliteStore::add_rollups(const RollupBatch& batch) {
  Status s = reader_.rollups().add(batch);
  if (!s && error_.empty()) error_ = s.message();  // fails the commit
  return s;
}

std::optional<TimeMs> SqliteStore::next_timer_due() {
  flush_journeys();
  return reader_.next_timer_due();
}

int64_t SqliteStore::pending_timer_count() {
  flush_journeys();
  flush_counts();
  return reader_.pending_timer_count();
}

int64_t SqliteStore::coupon_codes_left(const std::string& pool) {
  return reader_.coupon_codes_left(pool);
}

Status SqliteStore::backfill_rollups() {
  {
    Stmt pending(db_, "SELECT 1 FROM meta WHERE k = 'rollups_backfill'");
    if (!pending.step()) return Status();
  }
  if (Status s = begin(); !s) return s;
  std::vector<std::string> flows;
  {
    Stmt s(db_, "SELECT DISTINCT flow FROM journeys");
    while (s.step()) flows.push_back(s.text(0));
  }
  Stmt by_variant(db_,
                  "SELECT variant, count(*), count(ended_at), count(converted_at), "
                  "coalesce(sum(revenue), 0) FROM journeys WHERE flow = ? GROUP BY variant");
  RollupBatch batch;
  for (const std::string& flow : flows) {
    std::vector<VariantJourneys> by_variants;
    {
      Use u(by_variant);
      u->bind(1, flow);
      while (u->step())
        by_variants.push_back(
            {u->text(0), u->i64(1), u->i64(2), u->i64(3), u->opt_double(4).value_or(0)});
    }
    add_backfill(batch, flow, reader_.scanned_counts(flow), by_variants);
  }
  if (Status s = add_rollups(batch); !s) {
    rollback();
    return s;
  }
  Stmt forget(db_, "DELETE FROM meta WHERE k = 'rollups_backfill'");
  if (Status s = run_once(forget); !s) {
    rollback();
    return s;
  }
  return commit();
}

Status SqliteStore::begin() {
  error_.clear();
  {
    Use u(begin_);
    u->step(&error_);
  }
  if (!error_.empty()) return Error{"begin: " + error_};
  // BEGIN IMMEDIATE holds the write lock: nobody else writes until we commit.
  int64_t version = 0;
  {
    Use u(data_version_stmt_);
    version = u->step(&error_) ? u->i64(0) : 0;
  }
  if (version != data_version_) load_caches();  // another process committed
  return error_.empty() ? Status() : Status(Error{"begin: " + error_});
}

Status SqliteStore::commit() {
  flush_journeys();
  flush_counts();
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
  counted_.clear();
  {
    Use v(data_version_stmt_);
    data_version_ = v->step() ? v->i64(0) : data_version_;
  }
  if (checkpointer_) checkpointer_->finish_checkpoint_if_long(db_);
  return Status();
}

void SqliteStore::rollback() {
  pending_journeys_.clear();
  forget_counts();
  words_.rolled_back();
  if (sqlite3_get_autocommit(db_)) return;
  std::string ignored;
  Use u(rollback_);
  u->step(&ignored);
}

Result<int64_t> SqliteStore::new_journey_id() { return ++last_journey_id_; }

Result<std::string> SqliteStore::meta_value(const std::string& key,
                                            const std::string& value_if_absent) {
  {
    Use u(put_meta_);
    u->bind(1, key).bind(2, value_if_absent);
    if (Status s = done(u); !s) return Error{s.message()};
  }
  Use u(get_meta_);
  u->bind(1, key);
  if (!u->step(&error_))
    return Error{error_.empty() ? "meta value " + key + " is missing" : error_};
  return u->text(0);
}

Status SqliteStore::add_flow_version(const FlowVersionRecord& r) {
  if (Status s = run_once(bump_flows_); !s) return s;
  Use u(add_flow_);
  u->bind(1, r.name).bind(2, r.version).bind(3, r.source).bind(4, r.deployed_at).bind(5, r.author);
  return done(u);
}

Status SqliteStore::set_flow_state(const FlowStateRecord& r) {
  if (Status s = run_once(bump_flows_); !s) return s;
  Use u(set_flow_state_);
  u->bind(1, r.name).bind(2, r.state).bind(3, r.at).bind(4, r.by).bind(5, r.reason);
  return done(u);
}

Result<int64_t> SqliteStore::flows_generation() {
  static const std::string kKey = "flows_generation";  // bound, not copied
  Use u(get_meta_);
  u->bind(1, kKey);
  if (!u->step(&error_)) {
    if (!error_.empty()) return Error{error_};
    return int64_t{0};
  }
  return u->i64(0);
}

Status SqliteStore::put_broadcast(const BroadcastRecord& r) {
  Use u(put_broadcast_);
  u->bind(1, r.flow).bind(2, r.run).bind(3, r.schedule).bind(4, r.state).bind(5, r.due_at);
  u->bind(6, r.cursor).bind(7, r.next_pass_at).bind(8, r.entered).bind(9, r.walked);
  u->bind(10, r.total).bind(11, r.passes).bind(12, r.started_at).bind(13, r.finished_at);
  return done(u);
}

Result<std::optional<BroadcastRecord>> SqliteStore::claim_broadcast(const std::string& flow,
                                                                    const std::string& run) {
  for (BroadcastRecord& r : reader_.broadcasts(flow))
    if (r.run == run) return std::optional<BroadcastRecord>(std::move(r));
  return std::optional<BroadcastRecord>();
}

Status SqliteStore::put_profile(const std::string& user_id, const std::string& traits, TimeMs at) {
  Use u(put_profile_);
  u->bind(1, user_id).bind(2, traits).bind(3, at);
  return done(u);
}

Result<bool> SqliteStore::mark_event_seen(const std::string& id, TimeMs at) {
  Use u(seen_);
  u->bind(1, id).bind(2, at);
  if (Status s = done(u); !s) return s.error();
  if (sqlite3_changes(db_) == 0) return false;
  ++seen_since_prune_;
  return true;
}

// events_seen has one b-tree, keyed by id (schema 11 dropped the index by
// time, a second b-tree insert per event): a prune sweeps the next range of
// ids from where the previous one stopped, deleting the expired ones, and
// starts over at the first id after the last.
Result<int64_t> SqliteStore::prune_events_seen(TimeMs before) {
  const int64_t sweep = std::max(kMinPruneSweep, 2 * seen_since_prune_);
  seen_since_prune_ = 0;
  std::optional<std::string> end;
  {
    Use u(sweep_end_);
    u->bind(1, sweep_from_).bind(2, sweep);
    if (u->step(&error_)) end = u->text(0);
  }
  int64_t pruned = 0;
  {
    Use u(end ? prune_range_ : prune_);
    u->bind(1, sweep_from_).bind(2, before);
    if (end) u->bind(3, *end);
    if (Status s = done(u); !s) return s.error();
    pruned = sqlite3_changes(db_);
  }
  if (!error_.empty()) return Error{error_};
  sweep_from_ = end.value_or("");
  return pruned;
}

Status SqliteStore::insert_journey(const JourneyRecord& j) {
  if (j.id <= 0) return Error{"insert_journey: the journey has no id (new_journey_id)"};
  if (journey_filter_.size() >= journey_filter_.capacity())
    rebuild_filter(2 * journey_filter_.capacity());
  journey_filter_.add(j.user_id, j.flow);
  pending_journeys_.push_back(j);
  count(counted_of(j), +1);
  remember_counted(j);
  if (pending_journeys_.size() == kJourneyChunk) flush_journeys();
  return failed();
}

Status SqliteStore::update_journey(const JourneyRecord& j) {
  flush_journeys();
  count_update(j);
  Use u(update_journey_);
  bind_journey(u.stmt, 0, j, words_, /*insert=*/false);
  return done(u);
}

Status SqliteStore::append_history(JourneyRecord& j, const std::vector<StepRecord>& steps) {
  if (steps.empty()) return Status();
  // A JSON history (schema 5 and before) is converted once; an empty one
  // ("[]", every new journey's) has nothing to convert.
  if (!step_codec::is_encoded(j.history) && j.history != "[]" && !j.history.empty()) {
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

Result<std::vector<JourneyRecord>> SqliteStore::due_journeys(TimeMs now, size_t limit) {
  flush_journeys();
  std::vector<JourneyRecord> out;
  out.reserve(limit);
  Use u(due_journeys_);
  u->bind(1, now).bind(2, static_cast<int64_t>(limit));
  while (u->step(&error_)) {
    out.push_back(read_journey(u.stmt, words_));
    remember_counted(out.back());
  }
  if (Status s = failed(); !s) return Error{s.message()};
  return out;
}

Result<bool> SqliteStore::insert_delivery(const DeliveryRecord& d) {
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
      .bind(17, release_column(d.release_at))
      .bind(18, d.variant);
  if (Status s = done(u); !s) return Error{s.message()};
  return sqlite3_changes(db_) > 0;
}

std::optional<DeliveryRecord> SqliteStore::delivery_by_key(const std::string& key) {
  return reader_.delivery_by_key(key);
}

std::vector<ConsentRecord> SqliteStore::consent(const std::string& user_id) {
  return reader_.consent(user_id);
}

std::vector<ReleasedMessage> SqliteStore::released_since(const std::string& user_id, TimeMs since) {
  return reader_.released_since(user_id, since);
}

Status SqliteStore::put_consent(const ConsentRecord& r) {
  Use u(put_consent_);
  u->bind(1, r.user_id)
      .bind(2, r.channel)
      .bind(3, r.subscribed ? 1 : 0)
      .bind(4, r.at)
      .bind(5, r.reason);
  return done(u);
}

Result<std::vector<DeliveryRecord>> SqliteStore::due_deferred(TimeMs now, size_t limit) {
  std::vector<DeliveryRecord> out;
  Use u(due_deferred_);
  u->bind(1, now).bind(2, static_cast<int64_t>(limit));
  while (u->step(&error_)) out.push_back(read_delivery(u.stmt));
  if (Status s = failed(); !s) return Error{s.message()};
  return out;
}

Result<std::vector<DeliveryRecord>> SqliteStore::due_deferred_of_user(const std::string& user_id,
                                                                      TimeMs now) {
  std::vector<DeliveryRecord> out;
  Use u(due_deferred_of_user_);
  u->bind(1, user_id).bind(2, now);
  while (u->step(&error_)) out.push_back(read_delivery(u.stmt));
  if (Status s = failed(); !s) return Error{s.message()};
  return out;
}

Status SqliteStore::set_delivery_verdict(int64_t id, DeliveryStatus status, TimeMs release_at,
                                         const std::string& reason) {
  Use u(set_verdict_);
  u->bind(1, id)
      .bind(2, static_cast<int>(status))
      .bind(3, release_column(release_at))
      .bind(4, reason);
  return done(u);
}

Status SqliteStore::record_feedback(int64_t id, Feedback kind, const std::string& detail,
                                    TimeMs at) {
  const std::string name = feedback_name(kind);
  const std::string newest = detail.empty() ? name : name + " " + detail;
  Use u(record_feedback_);  // after the strings it binds: SQLite borrows them
  u->bind(1, id).bind(2, name).bind(3, newest).bind(4, at);
  return done(u);
}

std::vector<DeliveryRecord> SqliteStore::pending_deliveries(TimeMs now, size_t limit) {
  return reader_.pending_deliveries(now, limit);
}

// The only writer: nothing to skip. Prepared when used (single-process
// serving never leases; conformance and tools do).
Result<std::vector<DeliveryRecord>> SqliteStore::lease_deliveries(const std::string& channel,
                                                                  TimeMs now, size_t limit,
                                                                  TimeMs lease_until) {
  std::vector<DeliveryRecord> out = reader_.pending_deliveries_of(channel, now, limit);
  if (!error_.empty()) return Error{error_};
  Stmt lease(db_, "UPDATE deliveries SET next_attempt_at = ? WHERE id = ?");
  for (const DeliveryRecord& d : out) {
    lease.bind(1, lease_until).bind(2, d.id);
    if (Status s = run_once(lease); !s) return s.error();
  }
  return out;
}

std::vector<DeliveryRecord> SqliteStore::pending_deliveries_of(const std::string& channel,
                                                               TimeMs now, size_t limit) {
  return reader_.pending_deliveries_of(channel, now, limit);
}

Status SqliteStore::mark_sent(int64_t id, TimeMs at) {
  Use u(mark_sent_);
  u->bind(1, at).bind(2, id);
  return done(u);
}

Status SqliteStore::mark_suppressed(int64_t id, const std::string& reason, TimeMs) {
  Use u(mark_suppressed_);
  u->bind(1, id).bind(2, reason);
  return done(u);
}

Status SqliteStore::record_failure(int64_t id, int attempts, TimeMs next, const std::string& error,
                                   bool dead, TimeMs at) {
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

Result<int64_t> SqliteStore::add_coupon_codes(const std::string& pool,
                                              const std::vector<std::string>& codes) {
  int64_t added = 0;
  for (const auto& code : codes) {
    Use u(add_code_);
    u->bind(1, pool).bind(2, code);
    if (Status s = done(u); !s) return Error{s.message()};
    added += sqlite3_changes(db_);
  }
  return added;
}

Result<std::optional<std::string>> SqliteStore::claim_coupon(const std::string& pool,
                                                             int64_t journey_id, TimeMs at) {
  int64_t id;
  std::string code;
  {
    Use u(free_code_);
    u->bind(1, pool);
    if (!u->step(&error_)) {
      if (Status s = failed(); !s) return Error{s.message()};
      return std::optional<std::string>();
    }
    id = u->i64(0);
    code = u->text(1);
  }
  Use u(claim_code_);
  u->bind(1, journey_id).bind(2, at).bind(3, id);
  if (Status s = done(u); !s) return Error{s.message()};
  return std::optional<std::string>(code);
}

void SqliteStore::flush_journeys() {
  size_t next = 0;
  for (; pending_journeys_.size() - next >= kJourneyChunk; next += kJourneyChunk) {
    Use u(insert_journeys_);
    for (size_t r = 0; r < kJourneyChunk; ++r)
      bind_journey(u.stmt, static_cast<int>(r) * kJourneyInsertParams, pending_journeys_[next + r],
                   words_);
    u->step(&error_);
  }
  for (; next < pending_journeys_.size(); ++next) {
    Use u(insert_journey_);
    bind_journey(u.stmt, 0, pending_journeys_[next], words_);
    u->step(&error_);
  }
  pending_journeys_.clear();
}

// Journey counts. The writer is the only connection that writes journeys in
// normal operation, and every journey write goes through insert_journey or
// update_journey: each adds its change to count_changes_, and commit() writes
// them, one upsert per (flow, node, state) that changed. An update looks the
// row's old values up in counted_ (filled by the reads and writes of this
// transaction) or, failing that, reads them. A DELETE counts through the
// journey_counts_delete trigger (schema 8).
SqliteStore::Counted SqliteStore::counted_of(const JourneyRecord& j) {
  return Counted{j.flow, j.node, static_cast<int>(j.state), j.converted_at.has_value(),
                 j.timer.has_value()};
}

void SqliteStore::count(const Counted& c, int64_t sign) {
  // Found without copying the names; a key is made once per (flow, node,
  // state) a transaction changes.
  auto it = count_changes_.find(std::tie(c.flow, c.node, c.state));
  if (it == count_changes_.end())
    it = count_changes_.emplace(CountKey{c.flow, c.node, c.state}, CountChange{}).first;
  CountChange& change = it->second;
  change.journeys += sign;
  change.conversions += c.converted ? sign : 0;
  change.timers += c.timer ? sign : 0;
}

void SqliteStore::count_update(const JourneyRecord& j) {
  auto known = counted_.find(j.id);
  if (known == counted_.end()) {
    Use u(counted_as_);
    u->bind(1, j.id);
    if (!u->step(&error_)) return;  // no such row: the UPDATE changes nothing either
    known = counted_
                .emplace(j.id, Counted{u->text(0), u->text(1), static_cast<int>(u->i64(2)),
                                       u->i64(3) != 0, u->i64(4) != 0})
                .first;
  }
  Counted& before = known->second;
  if (before.state == static_cast<int>(j.state) && before.converted == j.converted_at.has_value() &&
      before.timer == j.timer.has_value() && before.node == j.node && before.flow == j.flow)
    return;  // most wakes re-arm a timer on the same node: nothing moves
  Counted now = counted_of(j);
  count(before, -1);
  count(now, +1);
  before = std::move(now);
}

void SqliteStore::flush_counts() {
  for (const auto& [key, change] : count_changes_) {
    if (change.journeys == 0 && change.conversions == 0 && change.timers == 0) continue;
    Use u(add_counts_);
    u->bind(1, std::get<0>(key)).bind(2, std::get<1>(key)).bind(3, std::get<2>(key));
    u->bind(4, change.journeys).bind(5, change.conversions).bind(6, change.timers);
    u->step(&error_);
  }
  count_changes_.clear();
}

void SqliteStore::forget_counts() {
  count_changes_.clear();
  counted_.clear();
}

Status SqliteStore::done(Use& u) {
  std::string error;
  u->step(&error);
  if (!error.empty()) {
    if (error_.empty()) error_ = error;
    return Error{error};
  }
  return Status();
}

// The reader shares the file through its own connection, so queries run
// while the writer holds a transaction open (WAL snapshot isolation).
// An in-memory database cannot be shared this way; it is not supported.
Result<std::unique_ptr<StoreReader>> SqliteStore::open_reader() {
  Result<sqlite3*> db = open_db(path_, /*read_only=*/true);
  if (!db.ok()) return db.error();
  return std::unique_ptr<StoreReader>(std::make_unique<SqliteReader>(db.value(), /*owns=*/true));
}

}  // namespace trellis::runtime::sqlite

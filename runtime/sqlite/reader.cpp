#include "runtime/sqlite/reader.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "runtime/sqlite/rows.h"
#include "runtime/stored_counts.h"
#include "runtime/stored_fields.h"

namespace trellis::runtime::sqlite {

SqliteReader::SqliteReader(sqlite3* db, bool owns)
    : db_(db),
      owns_(owns),
      rollups_(db),
      flow_versions_(db,
                     "SELECT name, version, source, deployed_at, author FROM flow_versions "
                     "ORDER BY name, version"),
      flow_states_(db, "SELECT name, state, at, by, reason FROM flow_states ORDER BY name"),
      // By id from the last one seen: each window continues where the
      // previous stopped, so a walk over a flow reads every row once.
      live_journeys_(db, sql("SELECT ", kJourneyColumns,
                             " FROM journeys WHERE flow = ? AND id > ? AND state IN (0, 1, 2, 3) "
                             "ORDER BY id LIMIT ?")
                             .c_str()),
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
      deliveries_(db,
                  sql("SELECT ", kDeliveryColumns,
                      " FROM deliveries WHERE (?1 = '' OR user_id = ?1) AND (?2 = '' OR flow = ?2)"
                      " ORDER BY id LIMIT ?3")
                      .c_str()),
      next_due_(db,
                "SELECT timer_due FROM journeys WHERE timer_due IS NOT NULL AND flow NOT IN "
                "(SELECT name FROM flow_states WHERE state = 'paused') "
                "ORDER BY timer_due LIMIT 1"),
      timer_count_(db, "SELECT coalesce(sum(timers), 0) FROM journey_counts"),
      coupons_left_(db, "SELECT count(*) FROM coupon_codes WHERE pool = ? AND claimed_by IS NULL"),
      entered_(db,
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
                "AND journeys > 0 AND node != '~holdout'"),
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
      merged_into_(db, "SELECT user_id FROM merged_ids WHERE anonymous_id = ?"),
      merged_ids_(db, "SELECT anonymous_id FROM merged_ids WHERE user_id = ? ORDER BY at, 1"),
      retained_(db,
                "SELECT seq, id, type, user_id, at, properties, identify FROM retained_events "
                "WHERE at >= ?1 AND at < ?2 AND (at > ?3 OR (at = ?3 AND seq > ?4)) "
                "ORDER BY at, seq LIMIT ?5"),
      retained_of_user_(db,
                        "SELECT seq, id, type, user_id, at, properties, identify FROM "
                        "retained_events WHERE user_id = ?6 AND at >= ?1 AND at < ?2 AND "
                        "(at > ?3 OR (at = ?3 AND seq > ?4)) ORDER BY at, seq LIMIT ?5"),
      trait_names_(db, "SELECT traits FROM profiles LIMIT ?"),
      journey_events_(db,
                      "SELECT trigger_event, last_event, entered_at FROM journeys "
                      "ORDER BY id DESC LIMIT ?"),
      behaviour_counts_(db, "SELECT key, day, count FROM behaviour_counts WHERE user_id = ?"),
      behaviour_seen_(db, "SELECT event_type, at FROM behaviour_seen WHERE user_id = ?"),
      broadcasts_(db,
                  "SELECT flow, run, schedule, state, due_at, cursor, next_pass_at, entered, "
                  "walked, total, passes, started_at, finished_at FROM broadcasts "
                  "WHERE ?1 = '' OR flow = ?1 ORDER BY flow, run"),
      profiles_after_(db,
                      "SELECT user_id, traits FROM profiles WHERE user_id > ? ORDER BY user_id "
                      "LIMIT ?"),
      profile_count_(db, "SELECT count(*) FROM profiles"),
      own_words_(db) {}

SqliteReader::~SqliteReader() {
  // Deferred by close_v2 until the statement members are finalised.
  if (owns_) sqlite3_close_v2(db_);
}

std::vector<FlowVersionRecord> SqliteReader::flow_versions() {
  std::vector<FlowVersionRecord> out;
  Use u(flow_versions_);
  while (u->step(errors_)) {
    out.push_back({u->text(0), static_cast<int>(u->i64(1)), u->text(2), u->i64(3), u->text(4)});
  }
  return out;
}

std::vector<FlowStateRecord> SqliteReader::flow_states() {
  std::vector<FlowStateRecord> out;
  Use u(flow_states_);
  while (u->step()) out.push_back({u->text(0), u->text(1), u->i64(2), u->text(3), u->text(4)});
  return out;
}

std::vector<JourneyRecord> SqliteReader::live_journeys(const std::string& flow, int64_t after_id,
                                                       size_t limit) {
  std::vector<JourneyRecord> out;
  Use u(live_journeys_);
  u->bind(1, flow).bind(2, after_id).bind(3, static_cast<int64_t>(limit));
  while (u->step()) out.push_back(read_journey(u.stmt, *words_));
  return out;
}

std::optional<std::string> SqliteReader::profile(const std::string& user_id) {
  Use u(profile_);
  u->bind(1, user_id);
  if (!u->step(errors_)) return std::nullopt;
  return u->text(0);
}

StoredNames SqliteReader::stored_names(size_t rows, size_t limit) {
  StoredNamesCollector names(limit);
  {
    Use u(trait_names_);
    u->bind(1, static_cast<int64_t>(rows));
    while (u->step()) names.add_traits(u->text(0));
  }
  // Events are stored in the compact step form: decoded here, their type read.
  Use u(journey_events_);
  u->bind(1, static_cast<int64_t>(rows));
  while (u->step()) {
    const TimeMs base = u->i64(2);
    for (int column : {0, 1})
      names.add_event(step_codec::decode_event(u->bytes(column), base, *words_));
  }
  return names.names();
}

std::optional<JourneyRecord> SqliteReader::journey(int64_t id) {
  Use u(journey_);
  u->bind(1, id);
  if (!u->step(errors_)) return std::nullopt;
  return read_journey(u.stmt, *words_);
}

std::vector<JourneyRecord> SqliteReader::journeys_of(const std::string& user_id,
                                                     const std::string& flow) {
  std::vector<JourneyRecord> out;
  Use u(journeys_of_);
  u->bind(1, user_id).bind(2, flow);
  while (u->step(errors_)) out.push_back(read_journey(u.stmt, *words_));
  return out;
}

std::vector<StepRecord> SqliteReader::steps(int64_t journey_id) {
  std::vector<StepRecord> out;
  Use u(steps_);
  u->bind(1, journey_id);
  while (u->step(errors_)) {
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
    if (h->step(errors_)) {
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

std::vector<DeliveryRecord> SqliteReader::deliveries(const std::string& user_id,
                                                     const std::string& flow, size_t limit) {
  std::vector<DeliveryRecord> out;
  Use u(deliveries_);
  u->bind(1, user_id).bind(2, flow).bind(3, static_cast<int64_t>(limit));
  while (u->step(errors_)) out.push_back(read_delivery(u.stmt));
  return out;
}

FlowTotals SqliteReader::totals(const std::string& flow) { return totals_from(states(flow)); }

std::vector<StateCount> SqliteReader::states(const std::string& flow) {
  std::vector<StateCount> out;
  Use u(by_state_);
  u->bind(1, flow);
  while (u->step(errors_))
    out.push_back({u->text(0), static_cast<Lifecycle>(u->i64(1)), u->i64(2), u->i64(3)});
  return out;
}

std::vector<DeliveryRecord> SqliteReader::pending_deliveries(TimeMs now, size_t limit) {
  std::vector<DeliveryRecord> out;
  Use u(pending_);
  u->bind(1, now).bind(2, static_cast<int64_t>(limit));
  while (u->step(errors_)) out.push_back(read_delivery(u.stmt));
  return out;
}

std::vector<DeliveryRecord> SqliteReader::pending_deliveries_of(const std::string& channel,
                                                                TimeMs now, size_t limit) {
  std::vector<DeliveryRecord> out;
  Use u(pending_of_);
  u->bind(1, channel).bind(2, now).bind(3, static_cast<int64_t>(limit));
  while (u->step(errors_)) out.push_back(read_delivery(u.stmt));
  return out;
}

std::optional<TimeMs> SqliteReader::next_timer_due() {
  Use u(next_due_);
  if (!u->step(errors_)) return std::nullopt;
  return u->i64(0);
}

std::optional<DeliveryRecord> SqliteReader::delivery(int64_t id) {
  Use u(delivery_);
  u->bind(1, id);
  if (!u->step(errors_)) return std::nullopt;
  return read_delivery(u.stmt);
}

std::optional<DeliveryRecord> SqliteReader::delivery_by_key(const std::string& key) {
  Use u(delivery_by_key_);
  u->bind(1, key);
  if (!u->step(errors_)) return std::nullopt;
  return read_delivery(u.stmt);
}

std::vector<ConsentRecord> SqliteReader::consent(const std::string& user_id) {
  std::vector<ConsentRecord> out;
  Use u(consent_);
  u->bind(1, user_id);
  while (u->step(errors_))
    out.push_back({u->text(0), u->text(1), u->i64(2) != 0, u->i64(3), u->text(4)});
  return out;
}

std::vector<ReleasedMessage> SqliteReader::released_since(const std::string& user_id,
                                                          TimeMs since) {
  std::vector<ReleasedMessage> out;
  Use u(released_);
  u->bind(1, user_id).bind(2, since);
  while (u->step(errors_)) out.push_back({u->i64(0), u->text(1), u->text(2)});
  return out;
}

std::optional<TimeMs> SqliteReader::next_deferred_due() {
  Use u(next_deferred_);
  if (!u->step(errors_)) return std::nullopt;
  return u->i64(0);
}

int64_t SqliteReader::pending_timer_count() {
  Use u(timer_count_);
  return u->step(errors_) ? u->i64(0) : 0;
}

int64_t SqliteReader::coupon_codes_left(const std::string& pool) {
  Use u(coupons_left_);
  u->bind(1, pool);
  return u->step(errors_) ? u->i64(0) : 0;
}

void SqliteReader::append_grouped_steps(int64_t journey_id, const std::string& user_id,
                                        std::vector<StepRecord>& out) {
  Use u(step_groups_);
  u->bind(1, journey_id);
  while (u->step(errors_))
    append_encoded_steps(u->bytes(2), journey_id, static_cast<int>(u->i64(1)), u->i64(3),
                         u->text(4), user_id, out);
}

void SqliteReader::append_encoded_steps(const std::string& text, int64_t journey_id, int seq,
                                        TimeMs at, const std::string& flow,
                                        const std::string& user_id, std::vector<StepRecord>& out) {
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

void SqliteReader::append_json_steps(const std::string& text, int64_t journey_id, int seq,
                                     TimeMs at, const std::string& flow,
                                     std::vector<StepRecord>& out) {
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

std::vector<StepRecord> SqliteReader::json_steps(const std::string& text, int seq) {
  std::vector<StepRecord> out;
  append_json_steps(text, 0, seq, 0, "", out);
  return out;
}

FlowCounts SqliteReader::counts(const std::string& flow) {
  return counts_from_rollups(rollups_.totals(flow), rollups_.messages(flow, true, 0, 0),
                             states(flow));
}

FlowCounts SqliteReader::scanned_counts(const std::string& flow) {
  std::map<std::string, int64_t> entered;
  {
    Use u(entered_);
    u->bind(1, flow);
    while (u->step(errors_)) entered[u->text(0)] += u->i64(1);
  }
  for (Stmt* grouped : {&entered_grouped_, &entered_inline_}) {
    Use u(*grouped);
    u->bind(1, flow);
    while (u->step(errors_)) entered[u->text(0)] += u->i64(1);
  }
  for (Stmt* encoded : {&encoded_grouped_, &encoded_inline_}) {
    Use u(*encoded);
    u->bind(1, flow);
    while (u->step(errors_))
      step_codec::decode(u->bytes(0), "", *words_, /*render_reason=*/false,
                         [&](const step_codec::DecodedStep& d) {
                           if (d.input == "entry") ++entered[d.node];
                         });
  }
  // `variant` is "node=variant;node2=variant2" (stored_fields.h), split
  // here rather than kept as a row per assignment, which would cost a write
  // per A/B step.
  VariantTally variants;
  {
    Use u(variants_);
    u->bind(1, flow);
    while (u->step(errors_)) variants.add(u->text(0), u->i64(1) != 0, u->i64(2));
  }
  std::vector<MessageCount> messages;
  {
    Use u(messages_);
    u->bind(1, flow);
    while (u->step(errors_)) messages.push_back(read_message_count(u.stmt));
  }
  return counts_from_scan(entered, states(flow), variants.counts(), std::move(messages));
}

std::optional<std::string> SqliteReader::merged_into(const std::string& anonymous_id) {
  Use u(merged_into_);
  u->bind(1, anonymous_id);
  if (!u->step()) return std::nullopt;
  return u->text(0);
}

std::vector<std::string> SqliteReader::merged_ids(const std::string& user_id) {
  std::vector<std::string> out;
  Use u(merged_ids_);
  u->bind(1, user_id);
  while (u->step()) out.push_back(u->text(0));
  return out;
}

std::vector<RetainedEvent> SqliteReader::retained_events(const RetainedEventQuery& query) {
  std::vector<RetainedEvent> out;
  Use u(query.user_id.empty() ? retained_ : retained_of_user_);
  u->bind(1, query.from).bind(2, query.to).bind(3, query.after_at).bind(4, query.after_seq);
  u->bind(5, static_cast<int64_t>(query.limit));
  if (!query.user_id.empty()) u->bind(6, query.user_id);
  while (u->step())
    out.push_back(
        {u->i64(0), u->text(1), u->text(2), u->text(3), u->i64(4), u->text(5), u->i64(6) != 0});
  return out;
}

BehaviourRecord SqliteReader::behaviour(const std::string& user_id) {
  BehaviourRecord out;
  {
    Use u(behaviour_counts_);
    u->bind(1, user_id);
    while (u->step()) out.buckets.push_back({u->text(0), u->i64(1), u->i64(2)});
  }
  Use u(behaviour_seen_);
  u->bind(1, user_id);
  while (u->step()) out.last_seen.push_back({u->text(0), u->i64(1)});
  return out;
}

std::vector<BroadcastRecord> SqliteReader::broadcasts(const std::string& flow) {
  std::vector<BroadcastRecord> out;
  Use u(broadcasts_);
  u->bind(1, flow);
  while (u->step()) {
    BroadcastRecord r;
    r.flow = u->text(0);
    r.run = u->text(1);
    r.schedule = u->text(2);
    r.state = u->text(3);
    r.due_at = u->i64(4);
    r.cursor = u->text(5);
    r.next_pass_at = u->i64(6);
    r.entered = u->i64(7);
    r.walked = u->i64(8);
    r.total = u->i64(9);
    r.passes = static_cast<int>(u->i64(10));
    r.started_at = u->i64(11);
    r.finished_at = u->i64(12);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> SqliteReader::profiles_after(
    const std::string& after, size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  Use u(profiles_after_);
  u->bind(1, after).bind(2, static_cast<int64_t>(limit));
  while (u->step()) out.emplace_back(u->text(0), u->text(1));
  return out;
}

int64_t SqliteReader::profile_count() {
  Use u(profile_count_);
  return u->step() ? u->i64(0) : 0;
}

}  // namespace trellis::runtime::sqlite

#include "runtime/postgres/reader.h"

#include <algorithm>
#include <map>

#include "runtime/postgres/rows.h"
#include "runtime/stored_fields.h"

namespace trellis::runtime::postgres {

std::optional<Rows> Reader::query(const char* name, const char* sql, const Params& params) {
  if (reconnect_) conn_.reconnect_if_lost();
  Result<Rows> r = conn_.run(name, sql, params);
  if (r.ok()) return std::move(r.value());
  if (errors_ && !*errors_) *errors_ = r.error();
  return std::nullopt;
}

std::vector<DeliveryRecord> Reader::delivery_list(const char* name, const char* sql,
                                                  const Params& params) {
  std::vector<DeliveryRecord> out;
  if (auto r = query(name, sql, params))
    for (int i = 0; i < r->size(); ++i) out.push_back(read_delivery(*r, i));
  return out;
}

std::vector<FlowVersionRecord> Reader::flow_versions() {
  std::vector<FlowVersionRecord> out;
  if (auto r = query("flow_versions",
                     "SELECT name, version, source, deployed_at, author FROM flow_versions "
                     "ORDER BY name, version"))
    for (int i = 0; i < r->size(); ++i)
      out.push_back({r->text(i, 0), static_cast<int>(r->i64(i, 1)), r->text(i, 2), r->i64(i, 3),
                     r->text(i, 4)});
  return out;
}

std::vector<FlowStateRecord> Reader::flow_states() {
  std::vector<FlowStateRecord> out;
  if (auto r =
          query("flow_states", "SELECT name, state, at, by, reason FROM flow_states ORDER BY name"))
    for (int i = 0; i < r->size(); ++i)
      out.push_back({r->text(i, 0), r->text(i, 1), r->i64(i, 2), r->text(i, 3), r->text(i, 4)});
  return out;
}

std::vector<JourneyRecord> Reader::live_journeys(const std::string& flow, int64_t after_id,
                                                 size_t limit) {
  std::vector<JourneyRecord> out;
  if (auto r = query("live_journeys",
                     "SELECT " TRELLIS_PG_JOURNEY_COLUMNS " FROM journeys WHERE flow = $1 "
                     "AND id > $2 AND state IN (0, 1, 2, 3) ORDER BY id LIMIT $3",
                     Params().add(flow).add(after_id).add(static_cast<int64_t>(limit))))
    for (int i = 0; i < r->size(); ++i) out.push_back(read_journey(*r, i, words_));
  return out;
}

std::optional<std::string> Reader::profile(const std::string& user_id) {
  auto r =
      query("profile", "SELECT traits FROM profiles WHERE user_id = $1", Params().add(user_id));
  if (!r || r->empty()) return std::nullopt;
  return r->text(0, 0);
}

StoredNames Reader::stored_names(size_t rows, size_t limit) {
  StoredNamesCollector names(limit);
  Params bound;
  bound.add(static_cast<int64_t>(rows));
  if (auto r = query("stored_traits", "SELECT traits FROM profiles LIMIT $1", bound))
    for (int i = 0; i < r->size(); ++i) names.add_traits(r->text(i, 0));
  // Events are stored in the compact step form: decoded here, their type read.
  if (auto r = query("stored_event_types",
                     "SELECT trigger_event, last_event, entered_at FROM journeys "
                     "ORDER BY id DESC LIMIT $1",
                     bound))
    for (int i = 0; i < r->size(); ++i)
      for (int column : {0, 1})
        names.add_event(step_codec::decode_event(r->bytes(i, column), r->i64(i, 2), words_));
  return names.names();
}

std::optional<JourneyRecord> Reader::journey(int64_t id) {
  auto r = query("journey", "SELECT " TRELLIS_PG_JOURNEY_COLUMNS " FROM journeys WHERE id = $1",
                 Params().add(id));
  if (!r || r->empty()) return std::nullopt;
  return read_journey(*r, 0, words_);
}

std::vector<JourneyRecord> Reader::journeys_of(const std::string& user_id,
                                               const std::string& flow) {
  std::vector<JourneyRecord> out;
  if (auto r = query("journeys_of",
                     "SELECT " TRELLIS_PG_JOURNEY_COLUMNS " FROM journeys WHERE user_id = $1 "
                     "AND ($2 = '' OR flow = $2) ORDER BY id",
                     Params().add(user_id).add(flow)))
    for (int i = 0; i < r->size(); ++i) out.push_back(read_journey(*r, i, words_));
  return out;
}

std::vector<StepRecord> Reader::steps(int64_t journey_id) {
  std::vector<StepRecord> out;
  auto head = query("history",
                    "SELECT history, history_seq, flow, user_id FROM journeys "
                    "WHERE id = $1",
                    Params().add(journey_id));
  if (!head || head->empty()) return out;
  const std::string flow = head->text(0, 2), user_id = head->text(0, 3);
  auto add = [&](const std::string& history, int seq) {
    step_codec::decode(history, user_id, words_, /*render_reason=*/true,
                       [&](const step_codec::DecodedStep& d) {
                         out.push_back({journey_id, flow, seq++, d.node, d.input, d.at, d.reason});
                       });
  };
  if (auto groups = query("step_groups",
                          "SELECT steps, seq FROM step_groups "
                          "WHERE journey_id = $1 ORDER BY seq",
                          Params().add(journey_id)))
    for (int i = 0; i < groups->size(); ++i)
      add(groups->bytes(i, 0), static_cast<int>(groups->i64(i, 1)));
  add(head->bytes(0, 0), static_cast<int>(head->i64(0, 1)));
  std::stable_sort(out.begin(), out.end(),
                   [](const StepRecord& a, const StepRecord& b) { return a.seq < b.seq; });
  return out;
}

std::vector<DeliveryRecord> Reader::deliveries(const std::string& user_id, const std::string& flow,
                                               size_t limit) {
  return delivery_list("deliveries",
                       "SELECT " TRELLIS_PG_DELIVERY_COLUMNS
                       " FROM deliveries WHERE "
                       "($1 = '' OR user_id = $1) AND ($2 = '' OR flow = $2) ORDER BY id LIMIT $3",
                       Params().add(user_id).add(flow).add(static_cast<int64_t>(limit)));
}

std::optional<TimeMs> Reader::next_timer_due() {
  auto r = query("next_due",
                 "SELECT min(timer_due) FROM journeys WHERE timer_due IS NOT NULL AND flow NOT IN "
                 "(SELECT name FROM flow_states WHERE state = 'paused')");
  if (!r || r->empty()) return std::nullopt;
  return r->opt_i64(0, 0);
}

int64_t Reader::pending_timer_count() {
  auto r = query("timer_count", "SELECT count(*) FROM journeys WHERE timer_due IS NOT NULL");
  return r && !r->empty() ? r->i64(0, 0) : 0;
}

int64_t Reader::coupon_codes_left(const std::string& pool) {
  auto r = query("coupons_left",
                 "SELECT count(*) FROM coupon_codes WHERE pool = $1 AND claimed_by IS NULL",
                 Params().add(pool));
  return r && !r->empty() ? r->i64(0, 0) : 0;
}

std::vector<DeliveryRecord> Reader::pending_deliveries(TimeMs now, size_t limit) {
  return delivery_list("pending",
                       "SELECT " TRELLIS_PG_DELIVERY_COLUMNS
                       " FROM deliveries WHERE status = 0 "
                       "AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2",
                       Params().add(now).add(static_cast<int64_t>(limit)));
}

std::vector<DeliveryRecord> Reader::pending_deliveries_of(const std::string& channel, TimeMs now,
                                                          size_t limit) {
  return delivery_list("pending_of",
                       "SELECT " TRELLIS_PG_DELIVERY_COLUMNS
                       " FROM deliveries WHERE status = 0 "
                       "AND channel = $1 AND next_attempt_at <= $2 "
                       "ORDER BY next_attempt_at, id LIMIT $3",
                       Params().add(channel).add(now).add(static_cast<int64_t>(limit)));
}

std::optional<DeliveryRecord> Reader::delivery(int64_t id) {
  auto list = delivery_list("delivery",
                            "SELECT " TRELLIS_PG_DELIVERY_COLUMNS " FROM deliveries WHERE id = $1",
                            Params().add(id));
  if (list.empty()) return std::nullopt;
  return std::move(list.front());
}

std::optional<DeliveryRecord> Reader::delivery_by_key(const std::string& key) {
  auto list = delivery_list("delivery_by_key",
                            "SELECT " TRELLIS_PG_DELIVERY_COLUMNS " FROM deliveries WHERE key = $1",
                            Params().add(key));
  if (list.empty()) return std::nullopt;
  return std::move(list.front());
}

std::vector<ConsentRecord> Reader::consent(const std::string& user_id) {
  std::vector<ConsentRecord> out;
  if (auto r = query("consent",
                     "SELECT user_id, channel, subscribed, at, reason FROM consent "
                     "WHERE user_id = $1 ORDER BY channel",
                     Params().add(user_id)))
    for (int i = 0; i < r->size(); ++i)
      out.push_back(
          {r->text(i, 0), r->text(i, 1), r->text(i, 2) == "t", r->i64(i, 3), r->text(i, 4)});
  return out;
}

std::vector<ReleasedMessage> Reader::released_since(const std::string& user_id, TimeMs since) {
  std::vector<ReleasedMessage> out;
  if (auto r = query("released",
                     "SELECT release_at, channel, category FROM deliveries WHERE user_id = $1 "
                     "AND release_at > $2 AND status IN (0, 1, 2) ORDER BY release_at",
                     Params().add(user_id).add(since)))
    for (int i = 0; i < r->size(); ++i) out.push_back({r->i64(i, 0), r->text(i, 1), r->text(i, 2)});
  return out;
}

std::optional<TimeMs> Reader::next_deferred_due() {
  auto r = query("next_deferred", "SELECT min(next_attempt_at) FROM deliveries WHERE status = 3");
  if (!r || r->empty()) return std::nullopt;
  return r->opt_i64(0, 0);
}

std::optional<std::string> Reader::merged_into(const std::string& anonymous_id) {
  auto r = query("merged_into", "SELECT user_id FROM merged_ids WHERE anonymous_id = $1",
                 Params().add(anonymous_id));
  if (!r || r->empty()) return std::nullopt;
  return r->text(0, 0);
}

std::vector<BroadcastRecord> Reader::broadcasts(const std::string& flow) {
  std::vector<BroadcastRecord> out;
  auto r = query("broadcasts",
                 "SELECT " TRELLIS_PG_BROADCAST_COLUMNS
                 " FROM broadcasts "
                 "WHERE $1 = '' OR flow = $1 ORDER BY flow, run",
                 Params().add(flow));
  if (!r) return out;
  for (int i = 0; i < r->size(); ++i) out.push_back(read_broadcast(*r, i));
  return out;
}

// The cursor compares with the same collation the ORDER BY sorts by, and both
// use the primary key's index.
std::vector<std::pair<std::string, std::string>> Reader::profiles_after(const std::string& after,
                                                                        size_t limit) {
  std::vector<std::pair<std::string, std::string>> out;
  if (auto r = query("profiles_after",
                     "SELECT user_id, traits FROM profiles WHERE user_id > $1 ORDER BY user_id "
                     "LIMIT $2",
                     Params().add(after).add(static_cast<int64_t>(limit))))
    for (int i = 0; i < r->size(); ++i) out.emplace_back(r->text(i, 0), r->text(i, 1));
  return out;
}

int64_t Reader::profile_count() {
  auto r = query("profile_count", "SELECT count(*) FROM profiles");
  return r && !r->empty() ? r->i64(0, 0) : 0;
}

std::vector<std::string> Reader::merged_ids(const std::string& user_id) {
  std::vector<std::string> out;
  if (auto r = query("merged_ids",
                     "SELECT anonymous_id FROM merged_ids WHERE user_id = $1 "
                     "ORDER BY at, anonymous_id",
                     Params().add(user_id)))
    for (int i = 0; i < r->size(); ++i) out.push_back(r->text(i, 0));
  return out;
}

std::vector<RetainedEvent> Reader::retained_events(const RetainedEventQuery& q) {
  std::vector<RetainedEvent> out;
  // An empty user_id matches every user ($6 = '').
  auto r = query("retained_events",
                 "SELECT seq, id, type, user_id, at, properties, identify FROM retained_events "
                 "WHERE at >= $1 AND at < $2 AND (at > $3 OR (at = $3 AND seq > $4)) "
                 "AND ($6 = '' OR user_id = $6) ORDER BY at, seq LIMIT $5",
                 Params()
                     .add(q.from)
                     .add(q.to)
                     .add(q.after_at)
                     .add(q.after_seq)
                     .add(static_cast<int64_t>(q.limit))
                     .add(q.user_id));
  if (!r) return out;
  for (int i = 0; i < r->size(); ++i)
    out.push_back({r->i64(i, 0), r->text(i, 1), r->text(i, 2), r->text(i, 3), r->i64(i, 4),
                   r->text(i, 5), r->text(i, 6) == "t"});
  return out;
}

BehaviourRecord Reader::behaviour(const std::string& user_id) {
  BehaviourRecord out;
  if (auto r = query("read_behaviour_counts",
                     "SELECT key, day, count FROM behaviour_counts WHERE user_id = $1 "
                     "ORDER BY key, day",
                     Params().add(user_id)))
    for (int i = 0; i < r->size(); ++i)
      out.buckets.push_back({r->text(i, 0), r->i64(i, 1), r->i64(i, 2)});
  if (auto r = query("read_behaviour_seen",
                     "SELECT event_type, at FROM behaviour_seen WHERE user_id = $1 "
                     "ORDER BY event_type",
                     Params().add(user_id)))
    for (int i = 0; i < r->size(); ++i) out.last_seen.push_back({r->text(i, 0), r->i64(i, 1)});
  return out;
}

}  // namespace trellis::runtime::postgres

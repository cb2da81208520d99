#include "runtime/sqlite/rows.h"

namespace trellis::runtime::sqlite {

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
  j.revenue = s.opt_double(23);
  j.last_message = s.text(24);
  j.converted_after = s.text(25);
  return j;
}

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
  d.variant = s.text(21);
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
                  bool insert) {
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
  s.bind(base + 24, j.revenue);
  s.bind(base + 25, j.last_message);
  s.bind(base + 26, j.converted_after);
}

std::string sql(const char* head, const char* columns, const char* tail) {
  return std::string(head) + columns + tail;
}

}  // namespace trellis::runtime::sqlite

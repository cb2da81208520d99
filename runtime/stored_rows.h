// How both stores map a journey row and a delivery row to their records: the
// column lists their statements select, in one order, and one reading of a
// row in that order, so that a column added for one store is read the same
// way by the other. Each store reads a row through its own accessor (SQLite's
// statement, PostgreSQL's result row); no I/O here.
#pragma once

#include <cstdint>
#include <optional>

#include "runtime/step_codec.h"
#include "runtime/store.h"

// Macros, not constants: PostgreSQL's statements are string literals joined
// at compile time ("SELECT " TRELLIS_JOURNEY_COLUMNS " FROM journeys ...").
#define TRELLIS_JOURNEY_COLUMNS                                                                   \
  "id, flow, version, user_id, key, state, node, waiting_for, visits, coupon_code, variant, "     \
  "trigger_event, last_event, steps, entered_at, updated_at, ended_at, converted_at, timer_due, " \
  "timer_node, timer_visit, history, history_seq, revenue, last_message, converted_after"

#define TRELLIS_DELIVERY_COLUMNS                                                            \
  "id, key, journey_id, channel, user_id, flow, flow_version, node, at, to_addr, subject, " \
  "body, status, attempts, next_attempt_at, last_error, category, priority, release_at, "   \
  "feedback, feedback_at, variant"

namespace trellis::runtime {

// A row selected with TRELLIS_JOURNEY_COLUMNS as a record. `row` reads column
// c of the row: i64(c), opt_i64(c), opt_double(c), text(c) and bytes(c). The
// visit counts and stored events are compact in the row (step_codec); the
// record holds their text.
template <typename Row>
JourneyRecord read_journey_row(const Row& row, step_codec::Words& words) {
  JourneyRecord j;
  j.id = row.i64(0);
  j.flow = row.text(1);
  j.version = static_cast<int>(row.i64(2));
  j.user_id = row.text(3);
  j.key = row.text(4);
  j.state = static_cast<Lifecycle>(row.i64(5));
  j.node = row.text(6);
  j.waiting_for = row.text(7);
  j.entered_at = row.i64(14);
  j.visits = step_codec::decode_visits(row.bytes(8), words);
  j.coupon_code = row.text(9);
  j.variant = row.text(10);
  j.trigger_event = step_codec::decode_event(row.bytes(11), j.entered_at, words);
  j.last_event = step_codec::decode_event(row.bytes(12), j.entered_at, words);
  j.steps = static_cast<int>(row.i64(13));
  j.updated_at = row.i64(15);
  j.ended_at = row.opt_i64(16);
  j.converted_at = row.opt_i64(17);
  if (std::optional<int64_t> due = row.opt_i64(18))
    j.timer = JourneyTimer{*due, row.text(19), static_cast<int>(row.i64(20))};
  j.history = row.bytes(21);
  j.history_seq = static_cast<int>(row.i64(22));
  j.revenue = row.opt_double(23);
  j.last_message = row.text(24);
  j.converted_after = row.text(25);
  return j;
}

// A row selected with TRELLIS_DELIVERY_COLUMNS as a record; `row` as above.
template <typename Row>
DeliveryRecord read_delivery_row(const Row& row) {
  DeliveryRecord d;
  d.id = row.i64(0);
  d.key = row.text(1);
  d.journey_id = row.i64(2);
  d.channel = row.text(3);
  d.user_id = row.text(4);
  d.flow = row.text(5);
  d.flow_version = static_cast<int>(row.i64(6));
  d.node = row.text(7);
  d.at = row.i64(8);
  d.to = row.text(9);
  d.subject = row.text(10);
  d.body = row.text(11);
  d.status = static_cast<DeliveryStatus>(row.i64(12));
  d.attempts = static_cast<int>(row.i64(13));
  d.next_attempt_at = row.i64(14);
  d.last_error = row.text(15);
  d.category = row.text(16);
  d.priority = static_cast<int>(row.i64(17));
  d.release_at = row.opt_i64(18).value_or(0);
  d.feedback = row.text(19);
  d.feedback_at = row.opt_i64(20).value_or(0);
  d.variant = row.text(21);
  return d;
}

// The release_at column of a delivery. Suppressed and dropped deliveries were
// never released: NULL, not 0, so that caps never count them whatever their
// status becomes.
std::optional<int64_t> release_column(TimeMs release_at);

// The feedback column's word for a kind: "delivered", "bounced", ...
const char* feedback_name(Feedback kind);

}  // namespace trellis::runtime

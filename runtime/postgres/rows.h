// Row mapping of the PostgreSQL store: the column lists its statements select,
// reading a row into a record, and a journey's columns as parameters.
#pragma once

#include "runtime/postgres/connection.h"
#include "runtime/step_codec.h"
#include "runtime/store.h"

namespace trellis::runtime::postgres {

#define TRELLIS_PG_JOURNEY_COLUMNS                                                               \
  "id, flow, version, user_id, key, state, node, waiting_for, visits, coupon_code, variant, "   \
  "trigger_event, last_event, steps, entered_at, updated_at, ended_at, converted_at, timer_due, " \
  "timer_node, timer_visit, history, history_seq, revenue, last_message, converted_after"

#define TRELLIS_PG_DELIVERY_COLUMNS                                                        \
  "id, key, journey_id, channel, user_id, flow, flow_version, node, at, to_addr, subject, " \
  "body, status, attempts, next_attempt_at, last_error, category, priority, release_at, "   \
  "feedback, feedback_at, variant"

#define TRELLIS_PG_BROADCAST_COLUMNS                                                           \
  "flow, run, schedule, state, due_at, cursor, next_pass_at, entered, walked, total, passes, " \
  "started_at, finished_at"

// The visit counts and stored events are compact in the row (step_codec); the
// record holds their text.
JourneyRecord read_journey(const Rows& rows, int row, step_codec::Words& words);
DeliveryRecord read_delivery(const Rows& rows, int row);
BroadcastRecord read_broadcast(const Rows& rows, int row);

// The parameters of a journey INSERT ($1..$26: id, flow, version, user_id,
// key, state, node, waiting_for, visits, coupon_code, variant, trigger_event,
// last_event, steps, entered_at, updated_at, ended_at, converted_at,
// timer_due, timer_node, timer_visit, history, history_seq, revenue,
// last_message, converted_after) or, `insert` false, of its UPDATE ($1..$17:
// id, then the columns a step changes: state to updated_at without flow,
// version, user, key, trigger and entry time, then ended_at to history_seq,
// then $18 version, $19..$21 revenue, last_message, converted_after).
Params journey_params(const JourneyRecord& j, step_codec::Words& words, bool insert);

// Suppressed and dropped deliveries were never released: NULL, not 0.
std::optional<int64_t> release_column(TimeMs release_at);
const char* feedback_name(Feedback kind);

// A text[] literal ({"a","b"}) of `items`, for = ANY($n) and unnest($n).
std::string text_array(const std::vector<std::string>& items);

}  // namespace trellis::runtime::postgres

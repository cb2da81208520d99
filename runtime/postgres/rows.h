// Row mapping of the PostgreSQL store: the column lists its statements select,
// reading a row into a record, and a journey's columns as parameters.
#pragma once

#include "runtime/postgres/connection.h"
#include "runtime/step_codec.h"
#include "runtime/store.h"
#include "runtime/stored_rows.h"

namespace trellis::runtime::postgres {

// The shared column lists (runtime/stored_rows.h) under the names this
// store's statements use.
#define TRELLIS_PG_JOURNEY_COLUMNS TRELLIS_JOURNEY_COLUMNS
#define TRELLIS_PG_DELIVERY_COLUMNS TRELLIS_DELIVERY_COLUMNS

#define TRELLIS_PG_BROADCAST_COLUMNS                                                           \
  "flow, run, schedule, state, due_at, cursor, next_pass_at, entered, walked, total, passes, " \
  "started_at, finished_at"

// Rows selected with those lists, as records (read_journey_row).
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

// A text[] literal ({"a","b"}) of `items`, for = ANY($n) and unnest($n).
std::string text_array(const std::vector<std::string>& items);

}  // namespace trellis::runtime::postgres

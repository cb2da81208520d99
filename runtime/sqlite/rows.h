// Row mapping of the SQLite store: the column lists its statements select and
// insert, and the calls that read a row into a record or bind a record to a
// statement's parameters.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "runtime/sqlite/statement.h"
#include "runtime/step_codec.h"
#include "runtime/store.h"
#include "runtime/stored_rows.h"

namespace trellis::runtime::sqlite {

// The column lists both stores select (runtime/stored_rows.h).
inline constexpr const char* kJourneyColumns = TRELLIS_JOURNEY_COLUMNS;
inline constexpr const char* kDeliveryColumns = TRELLIS_DELIVERY_COLUMNS;

// Rows selected with those lists, as records (read_journey_row).
JourneyRecord read_journey(const Stmt& s, step_codec::Words& words);
DeliveryRecord read_delivery(const Stmt& s);

// Binds a journey's timer to parameters i, i+1, i+2 (due, node, visit): NULLs when none.
void bind_timer(Stmt& s, int i, const std::optional<JourneyTimer>& timer);

// The columns of a journey INSERT, in parameter order.
inline constexpr const char* kJourneyInsertColumns =
    "flow, version, user_id, key, state, node, waiting_for, visits, coupon_code, variant, "
    "trigger_event, last_event, steps, entered_at, updated_at, ended_at, converted_at, id, "
    "timer_due, timer_node, timer_visit, history, history_seq, revenue, last_message, "
    "converted_after";
inline constexpr int kJourneyInsertParams = 26;

// INSERT of `rows` journeys; parameters row by row in kJourneyInsertColumns order.
std::string insert_journeys_sql(int rows);

// Binds every column of a journey, in kJourneyInsertColumns order, starting at
// parameter `base` + 1. The UPDATE numbers its parameters the same way and
// leaves unused the columns a journey never changes (flow, user, trigger...).
// The UPDATE never changes the trigger event (nor flow, user, key, entry
// time): `insert` false skips compacting it again for every step.
void bind_journey(Stmt& s, int base, const JourneyRecord& j, step_codec::Words& words,
                  bool insert = true);

// head + columns + tail: a statement over one of the column lists above.
std::string sql(const char* head, const char* columns, const char* tail);

}  // namespace trellis::runtime::sqlite

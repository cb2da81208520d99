#include "runtime/sqlite/rows.h"

namespace trellis::runtime::sqlite {

JourneyRecord read_journey(const Stmt& s, step_codec::Words& words) {
  return read_journey_row(s, words);
}

DeliveryRecord read_delivery(const Stmt& s) { return read_delivery_row(s); }

// Binds a journey's timer to parameters i, i+1, i+2 (due, node, visit): NULLs when none.
void bind_timer(Stmt& s, int i, const std::optional<JourneyTimer>& timer) {
  if (!timer) {
    s.bind(i, std::optional<int64_t>())
        .bind(i + 1, std::optional<int64_t>())
        .bind(i + 2, std::optional<int64_t>());
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
      .bind_compact(
          base + 11, j.trigger_event,
          insert ? step_codec::encode_event(j.trigger_event, j.entered_at, words) : std::string())
      .bind_compact(base + 12, j.last_event,
                    step_codec::encode_event(j.last_event, j.entered_at, words))
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

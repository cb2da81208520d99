#include "runtime/postgres/rows.h"

namespace trellis::runtime::postgres {

namespace {

// One row of `rows`, read column by column as read_journey_row expects.
struct RowAt {
  const Rows& rows;
  int row;
  int64_t i64(int c) const { return rows.i64(row, c); }
  std::optional<int64_t> opt_i64(int c) const { return rows.opt_i64(row, c); }
  std::optional<double> opt_double(int c) const { return rows.opt_real(row, c); }
  std::string text(int c) const { return rows.text(row, c); }
  std::string bytes(int c) const { return rows.bytes(row, c); }
};

}  // namespace

JourneyRecord read_journey(const Rows& rows, int row, step_codec::Words& words) {
  return read_journey_row(RowAt{rows, row}, words);
}

BroadcastRecord read_broadcast(const Rows& r, int i) {
  BroadcastRecord b;
  b.flow = r.text(i, 0);
  b.run = r.text(i, 1);
  b.schedule = r.text(i, 2);
  b.state = r.text(i, 3);
  b.due_at = r.i64(i, 4);
  b.cursor = r.text(i, 5);
  b.next_pass_at = r.i64(i, 6);
  b.entered = r.i64(i, 7);
  b.walked = r.i64(i, 8);
  b.total = r.i64(i, 9);
  b.passes = static_cast<int>(r.i64(i, 10));
  b.started_at = r.i64(i, 11);
  b.finished_at = r.i64(i, 12);
  return b;
}

DeliveryRecord read_delivery(const Rows& rows, int row) {
  return read_delivery_row(RowAt{rows, row});
}

namespace {
// The compact form when the text has the shape step_codec compacts, else the text.
const std::string& compact_or(const std::string& original, const std::string& compact) {
  return step_codec::is_encoded(compact) ? compact : original;
}
}  // namespace

Params journey_params(const JourneyRecord& j, step_codec::Words& words, bool insert) {
  const std::string visits = step_codec::encode_visits(j.visits, words);
  const std::string last = step_codec::encode_event(j.last_event, j.entered_at, words);
  Params p;
  p.add(j.id);
  if (insert) {
    const std::string trigger = step_codec::encode_event(j.trigger_event, j.entered_at, words);
    p.add(j.flow).add(j.version).add(j.user_id).add(j.key);
    p.add(static_cast<int>(j.state)).add(j.node).add(j.waiting_for);
    p.bytes(compact_or(j.visits, visits)).add(j.coupon_code).add(j.variant);
    p.bytes(compact_or(j.trigger_event, trigger)).bytes(compact_or(j.last_event, last));
    p.add(j.steps).add(j.entered_at).add(j.updated_at);
  } else {
    p.add(static_cast<int>(j.state)).add(j.node).add(j.waiting_for);
    p.bytes(compact_or(j.visits, visits)).add(j.coupon_code).add(j.variant);
    p.bytes(compact_or(j.last_event, last)).add(j.steps).add(j.updated_at);
  }
  p.add(j.ended_at).add(j.converted_at);
  if (j.timer)
    p.add(j.timer->due).add(j.timer->node).add(j.timer->visit);
  else
    p.null().null().null();
  p.bytes(j.history).add(j.history_seq);
  if (!insert) p.add(j.version);  // a migration moves a journey to another version
  p.add(j.revenue).add(j.last_message).add(j.converted_after);
  return p;
}

std::string text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace trellis::runtime::postgres

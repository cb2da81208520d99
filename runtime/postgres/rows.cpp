#include "runtime/postgres/rows.h"

namespace trellis::runtime::postgres {

JourneyRecord read_journey(const Rows& r, int i, step_codec::Words& words) {
  JourneyRecord j;
  j.id = r.i64(i, 0);
  j.flow = r.text(i, 1);
  j.version = static_cast<int>(r.i64(i, 2));
  j.user_id = r.text(i, 3);
  j.key = r.text(i, 4);
  j.state = static_cast<Lifecycle>(r.i64(i, 5));
  j.node = r.text(i, 6);
  j.waiting_for = r.text(i, 7);
  j.entered_at = r.i64(i, 14);
  j.visits = step_codec::decode_visits(r.bytes(i, 8), words);
  j.coupon_code = r.text(i, 9);
  j.variant = r.text(i, 10);
  j.trigger_event = step_codec::decode_event(r.bytes(i, 11), j.entered_at, words);
  j.last_event = step_codec::decode_event(r.bytes(i, 12), j.entered_at, words);
  j.steps = static_cast<int>(r.i64(i, 13));
  j.updated_at = r.i64(i, 15);
  j.ended_at = r.opt_i64(i, 16);
  j.converted_at = r.opt_i64(i, 17);
  if (std::optional<int64_t> due = r.opt_i64(i, 18))
    j.timer = JourneyTimer{*due, r.text(i, 19), static_cast<int>(r.i64(i, 20))};
  j.history = r.bytes(i, 21);
  j.history_seq = static_cast<int>(r.i64(i, 22));
  j.revenue = r.opt_real(i, 23);
  j.last_message = r.text(i, 24);
  j.converted_after = r.text(i, 25);
  return j;
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

DeliveryRecord read_delivery(const Rows& r, int i) {
  DeliveryRecord d;
  d.id = r.i64(i, 0);
  d.key = r.text(i, 1);
  d.journey_id = r.i64(i, 2);
  d.channel = r.text(i, 3);
  d.user_id = r.text(i, 4);
  d.flow = r.text(i, 5);
  d.flow_version = static_cast<int>(r.i64(i, 6));
  d.node = r.text(i, 7);
  d.at = r.i64(i, 8);
  d.to = r.text(i, 9);
  d.subject = r.text(i, 10);
  d.body = r.text(i, 11);
  d.status = static_cast<DeliveryStatus>(r.i64(i, 12));
  d.attempts = static_cast<int>(r.i64(i, 13));
  d.next_attempt_at = r.i64(i, 14);
  d.last_error = r.text(i, 15);
  d.category = r.text(i, 16);
  d.priority = static_cast<int>(r.i64(i, 17));
  d.release_at = r.opt_i64(i, 18).value_or(0);
  d.feedback = r.text(i, 19);
  d.feedback_at = r.opt_i64(i, 20).value_or(0);
  d.variant = r.text(i, 21);
  return d;
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

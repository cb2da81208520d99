// One internal Event for the three wire forms of docs/events.md: Trellis, Segment
// (track / identify) and CloudEvents 1.0. The HTTP API and the event bus parse
// bodies with parse_events() and hand the result to Engine::ingest().
//
// Properties travel as compact JSON object text, so callers never need the JSON
// library the runtime uses, and the engine can store them verbatim.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/result.h"
#include "runtime/clock.h"

namespace trellis::runtime {

enum class EventForm { kTrellis, kSegmentTrack, kSegmentIdentify, kCloudEvent };

struct Event {
  std::string id;                      // idempotency id; empty means "not idempotent"
  std::string type;                    // event type ("add_to_cart"); "identify" for identify calls
  std::string user_id;                 // required, except on delivery feedback (below)
  std::optional<TimeMs> time;          // the event's own time; empty means "now"
  std::string properties_json = "{}";  // JSON object: properties, or traits for identify
  EventForm form = EventForm::kTrellis;

  // True for Segment identify (and Trellis events of type "identify"): the
  // properties are traits to merge into the user's profile.
  bool is_identify() const { return form == EventForm::kSegmentIdentify; }
};

// Provider feedback on one delivery: message_delivered, message_bounced,
// message_complained, message_opened, message_clicked. It names the delivery by
// `properties.delivery_id` (an integer, or its digits as a string) or
// `properties.key`, and may leave the user id out: the engine takes it from
// the delivery (webhooks from providers rarely know our user ids).
bool is_delivery_feedback(std::string_view type);

// Parses one JSON object or an array of them, each in any of the three forms.
// All or nothing: the first malformed element fails the whole body, with its
// index in the message ("event 2: missing user id"), so a bad request changes
// nothing.
Result<std::vector<Event>> parse_events(std::string_view json_text);

// Parses a profile body (`PUT /v1/users/{id}`): a JSON object of traits.
// Returns it re-serialised compactly, or an error when it is not an object.
Result<std::string> parse_traits(std::string_view json_text);

}  // namespace trellis::runtime

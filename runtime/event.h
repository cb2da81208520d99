// One internal Event for the wire forms producers send: Trellis, Segment's
// Tracking API calls (track, identify, page, screen, group, alias, and the
// `{"batch": [...]}` envelope) and CloudEvents 1.0 (structured, batched, and
// binary via cloud_event_from_binary). docs/events.md describes each form. The
// HTTP API and the event bus parse bodies with parse_events() or
// parse_events_each() and hand the result to Engine::ingest().
//
// Properties travel as compact JSON object text, so callers never need the JSON
// library the runtime uses, and the engine can store them verbatim.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
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
  // Identity: an anonymous id this call says is `user_id` (Segment identify
  // with both `userId` and `anonymousId`, alias's `previousId`, the Trellis
  // form's `anonymous_id` on identify or alias). Applying the event merges
  // the anonymous id into the user (docs/events.md#identity). Empty: no link.
  std::string anonymous_id;

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

// What one input may cost, applied by every ingestion path (HTTP bodies and
// Redis stream entries alike) before anything recursive touches the text.
// `serve` sets them from its flags; docs/limits.md lists each one, its
// default and why.
struct IngestLimits {
  size_t max_body_bytes = 16u << 20;       // one HTTP body or one stream entry
  int max_json_depth = 32;                 // nesting of arrays and objects
  size_t max_type_bytes = 200;             // event type
  size_t max_id_bytes = 256;               // user ids, event ids, pool names
  size_t max_properties_bytes = 1u << 20;  // one event's properties (or traits), as JSON
};

// What a body's parse needs from outside it.
struct ParseContext {
  // Size and depth are checked on the raw text before it is parsed;
  // identifiers and properties on each parsed event, whatever its form.
  IngestLimits limits;
  // When the server received the body: Segment calls carrying `sentAt` get
  // their time corrected for the producer's clock skew,
  // time = timestamp + (received_at - sentAt). Empty: no correction.
  std::optional<TimeMs> received_at;
  // Non-empty: the body is one Segment call of this kind ("track", "page"...),
  // as posted to /v1/track, /v1/page...; its own `type` may be left out.
  std::string segment_call;
};

// Parses one JSON object, an array of them, or a Segment batch envelope
// (`{"batch": [...], "sentAt": ...}`), each element in any of the forms.
// All or nothing: the first malformed element fails the whole body, with its
// index in the message ("event 2: missing user id"), so a bad request changes
// nothing.
Result<std::vector<Event>> parse_events(std::string_view json_text,
                                        const ParseContext& context = {});

// Per-element outcomes, for protocols whose elements stand alone (Segment's
// /v1/batch): the good elements parse, the bad ones say why.
struct ElementError {
  size_t index;
  std::string message;
};
struct ParsedElements {
  std::vector<Event> events;
  std::vector<size_t> indexes;  // per event: its element's index in the body
  std::vector<ElementError> errors;
  size_t elements = 0;
};
// Parses the same bodies as parse_events(), element by element. An error only
// when the body as a whole is unusable (not JSON, no elements).
Result<ParsedElements> parse_events_each(std::string_view json_text,
                                         const ParseContext& context = {});

// A CloudEvent in HTTP binary mode: attributes in `ce-*` headers (names
// lower-cased, values percent-decoded), the data as the body, described by
// `content_type`. Returns the same event as structured JSON text, to be parsed
// by parse_events() like any other body. JSON data (application/json, *+json)
// becomes the event's `data`; other data is kept as a string under
// `data.data`.
Result<std::string> cloud_event_from_binary(
    const std::vector<std::pair<std::string, std::string>>& ce_headers,
    std::string_view content_type, std::string_view body);

// Parses a profile body (`PUT /v1/users/{id}`): a JSON object of traits.
// Returns it re-serialised compactly, or an error when it is not an object.
Result<std::string> parse_traits(std::string_view json_text, const IngestLimits& limits = {});

// True when `text` nests JSON arrays/objects deeper than `max_depth` (strings
// skipped). Linear and without recursion, so it is safe on any input.
bool json_nesting_exceeds(std::string_view text, int max_depth);

// An identifier from outside (user id, event id, pool name): non-empty, at
// most `max_bytes`, valid UTF-8, no NUL. The error names `field`.
Status check_identifier(std::string_view field, std::string_view value, size_t max_bytes);

}  // namespace trellis::runtime

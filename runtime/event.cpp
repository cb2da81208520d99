#include "runtime/event.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "dsl/ir/utf8.h"

namespace trellis::runtime {

namespace {

using nlohmann::json;

// Reads a string field, or empty when absent. Numbers are accepted for ids and
// user ids because many producers send numeric ids.
std::string string_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  // Unsigned first: 18446744073709551615 read as int64_t would be "-1".
  if (it->is_number_unsigned()) return std::to_string(it->get<uint64_t>());
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) return it->dump();
  return {};
}

// 9999-12-31T23:59:59.999Z: later numbers are not times.
constexpr double kLatestEventTimeMs = 253402300799999.0;

// `time` as RFC 3339 text, or a number: epoch milliseconds when large, seconds otherwise.
Status read_time(const json& object, const char* name, std::optional<TimeMs>* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return Status();
  if (it->is_string()) {
    TimeMs t;
    if (!parse_rfc3339(it->get_ref<const std::string&>().c_str(), &t))
      return Error::invalid(std::string("`") + name + "` is not an RFC 3339 time");
    *out = t;
    return Status();
  }
  if (it->is_number()) {
    const double v = it->get<double>();
    const double ms = v > 1e11 ? v : v * 1000;
    // Checked before the conversion: a double past TimeMs's range converts to
    // an undefined value (found by fuzz_event with a 57-digit time).
    if (!(ms >= 0 && ms <= kLatestEventTimeMs))
      return Error::invalid(std::string("`") + name +
                            "` is out of range: epoch seconds or milliseconds, 1970 to 9999");
    *out = static_cast<TimeMs>(ms);
    return Status();
  }
  return Error::invalid(std::string("`") + name + "` must be a string");
}

Status read_object(const json& object, const char* name, std::string* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    *out = "{}";
    return Status();
  }
  if (!it->is_object()) return Error::invalid(std::string("`") + name + "` must be an object");
  *out = it->dump();
  return Status();
}

Status parse_trellis(const json& o, Event* e) {
  e->id = string_field(o, "id");
  e->type = string_field(o, "type");
  e->user_id = string_field(o, "user_id");
  if (e->type == "identify" || e->type == "alias")
    e->anonymous_id = string_field(o, "anonymous_id");
  if (e->type == "identify") {
    e->form = EventForm::kSegmentIdentify;
    if (o.contains("traits")) return read_object(o, "traits", &e->properties_json);
  } else {
    e->form = EventForm::kTrellis;
  }
  if (auto s = read_time(o, "time", &e->time); !s) return s;
  if (auto s = read_object(o, "properties", &e->properties_json); !s) return s;
  // An alias names the anonymous id as `properties.previous_id`, as the
  // Segment form's alias event carries it.
  auto properties = o.find("properties");
  if (e->type == "alias" && e->anonymous_id.empty() && properties != o.end() &&
      properties->is_object())
    e->anonymous_id = string_field(*properties, "previous_id");
  return Status();
}

// Reads an optional object field as JSON (an empty object when absent).
Status object_field(const json& object, const char* name, json* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    *out = json::object();
    return Status();
  }
  if (!it->is_object()) return Error::invalid(std::string("`") + name + "` must be an object");
  *out = *it;
  return Status();
}

// Segment documents receivedAt - sentAt as the producer's clock skew and
// corrects the event's time by it.
Status segment_time(const json& o, const json* envelope, const ParseContext& context, Event* e) {
  const char* field = o.contains("timestamp") ? "timestamp" : "originalTimestamp";
  if (auto s = read_time(o, field, &e->time); !s) return s;
  std::optional<TimeMs> sent_at;
  if (auto s = read_time(o, "sentAt", &sent_at); !s) return s;
  if (!sent_at && envelope != nullptr) {
    if (auto s = read_time(*envelope, "sentAt", &sent_at); !s)
      return Error::invalid("batch " + s.message());
  }
  if (e->time && sent_at && context.received_at) *e->time += *context.received_at - *sent_at;
  return Status();
}

// Properties of each kind of call other than identify; docs/events.md has the table.
Status segment_properties(const json& o, const std::string& kind, Event* e, json* properties) {
  if (kind == "track") {
    e->type = string_field(o, "event");
    if (e->type.empty()) return Error::invalid("Segment track without `event`");
    return object_field(o, "properties", properties);
  }
  e->type = kind;
  if (kind == "page" || kind == "screen") {
    if (auto s = object_field(o, "properties", properties); !s) return s;
    for (const char* name : {"name", "category"})
      if (o.contains(name) && !properties->contains(name)) (*properties)[name] = o[name];
    return Status();
  }
  if (kind == "group") {
    if (auto s = object_field(o, "traits", properties); !s) return s;
    const std::string group = string_field(o, "groupId");
    if (group.empty()) return Error::invalid("Segment group without `groupId`");
    (*properties)["group_id"] = group;
    return Status();
  }
  if (kind == "alias") {
    const std::string previous = string_field(o, "previousId");
    if (previous.empty()) return Error::invalid("Segment alias without `previousId`");
    *properties = {{"previous_id", previous}};
    e->anonymous_id = previous;
    return Status();
  }
  return Error::invalid("Segment `" + kind +
                        "` calls are not supported (track, identify, page, screen, group, alias)");
}

// One Segment call. `envelope` is the batch it came in, if any (for `sentAt`).
Status parse_segment(const json& o, const json* envelope, const ParseContext& context, Event* e) {
  const std::string kind =
      context.segment_call.empty() ? string_field(o, "type") : context.segment_call;
  if (kind.empty()) return Error::invalid("Segment call without `type`");
  e->id = string_field(o, "messageId");
  // A visitor not yet identified is known by the anonymous id alone.
  e->user_id = string_field(o, "userId");
  if (e->user_id.empty()) e->user_id = string_field(o, "anonymousId");
  if (auto s = segment_time(o, envelope, context, e); !s) return s;
  if (kind == "identify") {
    // An identify carrying both ids links the visitor to the user.
    const std::string anonymous = string_field(o, "anonymousId");
    if (anonymous != e->user_id) e->anonymous_id = anonymous;
    e->form = EventForm::kSegmentIdentify;
    e->type = "identify";
    return read_object(o, "traits", &e->properties_json);
  }
  e->form = EventForm::kSegmentTrack;
  json properties;
  if (auto s = segment_properties(o, kind, e, &properties); !s) return s;
  // Flows read the call's context as `event.context.*`; a property of that name wins.
  json context_object;
  if (auto s = object_field(o, "context", &context_object); !s) return s;
  if (!context_object.empty() && !properties.contains("context"))
    properties["context"] = std::move(context_object);
  e->properties_json = properties.dump(-1, ' ', false, json::error_handler_t::replace);
  return Status();
}

Status parse_cloud_event(const json& o, Event* e) {
  e->form = EventForm::kCloudEvent;
  if (string_field(o, "specversion") != "1.0")
    return Error::invalid("unsupported CloudEvents `specversion`");
  e->id = string_field(o, "id");
  e->type = string_field(o, "type");
  // The user is the `subject`, or the `userid` extension attribute when the
  // subject names something else.
  e->user_id = string_field(o, "userid");
  if (e->user_id.empty()) e->user_id = string_field(o, "subject");
  if (auto s = read_time(o, "time", &e->time); !s) return s;
  return read_object(o, "data", &e->properties_json);
}

bool looks_like_segment(const json& o) {
  if (o.contains("userId") || o.contains("anonymousId") || o.contains("messageId")) return true;
  // `{"type":"identify","user_id":…,"traits":…}` is the Trellis form of identify.
  if (o.contains("user_id")) return false;
  auto it = o.find("type");
  return it != o.end() && it->is_string() && (*it == "track" || *it == "identify") &&
         (o.contains("event") || o.contains("traits"));
}

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 18 &&
         text.find_first_not_of("0123456789") == std::string::npos;
}

// A feedback event must say which delivery it is about, in a usable form;
// otherwise it would be accepted and then match nothing.
Status check_feedback(const Event& e) {
  json properties = json::parse(e.properties_json);
  auto id = properties.find("delivery_id");
  auto key = properties.find("key");
  bool has_id = id != properties.end() && !id->is_null();
  bool has_key = key != properties.end() && !key->is_null();
  if (!has_id && !has_key)
    return Error::invalid("`properties.delivery_id` or `properties.key` is required on " + e.type);
  if (has_id && !(id->is_number_unsigned() && id->get<uint64_t>() > 0) &&
      !(id->is_string() && all_digits(id->get<std::string>())))
    return Error::invalid(
        "`properties.delivery_id` must be a positive integer or its digits as a string");
  if (has_key && !(key->is_string() && !key->get_ref<const std::string&>().empty()))
    return Error::invalid("`properties.key` must be a non-empty string");
  return Status();
}

// The names the sender used for the event's fields, so that errors name them.
struct WireNames {
  const char* id;
  const char* type;
  const char* user_id;
  const char* properties;
};

WireNames wire_names(const json& o, EventForm form) {
  switch (form) {
    case EventForm::kSegmentTrack:
      return {"messageId", "event", "userId", "properties"};
    case EventForm::kSegmentIdentify:
      if (o.contains("user_id")) return {"id", "type", "user_id", "traits"};
      return {"messageId", "type", "userId", "traits"};
    case EventForm::kCloudEvent:
      return {"id", "type", "subject", "data"};
    case EventForm::kTrellis:
      break;
  }
  return {"id", "type", "user_id", "properties"};
}

// What the raw JSON must be before its text is taken: a type is a string (a
// number is a mistake, not a name); ids are strings or integers, since a
// fraction or an exponent would not keep the producer's digits.
Status check_raw_fields(const json& o, const WireNames& names) {
  auto type = o.find(names.type);
  if (type != o.end() && !type->is_null() && !type->is_string())
    return Error::invalid(std::string("`") + names.type + "` must be a string");
  for (const char* name : {names.id, names.user_id}) {
    auto it = o.find(name);
    if (it == o.end() || it->is_null() || it->is_string() || it->is_number_integer()) continue;
    return Error::invalid(std::string("`") + name + "` must be a string or an integer");
  }
  return Status();
}

// The limits on what each event holds, whatever form it came in.
Status check_event_limits(const Event& e, const WireNames& names, const IngestLimits& limits) {
  if (Status s = check_identifier(names.type, e.type, limits.max_type_bytes); !s) return s;
  if (!e.user_id.empty())
    if (Status s = check_identifier(names.user_id, e.user_id, limits.max_id_bytes); !s) return s;
  if (!e.id.empty())
    if (Status s = check_identifier(names.id, e.id, limits.max_id_bytes); !s) return s;
  if (!e.anonymous_id.empty())
    if (Status s = check_identifier("anonymous id", e.anonymous_id, limits.max_id_bytes); !s)
      return s;
  if (e.properties_json.size() > limits.max_properties_bytes)
    return Error::invalid(std::string("`") + names.properties + "` is larger than " +
                          std::to_string(limits.max_properties_bytes) + " bytes");
  return Status();
}

// Every element of every body, whatever its form, is checked here.
Status parse_one(const json& o, const json* envelope, const ParseContext& context, Event* e) {
  if (!o.is_object()) return Error::invalid("not a JSON object");
  const bool segment = envelope != nullptr || !context.segment_call.empty();
  Status s = segment                     ? parse_segment(o, envelope, context, e)
             : o.contains("specversion") ? parse_cloud_event(o, e)
             : looks_like_segment(o)     ? parse_segment(o, nullptr, context, e)
                                         : parse_trellis(o, e);
  WireNames names = wire_names(o, e->form);
  if (Status raw = check_raw_fields(o, names); !raw) return raw;
  if (!s) return s;
  if (e->type.empty()) return Error::invalid("missing event type");
  if (Status bounded = check_event_limits(*e, names, context.limits); !bounded) return bounded;
  if (is_delivery_feedback(e->type)) return check_feedback(*e);
  if (e->user_id.empty()) return Error::invalid("missing user id");
  return Status();
}

// A body as JSON, and where its elements are: the body itself, its array, or
// a Segment batch envelope's `batch`.
struct Body {
  enum class Shape { kOne, kArray, kSegmentBatch };
  json root;
  Shape shape = Shape::kOne;

  bool one() const { return shape == Shape::kOne; }
  const json& elements() const { return shape == Shape::kSegmentBatch ? root["batch"] : root; }
  const json* envelope() const { return shape == Shape::kSegmentBatch ? &root : nullptr; }
};

Result<Body> parse_body(std::string_view json_text, const ParseContext& context) {
  Body body;
  body.root = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (body.root.is_discarded()) return Error::invalid("body is not valid JSON");
  if (body.root.is_array()) {
    body.shape = Body::Shape::kArray;
  } else if (body.root.is_object() && context.segment_call.empty() && body.root.contains("batch")) {
    if (!body.root["batch"].is_array())
      return Error::invalid("`batch` must be an array of Segment calls");
    body.shape = Body::Shape::kSegmentBatch;
  }
  return body;
}

}  // namespace

bool is_delivery_feedback(std::string_view type) {
  return type == "message_delivered" || type == "message_bounced" || type == "message_complained" ||
         type == "message_opened" || type == "message_clicked";
}

bool json_nesting_exceeds(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Status check_identifier(std::string_view field, std::string_view value, size_t max_bytes) {
  auto fail = [&](const std::string& why) {
    return Error::invalid("`" + std::string(field) + "` " + why);
  };
  if (value.empty()) return fail("is empty");
  if (value.size() > max_bytes)
    return fail("is longer than " + std::to_string(max_bytes) + " bytes");
  if (auto bad = ir::first_invalid_utf8(value))
    return fail("is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
  if (value.find('\0') != std::string_view::npos) return fail("contains a NUL character");
  return Status();
}

namespace {

// Size and depth on the raw text: nlohmann's dump() recurses, so a deeper
// document must never be parsed into a tree at all.
Status check_raw_text(std::string_view json_text, const IngestLimits& limits) {
  if (json_text.size() > limits.max_body_bytes)
    return Error::invalid("body is larger than " + std::to_string(limits.max_body_bytes) +
                          " bytes");
  if (json_nesting_exceeds(json_text, limits.max_json_depth))
    return Error::invalid("JSON nests deeper than " + std::to_string(limits.max_json_depth) +
                          " levels");
  return Status();
}

}  // namespace

Result<std::vector<Event>> parse_events(std::string_view json_text, const ParseContext& context) {
  if (Status s = check_raw_text(json_text, context.limits); !s) return Error::invalid(s.message());
  auto body = parse_body(json_text, context);
  if (!body.ok()) return body.error();
  std::vector<Event> events;
  if (body->one()) {
    events.resize(1);
    if (Status s = parse_one(body->root, nullptr, context, &events[0]); !s)
      return Error::invalid(s.message());
    return events;
  }
  const json& elements = body->elements();
  events.resize(elements.size());
  for (size_t i = 0; i < elements.size(); ++i) {
    if (Status s = parse_one(elements[i], body->envelope(), context, &events[i]); !s)
      return Error::invalid("event " + std::to_string(i) + ": " + s.message());
  }
  return events;
}

Result<ParsedElements> parse_events_each(std::string_view json_text, const ParseContext& context) {
  if (Status s = check_raw_text(json_text, context.limits); !s) return Error::invalid(s.message());
  auto body = parse_body(json_text, context);
  if (!body.ok()) return body.error();
  ParsedElements out;
  auto parse_element = [&](const json& element, size_t index) {
    Event e;
    if (Status s = parse_one(element, body->envelope(), context, &e); !s) {
      out.errors.push_back({index, s.message()});
      return;
    }
    out.events.push_back(std::move(e));
    out.indexes.push_back(index);
  };
  if (body->one()) {
    out.elements = 1;
    parse_element(body->root, 0);
  } else {
    const json& elements = body->elements();
    out.elements = elements.size();
    for (size_t i = 0; i < out.elements; ++i) parse_element(elements[i], i);
  }
  if (out.elements == 0) return Error::invalid("the body holds no events");
  return out;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// CloudEvents' HTTP binding percent-encodes header values outside printable ASCII.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

bool is_json_media_type(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  return media.empty() || media == "application/json" || media == "text/json" ||
         (media.size() > 5 && media.substr(media.size() - 5) == "+json");
}

}  // namespace

Result<std::string> cloud_event_from_binary(
    const std::vector<std::pair<std::string, std::string>>& ce_headers,
    std::string_view content_type, std::string_view body) {
  json event = json::object();
  for (const auto& [name, value] : ce_headers) {
    std::string attribute;
    for (char c : name.substr(3))
      attribute += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    event[attribute] = percent_decode(value);
  }
  if (!content_type.empty()) event["datacontenttype"] = std::string(content_type);
  if (body.empty()) return event.dump();
  if (is_json_media_type(content_type)) {
    json data = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (data.is_discarded()) return Error::invalid("the CloudEvent's data is not valid JSON");
    event["data"] = std::move(data);
  } else {
    event["data"] = {{"data", std::string(body)}};
  }
  return event.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> parse_traits(std::string_view json_text, const IngestLimits& limits) {
  if (Status s = check_raw_text(json_text, limits); !s) return Error::invalid(s.message());
  json body = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (body.is_discarded()) return Error::invalid("body is not valid JSON");
  if (!body.is_object()) return Error::invalid("traits must be a JSON object");
  std::string traits = body.dump();
  if (traits.size() > limits.max_properties_bytes)
    return Error::invalid("traits are larger than " + std::to_string(limits.max_properties_bytes) +
                          " bytes");
  return traits;
}

}  // namespace trellis::runtime

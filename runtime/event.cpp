#include "runtime/event.h"

#include <nlohmann/json.hpp>

namespace trellis::runtime {

namespace {

using nlohmann::json;

// Reads a string field, or empty when absent. Numbers are accepted for ids and
// user ids because many producers send numeric ids.
std::string string_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return {};
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<int64_t>());
  if (it->is_number()) return it->dump();
  return {};
}

// `time` as RFC 3339 text, or a number: epoch milliseconds when large, seconds otherwise.
Status read_time(const json& object, const char* name, std::optional<TimeMs>* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return Status();
  if (it->is_string()) {
    TimeMs t;
    if (!parse_rfc3339(it->get_ref<const std::string&>().c_str(), &t))
      return Error{std::string("`") + name + "` is not an RFC 3339 time"};
    *out = t;
    return Status();
  }
  if (it->is_number()) {
    const double v = it->get<double>();
    *out = static_cast<TimeMs>(v > 1e11 ? v : v * 1000);
    return Status();
  }
  return Error{std::string("`") + name + "` must be a string"};
}

Status read_object(const json& object, const char* name, std::string* out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    *out = "{}";
    return Status();
  }
  if (!it->is_object()) return Error{std::string("`") + name + "` must be an object"};
  *out = it->dump();
  return Status();
}

Status parse_trellis(const json& o, Event* e) {
  e->id = string_field(o, "id");
  e->type = string_field(o, "type");
  e->user_id = string_field(o, "user_id");
  if (e->type == "identify") {
    e->form = EventForm::kSegmentIdentify;
    if (o.contains("traits")) return read_object(o, "traits", &e->properties_json);
  } else {
    e->form = EventForm::kTrellis;
  }
  if (auto s = read_time(o, "time", &e->time); !s) return s;
  return read_object(o, "properties", &e->properties_json);
}

Status parse_segment(const json& o, Event* e) {
  const std::string kind = string_field(o, "type");
  e->id = string_field(o, "messageId");
  e->user_id = string_field(o, "userId");
  if (auto s = read_time(o, "timestamp", &e->time); !s) return s;
  if (kind == "identify") {
    e->form = EventForm::kSegmentIdentify;
    e->type = "identify";
    return read_object(o, "traits", &e->properties_json);
  }
  if (kind != "track")
    return Error{"Segment `" + kind + "` calls are not supported (track, identify)"};
  e->form = EventForm::kSegmentTrack;
  e->type = string_field(o, "event");
  if (e->type.empty()) return Error{"Segment track without `event`"};
  return read_object(o, "properties", &e->properties_json);
}

Status parse_cloud_event(const json& o, Event* e) {
  e->form = EventForm::kCloudEvent;
  if (string_field(o, "specversion") != "1.0")
    return Error{"unsupported CloudEvents `specversion`"};
  e->id = string_field(o, "id");
  e->type = string_field(o, "type");
  e->user_id = string_field(o, "subject");
  if (auto s = read_time(o, "time", &e->time); !s) return s;
  return read_object(o, "data", &e->properties_json);
}

bool looks_like_segment(const json& o) {
  if (o.contains("userId") || o.contains("messageId")) return true;
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
    return Error{"`properties.delivery_id` or `properties.key` is required on " + e.type};
  if (has_id && !(id->is_number_unsigned() && id->get<uint64_t>() > 0) &&
      !(id->is_string() && all_digits(id->get<std::string>())))
    return Error{"`properties.delivery_id` must be a positive integer or its digits as a string"};
  if (has_key && !(key->is_string() && !key->get_ref<const std::string&>().empty()))
    return Error{"`properties.key` must be a non-empty string"};
  return Status();
}

Status parse_one(const json& o, Event* e) {
  if (!o.is_object()) return Error{"not a JSON object"};
  Status s = o.contains("specversion") ? parse_cloud_event(o, e)
             : looks_like_segment(o)   ? parse_segment(o, e)
                                       : parse_trellis(o, e);
  if (!s) return s;
  if (e->type.empty()) return Error{"missing event type"};
  if (is_delivery_feedback(e->type)) return check_feedback(*e);
  if (e->user_id.empty()) return Error{"missing user id"};
  return Status();
}

}  // namespace

bool is_delivery_feedback(std::string_view type) {
  return type == "message_delivered" || type == "message_bounced" || type == "message_complained" ||
         type == "message_opened" || type == "message_clicked";
}

Result<std::vector<Event>> parse_events(std::string_view json_text) {
  json body = json::parse(json_text.begin(), json_text.end(), nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return Error{"body is not valid JSON"};
  std::vector<Event> events;
  if (body.is_array()) {
    events.resize(body.size());
    for (size_t i = 0; i < body.size(); ++i) {
      if (Status s = parse_one(body[i], &events[i]); !s)
        return Error{"event " + std::to_string(i) + ": " + s.message()};
    }
  } else {
    events.resize(1);
    if (Status s = parse_one(body, &events[0]); !s) return Error{s.message()};
  }
  return events;
}

Result<std::string> parse_traits(std::string_view json_text) {
  json body = json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (body.is_discarded()) return Error{"body is not valid JSON"};
  if (!body.is_object()) return Error{"traits must be a JSON object"};
  return body.dump();
}

}  // namespace trellis::runtime

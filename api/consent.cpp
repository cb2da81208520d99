#include "api/consent.h"

#include <algorithm>

#include "runtime/clock.h"

namespace trellis::api {
namespace {

using nlohmann::json;

constexpr size_t kMaxChannelName = 64;
const char* kEveryChannel = "*";

bool valid_channel_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxChannelName) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// The body's channel map, with its field prefix ("" or "channels."), and the
// reason to record; or why the body is not one of the two forms.
struct ConsentForm {
  const json* channels = nullptr;
  std::string prefix;
  std::string reason = "api";
};

std::variant<ConsentForm, ConsentBodyError> read_form(const json& body) {
  if (!body.is_object())
    return ConsentBodyError{"", "send a JSON object: {\"sms\": false} or {\"channels\": {...}}"};
  if (!body.contains("channels") && !body.contains("reason")) return ConsentForm{&body, "", "api"};

  ConsentForm form;
  form.prefix = "channels.";
  auto channels = body.find("channels");
  if (channels == body.end() || !channels->is_object())
    return ConsentBodyError{"channels",
                            "an object of channel: true | false (required with `reason`)"};
  for (const auto& [key, value] : body.items())
    if (key != "channels" && key != "reason")
      return ConsentBodyError{key, "with `channels`, the body has only `channels` and `reason`"};
  form.channels = &*channels;
  if (auto reason = body.find("reason"); reason != body.end()) {
    if (!reason->is_string()) return ConsentBodyError{"reason", "a string"};
    const std::string& text = reason->get_ref<const std::string&>();
    if (text.empty() || text.size() > kMaxConsentReason)
      return ConsentBodyError{"reason", "1 to " + std::to_string(kMaxConsentReason) + " bytes"};
    if (std::any_of(text.begin(), text.end(),
                    [](char c) { return static_cast<unsigned char>(c) < 0x20; }))
      return ConsentBodyError{"reason", "no control characters"};
    form.reason = "api: " + text;
  }
  return form;
}

}  // namespace

std::set<std::string> consent_channels(const runtime::delivery::DeliveryConfig* config) {
  std::set<std::string> names = {"email", "sms"};
  if (config)
    for (const auto& [name, channel] : config->channels) names.insert(name);
  return names;
}

std::variant<ConsentChange, ConsentBodyError> read_consent_body(
    const json& body, const std::set<std::string>& known_channels) {
  auto form = read_form(body);
  if (auto* error = std::get_if<ConsentBodyError>(&form)) return *error;
  const ConsentForm& f = std::get<ConsentForm>(form);
  const std::string whole = f.prefix.empty() ? "" : "channels";
  if (f.channels->empty()) return ConsentBodyError{whole, "name at least one channel"};
  if (f.channels->size() > kMaxConsentChannels)
    return ConsentBodyError{
        whole, "at most " + std::to_string(kMaxConsentChannels) + " channels in one request"};

  ConsentChange change;
  change.reason = f.reason;
  std::set<std::string> seen;
  for (const auto& [key, value] : f.channels->items()) {
    const std::string field = f.prefix + key;
    std::string channel = key == "all" ? kEveryChannel : key;
    if (channel != kEveryChannel && !valid_channel_name(channel))
      return ConsentBodyError{field, "channel names use letters, digits, '_' and '-'"};
    if (channel != kEveryChannel && !known_channels.count(channel))
      return ConsentBodyError{field, "unknown channel; known: " + join(known_channels) + ", *"};
    if (!value.is_boolean()) return ConsentBodyError{field, "consent is true or false"};
    if (!seen.insert(channel).second)
      return ConsentBodyError{field, "`all` and `*` name the same channels"};
    change.channels.emplace_back(channel, value.get<bool>());
  }
  // Every channel first, then the named ones: {"*": false, "email": true}
  // reads as "nothing but email".
  std::stable_partition(change.channels.begin(), change.channels.end(),
                        [](const auto& c) { return c.first == kEveryChannel; });
  return change;
}

json consent_to_json(const std::vector<runtime::ConsentRecord>& records) {
  json channels = json::object();
  for (const auto& r : records)
    channels[r.channel] = {
        {"subscribed", r.subscribed}, {"at", runtime::format_rfc3339(r.at)}, {"reason", r.reason}};
  return channels;
}

}  // namespace trellis::api

#include "api/json_text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <utility>
#include <vector>

namespace trellis::api {
namespace {

constexpr auto kReplace = nlohmann::json::error_handler_t::replace;

std::string dump(const nlohmann::json& j) { return j.dump(-1, ' ', false, kReplace); }

// Printable ASCII that dump() writes as it is (no escape).
bool plain(char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; }

}  // namespace

void JsonText::next_item() {
  if (!first_) out_ += ',';
  first_ = false;
}

JsonText& JsonText::begin_object() {
  next_item();
  out_ += '{';
  first_ = true;
  return *this;
}

JsonText& JsonText::end_object() {
  out_ += '}';
  first_ = false;
  return *this;
}

JsonText& JsonText::begin_array() {
  next_item();
  out_ += '[';
  first_ = true;
  return *this;
}

JsonText& JsonText::end_array() {
  out_ += ']';
  first_ = false;
  return *this;
}

JsonText& JsonText::key(std::string_view name) {
  next_item();
  quoted(name);
  out_ += ':';
  first_ = true;  // the value follows without a comma
  return *this;
}

JsonText& JsonText::value(int64_t v) {
  next_item();
  char buf[24];
  out_.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
  return *this;
}

JsonText& JsonText::value(double v) {
  next_item();
  if (!std::isfinite(v)) {
    out_ += "null";  // as dump() writes NaN and infinities
    return *this;
  }
  // nlohmann's own formatting (Grisu2, shortest round trip, "75.0" for a whole
  // number), which std::to_chars does not match: the digits dump() writes.
  char buf[64];
  out_.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, v));
  return *this;
}

JsonText& JsonText::value(std::string_view v) {
  next_item();
  quoted(v);
  return *this;
}

JsonText& JsonText::raw(std::string_view json) {
  next_item();
  out_ += json;
  return *this;
}

// Plain text (times, channel names) goes as it is; anything to escape or
// check for UTF-8 goes through dump(), rare enough not to cost.
void JsonText::quoted(std::string_view s) {
  if (!std::all_of(s.begin(), s.end(), plain)) {
    out_ += dump(std::string(s));
    return;
  }
  out_ += '"';
  out_ += s;
  out_ += '"';
}

std::string dump_with_member(const nlohmann::json& object, std::string_view name,
                             std::string_view value) {
  std::vector<std::pair<std::string_view, std::string>> members;  // in dump() order
  size_t size = name.size() + value.size() + 8;
  for (auto it = object.begin(); it != object.end(); ++it) {
    members.emplace_back(it.key(), dump(it.value()));
    size += it.key().size() + members.back().second.size() + 4;
  }
  std::string out;
  out.reserve(size);  // `value` can be a megabyte: copied once, never regrown
  JsonText text(out);
  text.begin_object();
  bool placed = false;
  for (const auto& [key, member] : members) {
    if (!placed && name < key) {
      text.key(name).raw(value);
      placed = true;
    }
    text.key(key).raw(member);
  }
  if (!placed) text.key(name).raw(value);
  text.end_object();
  return out;
}

}  // namespace trellis::api

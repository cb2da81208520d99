#include "runtime/step_codec.h"

#include <date/date.h>

#include <algorithm>
#include <cstring>
#include <nlohmann/json.hpp>

#include "nodes/reason_text.h"

namespace trellis::runtime::step_codec {

namespace {

// Placeholders in a reason's shape, each standing for one value that follows
// the shape's id. A reason that holds these bytes itself is stored literally.
constexpr char kTime = '\x01';    // zigzag varint: milliseconds from the step's time
constexpr char kNumber = '\x02';  // varint: value << 1, or (length << 1 | 1) and the digits
constexpr char kUser = '\x03';    // the journey's user id: nothing stored

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Reads a varint at `pos`; false past the end or when longer than 64 bits.
bool get_varint(std::string_view in, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && pos < in.size(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

unsigned digits_at(std::string_view s, size_t at, size_t n) {
  unsigned v = 0;
  for (size_t i = 0; i < n; ++i) v = v * 10 + static_cast<unsigned>(s[at + i] - '0');
  return v;
}

// A time as nodes::append_time writes it ("2026-01-04T00:00:00Z", with ".123"
// when the milliseconds are not zero) at `at`: its length and value, or 0 when
// there is none or it would not render back the same.
size_t time_at(std::string_view s, size_t at, int64_t& ms) {
  static constexpr std::string_view kPattern = "dddd-dd-ddTdd:dd:dd";
  if (s.size() - at < kPattern.size() + 1) return 0;
  for (size_t i = 0; i < kPattern.size(); ++i) {
    const char c = s[at + i];
    if (kPattern[i] == 'd' ? !is_digit(c) : c != kPattern[i]) return 0;
  }
  size_t length = kPattern.size();
  int millis = 0;
  if (s[at + length] == '.' && s.size() - at >= length + 5 && is_digit(s[at + length + 1]) &&
      is_digit(s[at + length + 2]) && is_digit(s[at + length + 3])) {
    millis = static_cast<int>(digits_at(s, at + length + 1, 3));
    length += 4;
  }
  if (s[at + length] != 'Z') return 0;
  ++length;
  const date::sys_days civil = date::year{static_cast<int>(digits_at(s, at, 4))} /
                               date::month{digits_at(s, at + 5, 2)} /
                               date::day{digits_at(s, at + 8, 2)};
  const int64_t days = civil.time_since_epoch().count();
  ms = (days * 86400 + digits_at(s, at + 11, 2) * 3600 + digits_at(s, at + 14, 2) * 60 +
        digits_at(s, at + 17, 2)) *
           1000 +
       millis;
  // Rendered back into a kept buffer: no allocation per time on the writer.
  thread_local std::string back;
  back.clear();
  nodes::append_time(back, ms);
  return back == s.substr(at, length) ? length : 0;
}

// Splits `reason` into its shape and the encoded values; false when it holds
// a placeholder byte itself (it is then stored whole).
bool shape_of(const std::string& reason, const std::string& user_id, TimeMs step_at,
              std::string& shape, std::string& values) {
  const std::string_view s = reason;
  shape.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const char c = s[i];
    if (c == kTime || c == kNumber || c == kUser) return false;
    int64_t ms = 0;
    if (is_digit(c)) {
      if (size_t n = time_at(s, i, ms)) {
        shape += kTime;
        put_varint(values, zigzag(ms - step_at));
        i += n;
        continue;
      }
    }
    if (!user_id.empty() && c == user_id[0] && s.compare(i, user_id.size(), user_id) == 0) {
      shape += kUser;
      i += user_id.size();
      continue;
    }
    if (is_digit(c)) {
      size_t end = i;
      while (end < s.size() && is_digit(s[end])) ++end;
      if (end + 1 < s.size() && s[end] == '.' && is_digit(s[end + 1])) {
        ++end;
        while (end < s.size() && is_digit(s[end])) ++end;
      }
      const std::string_view number = s.substr(i, end - i);
      const bool small_integer = number.size() <= 18 &&
                                 number.find('.') == std::string_view::npos &&
                                 (number[0] != '0' || number.size() == 1);
      if (small_integer) {
        uint64_t v = 0;
        for (char d : number) v = v * 10 + static_cast<uint64_t>(d - '0');
        put_varint(values, v << 1);
      } else {
        put_varint(values, (number.size() << 1) | 1);
        values += number;
      }
      shape += kNumber;
      i = end;
      continue;
    }
    // A run of plain text, appended at once: it ends before the next byte
    // that may begin a value (a digit, the user id's first byte) or is a
    // placeholder byte.
    const char user_first = user_id.empty() ? '\0' : user_id[0];
    size_t end = i + 1;
    while (end < s.size()) {
      const char d = s[end];
      if (is_digit(d) || d == user_first || d == kTime || d == kNumber || d == kUser) break;
      ++end;
    }
    shape.append(s.data() + i, end - i);
    i = end;
  }
  return true;
}

// A word: (id << 1) when the dictionary has it, else (length << 1 | 1) and the text.
void put_word(std::string& out, const std::string& text, Words& words) {
  if (std::optional<int64_t> id = words.id_of(text)) {
    put_varint(out, static_cast<uint64_t>(*id) << 1);
    return;
  }
  put_varint(out, (text.size() << 1) | 1);
  out += text;
}

// Reads a word: an id (with `literal` empty) or a literal text.
bool get_word(std::string_view in, size_t& pos, int64_t& id, std::string_view& literal) {
  uint64_t v = 0;
  if (!get_varint(in, pos, v)) return false;
  literal = {};
  id = 0;
  if ((v & 1) == 0) {
    id = static_cast<int64_t>(v >> 1);
    return true;
  }
  const uint64_t length = v >> 1;
  if (length > in.size() - pos) return false;
  literal = in.substr(pos, length);
  pos += length;
  return true;
}

bool valid_utf8_bytes(std::string_view s) {
  size_t i = 0;
  // Most text is ASCII: eight bytes at a time while no high bit is set.
  for (uint64_t word = 0; i + 8 <= s.size(); i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    if ((word & 0x8080808080808080ULL) != 0) break;
  }
  while (i < s.size() && static_cast<unsigned char>(s[i]) < 0x80) ++i;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

// `text`, or its repair in `scratch` when it is not valid UTF-8: no copy in
// the common case.
static const std::string& utf8_of(const std::string& text, std::string& scratch) {
  if (valid_utf8_bytes(text)) return text;
  scratch = valid_utf8(text);
  return scratch;
}

std::string valid_utf8(const std::string& text) {
  if (valid_utf8_bytes(text)) return text;
  // nlohmann replaces what is not UTF-8 with U+FFFD, as the JSON history did.
  const std::string dumped =
      nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(dumped).get<std::string>();
}

bool is_encoded(std::string_view history) { return !history.empty() && history[0] == kFormatTag; }

void append(std::string& history, const std::vector<StepRecord>& steps, const std::string& user_id,
            Words& words) {
  if (steps.empty()) return;
  std::string_view body;
  uint64_t previous = 0;
  if (is_encoded(history)) {
    size_t pos = 1;
    if (get_varint(history, pos, previous)) body = std::string_view(history).substr(pos);
  }
  std::string out;
  out.reserve(history.size() + 16 * steps.size() + 8);
  out += kFormatTag;
  put_varint(out, static_cast<uint64_t>(steps.back().at));
  out += body;
  int64_t previous_at = static_cast<int64_t>(previous);
  std::string shape, values, scratch, reason_scratch;
  for (const StepRecord& s : steps) {
    put_varint(out, zigzag(s.at - previous_at));
    previous_at = s.at;
    put_word(out, utf8_of(s.node, scratch), words);
    put_word(out, utf8_of(s.input, scratch), words);
    const std::string& reason = utf8_of(s.reason, reason_scratch);
    shape.clear();
    values.clear();
    if (shape_of(reason, user_id, s.at, shape, values)) {
      if (std::optional<int64_t> id = words.id_of(shape)) {
        put_varint(out, static_cast<uint64_t>(*id) << 1);
        out += values;
        continue;
      }
    }
    put_varint(out, (reason.size() << 1) | 1);  // stored whole
    out += reason;
  }
  history = std::move(out);
}

bool decode(std::string_view history, const std::string& user_id, Words& words, bool render_reason,
            const std::function<void(const DecodedStep&)>& visit) {
  if (!is_encoded(history)) return false;
  size_t pos = 1;
  uint64_t last = 0;
  if (!get_varint(history, pos, last)) return false;
  int64_t at = 0;
  DecodedStep step;
  std::string_view literal;
  while (pos < history.size()) {
    uint64_t delta = 0;
    if (!get_varint(history, pos, delta)) return false;
    at += unzigzag(delta);
    step.at = at;
    for (std::string* word : {&step.node, &step.input}) {
      int64_t id = 0;
      if (!get_word(history, pos, id, literal)) return false;
      if (id == 0) {
        word->assign(literal);
      } else if (const std::string* text = words.text_of(id)) {
        *word = *text;
      } else {
        return false;
      }
    }
    int64_t shape_id = 0;
    if (!get_word(history, pos, shape_id, literal)) return false;
    step.reason.clear();
    if (shape_id == 0) {
      step.reason.assign(literal);
    } else {
      const std::string* shape = words.text_of(shape_id);
      if (shape == nullptr) return false;
      for (char c : *shape) {
        uint64_t v = 0;
        if (c == kTime) {
          if (!get_varint(history, pos, v)) return false;
          if (render_reason) nodes::append_time(step.reason, at + unzigzag(v));
        } else if (c == kNumber) {
          if (!get_varint(history, pos, v)) return false;
          if ((v & 1) == 0) {
            if (render_reason) step.reason += std::to_string(v >> 1);
          } else {
            if ((v >> 1) > history.size() - pos) return false;
            if (render_reason) step.reason.append(history.substr(pos, v >> 1));
            pos += v >> 1;
          }
        } else if (c == kUser) {
          if (render_reason) step.reason += user_id;
        } else if (render_reason) {
          step.reason += c;
        }
      }
    }
    visit(step);
  }
  return true;
}

}  // namespace trellis::runtime::step_codec

namespace trellis::runtime::step_codec {

namespace {

// Reads a JSON string's content (escapes kept as they are) after its opening
// quote at `pos`; `pos` ends past the closing quote.
bool json_string_body(std::string_view s, size_t& pos, std::string_view& body) {
  const size_t start = pos;
  while (pos < s.size() && s[pos] != '"') pos += s[pos] == '\\' ? 2 : 1;
  if (pos >= s.size()) return false;
  body = s.substr(start, pos - start);
  ++pos;
  return true;
}

bool expect(std::string_view s, size_t& pos, std::string_view what) {
  if (s.compare(pos, what.size(), what) != 0) return false;
  pos += what.size();
  return true;
}

const std::string* word_text(std::string_view in, size_t& pos, Words& words, std::string& scratch) {
  int64_t id = 0;
  std::string_view literal;
  if (!get_word(in, pos, id, literal)) return nullptr;
  if (id != 0) return words.text_of(id);
  scratch.assign(literal);
  return &scratch;
}

std::optional<std::string> try_decode_event(std::string_view in, TimeMs base, Words& words) {
  size_t pos = 1;
  uint64_t length = 0, time = 0;
  if (!get_varint(in, pos, length) || length > in.size() - pos) return std::nullopt;
  const std::string_view id = in.substr(pos, length);
  pos += length;
  std::string scratch;
  const std::string* type = word_text(in, pos, words, scratch);
  if (type == nullptr || !get_varint(in, pos, time)) return std::nullopt;
  std::string out;
  out.reserve(in.size() + 64);
  out += "{\"id\":\"";
  out += id;
  out += "\",\"type\":\"";
  out += *type;
  out += "\",\"time\":";
  out += std::to_string(base + unzigzag(time));
  out += ",\"properties\":";
  out += in.substr(pos);
  out += '}';
  return out;
}

std::optional<std::string> try_decode_visits(std::string_view in, Words& words) {
  size_t pos = 1;
  std::string out, scratch;
  while (pos < in.size()) {
    const std::string* node = word_text(in, pos, words, scratch);
    uint64_t count = 0;
    if (node == nullptr || !get_varint(in, pos, count)) return std::nullopt;
    if (!out.empty()) out += ';';
    out += *node;
    out += '=';
    out += std::to_string(count);
  }
  return out;
}

}  // namespace

std::string encode_event(const std::string& json, TimeMs base, Words& words) {
  const std::string_view s = json;
  size_t pos = 0;
  std::string_view id, type;
  if (!expect(s, pos, "{\"id\":\"") || !json_string_body(s, pos, id) ||
      !expect(s, pos, ",\"type\":\"") || !json_string_body(s, pos, type) ||
      !expect(s, pos, ",\"time\":"))
    return json;
  const size_t time_start = pos;
  if (pos < s.size() && s[pos] == '-') ++pos;
  while (pos < s.size() && is_digit(s[pos])) ++pos;
  if (pos - time_start > 18 || pos == time_start) return json;
  const std::string_view time_text = s.substr(time_start, pos - time_start);
  const int64_t time = std::stoll(std::string(time_text));
  // The parts are copied as they are, so the form reads back the same exactly
  // when the time does ("-0", "007" would not): no decoding to compare.
  if (std::to_string(time) != time_text) return json;
  if (!expect(s, pos, ",\"properties\":") || s.back() != '}') return json;
  std::string out;
  out += kFormatTag;
  put_varint(out, id.size());
  out += id;
  put_word(out, std::string(type), words);
  put_varint(out, zigzag(time - base));
  out += s.substr(pos, s.size() - 1 - pos);
  // Only a form that reads back the same is kept ("-0", "007" would not).
  return out;
}

std::string decode_event(const std::string& stored, TimeMs base, Words& words) {
  if (!is_encoded(stored)) return stored;
  return try_decode_event(stored, base, words).value_or("{}");
}

std::string encode_visits(const std::string& text, Words& words) {
  if (text.empty()) return text;
  std::string out;
  out += kFormatTag;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const size_t eq = text.find('=', start);
    if (eq == std::string::npos || eq >= end || end - eq - 1 > 9 || end == eq + 1) return text;
    // Only a count as std::to_string writes it reads back the same ("07" would not).
    if (end - eq - 1 > 1 && text[eq + 1] == '0') return text;
    uint64_t count = 0;
    for (size_t i = eq + 1; i < end; ++i) {
      if (!is_digit(text[i])) return text;
      count = count * 10 + static_cast<uint64_t>(text[i] - '0');
    }
    put_word(out, text.substr(start, eq - start), words);
    put_varint(out, count);
    start = end + 1;
  }
  return out;
}

std::string decode_visits(const std::string& stored, Words& words) {
  if (!is_encoded(stored)) return stored;
  return try_decode_visits(stored, words).value_or("");
}

}  // namespace trellis::runtime::step_codec

// The compact encoding of a journey's step history (schema 6, sqlite/SCHEMA.md
// "Step history"). A step is stored as small integers: the time as a varint
// delta from the step before, and its node, input and reason "shape" as ids of
// words in a dictionary (the store's `step_words` table). A reason's shape is
// its text with the values that vary between journeys taken out: times (as a
// delta from the step's time), numbers, and the journey's user id; the values
// follow the shape's id. The sentence is rendered again, byte for byte, when
// the history is read. Internal to the SQLite store; no I/O here.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/store.h"

namespace trellis::runtime::step_codec {

// The first byte of an encoded history: older rows hold a JSON array ('[').
constexpr char kFormatTag = '\x01';

// The dictionary the encoding refers to. `id_of` returns the id of `text`,
// adding it when `add` allows (nullopt when absent and not added: the text is
// then stored literally); `text_of` returns the word of an id (nullptr when
// unknown, which makes the history unreadable past that step).
class Words {
 public:
  virtual ~Words() = default;
  virtual std::optional<int64_t> id_of(const std::string& text) = 0;
  virtual const std::string* text_of(int64_t id) = 0;
};

// Words as `inner` has them, noting every id read: which words a history uses
// (erasure, on both stores).
class NotingWords final : public Words {
 public:
  NotingWords(Words& inner, std::function<void(int64_t)> note)
      : inner_(inner), note_(std::move(note)) {}
  std::optional<int64_t> id_of(const std::string& text) override { return inner_.id_of(text); }
  const std::string* text_of(int64_t id) override {
    note_(id);
    return inner_.text_of(id);
  }

 private:
  Words& inner_;
  std::function<void(int64_t)> note_;
};

bool is_encoded(std::string_view history);

// Appends `steps` to an encoded history (an empty string or "[]" starts a new
// one). `user_id` is the journey's: its occurrences in reasons are not stored.
void append(std::string& history, const std::vector<StepRecord>& steps, const std::string& user_id,
            Words& words);

// One decoded step. `reason` is rendered only when asked for (counts need
// node and input only).
struct DecodedStep {
  TimeMs at = 0;
  std::string node, input, reason;
};

// Calls `visit` for each step of an encoded history, in order. False when the
// history is damaged or refers to an unknown word (the steps before were visited).
bool decode(std::string_view history, const std::string& user_id, Words& words, bool render_reason,
            const std::function<void(const DecodedStep&)>& visit);

// Replaces invalid UTF-8 (U+FFFD), as the JSON history did, so that one bad
// byte in a reason cannot make the trace unreadable as JSON.
std::string valid_utf8(const std::string& text);

}  // namespace trellis::runtime::step_codec

namespace trellis::runtime::step_codec {

// The other texts a journey row carries, compacted the same way when they
// have the form the processor writes, and kept as they are otherwise:
// a stored event ({"id":..,"type":..,"time":..,"properties":..}; the type as a
// word, the time from `base`, the journey's entry time) and the visit counts
// ("node=2;other=1"; nodes as words). decode_* return the text written.
std::string encode_event(const std::string& json, TimeMs base, Words& words);
std::string decode_event(const std::string& stored, TimeMs base, Words& words);
std::string encode_visits(const std::string& text, Words& words);
std::string decode_visits(const std::string& stored, Words& words);

}  // namespace trellis::runtime::step_codec

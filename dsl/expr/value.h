// Values that expressions read and produce at run time, and the records
// (profiles, event properties) that hold them.
//
// Evaluation never allocates: paths are interned to small integers once, at
// compile time, and a Scope answers a lookup with a ValueView into data it
// owns. Arithmetic is numeric only, so no result ever needs a new string.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <optional>
#include <string_view>
#include <vector>

#include "dsl/ir/expr.h"

namespace trellis::expr {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kList };

// A non-owning view of one value, 16 bytes, trivially copyable: it is returned
// in registers and a Record stores its values as ValueViews. Valid as long as
// whatever it points into (a Record, a Program's constants, a Scope's data).
struct ValueView {
  Type type = Type::kNull;
  bool boolean = false;  // kBool
  uint32_t size = 0;     // kString: bytes; kList: elements
  union {
    double number = 0;       // kNumber
    const char* chars;       // kString: `size` bytes, not NUL-terminated
    const ValueView* items;  // kList: `size` elements
  };

  static ValueView null() { return {}; }
  static ValueView of(bool b) {
    ValueView v;
    v.type = Type::kBool;
    v.boolean = b;
    return v;
  }
  static ValueView of(double n) {
    ValueView v;
    v.type = Type::kNumber;
    v.number = n;
    return v;
  }
  static ValueView of(int n) { return of(static_cast<double>(n)); }
  static ValueView of(int64_t n) { return of(static_cast<double>(n)); }
  static ValueView of(std::string_view s) {
    ValueView v;
    v.type = Type::kString;
    v.chars = s.data();
    v.size = static_cast<uint32_t>(s.size());
    return v;
  }
  // Without this, a string literal would pick the bool overload.
  static ValueView of(const char* s) { return of(std::string_view(s)); }
  static ValueView list(const ValueView* items, uint32_t size) {
    ValueView v;
    v.type = Type::kList;
    v.items = items;
    v.size = size;
    return v;
  }

  bool is_null() const { return type == Type::kNull; }
  // REQUIRES: type == kString (else empty)
  std::string_view string() const {
    return type == Type::kString ? std::string_view(chars, size) : std::string_view();
  }
};

// A path interned to a small integer: (root, "a.b.c") -> id. One table per
// process; ids are stable for its lifetime and never reused. The dotted name is
// interned once for all roots and the root sits in the low two bits, so
// `user.x` and `event.x` share a name and a Record finds either without a table.
// Thread-safe; lookups of an interned id's name take no lock.
using PathId = uint32_t;
PathId intern_path(ir::PathRoot root, std::string_view dotted);
PathId intern_path(const ir::Path& path);
// The property name (dotted, without the root) and root of an interned path.
std::string_view path_name(PathId id);
ir::PathRoot path_root(PathId id);
// Interned id of the same dotted name under another root (user.x -> event.x).
PathId path_under_root(PathId id, ir::PathRoot root);
// One past the largest PathId handed out so far (for tables indexed by PathId).
size_t interned_path_count();

// What an expression reads from: the journey's user profile, trigger event,
// newest consumed event and coupon, and the clock.
class Record;
class Behaviour;
// A moment on the user's own wall clock: what local_hour() and local_weekday() read.
struct LocalClock {
  int hour = 0;     // 0..23
  int weekday = 0;  // 0 = Sunday .. 6 = Saturday
};

class Scope {
 public:
  virtual ~Scope() = default;
  // Null when the path is absent. The view stays valid until the scope changes.
  virtual ValueView lookup(PathId path) const = 0;
  // Seconds since the Unix epoch on the journey's clock (virtual in tests).
  virtual double now() const = 0;
  // Optional fast path: the Record that answers every path under `root` exactly
  // as lookup() would, or null (the default) to go through lookup(). A Program
  // asks once per evaluation and then reads the record without virtual calls.
  virtual const Record* record(ir::PathRoot root) const { return nullptr; }
  // `now` on the user's wall clock. This library knows no time zones (it stays
  // standard-library only), so a scope that does answers: nodes::FlowScope
  // resolves `user.timezone` through nodes/local_time.h. nullopt (the default)
  // makes local_hour() and local_weekday() null.
  virtual std::optional<LocalClock> local_clock() const { return std::nullopt; }
  // The user's recent behaviour (dsl/expr/behaviour.h) for count() and
  // last_seen(); null (the default) makes both null.
  virtual const Behaviour* behaviour() const { return nullptr; }
};

// An owned set of named values: a user's traits or an event's properties.
// Nested JSON objects are flattened to dotted names ("address.city"), so that
// one interned id finds a nested value in one lookup. Lists hold scalars.
//
// Stored as one heap block: sorted name ids, then the values as ValueViews, then
// their text. get(PathId) is a binary search over a few integers and touches no
// other memory; setters rebuild the block (profiles change far less often than
// they are read). Not thread-safe for writes; concurrent reads are fine.
class Record {
 public:
  Record();
  Record(const Record& other);
  Record& operator=(const Record& other);
  Record(Record&&) noexcept;
  Record& operator=(Record&&) noexcept;
  ~Record();

  void set_null(std::string_view name);
  void set(std::string_view name, bool value);
  void set(std::string_view name, double value);
  void set(std::string_view name, std::string_view value);
  // Without these, a literal would pick the bool overload or be ambiguous.
  void set(std::string_view name, const char* value) { set(name, std::string_view(value)); }
  void set(std::string_view name, int value) { set(name, static_cast<double>(value)); }
  // A copy of any value (a list's elements must be scalars).
  void set(std::string_view name, const ValueView& value);
  // A list of scalars; each element is a string, number, bool or null.
  void set_list(std::string_view name, const std::vector<ValueView>& elements);
  void erase(std::string_view name);
  // Overwrites this record's entries with `other`'s (profile merge on identify).
  void merge(const Record& other);

  // Null when absent. `name` is dotted, without a root.
  ValueView get(std::string_view name) const;
  // Fast path: the same lookup by an interned id of any root. Inline, because
  // compiled programs call it in their inner loop.
  ValueView get(PathId path) const {
    const uint64_t* data = data_.get();
    if (data == nullptr) return ValueView::null();
    const uint32_t* header = reinterpret_cast<const uint32_t*>(data);  // {count, bytes}
    const uint32_t count = header[0];
    const uint32_t* keys = header + 2;
    const uint32_t name = path >> 2;
    // A handful of traits: a branch-light binary search.
    const uint32_t* first = keys;
    for (uint32_t length = count; length > 1;) {
      uint32_t half = length / 2;
      first = first[half] <= name ? first + half : first;
      length -= half;
    }
    if (*first != name) return ValueView::null();
    const size_t values_offset = (8 + count * sizeof(uint32_t) + 7) & ~size_t{7};
    const auto* values =
        reinterpret_cast<const ValueView*>(reinterpret_cast<const char*>(data) + values_offset);
    return values[first - keys];
  }
  // Copies of all entries at once, for building a record without a rebuild per set.
  // Later duplicates of a name win.
  static Record from(const std::vector<std::pair<std::string, ValueView>>& entries);
  bool has(std::string_view name) const;
  size_t size() const;
  // Entries in name order, for serialisation.
  std::vector<std::pair<std::string, ValueView>> entries() const;

 private:
  struct Entry;
  static Record encode(std::vector<Entry>& entries);
  std::vector<Entry> decode() const;

  // Layout: {uint32 count, uint32 bytes}, count sorted name ids, padding to 8,
  // count ValueViews, then string bytes and list items. Null when empty.
  std::unique_ptr<uint64_t[]> data_;
};

// Reads a journey's scope from Records: `user.*` from `user`, `event.*` from
// `event`, `last_event.*` from `last_event`, `coupon.code` from `coupon_code`.
// Any pointer may be null (its paths are then null). Borrows everything.
class RecordScope final : public Scope {
 public:
  RecordScope(const Record* user, const Record* event = nullptr, const Record* last_event = nullptr,
              std::string_view coupon_code = {}, double now = 0)
      : user_(user), event_(event), last_event_(last_event), coupon_code_(coupon_code), now_(now) {}
  ValueView lookup(PathId path) const override;
  double now() const override { return now_; }
  const Record* record(ir::PathRoot root) const override;
  void set_user(const Record* user) { user_ = user; }
  void set_now(double now) { now_ = now; }

 private:
  const Record* user_;
  const Record* event_;
  const Record* last_event_;
  std::string_view coupon_code_;
  double now_;
};

}  // namespace trellis::expr

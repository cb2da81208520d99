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
#include <string_view>
#include <vector>

#include "dsl/ir/expr.h"

namespace trellis::expr {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kList };

// A non-owning view of one value. Valid as long as the record it came from.
struct ValueView {
  Type type = Type::kNull;
  bool boolean = false;
  double number = 0;
  std::string_view string;
  const ValueView* items = nullptr;  // kList: `size` elements
  uint32_t size = 0;

  static ValueView null() { return {}; }
  static ValueView of(bool b) { ValueView v; v.type = Type::kBool; v.boolean = b; return v; }
  static ValueView of(double n) { ValueView v; v.type = Type::kNumber; v.number = n; return v; }
  static ValueView of(std::string_view s) { ValueView v; v.type = Type::kString; v.string = s; return v; }
  bool is_null() const { return type == Type::kNull; }
};

// A path interned to a dense integer: (root, "a.b.c") -> id. One table per
// process; ids are stable for its lifetime and never reused.
using PathId = uint32_t;
PathId intern_path(ir::PathRoot root, std::string_view dotted);
PathId intern_path(const ir::Path& path);
// The property name (dotted, without the root) and root of an interned path.
std::string_view path_name(PathId id);
ir::PathRoot path_root(PathId id);
// Interned id of the same dotted name under another root (user.x -> event.x).
PathId path_under_root(PathId id, ir::PathRoot root);
size_t interned_path_count();

// What an expression reads from: the journey's user profile, trigger event,
// newest consumed event and coupon, and the clock.
class Scope {
 public:
  virtual ~Scope() = default;
  // Null when the path is absent. The view stays valid until the scope changes.
  virtual ValueView lookup(PathId path) const = 0;
  // Seconds since the Unix epoch on the journey's clock (virtual in tests).
  virtual double now() const = 0;
};

// An owned set of named values: a user's traits or an event's properties.
// Nested JSON objects are flattened to dotted names ("address.city"), so that
// one interned id finds a nested value in one lookup. Lists hold scalars.
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
  // A list of scalars; each element is a string, number, bool or null.
  void set_list(std::string_view name, const std::vector<ValueView>& elements);
  void erase(std::string_view name);
  // Overwrites this record's entries with `other`'s (profile merge on identify).
  void merge(const Record& other);

  // Null when absent. `name` is dotted, without a root.
  ValueView get(std::string_view name) const;
  // Fast path: the same lookup by an interned id of any root.
  ValueView get(PathId path) const;
  bool has(std::string_view name) const;
  size_t size() const;
  // Entries in name order, for serialisation.
  std::vector<std::pair<std::string, ValueView>> entries() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::expr

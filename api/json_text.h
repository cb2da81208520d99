// JSON text written straight into a string, byte for byte as nlohmann's
// dump() (no indent, UTF-8 kept, invalid UTF-8 replaced) writes the same
// values, for answers too large to build as a json tree first: a year of
// stats by the hour is 8,760 objects, whose tree cost most of the request's
// CPU (docs/benchmarks.md, "Flow results"). A part written here and the rest
// dumped by nlohmann make one answer that reads as if dumped whole.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace trellis::api {

class JsonText {
 public:
  explicit JsonText(std::string& out) : out_(out) {}

  JsonText& begin_object();
  JsonText& end_object();
  JsonText& begin_array();
  JsonText& end_array();
  JsonText& key(std::string_view name);
  JsonText& value(int64_t v);
  JsonText& value(double v);
  JsonText& value(std::string_view v);
  // A value that is JSON text already.
  JsonText& raw(std::string_view json);

 private:
  void next_item();  // the comma before every item of a container but its first
  void quoted(std::string_view s);

  std::string& out_;
  bool first_ = true;  // nothing yet in the innermost container, or a key just written
};

// `object` as dump() writes it, with one more member `name` whose value is the
// JSON text `value`, where dump() would put it (members in byte order of keys).
// REQUIRES: `object` is an object without `name`.
std::string dump_with_member(const nlohmann::json& object, std::string_view name,
                             std::string_view value);

}  // namespace trellis::api

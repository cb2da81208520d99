#include "runtime/json_record.h"

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace trellis::runtime {

namespace {

using nlohmann::json;

bool scalar_view(const json& v, expr::ValueView* out) {
  if (v.is_null())
    *out = expr::ValueView::null();
  else if (v.is_boolean())
    *out = expr::ValueView::of(v.get<bool>());
  else if (v.is_number())
    *out = expr::ValueView::of(v.get<double>());
  else if (v.is_string())
    *out = expr::ValueView::of(std::string_view(v.get_ref<const std::string&>()));
  else
    return false;
  return true;
}

// The entries of a flattened object, gathered before the Record is built once
// (a Record::set per entry would rebuild the record's block each time). Views
// point into the parsed JSON and into `lists`, both alive until Record::from.
struct Flattened {
  std::vector<std::pair<std::string, expr::ValueView>> entries;
  std::vector<std::vector<expr::ValueView>> lists;
};

void flatten(const json& object, const std::string& prefix, Flattened& out) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    std::string name = prefix.empty() ? it.key() : prefix + "." + it.key();
    const json& v = it.value();
    if (v.is_object()) {
      flatten(v, name, out);
    } else if (v.is_array()) {
      std::vector<expr::ValueView> items;
      items.reserve(v.size());
      bool all_scalars = true;
      for (const json& item : v) {
        expr::ValueView view;
        if (!scalar_view(item, &view)) {
          all_scalars = false;
          break;
        }
        items.push_back(view);
      }
      if (!all_scalars) continue;
      out.lists.push_back(std::move(items));
      const std::vector<expr::ValueView>& list = out.lists.back();
      out.entries.emplace_back(
          std::move(name), expr::ValueView::list(list.data(), static_cast<uint32_t>(list.size())));
    } else {
      expr::ValueView view;
      if (scalar_view(v, &view)) out.entries.emplace_back(std::move(name), view);
    }
  }
}

json parse_object(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return json::object();
  return j;
}

}  // namespace

expr::Record record_from_json(std::string_view json_object) {
  if (json_object.size() <= 2) return expr::Record();  // "{}" or empty: the common case
  return record_from_json_value(parse_object(json_object));
}

expr::Record record_from_json_value(const json& object) {
  if (!object.is_object()) return expr::Record();
  Flattened flat;
  flatten(object, "", flat);
  return expr::Record::from(flat.entries);
}

std::string merge_json_objects(std::string_view base, std::string_view update) {
  json merged = parse_object(base);
  merged.update(parse_object(update));
  return merged.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace trellis::runtime

#include "runtime/stored_fields.h"

#include <cstdlib>
#include <nlohmann/json.hpp>

namespace trellis::runtime {

namespace {
constexpr char kUnit = '\x1f';
constexpr char kRecord = '\x1e';
}  // namespace

std::map<std::string, int> decode_visit_counts(const std::string& text) {
  std::map<std::string, int> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(';', start);
    if (end == std::string::npos) end = text.size();
    const size_t eq = text.find('=', start);
    if (eq != std::string::npos && eq < end)
      out[text.substr(start, eq - start)] = std::atoi(text.c_str() + eq + 1);
    start = end + 1;
  }
  return out;
}

std::string encode_visit_counts(const std::map<std::string, int>& visits) {
  std::string out;
  for (const auto& [node, count] : visits) {
    if (!out.empty()) out += ';';
    out += node + "=" + std::to_string(count);
  }
  return out;
}

void append_variant(std::string& variants, const std::string& node, const std::string& variant) {
  if (!variants.empty()) variants += ';';
  variants += node + "=" + variant;
}

NodeCoupons decode_coupons(const std::string& text) {
  NodeCoupons out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(kRecord, start);
    if (end == std::string::npos) end = text.size();
    const size_t sep = text.find(kUnit, start);
    if (sep != std::string::npos && sep < end)
      out.emplace_back(text.substr(start, sep - start), text.substr(sep + 1, end - sep - 1));
    start = end + 1;
  }
  return out;
}

std::string encode_coupons(const NodeCoupons& coupons) {
  std::string out;
  for (const auto& [node, code] : coupons) {
    if (!out.empty()) out += kRecord;
    out += node;
    out += kUnit;
    out += code;
  }
  return out;
}

std::string newest_coupon(const std::string& text) {
  const size_t record = text.rfind(kRecord);
  std::string last = record == std::string::npos ? text : text.substr(record + 1);
  const size_t unit = last.find(kUnit);
  return unit == std::string::npos ? last : last.substr(unit + 1);
}

void VariantTally::add(const std::string& list, bool converted, int64_t journeys) {
  size_t start = 0;
  while (start < list.size()) {
    size_t end = list.find(';', start);
    if (end == std::string::npos) end = list.size();
    const std::string item = list.substr(start, end - start);
    const size_t eq = item.find('=');
    if (eq != std::string::npos) {
      VariantCount& v = by_variant_[{item.substr(0, eq), item.substr(eq + 1)}];
      v.node = item.substr(0, eq);
      v.variant = item.substr(eq + 1);
      v.journeys += journeys;
      if (converted) v.conversions += journeys;
    }
    start = end + 1;
  }
}

std::vector<VariantCount> VariantTally::counts() const {
  std::vector<VariantCount> out;
  for (const auto& [k, v] : by_variant_) out.push_back(v);
  return out;
}

void add_trait_names(const std::string& traits_json, std::set<std::string>& names, size_t limit) {
  nlohmann::json traits = nlohmann::json::parse(traits_json, nullptr, false);
  if (!traits.is_object()) return;
  for (const auto& [name, value] : traits.items())
    if (names.size() < limit) names.insert(name);
}

void StoredNamesCollector::add_traits(const std::string& traits_json) {
  add_trait_names(traits_json, traits_, limit_);
}

void StoredNamesCollector::add_event(const std::string& event_json) {
  nlohmann::json event = nlohmann::json::parse(event_json, nullptr, false);
  if (!event.is_object()) return;
  auto type = event.find("type");
  if (type != event.end() && type->is_string() && !type->get_ref<const std::string&>().empty() &&
      types_.size() < limit_)
    types_.insert(type->get<std::string>());
}

StoredNames StoredNamesCollector::names() const {
  return {{traits_.begin(), traits_.end()}, {types_.begin(), types_.end()}};
}

}  // namespace trellis::runtime

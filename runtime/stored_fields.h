// The text encodings of a journey's fields as every store keeps them, in one
// place: visit counts and A/B variants ("node=value;node=value": node ids and
// variant names are identifiers, so neither separator occurs in them) and the
// coupon codes given per node (codes may hold any printable character, so
// they are separated by the ASCII unit and record separators). The stores
// compact some of them further (runtime/step_codec.h), transparently.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "runtime/store.h"

namespace trellis::runtime {

std::map<std::string, int> decode_visit_counts(const std::string& text);
std::string encode_visit_counts(const std::map<std::string, int>& visits);

// A/B variants taken: "node=variant;node2=variant2", appended to per split.
void append_variant(std::string& variants, const std::string& node, const std::string& variant);

using NodeCoupons = std::vector<std::pair<std::string, std::string>>;  // (node, code)
NodeCoupons decode_coupons(const std::string& text);
std::string encode_coupons(const NodeCoupons& coupons);
// The newest code of the stored list: what the API shows as a journey's coupon.
std::string newest_coupon(const std::string& text);

// The keys of `traits_json` (a profile's traits, a JSON object; anything else
// has none) added to `names` while it holds fewer than `limit`.
void add_trait_names(const std::string& traits_json, std::set<std::string>& names, size_t limit);

// Gathers StoreReader::stored_names from stored rows, at most `limit` names each.
class StoredNamesCollector {
 public:
  explicit StoredNamesCollector(size_t limit) : limit_(limit) {}
  void add_traits(const std::string& traits_json);  // the keys of a JSON object
  void add_event(const std::string& event_json);    // its "type"
  StoredNames names() const;

 private:
  size_t limit_;
  std::set<std::string> traits_, types_;
};

// Journeys and conversions per (node, variant), from the stored variant lists
// of groups of journeys (`journeys` of them with that list, converted or not).
class VariantTally {
 public:
  void add(const std::string& variants, bool converted, int64_t journeys);
  std::vector<VariantCount> counts() const;

 private:
  std::map<std::pair<std::string, std::string>, VariantCount> by_variant_;
};

}  // namespace trellis::runtime

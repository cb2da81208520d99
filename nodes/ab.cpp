// ab: deterministic weighted split. The point in [0, 1) comes from a hash of
// flow name, node id and user id, so the same user gets the same variant
// across restarts, builds and flow versions (the version is deliberately not
// hashed). A holdout is just a variant whose `next` sends no message.
#include "nodes/ab.h"

#include "nodes/compiled_flow.h"
#include "nodes/kinds.h"

namespace trellis::nodes {

uint64_t stable_hash(std::initializer_list<std::string_view> parts) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a 64 offset basis
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  for (std::string_view part : parts) {
    for (unsigned char c : part) {
      hash ^= c;
      hash *= kPrime;
    }
    hash *= kPrime;  // the 0 separator: ("ab", "c") != ("a", "bc")
  }
  // MurmurHash3 fmix64.
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  hash *= 0xc4ceb9fe1a85ec53ULL;
  hash ^= hash >> 33;
  return hash;
}

double ab_point(std::string_view flow, std::string_view node, std::string_view user) {
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(stable_hash({flow, node, user}) >> 11) * 0x1.0p-53;
}

int pick_variant(const std::vector<double>& cumulative, double point) {
  if (cumulative.empty() || !(cumulative.back() > 0)) return -1;
  double scaled = point * cumulative.back();
  for (size_t i = 0; i < cumulative.size(); ++i) {
    if (scaled < cumulative[i]) return static_cast<int>(i);
  }
  return static_cast<int>(cumulative.size()) - 1;
}

namespace {

class AbProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kAb; }

  bool compile(const ir::Node& node, CompiledNode& out,
               std::vector<std::string>& errors) const override {
    const auto& variants = node.as<ir::AbNode>()->variants;
    out.reads_profile = false;  // the variant depends on the user id only
    double total = 0;
    for (const ir::Variant& variant : variants) {
      if (variant.weight > 0) total += variant.weight;
      out.cumulative_weights.push_back(total);
    }
    if (!(total > 0)) {
      errors.push_back(node_error(node, "no variant with a positive weight"));
      return false;
    }
    for (const ir::Variant& variant : variants) {
      std::string reason = "variant '" + variant.name.value + "' (weight ";
      append_general(reason, variant.weight);
      reason += " of ";
      append_general(reason, total);
      reason += ") for user ";
      out.variant_reasons.push_back(std::move(reason));
    }
    return true;
  }

  Decision on_entry(const CompiledFlow& flow, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& variants = node.node->as<ir::AbNode>()->variants;
    double point = ab_point(flow.name(), node.id(), journey.user_id);
    int index = pick_variant(node.cumulative_weights, point);
    if (index < 0) return end_journey("no variant with a positive weight");
    const ir::Variant& variant = variants[static_cast<size_t>(index)];
    const std::string& prefix = node.variant_reasons[static_cast<size_t>(index)];
    std::string reason;
    reason.reserve(prefix.size() + journey.user_id.size() + 32);  // ", hash point 0.123457"
    reason += prefix;
    reason += journey.user_id;
    reason += ", hash point ";
    append_general(reason, point);
    Decision decision = go_to(variant.next, variant.name.value, std::move(reason));
    if (decision.transition == Transition::kNext) decision.variant = variant.name.value;
    return decision;
  }
};

}  // namespace

const NodeProcessor& ab_processor() {
  static const AbProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

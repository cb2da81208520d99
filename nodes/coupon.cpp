// coupon: give the journey one code, at most once per journey and node.
//
// Two phases, because finding a free code in a pool is I/O: on entry the node
// asks for a CouponClaim and waits; the runtime claims a code in the same
// transaction and calls decide() again with Input::of_coupon(code or nullopt).
// Generated codes go through the same path so that the runtime can keep them
// unique; the node proposes a deterministic candidate.
#include "nodes/coupon.h"

#include "nodes/ab.h"
#include "nodes/kinds.h"

namespace trellis::nodes {

namespace {

// No 0/O or 1/I/L, so that codes read aloud or retyped survive.
constexpr std::string_view kAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

std::string source_text(const ir::CouponNode& coupon) {
  if (!coupon.pool) return "generated";
  return "pool '" + coupon.pool->value + "'";
}

class CouponProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return ir::NodeKind::kCoupon; }

  bool compile(const ir::Node& node, CompiledNode&,
               std::vector<std::string>& errors) const override {
    const auto& coupon = *node.as<ir::CouponNode>();
    if (!coupon.pool && !coupon.generate) {
      errors.push_back(node_error(node, "neither 'pool' nor 'generate'"));
      return false;
    }
    return true;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& coupon = *node.node->as<ir::CouponNode>();
    if (journey.coupon_given_here) {
      return go_to(coupon.next, "next",
                   "code " + std::string(*journey.coupon_given_here) +
                       " was already given at this node; one code per journey and node");
    }
    CouponClaim claim;
    if (coupon.pool) {
      claim.pool = coupon.pool->value;
    } else {
      claim.generate = *coupon.generate;
      claim.candidate =
          generate_coupon_code(*coupon.generate, std::string(journey.journey_id) + "/" + node.id());
    }
    Decision decision;
    decision.transition = Transition::kWait;
    decision.claim = std::move(claim);
    decision.awaiting.coupon_claim = true;
    decision.reason = "claiming a code from " + source_text(coupon);
    return decision;
  }

  Decision on_coupon(const CompiledFlow&, const CompiledNode& node, const JourneyView& journey,
                     const std::optional<std::string>& code) const override {
    const auto& coupon = *node.node->as<ir::CouponNode>();
    if (!code) {
      return go_to(coupon.on_exhausted, "on_exhausted",
                   source_text(coupon) + " is exhausted; no code given");
    }
    Decision decision =
        go_to(coupon.next, "next", "gave code " + *code + " from " + source_text(coupon));
    decision.deliveries.push_back(
        Delivery{Channel::kCoupon, std::string(journey.user_id), std::string(), *code});
    decision.coupon_given = *code;
    return decision;
  }
};

}  // namespace

std::string generate_coupon_code(const ir::CouponGenerate& spec, std::string_view seed,
                                 uint32_t attempt) {
  std::string code = spec.prefix;
  std::string attempt_text = std::to_string(attempt);
  uint64_t state = stable_hash({seed, attempt_text});
  int length = spec.length > 0 ? spec.length : 8;
  for (int i = 0; i < length; ++i) {
    if (i > 0 && i % 8 == 0) state = stable_hash({seed, attempt_text, std::to_string(i)});
    code += kAlphabet[state % kAlphabet.size()];
    state /= kAlphabet.size();
  }
  return code;
}

const NodeProcessor& coupon_processor() {
  static const CouponProcessor kProcessor;
  return kProcessor;
}

}  // namespace trellis::nodes

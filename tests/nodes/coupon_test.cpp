#include "nodes/coupon.h"

#include <set>

#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

namespace {

std::unique_ptr<CompiledFlow> pool_flow() {
  ir::CouponNode coupon;
  coupon.pool = name("SPRING20");
  coupon.next = name("mail");
  coupon.on_exhausted = name("nudge");
  return compile(flow_of(
      "f", {node("give", coupon), node("mail", ir::ExitNode{}), node("nudge", ir::ExitNode{})}));
}

std::unique_ptr<CompiledFlow> generate_flow() {
  ir::CouponNode coupon;
  coupon.generate = ir::CouponGenerate{"WB-", 8, {}};
  coupon.next = name("mail");
  return compile(flow_of("f", {node("give", coupon), node("mail", ir::ExitNode{})}));
}

}  // namespace

TEST_CASE("a pool coupon asks the runtime for a claim, then gives the code", "[coupon]") {
  auto flow = pool_flow();
  Journey journey;

  Decision ask = journey.run(*flow, "give", Input::entry());
  CHECK(ask.transition == Transition::kWait);
  CHECK(ask.awaiting.coupon_claim);
  REQUIRE(ask.claim.has_value());
  CHECK(ask.claim->pool == "SPRING20");
  CHECK_FALSE(ask.claim->generate.has_value());
  CHECK(ask.deliveries.empty());

  Decision give = journey.run(*flow, "give", Input::of_coupon(std::string("C-001")));
  CHECK(give.transition == Transition::kNext);
  CHECK(give.next == "mail");
  CHECK(give.coupon_given == std::optional<std::string>("C-001"));
  REQUIRE(give.deliveries.size() == 1);
  CHECK(give.deliveries[0].channel == Channel::kCoupon);
  CHECK(give.deliveries[0].to == "u1");
  CHECK(give.deliveries[0].body == "C-001");
  CHECK_THAT(give.reason, Catch::Contains("C-001"));
  CHECK_THAT(give.reason, Catch::Contains("SPRING20"));
}

TEST_CASE("an exhausted pool follows on_exhausted without a delivery", "[coupon]") {
  auto flow = pool_flow();
  Journey journey;
  Decision decision = journey.run(*flow, "give", Input::of_coupon(std::nullopt));
  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "nudge");
  CHECK(decision.edge == "on_exhausted");
  CHECK(decision.deliveries.empty());
  CHECK_FALSE(decision.coupon_given.has_value());
  CHECK_THAT(decision.reason, Catch::Contains("exhausted"));
}

TEST_CASE("a coupon node gives at most one code per journey", "[coupon]") {
  auto flow = pool_flow();
  Journey journey;
  journey.coupon_here = "C-001";
  journey.visit = 2;
  Decision decision = journey.run(*flow, "give", Input::entry());
  CHECK(decision.transition == Transition::kNext);
  CHECK(decision.next == "mail");
  CHECK_FALSE(decision.claim.has_value());
  CHECK(decision.deliveries.empty());
  CHECK_THAT(decision.reason, Catch::Contains("already given"));
}

TEST_CASE("generated codes are proposed deterministically per journey and node", "[coupon]") {
  auto flow = generate_flow();
  Journey ana;
  Decision first = ana.run(*flow, "give", Input::entry());
  REQUIRE(first.claim.has_value());
  REQUIRE(first.claim->generate.has_value());
  CHECK(first.claim->pool.empty());
  const std::string& code = first.claim->candidate;
  CHECK(code.size() == 3 + 8);
  CHECK(code.rfind("WB-", 0) == 0);
  CHECK(code.find_first_of("01OIL", 3) == std::string::npos);

  CHECK(ana.run(*flow, "give", Input::entry()).claim->candidate == code);  // replay: same
  Journey bob;
  bob.id = "j2";
  CHECK(bob.run(*flow, "give", Input::entry()).claim->candidate != code);
}

TEST_CASE("generate_coupon_code: retries give other codes, long codes stay varied", "[coupon]") {
  ir::CouponGenerate spec{"", 20, {}};
  std::string a = generate_coupon_code(spec, "j1/give", 0);
  std::string b = generate_coupon_code(spec, "j1/give", 1);
  CHECK(a.size() == 20);
  CHECK(a != b);
  CHECK(a == generate_coupon_code(spec, "j1/give", 0));
  // Characters past the first hash's digits still vary.
  std::set<char> tail(a.begin() + 10, a.end());
  CHECK(tail.size() > 3);
}

#include "nodes/ab.h"

#include <map>

#include "fixtures.h"

using namespace trellis;
using namespace trellis::nodes;
using namespace trellis::nodes::testing;

namespace {

// The cart reminder's split; `extra` changes the flow elsewhere, as a new
// version would.
std::unique_ptr<CompiledFlow> ab_flow(int64_t version, bool extra = false) {
  ir::AbNode nudge;
  nudge.variants = {variant("a", 45, "sms_a"), variant("b", 45, "sms_b"),
                    variant("control", 10, "done")};
  std::vector<ir::Node> nodes = {node("nudge", nudge), node("sms_a", ir::ExitNode{}),
                                 node("sms_b", ir::ExitNode{})};
  if (extra) nodes.push_back(node("added_in_v2", ir::ExitNode{}));
  return compile(flow_of("cart_reminder", std::move(nodes)), version);
}

}  // namespace

TEST_CASE("ab splits 10,000 users 45/45/10 within two points", "[ab]") {
  auto flow = ab_flow(1);
  std::map<std::string, int> counts;
  Journey journey;
  for (int i = 0; i < 10000; ++i) {
    journey.user = "user-" + std::to_string(i);
    journey.id = "j" + std::to_string(i);
    Decision decision = journey.run(*flow, "nudge", Input::entry());
    REQUIRE(decision.transition == Transition::kNext);
    ++counts[decision.edge];
  }
  INFO("a=" << counts["a"] << " b=" << counts["b"] << " control=" << counts["control"]);
  CHECK(counts.size() == 3);
  CHECK(std::abs(counts["a"] / 100.0 - 45) <= 2);
  CHECK(std::abs(counts["b"] / 100.0 - 45) <= 2);
  CHECK(std::abs(counts["control"] / 100.0 - 10) <= 2);
}

TEST_CASE("ab gives a user the same variant every time and in every version", "[ab]") {
  auto v1 = ab_flow(1);
  auto v2 = ab_flow(2, /*extra=*/true);
  Journey journey;
  int differing_from_neighbour = 0;
  std::string previous;
  for (int i = 0; i < 500; ++i) {
    journey.user = "u" + std::to_string(i);
    journey.id = "first-journey";
    Decision first = journey.run(*v1, "nudge", Input::entry());
    Decision again = journey.run(*v1, "nudge", Input::entry());
    journey.id = "later-journey";  // a re-entry is a new journey of the same user
    journey.now = kNow + 86400000;
    Decision other_version = journey.run(*v2, "nudge", Input::entry());
    REQUIRE(first.edge == again.edge);
    REQUIRE(first.edge == other_version.edge);
    REQUIRE(first.next == other_version.next);
    if (first.edge != previous) ++differing_from_neighbour;
    previous = first.edge;
  }
  CHECK(differing_from_neighbour > 100);  // consecutive ids are not clustered
}

TEST_CASE("ab reason names the variant and its weight", "[ab]") {
  auto flow = ab_flow(1);
  Journey journey;
  Decision decision = journey.run(*flow, "nudge", Input::entry());
  CHECK_THAT(decision.reason, Catch::Contains("variant '" + decision.edge + "'"));
  CHECK_THAT(decision.reason, Catch::Contains("of 100"));
  CHECK_THAT(decision.reason, Catch::Contains("u1"));
}

TEST_CASE("the A/B hash is pinned: changing it would reshuffle running experiments", "[ab]") {
  // FNV-1a with separators and fmix64; these values must never change. They
  // were computed independently (a ten-line Python version of the same hash).
  CHECK(stable_hash({}) == 0xefd01f60ba992926ULL);
  CHECK(stable_hash({"cart_reminder", "nudge", "u1"}) == 0xf0b3180df18512e0ULL);
  CHECK(stable_hash({"ab", "c"}) != stable_hash({"a", "bc"}));
}

TEST_CASE("pick_variant honours cumulative weights", "[ab]") {
  std::vector<double> cumulative = {45, 90, 100};
  CHECK(pick_variant(cumulative, 0.0) == 0);
  CHECK(pick_variant(cumulative, 0.4499) == 0);
  CHECK(pick_variant(cumulative, 0.45) == 1);
  CHECK(pick_variant(cumulative, 0.8999) == 1);
  CHECK(pick_variant(cumulative, 0.9) == 2);
  CHECK(pick_variant(cumulative, 0.99999) == 2);
  CHECK(pick_variant({0, 0}, 0.5) == -1);
  CHECK(pick_variant({}, 0.5) == -1);
  CHECK(pick_variant({0, 10, 10}, 0.0) == 1);  // a zero weight is never picked
}

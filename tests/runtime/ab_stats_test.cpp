// A/B statistics against values computed independently: SciPy 1.10.1 (Debian
// python3-scipy) by tests/runtime/ab_reference.py, which says which SciPy
// function gives each; Holm and Newcombe from their papers' definitions.
#include "runtime/ab_stats.h"

#include <catch2/catch.hpp>

namespace ab = trellis::runtime::ab;

TEST_CASE("Wilson intervals equal SciPy's binomtest proportion_ci(method='wilson')") {
  auto [lo, hi] = ab::wilson_interval(40, 100);
  CHECK(lo == Approx(0.3094012864324589).epsilon(1e-9));
  CHECK(hi == Approx(0.4979974132089382).epsilon(1e-9));
  std::tie(lo, hi) = ab::wilson_interval(0, 25);
  CHECK(lo == Approx(0.0).margin(1e-12));
  CHECK(hi == Approx(0.1331922509390485).epsilon(1e-9));
  std::tie(lo, hi) = ab::wilson_interval(51, 1000);
  CHECK(lo == Approx(0.03900094277526684).epsilon(1e-9));
  CHECK(hi == Approx(0.06643548634476167).epsilon(1e-9));
  CHECK(ab::wilson_interval(0, 0) == ab::Interval{0, 0});
}

TEST_CASE("the two-proportion z-test equals SciPy's uncorrected chi-square of the 2x2 table") {
  CHECK(*ab::two_proportion_p(51, 1000, 47, 1000) == Approx(0.6786252399783406).epsilon(1e-9));
  CHECK(*ab::two_proportion_p(120, 1000, 90, 1000) == Approx(0.028650240398448427).epsilon(1e-9));
  CHECK_FALSE(ab::two_proportion_p(0, 10, 0, 10).has_value());  // no variance: undefined
  CHECK_FALSE(ab::two_proportion_p(1, 0, 0, 10).has_value());
}

TEST_CASE("the uplift interval equals SciPy's relative_risk confidence_interval (Katz)") {
  auto u = ab::relative_uplift(120, 1000, 90, 1000);
  REQUIRE(u);
  CHECK(u->value == Approx(0.33333333333333326).epsilon(1e-9));
  REQUIRE(u->interval);
  CHECK(u->interval->first == Approx(0.029234260416685753).epsilon(1e-7));
  CHECK(u->interval->second == Approx(0.7272819669431172).epsilon(1e-7));
  CHECK_FALSE(ab::relative_uplift(3, 10, 0, 10).has_value());  // control rate 0
}

TEST_CASE("Welch's t-test equals SciPy's ttest_ind_from_stats(equal_var=False)") {
  ab::Moments a, b;
  for (double v : {30.0, 45.0, 12.5, 80.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}) {
    ++a.n;
    a.sum += v;
    a.sum_sq += v * v;
  }
  for (double v : {20.0, 15.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}) {
    ++b.n;
    b.sum += v;
    b.sum_sq += v * v;
  }
  CHECK(*ab::welch_p(a, b) == Approx(0.16771014746634275).epsilon(1e-7));
  CHECK_FALSE(ab::welch_p(ab::Moments{1, 5, 25}, b).has_value());
}

TEST_CASE("Holm's adjustment (Holm 1979, by hand: sorted p times m, m-1, ... made monotone)") {
  // 0.01*3 = 0.03; 0.03*2 = 0.06; 0.04*1 = 0.04 -> raised to 0.06.
  const std::vector<double> adjusted = ab::holm({0.01, 0.04, 0.03});
  CHECK(adjusted[0] == Approx(0.03));
  CHECK(adjusted[1] == Approx(0.06));
  CHECK(adjusted[2] == Approx(0.06));
  CHECK(ab::holm({0.9, 0.5})[0] == Approx(1.0));  // capped at 1
}

TEST_CASE("Newcombe's hybrid score interval (Newcombe 1998, table II example a: 56/70 vs 48/80)") {
  const auto [lo, hi] = ab::newcombe_difference(56, 70, 48, 80);
  CHECK(lo == Approx(0.0524).margin(5e-5));
  CHECK(hi == Approx(0.3339).margin(5e-5));
}

TEST_CASE("a verdict only past the minimum sample, and Holm decides which variant wins") {
  auto input = [](std::string name, int64_t n, int64_t x) {
    ab::VariantInput v;
    v.variant = std::move(name);
    v.journeys = n;
    v.conversions = x;
    v.revenue.n = n;
    return v;
  };
  ab::Comparison early = ab::compare({input("a", 40, 10), input("b", 45, 30)}, 100);
  CHECK(early.verdict == ab::Verdict::kNotEnoughData);
  CHECK(early.summary == "Not enough data yet: 40 of 100 journeys per variant.");
  CHECK(early.control == "a");
  CHECK_FALSE(early.variants[0].uplift.has_value());  // the control
  CHECK(early.variants[1].p_value.has_value());

  ab::Comparison same = ab::compare({input("a", 1000, 51), input("b", 1000, 47)}, 100);
  CHECK(same.verdict == ab::Verdict::kNoDifference);
  CHECK_FALSE(same.winner.has_value());

  // b alone: p = 0.0287 < 0.05, a winner. With a third variant like a, Holm
  // doubles b's p-value to 0.057: no longer called.
  ab::Comparison two = ab::compare({input("a", 1000, 90), input("b", 1000, 120)}, 100);
  CHECK(two.verdict == ab::Verdict::kWinner);
  CHECK(two.winner == "b");
  ab::Comparison three =
      ab::compare({input("a", 1000, 90), input("b", 1000, 120), input("c", 1000, 90)}, 100);
  CHECK(three.variants[1].p_adjusted.value() == Approx(2 * 0.028650240398448427).epsilon(1e-9));
  CHECK(three.verdict == ab::Verdict::kNoDifference);

  // The variant named control is the control wherever it stands.
  ab::Comparison named = ab::compare({input("b", 1000, 120), input("control", 1000, 90)}, 100);
  CHECK(named.control == "control");
  CHECK(named.winner == "b");
}

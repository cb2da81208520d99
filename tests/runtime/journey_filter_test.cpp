#include "runtime/journey_filter.h"

#include <catch2/catch.hpp>
#include <string>

using trellis::runtime::JourneyFilter;

TEST_CASE("the journey filter never forgets a pair and rarely claims an absent one") {
  constexpr int kPairs = 100'000;
  JourneyFilter filter(kPairs);
  for (int i = 0; i < kPairs; ++i) filter.add("u" + std::to_string(i), "cart_reminder");
  CHECK(filter.size() == kPairs);
  for (int i = 0; i < kPairs; ++i)
    REQUIRE(filter.may_contain("u" + std::to_string(i), "cart_reminder"));

  int false_positives = 0;
  for (int i = kPairs; i < 2 * kPairs; ++i)
    false_positives += filter.may_contain("u" + std::to_string(i), "cart_reminder");
  CHECK(false_positives < kPairs / 100);  // under 1% at capacity
}

TEST_CASE("the journey filter tells flows of one user apart") {
  JourneyFilter filter;
  filter.add("u1", "cart_reminder");
  CHECK(filter.may_contain("u1", "cart_reminder"));
  CHECK_FALSE(filter.may_contain("u1", "welcome_series"));
  CHECK_FALSE(filter.may_contain("u2", "cart_reminder"));
  // The user and flow are not simply concatenated: these pairs differ.
  CHECK_FALSE(filter.may_contain("u1cart", "_reminder"));
}

TEST_CASE("the journey filter has room for at least what it was sized for") {
  CHECK(JourneyFilter(3'000'000).capacity() >= 3'000'000);
  CHECK(JourneyFilter().capacity() > 0);
}

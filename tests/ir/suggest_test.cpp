#include "dsl/ir/suggest.h"

#include <catch2/catch.hpp>

using trellis::ir::closest_name;
using trellis::ir::did_you_mean;
using trellis::ir::edit_distance;

TEST_CASE("a swap of two neighbouring characters is one edit") {
  CHECK(edit_distance("emial", "email") == 1);
  CHECK(edit_distance("email", "email") == 0);
  CHECK(edit_distance("cupn", "coupon") == 2);
  CHECK(edit_distance("", "abc") == 3);
}

TEST_CASE("a word is a slip for a name within a third of its length in edits") {
  const std::vector<std::string> kinds = {"segment", "wait",    "coupon", "sms",
                                          "email",   "webhook", "ab",     "exit"};
  CHECK(closest_name("emial", kinds) == "email");  // 1 edit of 5 letters
  CHECK(closest_name("segmnet", kinds) == "segment");
  CHECK_FALSE(closest_name("cupn", kinds));         // 2 edits of 4 letters: too far
  CHECK(closest_name("hook", kinds) == "webhook");  // one inside the other
  CHECK_FALSE(closest_name("email", kinds));        // the name itself is no suggestion
  CHECK_FALSE(closest_name("", kinds));
  CHECK(did_you_mean("wiat", kinds) == ": did you mean 'wait'?");
  CHECK(did_you_mean("zzzz", kinds).empty());
}

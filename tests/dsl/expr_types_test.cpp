#include "dsl/expr_types.h"

#include <catch2/catch.hpp>

#include "dsl/parse.h"

using trellis::dsl::check_types;
using trellis::dsl::infer_type;
using trellis::dsl::StaticType;
using trellis::ir::Diagnostics;

namespace {

trellis::ir::Expr parse(const std::string& source) {
  Diagnostics diagnostics;
  auto parsed = trellis::dsl::parse_expression(source, {1, 1, 0, 0}, "f", diagnostics);
  REQUIRE(parsed.tree);
  return *parsed.tree;
}

}  // namespace

TEST_CASE("static types come from literals, now, functions and operators") {
  auto [source, type] = GENERATE(table<std::string, StaticType>({
      {"user.age", StaticType::kUnknown},
      {"30", StaticType::kNumber},
      {"\"a\"", StaticType::kString},
      {"null", StaticType::kNull},
      {"[1]", StaticType::kList},
      {"72h", StaticType::kDuration},
      {"now", StaticType::kTime},
      {"now - 72h", StaticType::kTime},
      {"now - now", StaticType::kDuration},
      {"2 * 1h", StaticType::kDuration},
      {"user.a > 1", StaticType::kBool},
      {"has(user.a)", StaticType::kBool},
      {"days_since(user.a)", StaticType::kNumber},
      {"local_hour()", StaticType::kNumber},
      {"local_weekday()", StaticType::kString},
      {"count(\"product_viewed\", 30d)", StaticType::kNumber},
      {"count(\"product_viewed\", 30d, where: event.category == \"exam\")", StaticType::kNumber},
      {"last_seen(\"order_paid\")", StaticType::kTime},
      {"now - last_seen(\"order_paid\")", StaticType::kDuration},
      {"has(last_seen(\"order_paid\"))", StaticType::kBool},
      {"user.a + 1", StaticType::kUnknown},
      {"-3", StaticType::kNumber},
  }));
  CAPTURE(source);
  CHECK(infer_type(parse(source)) == type);
}

TEST_CASE("obviously ill-typed operations are warnings at the operation") {
  auto [source, message] = GENERATE(table<std::string, std::string>({
      {"user.age > \"thirty\" or true", ""},
      {"3 > \"thirty\"", "comparing a number with a string is always false"},
      {"\"a\" != 1", "comparing a string with a number is always true"},
      {"user.x == null",
       "a comparison with null is always false; use has(user.x) to test for a value"},
      {"user.x in 3", "'in' needs a list or a string on its right, not a number"},
      {"3 in \"abc\"", "'in' on a string looks for a substring; a number is never one"},
      {"\"a\" in [1, 2]", "the list holds no string, so this is always false"},
      {"days_since(user.at) > 7d",
       "comparing a number with a duration (durations are seconds: 7d is 604800); days_since() "
       "returns days, so compare it with a plain number"},
      {"now > 72h", "comparing a time with a duration; subtract: now - <time> > <duration>"},
      {"\"a\" + 1 > 2",
       "arithmetic on a string gives null; arithmetic is for numbers, durations and times"},
      {"true < 2", "comparing a boolean with a number is always false"},
      {"local_weekday() == 1", "comparing a string with a number is always false"},
      {"local_hour() == \"9\"", "comparing a number with a string is always false"},
      {"count(\"v\", 30d) > \"3\"",
       "\"3\" is text, and text compares letter by letter (\"100\" < \"30\"): write the number "
       "without quotes: 3"},
      {"count(\"v\", 30d) == \"3\"", "comparing a number with a string is always false"},
      {"last_seen(\"order_paid\") > 30d",
       "comparing a time with a duration; subtract: now - <time> > <duration>"},
  }));
  CAPTURE(source);
  Diagnostics diagnostics;
  check_types(parse(source), "f.yaml", diagnostics, "pick", "match");
  if (message.empty()) {
    CHECK(diagnostics.empty());
    return;
  }
  REQUIRE(diagnostics.items().size() == 1);
  const auto& d = diagnostics.items()[0];
  CHECK(d.message == message);
  CHECK(d.severity == trellis::ir::Severity::kWarning);
  CHECK(d.node == "pick");
  CHECK(d.field == "match");
  CHECK(d.span.line == 1);
}

TEST_CASE("well-typed expressions give no warnings") {
  auto source = GENERATE(
      as<std::string>{}, "user.age > 30 and \"education\" in user.interests and not user.paid",
      "now - event.time > 72h", "days_since(user.signed_up_at) > 7",
      "user.plan in [\"pro\", \"team\"]", "1 in [user.a, 2]", "90s < 30m", "\"edu\" in user.bio",
      "event.value * 2 >= 40", "count(\"v\", 30d, where: event.category == \"exam\") >= 3",
      "now - last_seen(\"order_paid\") > 30d");
  CAPTURE(source);
  Diagnostics diagnostics;
  check_types(parse(source), "f", diagnostics);
  CHECK(diagnostics.empty());
}

#include <catch2/catch.hpp>

#include "dsl/parse.h"

using trellis::dsl::parse_template;
using trellis::ir::Diagnostics;
using trellis::ir::PathRoot;
using trellis::ir::SourceSpan;

namespace {
const SourceSpan kAt{3, 14, 60, 0};
}

TEST_CASE("a template splits into text and paths with fallbacks") {
  Diagnostics diagnostics;
  auto parsed =
      parse_template("Hi {{user.first_name | default: \"there\"}}, use {{ coupon.code }}!", kAt,
                     "f.yaml", diagnostics);
  CHECK(diagnostics.empty());
  REQUIRE(parsed.parts.size() == 5);
  CHECK(parsed.parts[0].text == "Hi ");
  REQUIRE(parsed.parts[1].path);
  CHECK(parsed.parts[1].path->text() == "user.first_name");
  CHECK(parsed.parts[1].fallback == std::optional<std::string>("there"));
  CHECK(parsed.parts[1].span.column == kAt.column + 3);
  CHECK(parsed.parts[1].span.length == 38);
  CHECK(parsed.parts[2].text == ", use ");
  REQUIRE(parsed.parts[3].path);
  CHECK(parsed.parts[3].path->root == PathRoot::kCoupon);
  CHECK_FALSE(parsed.parts[3].fallback);
  CHECK(parsed.parts[4].text == "!");
}

TEST_CASE("a template without placeholders is one text part, an empty one has none") {
  Diagnostics diagnostics;
  CHECK(parse_template("Your cart misses you!", kAt, "f", diagnostics).parts.size() == 1);
  CHECK(parse_template("", kAt, "f", diagnostics).parts.empty());
  CHECK(diagnostics.empty());
}

TEST_CASE("fallbacks may be numbers, booleans or null") {
  Diagnostics diagnostics;
  auto parsed = parse_template("{{event.count | default: 0}}{{user.x | default: null}}", kAt, "f",
                               diagnostics);
  CHECK(diagnostics.empty());
  REQUIRE(parsed.parts.size() == 2);
  CHECK(parsed.parts[0].fallback == std::optional<std::string>("0"));
  CHECK(parsed.parts[1].fallback == std::optional<std::string>(""));
}

TEST_CASE("template errors point inside the template") {
  auto [source, column, length, message] =
      GENERATE(table<std::string, uint32_t, uint32_t, std::string>({
          {"Hi {{user.first_name", 3, 2, "unclosed '{{': add '}}'"},
          {"Hi {{ }}", 3, 5, "empty placeholder: write a path, as in {{user.first_name}}"},
          {"Hi {{usr.name}}", 5, 3, "unknown name 'usr'; did you mean 'user'?"},
          {"{{user.name | upper: \"x\"}}", 14, 5,
           "unknown filter 'upper'; the only filter is default: \"text\""},
          {"{{user.name | default}}", 21, 0, "expected ':' after 'default'"},
          {"{{user.name | default: \"x}}", 23, 2, "unclosed string: add the closing \""},
          {"{{coupon.id}}", 2, 9, "a coupon has only a code: write coupon.code"},
          {"{{user.a + 1}}", 9, 1,
           "unexpected '+': a placeholder holds a path and an optional '| default: \"text\"'"},
      }));
  CAPTURE(source);
  Diagnostics diagnostics;
  parse_template(source, kAt, "f.yaml", diagnostics);
  REQUIRE(diagnostics.items().size() == 1);
  const auto& d = diagnostics.items()[0];
  CHECK(d.message == message);
  CHECK(d.span.line == kAt.line);
  CHECK(d.span.column == kAt.column + column);
  CHECK(d.span.length == length);
}

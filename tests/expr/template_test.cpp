#include <catch2/catch.hpp>

#include "dsl/expr/program.h"
#include "dsl/parse.h"
#include "expr_test_support.h"

using trellis::expr::CompiledTemplate;
using trellis::expr::Record;
using trellis::expr::RecordScope;
using trellis::expr::ValueView;

namespace {

std::string render(const std::string& source, const RecordScope& scope) {
  trellis::ir::Diagnostics diagnostics;
  auto parsed = trellis::dsl::parse_template(source, {1, 1, 0, 0}, "t", diagnostics);
  REQUIRE(diagnostics.empty());
  return CompiledTemplate::compile(parsed).render(scope);
}

}  // namespace

TEST_CASE("templates render paths, defaults and the coupon code") {
  Record user;
  user.set("first_name", "Ana");
  user.set("age", 34);
  user.set_list("interests", {ValueView::of("education")});
  Record event;
  event.set("value", 59.5);
  RecordScope scope(&user, &event, nullptr, "C-001", trellis::testing::kNow);
  auto [source, text] = GENERATE(table<std::string, std::string>({
      {"Your cart is waiting, {{user.first_name}}", "Your cart is waiting, Ana"},
      {"Use {{coupon.code}} for 20% off.", "Use C-001 for 20% off."},
      {"Hi {{user.nickname | default: \"there\"}}!", "Hi there!"},
      {"Hi {{user.first_name | default: \"there\"}}!", "Hi Ana!"},
      {"{{user.nickname}}|", "|"},
      {"{{user.age}} {{event.value}} {{user.interests}}", "34 59.5 [\"education\"]"},
      {"{{ last_event.value | default: 0 }}", "0"},
      {"no placeholders", "no placeholders"},
  }));
  CAPTURE(source);
  CHECK(render(source, scope) == text);
}

TEST_CASE("default applies to empty text, false and an empty list too, as in Liquid") {
  Record user;
  user.set("first_name", "");
  user.set("subscribed", false);
  user.set_list("interests", {});
  user.set("zero", 0);
  RecordScope scope(&user, nullptr, nullptr, "", trellis::testing::kNow);
  CHECK(render("Hi {{user.first_name | default: \"there\"}},", scope) == "Hi there,");
  CHECK(render("{{user.subscribed | default: \"no\"}}", scope) == "no");
  CHECK(render("{{user.interests | default: \"none\"}}", scope) == "none");
  // Zero is a value, not a blank; and without a default empty text stays empty.
  CHECK(render("{{user.zero | default: \"none\"}}", scope) == "0");
  CHECK(render("Hi {{user.first_name}},", scope) == "Hi ,");
}

TEST_CASE("a template without a coupon renders the fallback for coupon.code") {
  RecordScope scope(nullptr);
  CHECK(render("{{coupon.code | default: \"none\"}}", scope) == "none");
}

TEST_CASE("a compiled template lists its paths once each") {
  trellis::ir::Diagnostics diagnostics;
  auto parsed =
      trellis::dsl::parse_template("{{user.a}}{{user.a}}{{event.b}}", {}, "t", diagnostics);
  auto compiled = CompiledTemplate::compile(parsed);
  CHECK(compiled.paths().size() == 2);
}

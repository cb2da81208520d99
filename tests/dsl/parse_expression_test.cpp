#include <catch2/catch.hpp>

#include "dsl/parse.h"
#include "sexpr.h"

using trellis::dsl::parse_expression;
using trellis::ir::Diagnostics;
using trellis::ir::SourceSpan;
using trellis::testing::sexpr;

namespace {

// Where the expression sits in a YAML file: `    match: <expression>` on line 7.
const SourceSpan kAt{7, 12, 140, 0};

std::string tree_of(const std::string& source) {
  Diagnostics diagnostics;
  trellis::ir::Expression parsed = parse_expression(source, kAt, "f.yaml", diagnostics);
  if (!parsed.tree) {
    return "error: " + (diagnostics.empty() ? "?" : diagnostics.items()[0].message);
  }
  REQUIRE(diagnostics.empty());
  return sexpr(*parsed.tree);
}

struct ErrorAt {
  uint32_t column;
  uint32_t length;
  std::string message;
};

ErrorAt first_error(const std::string& source) {
  Diagnostics diagnostics;
  trellis::ir::Expression parsed = parse_expression(source, kAt, "f.yaml", diagnostics);
  CHECK_FALSE(parsed.tree.has_value());
  REQUIRE_FALSE(diagnostics.empty());
  const auto& d = diagnostics.items()[0];
  CHECK(d.span.line == 7);
  CHECK(d.span.offset == 140 + (d.span.column - 12));
  return {d.span.column - kAt.column, d.span.length, d.message};
}

}  // namespace

TEST_CASE("expressions parse into trees with the documented precedence") {
  auto [source, tree] = GENERATE(table<std::string, std::string>({
      {"user.age > 30 and \"education\" in user.interests and not user.paid",
       "(and (and (> user.age 30) (in \"education\" user.interests)) (not user.paid))"},
      {"a_b", "error: unknown name 'a_b'; did you mean 'user.a_b'?"},
      {"event.value >= 20", "(>= event.value 20)"},
      {"event.type == \"add_to_cart\"", "(== event.type \"add_to_cart\")"},
      {"last_event.value != 3.5", "(!= last_event.value 3.5)"},
      {"user.a or user.b and user.c", "(or user.a (and user.b user.c))"},
      {"not user.a == 1", "(not (== user.a 1))"},
      {"not not user.a", "(not (not user.a))"},
      {"1 + 2 * 3 - 4 % 5 / 6", "(- (+ 1 (* 2 3)) (/ (% 4 5) 6))"},
      {"(1 + 2) * 3", "(* (+ 1 2) 3)"},
      {"-user.x + -2", "(+ (neg user.x) -2)"},
      {"user.plan in [\"pro\", \"team\",]", "(in user.plan [\"pro\" \"team\"])"},
      {"[]", "[]"},
      {"has(user.email)", "has(user.email)"},
      {"days_since(user.signed_up_at) > 7", "(> days_since(user.signed_up_at) 7)"},
      {"now - event.time > 72h", "(> (- now event.time) 259200s)"},
      {"90s < 30m", "(< 90s 1800s)"},
      {"7d == PT168H", "(== 604800s 604800s)"},
      {"user.address.city == 'Oslo'", "(== user.address.city \"Oslo\")"},
      {"user.in == true and user.not != false", "(and (== user.in true) (!= user.not false))"},
      {"user.x == null", "(== user.x null)"},
      {"1e3 == 1000", "(== 1000 1000)"},
      {"\"a\\\"b\\\\c\\u00e9\"", "\"a\"b\\c\xc3\xa9\""},
      {"  user.age\n  > 3  ", "(> user.age 3)"},
  }));
  CAPTURE(source);
  CHECK(tree_of(source) == tree);
}

TEST_CASE("syntax errors point inside the expression, in the user's words") {
  // column: 0-based offset of the error inside the expression.
  auto [source, column, length,
        message] = GENERATE(table<std::string, uint32_t, uint32_t, std::string>({
      {"user.age > 30 and", 17, 0, "expected an expression after 'and'"},
      {"user.age >", 10, 0, "expected an expression after '>'"},
      {"user.age > and user.b", 11, 3, "expected an expression after '>', found 'and'"},
      {"user.age = 30", 9, 1, "use '==' to compare"},
      {"user.a <> 1", 7, 2, "use '!=' for 'not equal'"},
      {"user.a && user.b", 7, 2, "use 'and' instead of '&&'"},
      {"user.a || user.b", 7, 2, "use 'or' instead of '||'"},
      {"!user.a", 0, 1, "use 'not' instead of '!'"},
      {"(user.a > 1", 0, 1, "missing ')' to close this '('"},
      {"user.a in [1, 2", 10, 1, "missing ']' to close this list"},
      {"user.a > 1)", 10, 1, "unmatched ')'"},
      {"user.a user.b", 7, 4, "unexpected 'user'; is an operator such as 'and' missing before it?"},
      {"user.a > @", 9, 1, "unexpected character '@'"},
      {"user.name == \"Ana", 13, 4, "unclosed string: add the closing \""},
      {"1 < user.a < 3", 11, 1,
       "comparisons cannot be chained; combine them with 'and' (a < b and b < c)"},
      {"usr.age > 3", 0, 3, "unknown name 'usr'; did you mean 'user'?"},
      {"paid", 0, 4, "unknown name 'paid'; did you mean 'user.paid'?"},
      {"customer.age > 3", 0, 8,
       "unknown name 'customer'; paths start with user., event. or last_event."},
      {"user > 3", 0, 4, "'user' needs a name after it, as in user.age"},
      {"coupon.code == \"x\"", 0, 11, "coupon.code can only be used in templates"},
      {"True", 0, 4, "keywords are lower case: write 'true'"},
      {"hass(user.email)", 0, 4, "unknown function 'hass'; did you mean 'has'?"},
      {"upper(user.email)", 0, 5,
       "unknown function 'upper'; the functions are has(), days_since(), local_hour(), "
       "local_weekday(), count() and last_seen()"},
      {"count(event.type, 30d)", 6, 10,
       "the event type must be a quoted name, as in count(\"product_viewed\", 30d): what to "
       "count is known when the flow is deployed"},
      {"count(\"v\", 30x)", 11, 3, "unknown duration unit 'x' in '30x'; use s, m, h, d or w"},
      {"count(\"v\", 12h)", 11, 3,
       "count() counts by UTC day: the window must be whole days, 1d to 365d"},
      {"count(\"v\", 400d)", 11, 4,
       "the window is at most 365d: counters keep one day bucket per day of the longest window"},
      {"count(\"v\", 30)", 11, 2, "the window must be a duration in days, as in 30d"},
      {"count(\"v\")", 0, 10,
       "count() takes an event type, a window and an optional where:, as in "
       "count(\"product_viewed\", 30d)"},
      {"count(\"v\", 30d, where: user.age > 3)", 23, 8,
       "a count's where: reads only the counted event (event.*), not user.age"},
      {"count(\"v\", 30d, event.x == 1)", 16, 12,
       "name the filter: where: event.category == \"exam\""},
      {"has(user.a, where: 1)", 12, 8,
       "only count() takes 'where:', as its third argument: count(\"product_viewed\", 30d, "
       "where: event.category == \"exam\")"},
      {"last_seen(\"a\", 1d)", 0, 18,
       "last_seen() takes one event type, as in last_seen(\"order_paid\")"},
      {"last_seen(\"\")", 10, 2,
       "the event type must be a quoted name, as in last_seen(\"order_paid\"): what to count is "
       "known when the flow is deployed"},
      {"local_hour(user.tz)", 0, 19,
       "local_hour() takes no arguments: it reads now in the user's time zone (user.timezone)"},
      {"local_hours()", 0, 11, "unknown function 'local_hours'; did you mean 'local_hour'?"},
      {"has(\"x\")", 0, 8, "has() takes one path, as in has(user.email)"},
      {"event.value > 3 hours", 16, 5,
       "unexpected 'hours'; is an operator such as 'and' missing before it?"},
      {"now - event.time > 3days", 19, 5,
       "unknown duration unit 'days' in '3days'; use s, m, h, d or w"},
      {"now - event.time > 1.5h", 19, 4, "'1.5h': use a whole number of units (90m, not 1.5h)"},
      {"user.name == \"a\\qb\"", 15, 2,
       "unknown escape '\\q'; use \\\", \\\\, \\n, \\t or \\uXXXX"},
      {"", 0, 0, "empty expression"},
      {"   ", 0, 3, "empty expression"},
      {")", 0, 1, "expected an expression, found ')'"},
  }));
  CAPTURE(source);
  ErrorAt error = first_error(source);
  CHECK(error.message == message);
  CHECK(error.column == column);
  CHECK(error.length == length);
}

TEST_CASE("every slip in one expression is reported, not just the first") {
  Diagnostics diagnostics;
  auto parsed = parse_expression("user.a = 1 && user.b = 2", kAt, "f.yaml", diagnostics);
  CHECK_FALSE(parsed.tree);
  REQUIRE(diagnostics.items().size() == 3);
  CHECK(diagnostics.items()[0].span.column == kAt.column + 7);
  CHECK(diagnostics.items()[1].span.column == kAt.column + 11);
  CHECK(diagnostics.items()[2].span.column == kAt.column + 21);
}

TEST_CASE("subexpressions carry spans of their own text") {
  Diagnostics diagnostics;
  std::string source = "user.age > 30 and not (user.paid)";
  auto parsed = parse_expression(source, kAt, "f.yaml", diagnostics);
  REQUIRE(parsed.tree);
  const trellis::ir::Expr& root = *parsed.tree;
  CHECK(root.span.column == kAt.column);
  CHECK(root.span.length == source.size());
  const trellis::ir::Expr& comparison = root.operands[0];
  CHECK(comparison.span.column == kAt.column);
  CHECK(comparison.span.length == 13);
  CHECK(comparison.operands[1].span.column == kAt.column + 11);
  const trellis::ir::Expr& negation = root.operands[1];
  CHECK(negation.span.column == kAt.column + 18);
  CHECK(negation.operands[0].span.length == std::string("(user.paid)").size());
  CHECK(negation.operands[0].path.span.column == kAt.column + 23);
}

TEST_CASE("positions after a newline in the string move to the next file lines") {
  Diagnostics diagnostics;
  parse_expression("user.a > 1 and\nuser.b = 2", kAt, "f.yaml", diagnostics);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(diagnostics.items()[0].span.line == 8);
  CHECK(diagnostics.items()[0].span.column == 8);
}

TEST_CASE("columns count bytes of UTF-8 text before the error") {
  Diagnostics diagnostics;
  parse_expression("user.city == \"Zürich\" and", kAt, "f.yaml", diagnostics);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(diagnostics.items()[0].span.column == kAt.column + 26);
}

TEST_CASE("an expression without a known position is positioned from column 1") {
  Diagnostics diagnostics;
  parse_expression("user.a >", {}, "", diagnostics);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(diagnostics.items()[0].span.line == 1);
  CHECK(diagnostics.items()[0].span.column == 9);
}

TEST_CASE("hostile nesting is an error, not a stack overflow") {
  Diagnostics diagnostics;
  std::string source = std::string(1000, '(') + "1" + std::string(1000, ')');
  auto parsed = parse_expression(source, kAt, "f.yaml", diagnostics);
  CHECK_FALSE(parsed.tree);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(diagnostics.items()[0].message == "expression nested too deeply");
}

TEST_CASE("a rendered syntax error quotes the YAML line with a caret under the token") {
  std::string file =
      "nodes:\n"
      "  pick:\n"
      "    type: segment\n"
      "    match: user.age = 30 and not user.paid\n";
  // The loader passes where the scalar starts: line 4, column 12, byte 45.
  SourceSpan at{4, 12, 45, 0};
  Diagnostics diagnostics;
  parse_expression("user.age = 30 and not user.paid", at, "flows/x.yaml", diagnostics);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(trellis::ir::render(diagnostics.items()[0], file) ==
        "flows/x.yaml:4:21: error: use '==' to compare\n"
        "      match: user.age = 30 and not user.paid\n"
        "                      ^\n");
}

TEST_CASE("hostile length is an error, not a stack overflow") {
  auto piece = GENERATE(as<std::string>{}, "-", "not ", "user.a or ", "!");
  std::string source;
  while (source.size() < 100000) source += piece;
  source += "1";
  Diagnostics diagnostics;
  auto parsed = parse_expression(source, kAt, "f.yaml", diagnostics);
  CHECK_FALSE(parsed.tree);
  REQUIRE(diagnostics.items().size() == 1);
  CHECK(diagnostics.items()[0].message ==
        "expression too long (" + std::to_string(source.size()) + " bytes; the limit is 4096)");
}

TEST_CASE("the longest allowed expressions parse, however they are built") {
  auto piece = GENERATE(as<std::string>{}, "-", "not ", "user.a or ");
  std::string source;
  while (source.size() + piece.size() < 4096) source += piece;
  source += "1";
  Diagnostics diagnostics;
  auto parsed = parse_expression(source, kAt, "f.yaml", diagnostics);
  CHECK(parsed.tree);
}

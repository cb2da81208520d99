// One test case per kind of diagnostic the YAML front end and the checker
// give, each asserting the exact severity, line, column, message, node and
// field, and that nothing else is reported (no echoes of the same problem).
#include <catch2/catch.hpp>

#include "tests/dsl/flow_test_support.h"

using trellis::ir::Diagnostic;
using trellis::ir::Severity;
using trellis::test::check_yaml;
using trellis::test::render_all;

namespace {

// The only diagnostic of `text`; fails the test when there are more or none.
Diagnostic only(const std::string& text) {
  auto result = check_yaml(text);
  INFO(render_all(result));
  REQUIRE(result.diagnostics.items().size() == 1);
  return result.diagnostics.items().front();
}

void expect(const Diagnostic& d, Severity severity, uint32_t line, uint32_t column,
            const std::string& message) {
  CHECK(d.severity == severity);
  CHECK(d.span.line == line);
  CHECK(d.span.column == column);
  CHECK(d.message == message);
}

const Severity kError = Severity::kError;
const Severity kWarning = Severity::kWarning;

}  // namespace

TEST_CASE("YAML syntax error, with a hint") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: Hi: there, next: b}
  b: {type: exit}
)");
  CHECK(d.severity == kError);
  CHECK(d.span.line == 5);
  CHECK(d.message.rfind("YAML syntax error: ", 0) == 0);
}

TEST_CASE("unknown flow key with did-you-mean") {
  auto d = only(R"(flow: t
trigger: {event: signup}
strat: a
start: a
nodes:
  a: {type: exit}
)");
  expect(d, kError, 3, 1, "unknown key 'strat' in the flow: did you mean 'start'?");
  CHECK(d.field == "strat");
}

TEST_CASE("unknown node key with did-you-mean") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "Hi", next: b, nxt: b}
  b: {type: exit}
)");
  expect(d, kError, 5, 39, "unknown key 'nxt' in sms node 'a': did you mean 'next'?");
  CHECK(d.node == "a");
  CHECK(d.field == "nxt");
}

TEST_CASE("unknown node key without a close match lists the keys") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a:
    type: exit
    colour: red
)");
  expect(d, kError, 7, 5,
         "unknown key 'colour' in exit node 'a' (expected one of: type, description)");
}

TEST_CASE("duplicate key") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a:
    type: sms
    text: "Hi"
    next: b
    next: a
  b: {type: exit}
)");
  expect(d, kError, 9, 5, "duplicate key 'next' in sms node 'a' (first at line 8)");
  CHECK(d.node == "a");
}

TEST_CASE("duplicate node") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: exit}
  a: {type: exit}
)");
  expect(d, kError, 6, 3, "duplicate node 'a' (first at line 5)");
}

TEST_CASE("unknown node type with did-you-mean") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: emial, subject: "Hi", body: "Hello", next: a}
)");
  expect(d, kError, 5, 13, "unknown node type 'emial': did you mean 'email'?");
  CHECK(d.field == "type");
}

TEST_CASE("node without a type") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {text: "Hi"}
)");
  expect(
      d, kError, 5, 3,
      "node 'a' has no 'type': one of segment, wait, coupon, sms, email, webhook, ab, exit, update_profile, split");
}

TEST_CASE("node that is not a mapping") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: exit}
  b: exit
)");
  expect(d, kError, 6, 6, "node 'b' must be a mapping with a 'type', not a single value");
}

TEST_CASE("unknown target with did-you-mean") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: hello
nodes:
  hello: {type: sms, text: "Hi", next: dnoe}
  done: {type: exit}
)");
  expect(d, kError, 5, 40, "unknown node 'dnoe' in 'next': did you mean 'done'?");
  CHECK(d.node == "hello");
  CHECK(d.field == "next");
}

TEST_CASE("unknown variant target") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: split
nodes:
  split:
    type: ab
    variants:
      a: {weight: 50, next: done}
      b: {weight: 50, next: sms_b}
  done: {type: exit}
)");
  expect(d, kError, 9, 29, "unknown node 'sms_b' in 'variants.b.next'");
  CHECK(d.field == "variants.b.next");
}

TEST_CASE("unknown start") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: begin
nodes:
  begin_here: {type: exit}
)");
  expect(d, kError, 3, 8, "unknown node 'begin' in 'start': did you mean 'begin_here'?");
}

TEST_CASE("missing start") {
  auto d = only(R"(flow: t
trigger: {event: signup}
nodes:
  a: {type: exit}
)");
  expect(d, kError, 1, 7, "the flow has no 'start': name the node a journey begins at");
  CHECK(d.field == "start");
}

TEST_CASE("missing nodes") {
  auto result = check_yaml(R"(flow: t
trigger: {event: signup}
)");
  REQUIRE(result.diagnostics.items().size() == 2);
  expect(result.diagnostics.items()[0], kError, 1, 7, "the flow has no nodes: add 'nodes:'");
  expect(result.diagnostics.items()[1], kError, 1, 7,
         "the flow has no 'start': name the node a journey begins at");
}

TEST_CASE("missing required field") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, next: b}
  b: {type: exit}
)");
  expect(d, kError, 5, 3, "sms node 'a' needs 'text'");
  CHECK(d.node == "a");
  CHECK(d.field == "text");
}

TEST_CASE("unreachable node") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: exit}
  orphan: {type: exit}
)");
  expect(d, kWarning, 6, 3, "node 'orphan' is never reached from start 'a'");
  CHECK(d.node == "orphan");
}

TEST_CASE("loop with no wait node") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "Hi", next: b}
  b: {type: segment, match: user.done, yes: c, no: a}
  c: {type: exit}
)");
  expect(d, kError, 5, 36,
         "loop with no wait node: a -> b -> a would run for ever; add a wait node to the loop");
  CHECK(d.field == "next");
}

TEST_CASE("a node that loops to itself") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "Hi", next: a}
)");
  expect(d, kError, 5, 36,
         "loop with no wait node: a -> a would run for ever; add a wait node to the loop");
}

TEST_CASE("a loop through a wait is fine") {
  auto result = check_yaml(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: wait, for: 1d, next: b}
  b: {type: segment, match: user.done, yes: c, no: a}
  c: {type: exit}
)");
  CHECK(result.diagnostics.empty());
}

TEST_CASE("bad duration") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: wait, for: "72 hours", next: b}
  b: {type: exit}
)");
  CHECK(d.severity == kError);
  CHECK(d.span.line == 5);
  CHECK(d.span.column == 25);  // inside the quotes
  CHECK(d.field == "for");
}

TEST_CASE("zero duration") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: wait, for: 0s, next: b}
  b: {type: exit}
)");
  expect(d, kError, 5, 24, "'for' must be longer than zero");
}

TEST_CASE("expression syntax error positioned inside a quoted string with escapes") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a:
    type: segment
    match: "\"education\" in user.interests and (user.age > 30"
    yes: b
    no: b
  b: {type: exit}
)");
  expect(d, kError, 7, 49, "missing ')' to close this '('");
  CHECK(d.node == "a");
  CHECK(d.field == "match");
}

TEST_CASE("ill-typed comparison") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: segment, match: days_since(user.joined) == "seven", yes: b, no: b}
  b: {type: exit}
)");
  expect(d, kWarning, 5, 29, "comparing a number with a string is always false");
  CHECK(d.field == "match");
}

TEST_CASE("a quoted number beside < or > compares as text, whatever the trait holds") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: segment, match: user.age > "30", yes: b, no: b}
  b: {type: exit}
)");
  expect(d, kWarning, 5, 29,
         "\"30\" is text, and text compares letter by letter (\"100\" < \"30\"): write the number "
         "without quotes: 30");
  CHECK(d.field == "match");
  // Equality with a quoted number is fine: a trait may hold text.
  CHECK(check_yaml(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: segment, match: user.zip == "30", yes: b, no: b}
  b: {type: exit}
)")
            .diagnostics.empty());
}

TEST_CASE("an on_event branch whose event is in exit_on can never run") {
  auto d = only(R"(flow: t
trigger: {event: signup}
exit_on: [paid]
start: w
nodes:
  w: {type: wait, for: 1h, until_event: paid, on_event: b, next: b}
  b: {type: exit}
)");
  expect(d, kWarning, 6, 41,
         "'on_event' is never taken: 'paid' is in 'exit_on', so it ends the journey before this "
         "wait sees it");
  CHECK(d.node == "w");
  CHECK(d.field == "on_event");
}

TEST_CASE("coupon.code before any coupon node") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "Code {{coupon.code}}", next: b}
  b: {type: exit}
)");
  expect(d, kWarning, 5, 32, "'coupon.code' is always empty here: no coupon node comes before 'a'");
}

TEST_CASE("coupon.code on only some paths") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: c
nodes:
  c: {type: coupon, pool: P, next: a, on_exhausted: a}
  a: {type: sms, text: "Code {{coupon.code}}", next: b}
  b: {type: exit}
)");
  expect(d, kWarning, 6, 32,
         "'coupon.code' may be empty here: some paths to 'a' pass no coupon node "
         "(add | default: \"...\")");
}

TEST_CASE("coupon.code after a coupon on every path, or with a default, is fine") {
  auto result = check_yaml(R"(flow: t
trigger: {event: signup}
start: c
nodes:
  c: {type: coupon, pool: P, next: a, on_exhausted: m}
  a: {type: sms, text: "Code {{coupon.code}}", next: m}
  m: {type: sms, text: "Code {{coupon.code | default: \"none\"}}", next: b}
  b: {type: exit}
)");
  CHECK(result.diagnostics.empty());
}

TEST_CASE("all variant weights zero") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: s
nodes:
  s:
    type: ab
    variants:
      a: {weight: 0, next: e}
      b: {weight: 0, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 3, "all variant weights of 's' are zero: no user can be split");
  CHECK(d.field == "variants");
}

TEST_CASE("negative variant weight") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: s
nodes:
  s:
    type: ab
    variants:
      a: {weight: -10, next: e}
      b: {weight: 50, next: e}
  e: {type: exit}
)");
  expect(d, kError, 8, 19, "variant 'a' has a negative weight");
  CHECK(d.field == "variants.a.weight");
}

TEST_CASE("missing and unreadable variant weights") {
  auto result = check_yaml(R"(flow: t
trigger: {event: signup}
start: s
nodes:
  s:
    type: ab
    variants:
      a: {next: e}
      b: {weight: half, next: e}
  e: {type: exit}
)");
  REQUIRE(result.diagnostics.items().size() == 2);
  expect(result.diagnostics.items()[0], kError, 8, 7, "variant 'a' needs a 'weight'");
  expect(result.diagnostics.items()[1], kError, 9, 19,
         "'variants.b.weight' must be a number, not 'half'");
}

TEST_CASE("ab node with one variant") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: s
nodes:
  s: {type: ab, variants: {only: {weight: 1, next: e}}}
  e: {type: exit}
)");
  expect(d, kWarning, 5, 28, "ab node 's' has one variant: every user takes it");
}

TEST_CASE("wait with neither for nor until_event") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 3,
         "wait node 'w' needs 'for', 'until_time' or 'until_event': otherwise it never ends");
}

TEST_CASE("invalid delivery settings of the flow, each on its value") {
  auto result = check_yaml(R"(flow: t
trigger: {event: signup}
category: transactonal
priority: urgent
on_cap: drop
start: e
nodes:
  e: {type: exit}
)");
  INFO(render_all(result));
  REQUIRE(result.diagnostics.items().size() == 3);
  const auto& items = result.diagnostics.items();
  expect(items[0], kError, 3, 11, "invalid category 'transactonal': did you mean 'transactional'?");
  CHECK(items[0].field == "category");
  CHECK(items[0].node.empty());
  expect(items[1], kError, 4, 11,
         "invalid priority 'urgent': write high, normal, low or a whole number from 0 to 100");
  CHECK(items[1].field == "priority");
  expect(items[2], kError, 5, 9, "invalid on_cap 'drop': write defer or skip");
  CHECK(items[2].field == "on_cap");
}

TEST_CASE("priority out of range") {
  auto d = only(R"(flow: t
trigger: {event: signup}
priority: 101
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 3, 11,
         "invalid priority '101': write high, normal, low or a whole number from 0 to 100");
}

TEST_CASE("valid delivery settings and a local-time wait check clean") {
  auto result = check_yaml(R"(flow: t
trigger: {event: order_paid}
category: transactional
priority: 90
on_cap: skip
start: w
nodes:
  w: {type: wait, until_time: "10:00", on_days: [mon, friday], until_event: cancel, on_event: e, next: e}
  e: {type: exit}
)");
  INFO(render_all(result));
  CHECK(result.diagnostics.items().empty());
}

TEST_CASE("until_time that is not a time of day") {
  for (const char* bad : {"25:00", "10h", "10:60", "1000"}) {
    INFO(bad);
    auto d = only(std::string(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, until_time: ")") +
                  bad + R"(", next: e}
  e: {type: exit}
)");
    expect(d, kError, 5, 31,
           "invalid until_time '" + std::string(bad) +
               "': write a 24-hour time as HH:MM, such as \"10:00\"");
    CHECK(d.node == "w");
    CHECK(d.field == "until_time");
  }
}

TEST_CASE("until_time together with for") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w:
    type: wait
    for: 1h
    until_time: "09:30"
    next: e
  e: {type: exit}
)");
  expect(d, kError, 8, 17, "a wait takes 'for' or 'until_time', not both");
  CHECK(d.node == "w");
  CHECK(d.field == "until_time");
}

TEST_CASE("unknown weekday in on_days") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w:
    type: wait
    until_time: "09:30"
    on_days: [mon, tues, sun]
    next: e
  e: {type: exit}
)");
  expect(d, kError, 8, 20, "unknown weekday 'tues' in 'on_days': did you mean 'tue'?");
  CHECK(d.node == "w");
  CHECK(d.field == "on_days");
}

TEST_CASE("on_days without until_time") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w:
    type: wait
    for: 1d
    on_days: [sat, sun]
    next: e
  e: {type: exit}
)");
  expect(d, kError, 8, 15,
         "'on_days' needs 'until_time': the days say when that local time counts");
  CHECK(d.node == "w");
  CHECK(d.field == "on_days");
}

TEST_CASE("until_time without next") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, until_time: "10:00"}
)");
  expect(d, kError, 5, 3,
         "wait node 'w' needs 'next': where the journey goes when 'until_time' comes");
  CHECK(d.field == "next");
}

TEST_CASE("on_event without until_event") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, for: 1h, on_event: e, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 38,
         "'on_event' is never taken: add 'until_event' to say which event ends the wait");
  CHECK(d.field == "on_event");
}

TEST_CASE("until_event without on_event") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, for: 1h, until_event: paid, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 3,
         "wait node 'w' needs 'on_event': where the journey goes when 'paid' arrives");
  CHECK(d.field == "on_event");
}

TEST_CASE("next of a wait without for") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, until_event: paid, on_event: e, next: e}
  e: {type: exit}
)");
  expect(d, kWarning, 5, 57,
         "'next' is never taken: this wait has no 'for', so only its event ends it");
}

TEST_CASE("coupon with pool and generate") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: c
nodes:
  c:
    type: coupon
    pool: P
    generate: {prefix: X-, length: 8}
    next: e
  e: {type: exit}
)");
  expect(d, kError, 8, 5, "a coupon node takes 'pool' or 'generate', not both");
}

TEST_CASE("coupon with neither pool nor generate") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: c
nodes:
  c: {type: coupon, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 3, "coupon node 'c' needs 'pool' (codes loaded beforehand) or 'generate'");
}

TEST_CASE("generated code length out of range") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: c
nodes:
  c: {type: coupon, generate: {length: 100}, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 21, "'generate.length' must be between 4 and 32");
}

TEST_CASE("on_exhausted of a generating coupon") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: c
nodes:
  c: {type: coupon, generate: {length: 8}, next: e, on_exhausted: e}
  e: {type: exit}
)");
  expect(d, kWarning, 5, 67, "'on_exhausted' is never taken: generated codes never run out");
}

TEST_CASE("empty sms text") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "", next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 24, "sms text is empty");
  CHECK(d.field == "text");
}

TEST_CASE("webhook url with another scheme") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: h
nodes:
  h: {type: webhook, url: "ftp://crm.example.com", next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 27,
         "webhook url 'ftp://crm.example.com' must start with http:// or https://");
  CHECK(d.field == "url");
}

TEST_CASE("webhook url without a host") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: h
nodes:
  h: {type: webhook, url: "http://", next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 27, "webhook url 'http://' has no valid host");
}

TEST_CASE("webhook url with a placeholder host is accepted") {
  auto result = check_yaml(R"(flow: t
trigger: {event: signup}
start: h
nodes:
  h: {type: webhook, url: "https://{{user.crm_host}}/leads", next: e}
  e: {type: exit}
)");
  CHECK(result.diagnostics.empty());
}

TEST_CASE("invalid re_entry") {
  auto d = only(R"(flow: t
trigger: {event: signup}
re_entry: nevr
start: e
nodes:
  e: {type: exit}
)");
  expect(
      d, kError, 3, 11,
      "invalid re_entry 'nevr': write never, always or after <duration> (did you mean 'never'?)");
  CHECK(d.field == "re_entry");
}

TEST_CASE("re_entry after a zero duration") {
  auto d = only(R"(flow: t
trigger: {event: signup}
re_entry: after 0d
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 3, 17, "'re_entry: after' needs a duration longer than zero");
}

TEST_CASE("trigger without event") {
  auto d = only(R"(flow: t
trigger:
  when: event.value > 3
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 2, 1, "the flow has no trigger event: add 'trigger: {event: <event type>}'");
  CHECK(d.field == "trigger.event");
}

TEST_CASE("trigger that is not a mapping") {
  auto d = only(R"(flow: t
trigger: signup
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 2, 10,
         "'trigger' must be a mapping such as {event: add_to_cart}, not a single value");
}

TEST_CASE("exit_on of the wrong shape") {
  auto d = only(R"(flow: t
trigger: {event: signup}
exit_on: {event: unsubscribe}
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 3, 10, "'exit_on' must be an event type or a list of them, not a mapping");
}

TEST_CASE("event listed twice in exit_on") {
  auto d = only(R"(flow: t
trigger: {event: signup}
exit_on: [unsubscribe, unsubscribe]
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kWarning, 3, 24, "'unsubscribe' is listed twice in 'exit_on'");
}

TEST_CASE("empty goal") {
  auto d = only(R"(flow: t
trigger: {event: signup}
goal:
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 3, 1, "'goal' is empty: give an event type or {event: type, within: 7d}");
}

TEST_CASE("invalid event type") {
  auto d = only(R"(flow: t
trigger: {event: signup}
goal: "order\tpaid"
start: e
nodes:
  e: {type: exit}
)");
  expect(d, kError, 3, 7,
         "event type 'order\tpaid' may not hold control characters (tabs, line breaks)");
  CHECK(d.node.empty());  // a flow-level field
}

TEST_CASE("invalid event type in a wait names its node, so the editor can show it there") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: w
nodes:
  w: {type: wait, for: 1h, until_event: "order\npaid", on_event: e, next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 41,
         "event type 'order\npaid' may not hold control characters (tabs, line breaks)");
  CHECK(d.node == "w");
  CHECK(d.field == "until_event");
}

TEST_CASE("value of the wrong shape") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "Hi", next: [e]}
  e: {type: exit}
)");
  expect(d, kError, 5, 36, "'next' must be a node id, not a list");
}

TEST_CASE("template syntax error") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "Hi {{user.first_name", next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 28, "unclosed '{{': add '}}'");
}

TEST_CASE("last_event before any awaited event") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, text: "{{last_event.plan}}", next: e}
  e: {type: exit}
)");
  expect(d, kWarning, 5, 27,
         "'last_event' names an awaited event, but no wait's event is consumed before this "
         "point: write 'event.plan' for the trigger event");
}

TEST_CASE("second YAML document") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: e
nodes:
  e: {type: exit}
---
flow: u
)");
  expect(d, kError, 7, 1, "a flow file holds one flow: remove this second YAML document");
}

TEST_CASE("empty file") {
  auto d = only("");
  expect(d, kError, 1, 1, "the file holds no flow: start it with 'flow: <name>'");
}

TEST_CASE("invalid flow name and node id") {
  auto result = check_yaml(R"(flow: my flow
trigger: {event: signup}
start: send sms
nodes:
  send sms: {type: exit}
)");
  REQUIRE(result.diagnostics.items().size() == 2);
  expect(result.diagnostics.items()[0], kError, 1, 7,
         "flow name 'my flow' must start with a letter and hold only letters, digits, '_' or '-'");
  expect(result.diagnostics.items()[1], kError, 5, 3,
         "node id 'send sms' must start with a letter or '_' and hold only letters, digits, '_' "
         "or '-'");
}

TEST_CASE("a misspelt key is reported once, not again as a missing one") {
  auto d = only(R"(flow: t
trigger: {event: signup}
start: a
nodes:
  a: {type: sms, txt: "Hi", next: e}
  e: {type: exit}
)");
  expect(d, kError, 5, 18, "unknown key 'txt' in sms node 'a': did you mean 'text'?");
}

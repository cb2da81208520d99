// A scheduled audience trigger (docs/flows.md#broadcasts) in every front end:
// YAML and the DSL give the same IR, both printers and the editor's JSON keep
// it, and the checker judges it with positions.
#include <catch2/catch.hpp>

#include "dsl/checker.h"
#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "dsl/json_format.h"
#include "dsl/load.h"
#include "nodes/local_time.h"
#include "tests/dsl/dsl_test_support.h"

using namespace trellis;
using dsl::FlowSyntax;

namespace {

const char* const kYaml = R"(# Christmas offer for VIPs, at ten in each user's morning.
flow: xmas
trigger:
  schedule: "2026-12-24 10:00"  # the first run
  every: day
  in_user_time_zone: true
  # only the best customers
  audience: user.tier == "vip" and has(user.phone)
re_entry: always
start: hello
nodes:
  hello:
    type: sms
    text: Merry Christmas
    next: done
  done:
    type: exit
)";

const char* const kDsl = R"(# Christmas offer for VIPs, at ten in each user's morning.
flow xmas {
  trigger schedule "2026-12-24 10:00"  # the first run
    every day
    in_user_time_zone
    # only the best customers
    audience user.tier == "vip" and has(user.phone)
  re_entry always
  start -> hello
}

hello: sms {
  text "Merry Christmas"
  next -> done
}

done: exit
)";

ir::Flow load_clean(const std::string& text, FlowSyntax syntax) {
  dsl::LoadResult result =
      dsl::load_flow_text(text, syntax == FlowSyntax::kYaml ? "a.yaml" : "a.flow", syntax);
  INFO(text << dsl::test::render_all(result.diagnostics, text));
  REQUIRE(result.flow);
  REQUIRE_FALSE(result.diagnostics.has_errors());
  return *result.flow;
}

// The checker's findings on a YAML flow whose trigger is `trigger`, at a fixed now.
ir::Diagnostics check_trigger(const std::string& trigger, const std::string& extra = "") {
  std::string text =
      "flow: t\ntrigger:\n" + trigger + extra + "start: a\nnodes:\n  a:\n    type: exit\n";
  dsl::LoadResult result = dsl::load_flow_text(text, "t.yaml", FlowSyntax::kYaml);
  REQUIRE(result.flow);
  dsl::CheckOptions options;
  options.now_ms = nodes::local_instant(*nodes::parse_local_date_time("2026-12-03 12:00"), "UTC");
  ir::Diagnostics found = result.diagnostics;
  found.append(dsl::check_flow(*result.flow, options));
  return found;
}

const ir::Diagnostic* find_code(const ir::Diagnostics& diagnostics, const std::string& code) {
  for (const ir::Diagnostic& d : diagnostics.items())
    if (d.code == code) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("a schedule trigger reads the same from YAML and from the DSL") {
  ir::Flow yaml = load_clean(kYaml, FlowSyntax::kYaml);
  ir::Flow dsl = load_clean(kDsl, FlowSyntax::kDsl);
  CHECK(ir::same_flow(yaml, dsl) == "");
  REQUIRE(yaml.trigger.scheduled());
  CHECK(yaml.trigger.schedule->value == "2026-12-24 10:00");
  CHECK(yaml.trigger.every->value == "day");
  CHECK(yaml.trigger.in_user_time_zone);
  REQUIRE(yaml.trigger.audience);
  CHECK(yaml.trigger.audience->source == R"(user.tier == "vip" and has(user.phone))");
  CHECK(yaml.trigger.event.empty());
  // Positions point at the words in each file.
  CHECK(yaml.trigger.schedule->span.line == 4);
  CHECK(dsl.trigger.schedule->span.line == 3);
  CHECK(dsl.trigger.audience->span.line == 7);
}

TEST_CASE("both printers and the editor's JSON keep a schedule trigger and its comments") {
  ir::Flow yaml = load_clean(kYaml, FlowSyntax::kYaml);
  ir::Flow dsl = load_clean(kDsl, FlowSyntax::kDsl);
  CHECK(dsl::format_yaml(yaml) == kYaml);
  CHECK(dsl::format_dsl(dsl) == kDsl);
  CHECK(dsl::format_dsl(yaml) == kDsl);
  CHECK(dsl::format_yaml(dsl) == kYaml);
  ir::Diagnostics diagnostics;
  nlohmann::json json = dsl::flow_to_json(yaml);
  CHECK(json["trigger"]["schedule"] == "2026-12-24 10:00");
  CHECK(json["trigger"]["in_user_time_zone"] == true);
  ir::Flow back = dsl::flow_from_json(json, "e", diagnostics);
  CHECK(diagnostics.empty());
  CHECK(ir::same_flow(yaml, back) == "");
}

TEST_CASE("an event named schedule is still an event trigger in the DSL") {
  ir::Flow flow =
      load_clean("flow t {\n  trigger schedule\n  start -> a\n}\n\na: exit\n", FlowSyntax::kDsl);
  CHECK_FALSE(flow.trigger.scheduled());
  CHECK(flow.trigger.event.value == "schedule");
}

TEST_CASE("a well-formed schedule trigger has no findings") {
  ir::Diagnostics found =
      check_trigger("  schedule: \"2026-12-24 10:00\"\n  audience: user.tier == \"vip\"\n");
  INFO(found.items().size());
  CHECK(found.empty());
}

TEST_CASE("checker: an impossible date is an error at the schedule") {
  ir::Diagnostics found = check_trigger("  schedule: \"2026-02-30 10:00\"\n");
  const ir::Diagnostic* d = find_code(found, "bad_schedule");
  REQUIRE(d != nullptr);
  CHECK(d->severity == ir::Severity::kError);
  CHECK(d->span.line == 3);
  CHECK(d->span.column == 13);
  CHECK(d->field == "trigger.schedule");
  CHECK(find_code(check_trigger("  schedule: \"24.12.2026 10:00\"\n"), "bad_schedule"));
  CHECK(find_code(check_trigger("  schedule: \"2026-12-24 24:00\"\n"), "bad_schedule"));
}

TEST_CASE("checker: an audience that is not a condition is an error") {
  ir::Diagnostics found = check_trigger(
      "  schedule: \"2026-12-24 10:00\"\n  audience: days_since(user.signed_up) + 1\n");
  const ir::Diagnostic* d = find_code(found, "audience_not_boolean");
  REQUIRE(d != nullptr);
  CHECK(d->severity == ir::Severity::kError);
  CHECK(d->span.line == 4);
  CHECK(d->span.column == 13);
  const ir::Diagnostics reads_event =
      check_trigger("  schedule: \"2026-12-24 10:00\"\n  audience: event.amount > 3\n");
  const ir::Diagnostic* e = find_code(reads_event, "audience_reads_event");
  REQUIRE(e != nullptr);
  CHECK(e->span.line == 4);
}

TEST_CASE("checker: a schedule in the past is a warning, not an error") {
  ir::Diagnostics found = check_trigger("  schedule: \"2026-12-01 10:00\"\n");
  const ir::Diagnostic* d = find_code(found, "schedule_in_past");
  REQUIRE(d != nullptr);
  CHECK(d->severity == ir::Severity::kWarning);
  CHECK(d->span.line == 3);
  CHECK_FALSE(found.has_errors());
  // Earlier today in UTC but still to come west of it is not the past.
  CHECK(find_code(check_trigger("  schedule: \"2026-12-03 06:00\"\n"), "schedule_in_past") ==
        nullptr);
}

TEST_CASE("checker: event settings with a schedule and schedule settings without one") {
  CHECK(find_code(check_trigger("  schedule: \"2026-12-24 10:00\"\n  event: signup\n"),
                  "schedule_and_event"));
  CHECK(find_code(check_trigger("  schedule: \"2026-12-24 10:00\"\n  when: user.vip\n"),
                  "when_with_schedule"));
  CHECK(
      find_code(check_trigger("  schedule: \"2026-12-24 10:00\"\n  every: month\n"), "bad_every"));
  CHECK(find_code(check_trigger("  event: signup\n  audience: user.vip\n"),
                  "schedule_field_without_schedule"));
  const ir::Diagnostics weekly = check_trigger("  schedule: \"2026-12-24 10:00\"\n  every: week\n");
  const ir::Diagnostic* d = find_code(weekly, "every_without_re_entry");
  REQUIRE(d != nullptr);
  CHECK(d->severity == ir::Severity::kWarning);
  CHECK(find_code(check_trigger("  schedule: \"2026-12-24 10:00\"\n  every: week\n",
                                "re_entry: always\n"),
                  "every_without_re_entry") == nullptr);
}

TEST_CASE("local date and time: parsing, printing and time zones") {
  auto at = nodes::parse_local_date_time("2026-12-24 10:00");
  REQUIRE(at);
  CHECK(nodes::local_date_time_text(*at) == "2026-12-24 10:00");
  CHECK(nodes::local_instant(*at, "UTC") == 1798106400000);
  // Berlin is UTC+1 in winter; Los Angeles UTC-8.
  CHECK(nodes::local_instant(*at, "Europe/Berlin") == 1798106400000 - 3600000);
  CHECK(nodes::local_instant(*at, "America/Los_Angeles") == 1798106400000 + 8 * 3600000);
  CHECK_FALSE(nodes::parse_local_date_time("2027-02-29 10:00"));
  CHECK(nodes::parse_local_date_time("2028-02-29 10:00"));
}

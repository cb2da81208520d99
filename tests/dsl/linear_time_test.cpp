// Inputs large enough that a parser rescanning lines (quadratic time) would
// run past this binary's ctest TIMEOUT, while a linear one finishes in well
// under a second. No timed assertions: the TIMEOUT is the check.
#include <catch2/catch.hpp>

#include "dsl/load.h"

using trellis::dsl::FlowSyntax;
using trellis::dsl::load_flow_text;
using trellis::ir::Diagnostic;

namespace {

std::string flow_with_body(const std::string& body) {
  return "flow: long\n"
         "trigger: {event: visit}\n"
         "start: mail\n"
         "nodes:\n"
         "  mail:\n"
         "    type: email\n"
         "    subject: Hi\n"
         "    body: \"" +
         body +
         "\"\n"
         "    next: done\n"
         "  done: {type: exit}\n";
}

const Diagnostic* first_error(const trellis::dsl::LoadResult& result) {
  for (const auto& d : result.diagnostics.items())
    if (d.severity == trellis::ir::Severity::kError) return &d;
  return nullptr;
}

}  // namespace

TEST_CASE("a template with 60,000 placeholders on one line loads in linear time") {
  std::string body;
  for (int i = 0; i < 60000; ++i) body += "{{user.a}}";
  auto result = load_flow_text(flow_with_body(body), "long.yaml", FlowSyntax::kYaml);
  CHECK(result.ok());
  CHECK(first_error(result) == nullptr);
}

TEST_CASE("a placeholder's column is right after 100,000 non-ASCII characters on its line") {
  std::string body;
  for (int i = 0; i < 100000; ++i) body += "é";
  body += "{{user.}}";  // a syntax error, to read its position
  auto result = load_flow_text(flow_with_body(body), "wide.yaml", FlowSyntax::kYaml);
  const Diagnostic* error = first_error(result);
  REQUIRE(error != nullptr);
  CHECK(error->span.line == 8);
  // `    body: "` is 11 columns; the error sits inside the placeholder.
  CHECK(error->span.column > 11 + 100000);
  CHECK(error->span.column < 11 + 100000 + 10);
}

TEST_CASE("a YAML mapping nested 5,000 deep is refused at the nesting limit with its position") {
  std::string text = "flow: deep\nx:\n";
  std::string indent = "  ";
  for (int i = 0; i < 5000; ++i, indent += "  ") text += indent + "a:\n";
  auto result = load_flow_text(text, "deep.yaml", FlowSyntax::kYaml);
  const Diagnostic* error = first_error(result);
  REQUIRE(error != nullptr);
  CHECK(error->message == "mappings and sequences nest deeper than 64 levels here");
  // The root mapping is level 1, `x:` holds level 2 on line 3, ... level 65 on line 66.
  CHECK(error->span.line == 66);
  CHECK(error->span.column == 2 * 64 + 1);  // after the 128 blanks of indentation
}

TEST_CASE("a flow-style YAML list nested 100,000 deep is refused at the limit") {
  std::string text = "flow: deep\nx: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  auto result = load_flow_text(text, "deep.yaml", FlowSyntax::kYaml);
  const Diagnostic* error = first_error(result);
  REQUIRE(error != nullptr);
  CHECK(error->message == "mappings and sequences nest deeper than 64 levels here");
  CHECK(error->span.line == 2);
}

TEST_CASE("a YAML line with a million blanks between tokens scans in linear time") {
  std::string list = "[";
  for (int i = 0; i < 1000; ++i) list += std::string(1000, ' ') + "visit,";
  list += "visit]";
  std::string text = flow_with_body("hello");
  text.replace(text.find("trigger: {event: visit}"), 23,
               "trigger: {event: visit}\nexit_on: " + list + "  # a comment");
  auto result = load_flow_text(text, "wide.yaml", FlowSyntax::kYaml);
  CHECK(result.flow.has_value());
}

TEST_CASE("invalid UTF-8 in a flow file is an error at its position, not U+FFFD") {
  std::string yaml = flow_with_body("caf\xC3\x28 ok");
  auto loaded = load_flow_text(yaml, "bad.yaml", FlowSyntax::kYaml);
  const Diagnostic* error = first_error(loaded);
  REQUIRE(error != nullptr);
  CHECK(error->message == "this byte is not valid UTF-8: save the file as UTF-8");
  CHECK(error->span.line == 8);
  CHECK(error->span.column == 15);

  std::string dsl = "flow bad {\n  trigger visit\n  # caf\xFF\n}\n";
  auto parsed = load_flow_text(dsl, "bad.flow", FlowSyntax::kDsl);
  const Diagnostic* dsl_error = first_error(parsed);
  REQUIRE(dsl_error != nullptr);
  CHECK(dsl_error->message == "this byte is not valid UTF-8: save the file as UTF-8");
  CHECK(dsl_error->span.line == 3);
}

TEST_CASE("a DSL condition of 50,000 `or`s is refused as too long, in linear time") {
  std::string chain = "user.a == 1";
  for (int i = 1; i < 50000; ++i) chain += " or user.a == 1";
  std::string dsl =
      "flow chain {\n  trigger visit\n  start -> pick\n}\n\npick: segment {\n  match " + chain +
      "\n  yes -> done\n  no -> done\n}\n\ndone: exit\n";
  auto result = load_flow_text(dsl, "chain.flow", FlowSyntax::kDsl);
  const Diagnostic* error = first_error(result);
  REQUIRE(error != nullptr);
  CHECK(error->message.rfind("expression too long (", 0) == 0);
  CHECK(error->span.line == 7);
}

TEST_CASE("a DSL condition just under the expression limit loads") {
  std::string chain = "user.a == 1";
  while (chain.size() + 15 < 4096) chain += " or user.a == 1";
  std::string dsl =
      "flow chain {\n  trigger visit\n  start -> pick\n}\n\npick: segment {\n  match " + chain +
      "\n  yes -> done\n  no -> done\n}\n\ndone: exit\n";
  auto result = load_flow_text(dsl, "chain.flow", FlowSyntax::kDsl);
  CHECK(first_error(result) == nullptr);
}

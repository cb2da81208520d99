// The printers against golden files (tests/dsl/format/): what users see in
// `trellis fmt` output.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/json_format.h"
#include "tests/dsl/sample_flows.h"

using namespace trellis;

namespace {

std::string read_golden(const std::string& name) {
  std::ifstream in(std::string(TRELLIS_TEST_DATA) + "/format/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

ir::Flow from_json(const nlohmann::json& input) {
  ir::Diagnostics diagnostics;
  ir::Flow flow = dsl::flow_from_json(input, "test", diagnostics);
  REQUIRE(diagnostics.empty());
  return flow;
}

}  // namespace

TEST_CASE("canonical YAML and DSL of the sample flows match their golden files") {
  auto [name, input] = GENERATE(table<std::string, nlohmann::json>(
      {{"cart_reminder", dsl::test::cart_reminder_json()}, {"shapes", dsl::test::shapes_json()}}));
  ir::Flow flow = from_json(input);
  INFO(name);
  CHECK(dsl::format_yaml(flow) == read_golden(name + ".yaml"));
  CHECK(dsl::format_dsl(flow) == read_golden(name + ".flow"));
}

TEST_CASE("YAML scalars are quoted only where YAML needs it") {
  auto [text, expected] = GENERATE(table<std::string, std::string>({
      {"cart_reminder", "cart_reminder"},
      {"user.age > 30 and not user.paid", "user.age > 30 and not user.paid"},
      {"\"a\" in user.tags", "'\"a\" in user.tags'"},
      {"Your cart is waiting, {{user.first_name}}", "Your cart is waiting, {{user.first_name}}"},
      {"{{user.first_name}}, hi", "\"{{user.first_name}}, hi\""},
      {"", "\"\""},
      {"yes", "\"yes\""},
      {"No", "\"No\""},
      {"null", "\"null\""},
      {"2024", "\"2024\""},
      {"1.5e3", "\"1.5e3\""},
      {"72h", "72h"},
      {"7d", "7d"},
      {"a: b", "\"a: b\""},
      {"a #b", "\"a #b\""},
      {"a#b", "a#b"},
      {" lead", "\" lead\""},
      {"line\nbreak", "\"line\\nbreak\""},
      {"it's", "it's"},
      {"- item", "\"- item\""},
      {"[1, 2] == x", "\"[1, 2] == x\""},
      {"café", "café"},
  }));
  INFO(text);
  CHECK(dsl::yaml_scalar(text) == expected);
}

TEST_CASE("DSL names are bare unless the DSL would read them otherwise") {
  CHECK(dsl::dsl_name("wait_pay") == "wait_pay");
  CHECK(dsl::dsl_name("next") == "next");
  CHECK(dsl::dsl_name("and") == "\"and\"");
  CHECK(dsl::dsl_name("Order Completed") == "\"Order Completed\"");
  CHECK(dsl::dsl_name("2fa") == "\"2fa\"");
  CHECK(dsl::dsl_name("") == "\"\"");
  CHECK(dsl::dsl_string("say \"hi\"\\\n") == "'say \"hi\"\\\\\\n'");
  CHECK(dsl::dsl_string("it's \"x\"") == "\"it's \\\"x\\\"\"");
}

TEST_CASE("flows built in memory print durations from their seconds") {
  ir::Flow flow;
  flow.name.value = "mem";
  ir::Node wait{"w", {}, {}, "", {}, ir::WaitNode{}, {}};
  wait.as<ir::WaitNode>()->wait_for = ir::Duration{3 * 86400, "", {}};
  flow.nodes.push_back(wait);
  flow.re_entry = {ir::ReEntryPolicy::kAfter, ir::Duration{90, "", {}}, {}};
  std::string yaml = dsl::format_yaml(flow);
  CHECK(yaml.find("    for: 3d\n") != std::string::npos);
  CHECK(yaml.find("re_entry: after 90s\n") != std::string::npos);
  CHECK(dsl::format_dsl(flow).find("  for 3d\n") != std::string::npos);
}

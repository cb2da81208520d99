// Every comment survives fmt, conversion between YAML and the DSL, and the
// editor's save (IR -> JSON -> IR -> YAML), wherever it stands: above any key,
// at the end of any line, inside nested maps and lists. The flows in flows/
// are sprinkled with a numbered comment above every line and at the end of
// every line, then each path must keep every number exactly once.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <set>

#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "dsl/json_format.h"
#include "tests/dsl/flow_test_support.h"

namespace fs = std::filesystem;
using namespace trellis;

namespace {

size_t indentation(const std::string& line) {
  size_t first = line.find_first_not_of(' ');
  return first == std::string::npos ? 0 : first;
}

// A comment line above every line and a comment at the end of every line
// that has content (not inside a block scalar, whose lines are text).
std::string sprinkle(const std::string& text, int& count) {
  std::istringstream in(text);
  std::string out;
  std::string line;
  size_t block_indent = std::string::npos;  // inside a `|` / `>` scalar deeper than this
  while (std::getline(in, line)) {
    bool blank = line.find_first_not_of(' ') == std::string::npos;
    if (block_indent != std::string::npos && (blank || indentation(line) > block_indent)) {
      out += line + "\n";
      continue;
    }
    block_indent = std::string::npos;
    if (blank) {
      out += "\n";
      continue;
    }
    out += std::string(indentation(line), ' ') + "# above " + std::to_string(++count) + "\n";
    bool comment_line = line[indentation(line)] == '#';
    bool opens_block = std::regex_search(line, std::regex(R"(: [|>][-+]?\s*$)"));
    if (opens_block) block_indent = indentation(line);
    if (comment_line || opens_block) {
      out += line + "\n";
    } else {
      out += line + "  # end " + std::to_string(++count) + "\n";
    }
  }
  return out;
}

// Which numbered comments the text holds; fails on one held twice.
std::set<int> numbers_in(const std::string& text) {
  std::set<int> numbers;
  static const std::regex kNumbered(R"(# (above|end) ([0-9]+))");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), kNumbered);
       it != std::sregex_iterator(); ++it) {
    int number = std::stoi((*it)[2]);
    INFO("comment " << number << " appears twice in\n" << text);
    CHECK(numbers.insert(number).second);
  }
  return numbers;
}

std::set<int> one_to(int count) {
  std::set<int> all;
  for (int i = 1; i <= count; ++i) all.insert(i);
  return all;
}

ir::Flow load(const std::string& text, dsl::FlowSyntax syntax) {
  dsl::LoadResult result = dsl::load_flow_text(text, "t", syntax);
  INFO(test::render_all(result) << text);
  REQUIRE(result.flow.has_value());
  REQUIRE(!result.diagnostics.has_errors());
  return *result.flow;
}

}  // namespace

TEST_CASE("every comment of every flow in flows/ survives fmt, conversion and save") {
  for (const auto& entry : fs::directory_iterator(test::source_path("flows"))) {
    if (entry.path().filename() == "trellis.yaml" || !entry.is_regular_file()) continue;
    bool yaml = entry.path().extension() == ".yaml";
    dsl::FlowSyntax syntax = yaml ? dsl::FlowSyntax::kYaml : dsl::FlowSyntax::kDsl;
    int count = 0;
    std::string original = test::read_text(entry.path().string());
    std::string sprinkled = sprinkle(original, count);
    INFO(entry.path().filename().string() << "\n" << sprinkled);
    std::set<int> all = one_to(count);
    REQUIRE(count > 20);
    REQUIRE(numbers_in(sprinkled) == all);

    ir::Flow flow = load(sprinkled, syntax);
    // The comments change nothing else.
    ir::Flow plain = load(original, syntax);
    CHECK(ir::same_flow(plain, flow).find("comments") != std::string::npos);

    std::string as_yaml = dsl::format_yaml(flow);
    std::string as_dsl = dsl::format_dsl(flow);
    CHECK(numbers_in(as_yaml) == all);
    CHECK(numbers_in(as_dsl) == all);
    // fmt is stable, and the other syntax reads back as the same flow.
    CHECK(dsl::format_yaml(load(as_yaml, dsl::FlowSyntax::kYaml)) == as_yaml);
    CHECK(dsl::format_dsl(load(as_dsl, dsl::FlowSyntax::kDsl)) == as_dsl);
    CHECK(ir::same_flow(flow, load(as_dsl, dsl::FlowSyntax::kDsl)) == "");
    CHECK(ir::same_flow(flow, load(as_yaml, dsl::FlowSyntax::kYaml)) == "");
    CHECK(numbers_in(dsl::format_yaml(load(as_dsl, dsl::FlowSyntax::kDsl))) == all);
    CHECK(numbers_in(dsl::format_dsl(load(as_yaml, dsl::FlowSyntax::kYaml))) == all);

    // The editor's save: the flow as JSON and back, printed as YAML.
    ir::Diagnostics problems;
    ir::Flow saved = dsl::flow_from_json(dsl::flow_to_json(flow), "t", problems);
    CHECK(!problems.has_errors());
    CHECK(numbers_in(dsl::format_yaml(saved)) == all);
  }
}

TEST_CASE("comments inside nested maps and lists go to the field that holds them") {
  ir::Flow flow = load(R"(flow: f
trigger:
  event: a
  # above key
  key: user.id
exit_on:
  # inside the list
  - b  # on an item
  - c
nodes:
  w:
    type: wait
    until_event:
      # inside until_event
      event: b
    next: c
  c:
    type: coupon
    generate:
      # inside generate
      prefix: X-
    next: e
  e:
    type: exit
# at the end
)",
                       dsl::FlowSyntax::kYaml);
  CHECK(flow.leading_comments ==
        ir::LeadingComments{{"trigger.key", {"above key"}}, {"exit_on", {"inside the list"}}});
  CHECK(flow.field_comments.at("exit_on") == "on an item");
  CHECK(flow.find_node("w")->leading_comments ==
        ir::LeadingComments{{"until_event", {"inside until_event"}}});
  CHECK(flow.find_node("c")->leading_comments ==
        ir::LeadingComments{{"generate", {"inside generate"}}});
  CHECK(flow.closing_comments == ir::Comments{"at the end"});
}

TEST_CASE("a '#' line inside a block scalar is text, not a comment") {
  ir::Flow flow = load(R"(flow: f
trigger:
  event: a
nodes:
  s:
    type: sms
    text: |
      # not a comment
      hi
    # a comment
    next: e
  e:
    type: exit
)",
                       dsl::FlowSyntax::kYaml);
  CHECK(flow.find_node("s")->as<ir::SmsNode>()->text->source == "# not a comment\nhi\n");
  CHECK(flow.find_node("s")->leading_comments == ir::LeadingComments{{"next", {"a comment"}}});
}

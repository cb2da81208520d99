// YAML and DSL are two spellings of one IR: every flow in flows/ exists in both
// and they compile to the same IR; conversions either way are lossless and fmt
// is a fixed point; the checker reports the same problems for both, each at the
// right place in its own file.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "dsl/json_format.h"
#include "dsl/load.h"
#include "tests/dsl/dsl_test_support.h"
#include "tests/dsl/random_flow.h"

namespace fs = std::filesystem;
using namespace trellis;
using dsl::FlowSyntax;

namespace {

std::vector<fs::path> seed_flows() {
  std::vector<fs::path> flows;
  for (const auto& entry : fs::directory_iterator(std::string(TRELLIS_SOURCE_DIR) + "/flows")) {
    // trellis.yaml is the delivery configuration, not a flow.
    if (entry.path().extension() == ".yaml" && entry.path().filename() != "trellis.yaml")
      flows.push_back(entry.path());
  }
  std::sort(flows.begin(), flows.end());
  return flows;
}

ir::Flow load_clean(const std::string& text, const std::string& file, FlowSyntax syntax) {
  dsl::LoadResult result = dsl::load_flow_text(text, file, syntax);
  INFO(file << "\n" << text << dsl::test::render_all(result.diagnostics, text));
  REQUIRE(result.flow);
  REQUIRE_FALSE(result.diagnostics.has_errors());
  return *result.flow;
}

// What a user reads of a diagnostic, without its position.
std::vector<std::string> messages(const ir::Diagnostics& diagnostics) {
  std::vector<std::string> out;
  for (const ir::Diagnostic& d : diagnostics.items()) {
    out.push_back(std::string(ir::severity_name(d.severity)) + ": " + d.message + " [" + d.node +
                  "/" + d.field + "]");
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The text a span covers, without surrounding quotes: a name may need quotes in
// one syntax and not in the other (`flow: my flow`, `flow "my flow"`).
std::string covered(const std::string& source, const ir::SourceSpan& span) {
  if (!span.known()) return "<no position>";
  std::string text = source.substr(span.offset, span.length);
  if (text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
      text.back() == text.front()) {
    text = text.substr(1, text.size() - 2);
  }
  return text;
}

}  // namespace

TEST_CASE("every flow in flows/ exists as .yaml and .flow, and both compile to the same IR") {
  std::vector<fs::path> flows = seed_flows();
  REQUIRE(flows.size() >= 6);
  for (const fs::path& yaml_path : flows) {
    fs::path dsl_path = yaml_path;
    dsl_path.replace_extension(".flow");
    INFO(yaml_path.filename().string());
    REQUIRE(fs::exists(dsl_path));
    ir::Flow from_yaml =
        load_clean(dsl::test::read_file(yaml_path.string()), yaml_path.string(), FlowSyntax::kYaml);
    std::string dsl_text = dsl::test::read_file(dsl_path.string());
    ir::Flow from_dsl = load_clean(dsl_text, dsl_path.string(), FlowSyntax::kDsl);
    CHECK(ir::same_flow(from_yaml, from_dsl) == "");
    // The .flow files are kept canonical (`trellis fmt --check flows/*.flow`).
    CHECK(dsl::format_dsl(from_dsl) == dsl_text);
  }
}

TEST_CASE("example flows convert YAML -> DSL -> YAML and DSL -> YAML -> DSL without loss") {
  for (const fs::path& path : seed_flows()) {
    INFO(path.filename().string());
    ir::Flow original =
        load_clean(dsl::test::read_file(path.string()), "a.yaml", FlowSyntax::kYaml);
    std::string as_dsl = dsl::format_dsl(original);
    ir::Flow via_dsl = load_clean(as_dsl, "b.flow", FlowSyntax::kDsl);
    CHECK(ir::same_flow(original, via_dsl) == "");
    std::string as_yaml = dsl::format_yaml(via_dsl);
    ir::Flow back = load_clean(as_yaml, "c.yaml", FlowSyntax::kYaml);
    CHECK(ir::same_flow(original, back) == "");
    // fmt of its own output changes nothing, in either syntax.
    CHECK(dsl::format_yaml(back) == as_yaml);
    CHECK(dsl::format_dsl(load_clean(dsl::format_yaml(via_dsl), "d.yaml", FlowSyntax::kYaml)) ==
          as_dsl);
    // And through the editor's JSON.
    ir::Diagnostics diagnostics;
    ir::Flow via_json = dsl::flow_from_json(dsl::flow_to_json(original), "e", diagnostics);
    CHECK(diagnostics.empty());
    CHECK(ir::same_flow(original, via_json) == "");
  }
}

TEST_CASE("random flows survive the YAML round trip") {
  dsl::test::RandomFlow random(1123);
  for (int i = 0; i < 200; ++i) {
    ir::Diagnostics generated;
    ir::Flow flow = random.next(generated);
    REQUIRE(generated.empty());
    std::string yaml = dsl::format_yaml(flow);
    ir::Flow back = load_clean(yaml, "random.yaml", FlowSyntax::kYaml);
    INFO("flow #" << i << "\n" << yaml);
    REQUIRE(ir::same_flow(flow, back) == "");
    REQUIRE(dsl::format_yaml(back) == yaml);
    // YAML -> DSL -> YAML ends where it started.
    ir::Flow via_dsl = load_clean(dsl::format_dsl(back), "random.flow", FlowSyntax::kDsl);
    REQUIRE(dsl::format_yaml(via_dsl) == yaml);
  }
}

namespace {

// The checker's findings on `yaml` and on the same flow as `text` agree in
// message, node and field, and each points at the same words in its own file.
void check_same_findings(const std::string& yaml, const std::string& text) {
  dsl::LoadResult from_yaml = dsl::check_flow_text(yaml, "a.yaml", FlowSyntax::kYaml);
  dsl::LoadResult from_dsl = dsl::check_flow_text(text, "a.flow", FlowSyntax::kDsl);
  INFO(dsl::test::render_all(from_yaml.diagnostics, yaml)
       << "---\n"
       << dsl::test::render_all(from_dsl.diagnostics, text));
  CHECK(messages(from_yaml.diagnostics) == messages(from_dsl.diagnostics));
  REQUIRE(from_yaml.diagnostics.items().size() == from_dsl.diagnostics.items().size());
  auto by_message = [](const ir::Diagnostics& diagnostics) {
    std::vector<ir::Diagnostic> items = diagnostics.items();
    std::stable_sort(
        items.begin(), items.end(), [](const ir::Diagnostic& a, const ir::Diagnostic& b) {
          return std::tie(a.message, a.node, a.field) < std::tie(b.message, b.node, b.field);
        });
    return items;
  };
  std::vector<ir::Diagnostic> a = by_message(from_yaml.diagnostics);
  std::vector<ir::Diagnostic> b = by_message(from_dsl.diagnostics);
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].message);
    CHECK(b[i].span.known());
    CHECK(covered(yaml, a[i].span) == covered(text, b[i].span));
  }
}

}  // namespace

TEST_CASE("the checker's golden flows, printed as .flow, get the same findings at the same words") {
  int compared = 0;
  for (const auto& entry :
       fs::directory_iterator(std::string(TRELLIS_SOURCE_DIR) + "/tests/dsl/diagnostics")) {
    if (entry.path().extension() != ".yaml") continue;
    std::string yaml = dsl::test::read_file(entry.path().string());
    dsl::LoadResult loaded = dsl::load_flow_text(yaml, "a.yaml", FlowSyntax::kYaml);
    // Flows the YAML front end rejects have no faithful DSL form; fmt refuses them too.
    if (!loaded.flow || loaded.diagnostics.has_errors()) continue;
    INFO(entry.path().filename().string());
    // Compare against the canonical YAML, so both files say exactly the same.
    std::string canonical = dsl::format_yaml(*loaded.flow);
    check_same_findings(canonical, dsl::format_dsl(*loaded.flow));
    ++compared;
  }
  CHECK(compared >= 8);
}

TEST_CASE("the checker reports the same problems for both syntaxes, each at its token") {
  std::vector<fs::path> flows = seed_flows();
  REQUIRE_FALSE(flows.empty());
  ir::Flow flow =
      load_clean(dsl::test::read_file(flows.front().string()), "a.yaml", FlowSyntax::kYaml);
  // Break it the ways the checker knows: a dangling target, an unreachable node,
  // an empty message, an all-zero A/B split, a wait that waits for nothing.
  flow.start.value = "nowhere";
  ir::Node lonely{"lonely", {}, {}, "", {"never reached"}, ir::SmsNode{}, {}};
  lonely.as<ir::SmsNode>()->next.value = "also_nowhere";
  flow.nodes.push_back(lonely);
  ir::Node split{"split_zero", {}, {}, "", {}, ir::AbNode{}, {}};
  split.as<ir::AbNode>()->variants.push_back(ir::Variant{{"a", {}}, 0, {}, {"lonely", {}}, {}, {}});
  flow.nodes.push_back(split);
  flow.nodes.push_back(ir::Node{"idle", {}, {}, "", {}, ir::WaitNode{}, {}});

  dsl::LoadResult from_yaml =
      dsl::check_flow_text(dsl::format_yaml(flow), "a.yaml", FlowSyntax::kYaml);
  REQUIRE(from_yaml.diagnostics.error_count() >= 4);
  check_same_findings(dsl::format_yaml(flow), dsl::format_dsl(flow));
}

TEST_CASE(
    "event names with spaces (Segment's \"Order Completed\") pass the checker and round-trip") {
  const std::string yaml = R"(flow: spaced
trigger:
  event: Order Completed
  when: event.type == "Order Completed"
exit_on: [Account Deleted, unsubscribe]
goal: Subscription Started
start: wait
nodes:
  wait:
    type: wait
    for: 1d
    until_event: {event: Cart Viewed, where: event.total > 3}
    on_event: done
    next: done
  done: {type: exit}
)";
  ir::Flow from_yaml = load_clean(yaml, "spaced.yaml", FlowSyntax::kYaml);
  CHECK(from_yaml.trigger.event.value == "Order Completed");
  std::string dsl_text = dsl::format_dsl(from_yaml);
  INFO(dsl_text);
  // The DSL quotes names that are not bare words.
  CHECK(dsl_text.find("trigger \"Order Completed\"") != std::string::npos);
  CHECK(dsl_text.find("until_event \"Cart Viewed\"") != std::string::npos);
  ir::Flow from_dsl = load_clean(dsl_text, "spaced.flow", FlowSyntax::kDsl);
  CHECK(ir::same_flow(from_yaml, from_dsl) == "");
  ir::Flow back = load_clean(dsl::format_yaml(from_dsl), "spaced.yaml", FlowSyntax::kYaml);
  CHECK(ir::same_flow(from_yaml, back) == "");
}

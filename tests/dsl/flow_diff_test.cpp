// The diff between two versions of a flow in words on the IR (dsl/flow_diff.h):
// what the version history and the editor's deploy dialog show.
#include "dsl/flow_diff.h"

#include <catch2/catch.hpp>

#include "dsl/load.h"

using namespace trellis;

namespace {

ir::Flow load(const std::string& yaml) {
  auto loaded = dsl::load_flow_text(yaml, "t.yaml", dsl::FlowSyntax::kYaml);
  REQUIRE(loaded.flow.has_value());
  return std::move(*loaded.flow);
}

const char* kBefore = R"(flow: cart
trigger: { event: cart_updated }
goal: order_paid
start: pick
nodes:
  pick: { type: segment, match: user.tier == "gold", yes: split, no: gone }
  split:
    type: ab
    variants:
      a: { weight: 50, next: done }
      b: { weight: 50, next: done }
  gone: { type: wait, for: 1h, next: done }
  done: { type: exit }
)";

std::vector<std::string> texts(const std::vector<dsl::FlowChange>& changes) {
  std::vector<std::string> out;
  for (const auto& c : changes) out.push_back(c.text);
  return out;
}

}  // namespace

TEST_CASE("the same flow has no changes, the first version counts its steps") {
  ir::Flow flow = load(kBefore);
  CHECK(dsl::describe_changes(&flow, flow).empty());
  auto first = dsl::describe_changes(nullptr, flow);
  REQUIRE(first.size() == 1);
  CHECK(first[0].text == "first version, 4 steps");
  CHECK(first[0].kind == dsl::FlowChange::Kind::kAdded);
}

TEST_CASE("changes of fields, nodes, kinds and variants read in words") {
  ir::Flow before = load(kBefore);
  ir::Flow after = load(R"(flow: cart
trigger: { event: cart_updated }
goal: order_completed
start: pick
nodes:
  pick: { type: segment, match: user.tier == "vip", yes: split, no: sms_c }
  split:
    type: ab
    variants:
      b: { weight: 40, next: done }
      a: { weight: 50, next: done }
      c: { weight: 10, next: done }
  sms_c: { type: sms, text: "hi", next: done }
  done: { type: exit }
)");
  auto changes = dsl::describe_changes(&before, after);
  CHECK(texts(changes) == std::vector<std::string>{
                              "flow: goal changed from \"order_paid\" to \"order_completed\"",
                              "node `sms_c` added (SMS)",
                              "node `gone` removed (Wait)",
                              "node `pick`: condition changed from \"user.tier == \"gold\"\" to "
                              "\"user.tier == \"vip\"\"",
                              "node `pick`: no branch changed from \"gone\" to \"sms_c\"",
                              "node `split`: variant `b` weight changed from 50 to 40",
                              "node `split`: variant `c` added",
                          });
  CHECK(changes[1].kind == dsl::FlowChange::Kind::kAdded);
  CHECK(changes[1].node == "sms_c");
  CHECK(changes[2].kind == dsl::FlowChange::Kind::kRemoved);
  CHECK(changes[0].node.empty());
}

TEST_CASE("a node of another kind, a field set or removed, and comments") {
  ir::Flow before = load(R"(flow: f
trigger: { event: e }
start: w
nodes:
  w: { type: wait, for: 1h, next: x }
  x: { type: exit }
)");
  ir::Flow after = load(R"(flow: f
description: Now documented
trigger: { event: e }
start: w
nodes:
  # Why we wait.
  w: { type: wait, until_event: paid, on_event: x, next: x }
  x: { type: sms, text: "bye", next: y }
  y: { type: exit }
)");
  CHECK(texts(dsl::describe_changes(&before, after)) ==
        std::vector<std::string>{
            "flow: description set to \"Now documented\"",
            "node `y` added (Exit)",
            "node `w`: wait time removed (was \"1h\")",
            "node `w`: event branch set to \"x\"",
            "node `w`: waits for event set to \"paid\"",
            "node `w`: comments edited",
            "node `x`: now SMS instead of Exit",
        });
}

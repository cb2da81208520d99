// Graph export: golden Mermaid and DOT for the cart reminder, and the edge
// labels users read.
#include "dsl/graph_export.h"

#include <catch2/catch.hpp>

#include "tests/dsl/flow_test_support.h"

using namespace trellis;

namespace {

ir::Flow cart_reminder() {
  dsl::LoadResult result = dsl::check_flow_file(test::source_path("flows/cart_reminder.yaml"));
  REQUIRE(result.ok());
  return *result.flow;
}

void compare_golden(const std::string& actual, const std::string& relative) {
  std::string path = test::source_path(relative);
  if (test::updating_golden_files()) {
    test::write_text(path, actual);
    return;
  }
  CHECK(actual == test::read_text(path));
}

}  // namespace

TEST_CASE("cart reminder as Mermaid matches the golden file") {
  compare_golden(dsl::to_mermaid(cart_reminder()), "tests/dsl/graph/cart_reminder.mmd");
}

TEST_CASE("cart reminder as DOT matches the golden file") {
  compare_golden(dsl::to_dot(cart_reminder()), "tests/dsl/graph/cart_reminder.dot");
}

TEST_CASE("edges carry their meaning") {
  std::string mermaid = dsl::to_mermaid(cart_reminder());
  CHECK(mermaid.rfind("flowchart TD\n", 0) == 0);
  CHECK(mermaid.find("n_wait_pay -->|\"timeout\"| n_pick") != std::string::npos);
  CHECK(mermaid.find("n_wait_pay -->|\"on_event\"| n_done") != std::string::npos);
  CHECK(mermaid.find("n_pick -->|\"yes\"| n_give_coupon") != std::string::npos);
  CHECK(mermaid.find("n_give_coupon -->|\"on_exhausted\"| n_nudge") != std::string::npos);
  CHECK(mermaid.find("n_nudge -->|\"control 10\"| n_done") != std::string::npos);
  CHECK(mermaid.find("trigger_([\"add_to_cart\"]) --> n_wait_pay") != std::string::npos);
  std::string dot = dsl::to_dot(cart_reminder());
  CHECK(dot.find("\"nudge\" -> \"sms_a\" [label=\"a 45\"];") != std::string::npos);
}

TEST_CASE("ids Mermaid cannot take are renamed, labels escaped") {
  ir::Flow flow;
  flow.name.value = "f";
  flow.start.value = "end";
  ir::Node end{"end", {}, {}, "", {}, ir::SmsNode{}, {}};
  end.as<ir::SmsNode>()->text = ir::Template{"say \"hi\" <b>", {}, {}};
  end.as<ir::SmsNode>()->next.value = "a-b";
  flow.nodes.push_back(end);
  flow.nodes.push_back(ir::Node{"a-b", {}, {}, "", {}, ir::ExitNode{}, {}});
  flow.nodes.push_back(ir::Node{"a_b", {}, {}, "", {}, ir::ExitNode{}, {}});
  std::string mermaid = dsl::to_mermaid(flow);
  CHECK(mermaid.find("n_end[\"end<br/>sms: say #quot;hi#quot; #lt;b#gt;\"]") != std::string::npos);
  CHECK(mermaid.find("n_a_b((") != std::string::npos);
  CHECK(mermaid.find("n_a_b_2((") != std::string::npos);
  CHECK(mermaid.find("n_end --> n_a_b\n") != std::string::npos);
}

TEST_CASE("a local-time wait says when it wakes") {
  dsl::LoadResult result = dsl::check_flow_file(test::source_path("flows/order_followup.yaml"));
  REQUIRE(result.ok());
  std::string mermaid = dsl::to_mermaid(*result.flow);
  CHECK(mermaid.find("wait until 10:00 local on mon,tue,wed,thu,fri") != std::string::npos);
  CHECK(mermaid.find("n_next_weekday_morning -->|\"at 10:00\"| n_followup") != std::string::npos);
}

TEST_CASE("a scheduled flow's entry point reads as its schedule") {
  ir::Flow flow;
  flow.name.value = "sale";
  flow.start.value = "done";
  flow.nodes.push_back(ir::Node{"done", {}, {}, "", {}, ir::ExitNode{}, {}});
  flow.trigger.schedule = ir::Name{"2026-12-24 10:00", {}};
  flow.trigger.every = ir::Name{"week", {}};
  flow.trigger.in_user_time_zone = true;
  flow.trigger.audience = ir::Expression{"user.tier == \"vip\"", {}, {}};
  CHECK(dsl::to_mermaid(flow).find("trigger_([\"at 2026-12-24 10:00 in each user's time, every "
                                   "week for user.tier == #quot;vip#quot;\"]) --> n_done") !=
        std::string::npos);
  CHECK(dsl::to_dot(flow).find("[label=\"at 2026-12-24 10:00 in each user's time, every week for "
                               "user.tier == \\\"vip\\\"\", shape=oval]") != std::string::npos);
  flow.trigger.audience.reset();
  flow.trigger.every.reset();
  flow.trigger.in_user_time_zone = false;
  CHECK(dsl::to_mermaid(flow).find("trigger_([\"at 2026-12-24 10:00 for every profile\"])") !=
        std::string::npos);
}

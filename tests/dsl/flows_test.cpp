// Every seed campaign in flows/ is clean under the checker: no errors and no
// warnings. CTest also runs `trellis check flows/*.yaml` on them.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "tests/dsl/flow_test_support.h"
#include "tests/dsl/spec_example.h"

namespace fs = std::filesystem;
using namespace trellis;

TEST_CASE("every flow in flows/ checks clean") {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(test::source_path("flows"))) {
    // trellis.yaml is the delivery configuration, not a flow.
    if (entry.path().extension() != ".yaml" || entry.path().filename() == "trellis.yaml") continue;
    names.push_back(entry.path().stem().string());
    dsl::LoadResult result = dsl::check_flow_file(entry.path().string());
    INFO(test::render_all(result));
    REQUIRE(result.flow.has_value());
    // The one exception is the cart reminder, the example of docs/flows.md: its wait's `on_event` can never
    // run, as order_paid is also in exit_on (and exit_on comes first).
    if (entry.path().stem() == "cart_reminder") {
      REQUIRE(result.diagnostics.items().size() == 1);
      CHECK(result.diagnostics.items()[0].message.find("'on_event' is never taken") == 0);
    } else {
      CHECK(result.diagnostics.empty());
    }
    // The file is named after its flow, as the server looks flows up by name.
    CHECK(result.flow->name.value == entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  CHECK(names == std::vector<std::string>{"ab_sms_test", "b2b_lead", "browse_abandonment",
                                          "cart_reminder", "loyalty_thanks", "order_followup",
                                          "personalization", "vip_flash_sale", "welcome_series"});
}

TEST_CASE(
    "the cart reminder is the documented example (docs/flows.md), comments included, in canonical form") {
  std::string seed = test::read_text(test::source_path("flows/cart_reminder.yaml"));
  dsl::LoadResult from_seed = test::check_yaml(seed);
  dsl::LoadResult from_spec = test::check_yaml(dsl::test::kSpecCartReminder);
  REQUIRE(from_seed.flow.has_value());
  REQUIRE(from_spec.flow.has_value());
  CHECK(ir::same_flow(*from_spec.flow, *from_seed.flow) == "");
  CHECK(from_spec.flow->field_comments.size() == 6);  // trigger (3), re_entry, exit_on, goal
  CHECK(dsl::format_yaml(*from_spec.flow) == seed);
  CHECK(seed.find("control: { weight: 10, next: done }  # holdout: no message") !=
        std::string::npos);
}

TEST_CASE("the A/B SMS test holds out 10%") {
  dsl::LoadResult result = dsl::check_flow_file(test::source_path("flows/ab_sms_test.yaml"));
  REQUIRE(result.ok());
  const ir::AbNode* ab = result.flow->find_node("split")->as<ir::AbNode>();
  REQUIRE(ab);
  double total = 0;
  double holdout = 0;
  for (const ir::Variant& variant : ab->variants) {
    total += variant.weight;
    if (result.flow->find_node(variant.next.value)->kind() == ir::NodeKind::kExit) {
      holdout += variant.weight;
    }
  }
  CHECK(holdout / total == Approx(0.10));
}

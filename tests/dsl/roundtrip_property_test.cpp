// Property: any valid IR printed in either syntax (or as JSON) reads back as the
// same IR, and printing is a fixed point. Random flows from a fixed seed.
#include <catch2/catch.hpp>

#include "dsl/dsl_loader.h"
#include "dsl/format_dsl.h"
#include "dsl/ir/compare.h"
#include "dsl/json_format.h"
#include "tests/dsl/dsl_test_support.h"
#include "tests/dsl/random_flow.h"

using namespace trellis;

namespace {
constexpr int kFlows = 300;
}

TEST_CASE("random flows survive DSL and JSON round trips") {
  dsl::test::RandomFlow random(20261123);
  for (int i = 0; i < kFlows; ++i) {
    ir::Diagnostics generated;
    ir::Flow flow = random.next(generated);
    REQUIRE(generated.empty());

    std::string text = dsl::format_dsl(flow);
    ir::Diagnostics diagnostics;
    std::optional<ir::Flow> back = dsl::load_dsl(text, "random.flow", diagnostics);
    INFO("flow #" << i << "\n" << text << dsl::test::render_all(diagnostics, text));
    REQUIRE(diagnostics.empty());
    REQUIRE(back);
    REQUIRE(ir::same_flow(flow, *back) == "");
    REQUIRE(dsl::format_dsl(*back) == text);

    ir::Flow from_json = dsl::flow_from_json(dsl::flow_to_json(flow), "random", diagnostics);
    REQUIRE(diagnostics.empty());
    REQUIRE(ir::same_flow(flow, from_json) == "");
  }
}

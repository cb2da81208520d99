#include "dsl/ir/flow.h"

#include <catch2/catch.hpp>

using namespace trellis::ir;

TEST_CASE("node kinds round-trip through their file names") {
  for (NodeKind kind : all_node_kinds()) {
    CHECK(node_kind_from_name(node_kind_name(kind)) == kind);
  }
  CHECK_FALSE(node_kind_from_name("segmnt").has_value());
}

TEST_CASE("edges_of lists every edge slot of a node, set or not") {
  Node ab{"split", {}, {}, "", {}, AbNode{}, {}};
  ab.as<AbNode>()->variants.push_back(Variant{{"a", {}}, 45, {}, {"sms_a", {}}, {}, {}});
  ab.as<AbNode>()->variants.push_back(Variant{{"control", {}}, 10, {}, {"", {}}, {}, {}});
  auto edges = edges_of(ab);
  REQUIRE(edges.size() == 2);
  CHECK(edges[0].label == "a");
  CHECK(edges[0].target->value == "sms_a");
  CHECK(edges[1].target->empty());

  Node wait{"w", {}, {}, "", {}, WaitNode{}, {}};
  auto wait_edges = edges_of(wait);
  REQUIRE(wait_edges.size() == 2);
  CHECK(wait_edges[0].label == "next");
  CHECK(wait_edges[1].label == "on_event");
}

// Builds flows in code for the node tests, parsing expressions and templates
// with the real parser, and a journey view over owned records.
#pragma once

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <utility>

#include "dsl/expr/value.h"
#include "dsl/ir/flow.h"
#include "dsl/parse.h"
#include "nodes/compiled_flow.h"
#include "nodes/node.h"

namespace trellis::nodes::testing {

inline ir::Expression expression(const std::string& source) {
  ir::Diagnostics diagnostics;
  ir::Expression result = dsl::parse_expression(source, {}, "test", diagnostics);
  INFO(source);
  REQUIRE_FALSE(diagnostics.has_errors());
  return result;
}

inline ir::Template text(const std::string& source) {
  ir::Diagnostics diagnostics;
  ir::Template result = dsl::parse_template(source, {}, "test", diagnostics);
  INFO(source);
  REQUIRE_FALSE(diagnostics.has_errors());
  return result;
}

inline ir::Name name(const std::string& value) { return ir::Name{value, {}}; }

inline ir::Duration duration(int64_t seconds, std::string source) {
  return ir::Duration{seconds, std::move(source), {}};
}

inline ir::Variant variant(const std::string& variant_name, double weight,
                           const std::string& next) {
  ir::Variant result;
  result.name = name(variant_name);
  result.weight = weight;
  result.next = name(next);
  return result;
}

inline ir::Node node(const std::string& id, ir::NodeBody body) {
  ir::Node result;
  result.id = id;
  result.body = std::move(body);
  return result;
}

inline ir::Flow flow_of(const std::string& flow_name, std::vector<ir::Node> nodes) {
  ir::Flow flow;
  flow.name = name(flow_name);
  flow.trigger.event = name("add_to_cart");
  flow.start = name(nodes.empty() ? std::string() : nodes.front().id);
  flow.nodes = std::move(nodes);
  flow.nodes.push_back(node("done", ir::ExitNode{}));
  return flow;
}

inline std::unique_ptr<CompiledFlow> compile(ir::Flow flow, int64_t version = 1) {
  auto compiled = CompiledFlow::compile(std::move(flow), version);
  INFO((compiled.ok() ? std::string() : compiled.error().message));
  REQUIRE(compiled.ok());
  return std::move(compiled).value();
}

constexpr Millis kNow = 1'795'428'000'000;  // 2026-11-23T10:00:00Z

// A journey with an owned profile and trigger event.
struct Journey {
  std::string id = "j1";
  std::string user = "u1";
  expr::Record profile;
  expr::Record trigger_properties;
  EventView trigger{"e1", "add_to_cart", kNow, nullptr};
  std::string coupon_code;
  std::optional<std::string> coupon_here;
  uint32_t visit = 1;
  Millis now = kNow;
  std::string default_timezone = "UTC";

  JourneyView view(const CompiledFlow& flow) {
    trigger.properties = &trigger_properties;
    JourneyView view;
    view.journey_id = id;
    view.flow = flow.name();
    view.flow_version = flow.version();
    view.user_id = user;
    view.profile = &profile;
    view.trigger_event = &trigger;
    view.coupon_code = coupon_code;
    if (coupon_here) view.coupon_given_here = *coupon_here;
    view.visit = visit;
    view.now = now;
    view.default_timezone = default_timezone;
    return view;
  }

  Decision run(const CompiledFlow& flow, std::string_view node_id, const Input& input) {
    return decide(flow, node_id, view(flow), input);
  }
};

}  // namespace trellis::nodes::testing

// Test helpers: parse an expression with the real parser and compile it.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "dsl/expr/program.h"
#include "dsl/parse.h"

namespace trellis::testing {

inline expr::Program compile(const std::string& source) {
  ir::Diagnostics diagnostics;
  ir::Expression parsed = dsl::parse_expression(source, {1, 1, 0, 0}, "t", diagnostics);
  INFO(source);
  REQUIRE(parsed.tree.has_value());
  return expr::Program::compile(*parsed.tree);
}

// 2026-11-23T10:00:00Z, the clock of every test scope.
constexpr double kNow = 1795428000;

}  // namespace trellis::testing

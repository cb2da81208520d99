// Random valid flows for property tests: every construct of docs/flows.md, names and
// strings that need quoting in one syntax or the other, comments everywhere the
// IR keeps them. Seeded, so a failure reproduces.
#pragma once

#include <random>
#include <string>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl::test {

class RandomFlow {
 public:
  explicit RandomFlow(uint32_t seed) : random_(seed) {}

  // REQUIRES: the expression, template and duration parsers accept what this
  // generates (the test checks that the diagnostics stay empty).
  ir::Flow next(ir::Diagnostics& diagnostics);

 private:
  size_t pick(size_t count) { return std::uniform_int_distribution<size_t>(0, count - 1)(random_); }
  bool chance(int percent) { return static_cast<int>(pick(100)) < percent; }

  std::string name();
  std::string text(bool allow_newlines);
  std::string comment();
  ir::Comments comments();
  // Sometimes an end-of-line comment on `field`, when the printers write its line.
  void note(ir::FieldComments& notes, const std::string& field, bool printed = true);
  void notes_of(ir::Node& node);
  std::string path();
  std::string literal();
  std::string expression(int depth);
  std::string template_source();
  std::string duration();
  ir::LocalTimeOfDay time_of_day();
  std::string weekday();
  std::string priority();
  ir::Node node(const std::string& id, ir::Diagnostics& diagnostics);

  std::mt19937 random_;
  std::vector<std::string> ids_;
};

}  // namespace trellis::dsl::test

// Robustness: thousands of mutated .flow files through the DSL front end. None
// may crash or hang; whatever it accepts must print and read back as the same
// IR; and mutations that surely break the syntax must yield a diagnostic.
#include <catch2/catch.hpp>
#include <filesystem>
#include <random>

#include "dsl/dsl_loader.h"
#include "dsl/format_dsl.h"
#include "dsl/ir/compare.h"
#include "tests/dsl/dsl_test_support.h"

using namespace trellis;

namespace {

constexpr int kMutantsPerSeed = 500;

const std::vector<std::string> kTokens = {
    "{",    "}",    "->",     ":",   ",", "(",  ")", "[",  "]",  "\"", "'", "#",    "==", "=",
    "next", "flow", "weight", "72h", "-", "\n", " ", "{{", "}}", "\\", "é", "wait", "ab"};

std::string mutate(std::string text, std::mt19937& random) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  size_t edits = 1 + pick(3);
  for (size_t e = 0; e < edits && !text.empty(); ++e) {
    size_t at = pick(text.size());
    switch (pick(5)) {
      case 0:
        text.erase(at, 1 + pick(8));
        break;
      case 1:
        text.insert(at, kTokens[pick(kTokens.size())]);
        break;
      case 2:
        text.insert(at, text.substr(pick(text.size()), pick(40)));
        break;  // duplicate a piece
      case 3:
        text[at] = static_cast<char>(pick(256));
        break;  // any byte
      default:
        text.resize(at);
        break;  // truncate
    }
  }
  return text;
}

// Mutations after which the file cannot be valid.
std::string surely_broken(std::string text, std::mt19937& random) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(random); };
  // Lines that open a node block; cutting the file right after one leaves it open.
  std::vector<size_t> braces;
  for (size_t i = text.find(" {\n"); i != std::string::npos; i = text.find(" {\n", i + 1)) {
    braces.push_back(i + 2);
  }
  switch (pick(3)) {
    case 0:
      return text.substr(0, braces[pick(braces.size())]);
    case 1: {
      // A stray character outside strings and comments: at the start of a line.
      std::vector<size_t> lines;
      for (size_t i = text.find('\n'); i != std::string::npos; i = text.find('\n', i + 1))
        lines.push_back(i + 1);
      text.insert(lines[pick(lines.size())], "@");
      return text;
    }
    default: {
      size_t at = braces[pick(braces.size())];
      text.insert(at, "  next -> \n");  // an arrow without a target
      return text;
    }
  }
}

}  // namespace

TEST_CASE("mutated .flow files never crash the DSL front end") {
  std::vector<std::string> seeds = {
      dsl::test::read_file(dsl::test::test_data("format/cart_reminder.flow")),
      dsl::test::read_file(dsl::test::test_data("format/shapes.flow"))};
  for (const auto& entry :
       std::filesystem::directory_iterator(std::string(TRELLIS_SOURCE_DIR) + "/flows")) {
    if (entry.path().extension() == ".flow")
      seeds.push_back(dsl::test::read_file(entry.path().string()));
  }
  REQUIRE(seeds.size() >= 8);
  std::mt19937 random(4);
  int accepted = 0;
  int rejected = 0;
  for (const std::string& seed : seeds) {
    for (int i = 0; i < kMutantsPerSeed; ++i) {
      std::string mutant = mutate(seed, random);
      ir::Diagnostics diagnostics;
      std::optional<ir::Flow> flow = dsl::load_dsl(mutant, "mutant.flow", diagnostics);
      if (diagnostics.has_errors()) {
        ++rejected;
        for (const ir::Diagnostic& d : diagnostics.items()) {
          INFO(mutant);
          REQUIRE_FALSE(d.message.empty());
          REQUIRE(d.span.offset <= mutant.size());
        }
        continue;
      }
      ++accepted;
      REQUIRE(flow);
      std::string canonical = dsl::format_dsl(*flow);
      ir::Diagnostics again;
      std::optional<ir::Flow> back = dsl::load_dsl(canonical, "canonical.flow", again);
      INFO(mutant << "\n---\n" << canonical);
      REQUIRE(again.empty());
      REQUIRE(back);
      REQUIRE(ir::same_flow(*flow, *back) == "");
    }
  }
  // Both kinds occur, so both branches above were exercised.
  CHECK(accepted > 100);
  CHECK(rejected > 2000);
}

TEST_CASE("surely broken .flow files each get a diagnostic") {
  std::string seed = dsl::test::read_file(dsl::test::test_data("format/cart_reminder.flow"));
  std::mt19937 random(7);
  for (int i = 0; i < 500; ++i) {
    std::string mutant = surely_broken(seed, random);
    ir::Diagnostics diagnostics;
    (void)dsl::load_dsl(mutant, "mutant.flow", diagnostics);
    INFO(mutant);
    REQUIRE(diagnostics.has_errors());
  }
}

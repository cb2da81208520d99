// Thousands of mutated expressions and templates: the parsers never crash or
// throw, a failed parse always says why, and every diagnostic points inside
// the string it came from.
#include <catch2/catch.hpp>
#include <random>

#include "dsl/expr_types.h"
#include "dsl/parse.h"

using trellis::ir::Diagnostics;
using trellis::ir::SourceSpan;

namespace {

const char* const kCorpus[] = {
    "user.age > 30 and \"education\" in user.interests and not user.paid",
    "event.value >= 20 or last_event.type == \"x\"",
    "days_since(user.signed_up_at) > 7 and has(user.email)",
    "now - event.time > 72h",
    "user.plan in [\"pro\", 'team', 3, true, null]",
    "-(user.a + 2) * 3 % 4 / 5 != 1e3",
    "Hi {{user.first_name | default: \"there\"}}, use {{coupon.code}}",
};

const char kAlphabet[] = " .,()[]{}|:\"'\\=!<>&+-*/%#@$_aeinotu0179hdPT\n\t";

std::string mutate(std::string text, std::mt19937& random) {
  int edits = 1 + static_cast<int>(random() % 3);
  for (int i = 0; i < edits; ++i) {
    size_t at = text.empty() ? 0 : random() % (text.size() + 1);
    char c = kAlphabet[random() % (sizeof kAlphabet - 1)];
    switch (random() % 3) {
      case 0:
        text.insert(text.begin() + static_cast<long>(at), c);
        break;
      case 1:
        if (at < text.size()) text.erase(at, 1);
        break;
      default:
        if (at < text.size()) text[at] = c;
    }
  }
  return text;
}

void check_positions(const Diagnostics& diagnostics, const SourceSpan& at,
                     const std::string& source) {
  uint32_t lines = 1 + static_cast<uint32_t>(std::count(source.begin(), source.end(), '\n'));
  for (const auto& d : diagnostics.items()) {
    CHECK(d.span.line >= at.line);
    CHECK(d.span.line < at.line + lines);
    CHECK(d.span.offset >= at.offset);
    CHECK(d.span.offset + d.span.length <= at.offset + source.size());
    CHECK_FALSE(d.message.empty());
  }
}

}  // namespace

TEST_CASE("mutated expressions parse or say why, with positions inside the string") {
  std::mt19937 random(2026);
  const SourceSpan at{5, 10, 200, 0};
  int failures = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string source = mutate(kCorpus[round % 6], random);
    INFO(source);
    Diagnostics diagnostics;
    auto parsed = trellis::dsl::parse_expression(source, at, "f.yaml", diagnostics);
    if (parsed.tree) {
      CHECK_FALSE(diagnostics.has_errors());
      trellis::dsl::check_types(*parsed.tree, "f.yaml", diagnostics);
    } else {
      CHECK(diagnostics.has_errors());
      ++failures;
    }
    check_positions(diagnostics, at, source);
  }
  CHECK(failures > 1000);  // the mutations do break most expressions
}

TEST_CASE("mutated templates parse or say why, with positions inside the string") {
  std::mt19937 random(7);
  const SourceSpan at{2, 8, 40, 0};
  for (int round = 0; round < 2000; ++round) {
    std::string source = mutate(kCorpus[6], random);
    INFO(source);
    Diagnostics diagnostics;
    trellis::dsl::parse_template(source, at, "f.yaml", diagnostics);
    check_positions(diagnostics, at, source);
  }
}

// Every finding of the checker has a plain sentence for the editor: the test
// reads the codes the checker and the expression type checks give from their
// sources, so a new code without a sentence fails here.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cctype>
#include <regex>
#include <set>

#include "dsl/plain_words.h"
#include "tests/dsl/flow_test_support.h"

using namespace trellis;

namespace {

std::set<std::string> codes_in(const std::string& relative, const std::string& call) {
  std::string text = test::read_text(test::source_path(relative));
  std::set<std::string> codes;
  std::regex pattern("\\b" + call + "\\(\\s*\"([a-z_]+)\"");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), pattern);
       it != std::sregex_iterator(); ++it)
    codes.insert((*it)[1]);
  return codes;
}

std::set<std::string> codes_given() {
  std::set<std::string> codes = codes_in("dsl/checker.cpp", "error");
  codes.merge(codes_in("dsl/checker.cpp", "warning"));
  codes.merge(codes_in("dsl/expr_types.cpp", "warn"));
  codes.merge(codes_in("dsl/known_names.cpp", "warning"));
  return codes;
}

}  // namespace

TEST_CASE("every checker code has one plain sentence, and every sentence a code in use") {
  std::set<std::string> given = codes_given();
  REQUIRE(given.size() >= 50);
  std::set<std::string> table;
  for (const dsl::PlainWords& words : dsl::plain_words()) {
    INFO(words.code);
    CHECK(table.insert(std::string(words.code)).second);
    CHECK(given.count(std::string(words.code)) == 1);
    // A marketer's words: no code quotes, no YAML keys to add.
    std::string sentence(words.sentence);
    CHECK(!sentence.empty());
    CHECK(sentence.find('`') == std::string::npos);
    CHECK(sentence.find(":'") == std::string::npos);
    bool starts_well = std::isupper(static_cast<unsigned char>(sentence[0])) != 0 ||
                       sentence[0] == '{' || sentence[0] == '\'';
    CHECK(starts_well);
  }
  for (const std::string& code : given) {
    INFO(code);
    CHECK(table.count(code) == 1);
  }
}

TEST_CASE("the checker's findings carry their code and read plainly") {
  dsl::LoadResult result = test::check_yaml(R"(flow: t
trigger: {event: signup}
start: wait_1
nodes:
  wait_1: {type: wait, for: 1h}
  mail: {type: email, subject: "", body: "Hi", next: done}
  done: {type: exit}
)");
  std::vector<std::string> plain;
  for (const ir::Diagnostic& d : result.diagnostics.items()) {
    INFO(d.message);
    CHECK(!d.code.empty());
    plain.push_back(dsl::plain_sentence(d));
  }
  CHECK(std::count(plain.begin(), plain.end(), "Connect 'Wait 1' to the next step.") == 1);
  CHECK(std::count(plain.begin(), plain.end(), "Write the subject of 'Mail'.") == 1);
  CHECK(std::count(plain.begin(), plain.end(),
                   "No arrow leads to 'Mail': connect it or remove it.") == 1);
}

TEST_CASE("a missing arrow reads as an arrow to draw, a missing value as a field to fill") {
  ir::Diagnostic next{
      ir::Severity::kError, "f", {}, "sms node 'sms_a' needs 'next'", "sms_a", "next",
      "missing_field"};
  CHECK(dsl::plain_sentence(next) == "Connect 'Sms a' to the next step.");
  ir::Diagnostic yes = next;
  yes.field = "yes";
  CHECK(dsl::plain_sentence(yes) == "Connect 'Sms a' to the step for users who match.");
  ir::Diagnostic text = next;
  text.field = "text";
  CHECK(dsl::plain_sentence(text) == "Fill in the message text of 'Sms a'.");
  // A front end's syntax error has no code: its message, without code quotes.
  ir::Diagnostic syntax{ir::Severity::kError, "f", {}, "write `after 30d`", "", "", ""};
  CHECK(dsl::plain_sentence(syntax) == "write after 30d");
  CHECK(dsl::node_label("wait_1") == "Wait 1");
}

#include "dsl/ir/quoted.h"

#include <catch2/catch.hpp>
#include <string>

using trellis::ir::append_quoted;
using trellis::ir::QuoteStyle;

namespace {

std::string quoted(std::string_view text, QuoteStyle style, char quote = '"') {
  std::string out = "<";
  append_quoted(out, text, style, quote);
  return out;
}

}  // namespace

TEST_CASE("every style escapes the quote, backslash, newline, tab and carriage return") {
  for (QuoteStyle style : {QuoteStyle::kJson, QuoteStyle::kYaml, QuoteStyle::kExpression}) {
    CHECK(quoted("plain text", style) == "<\"plain text\"");
    CHECK(quoted("", style) == "<\"\"");
    CHECK(quoted("say \"hi\"\\\n\t\r", style) == "<\"say \\\"hi\\\"\\\\\\n\\t\\r\"");
  }
}

TEST_CASE("styles differ only in other control characters") {
  const std::string text = std::string("a\x01") + "b\x7f" + "c\x1f";
  CHECK(quoted(text, QuoteStyle::kJson) ==
        "<\"a\\u0001b\x7f"
        "c\\u001f\"");
  CHECK(quoted(text, QuoteStyle::kYaml) == "<\"a\\x01b\\x7fc\\x1f\"");
  CHECK(quoted(text, QuoteStyle::kExpression) == "<\"" + text + "\"");
}

TEST_CASE("a single-quoted literal escapes the single quote, not the double one") {
  CHECK(quoted("it's \"x\"", QuoteStyle::kExpression, '\'') == "<'it\\'s \"x\"'");
}

TEST_CASE("bytes from 0x80 up are copied unchanged") {
  CHECK(quoted("Zo\xc3\xab \xff", QuoteStyle::kJson) == "<\"Zo\xc3\xab \xff\"");
}

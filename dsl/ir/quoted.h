// Strings written as double- (or single-) quoted literals, for every format
// Trellis prints: JSON (step history, node schemas), YAML flow files, the flow
// DSL and expressions. One escaper, so the formats agree on what needs escaping
// (the quote, backslash, newline, tab, carriage return); they differ only in
// how they write other control characters.
#pragma once

#include <string>
#include <string_view>

namespace trellis::ir {

enum class QuoteStyle {
  kJson,        // other control characters as \u00XX
  kYaml,        // other control characters and DEL as \xXX
  kExpression,  // other control characters as they are (expressions and the DSL read them back)
};

// Appends `text` between `quote` characters, escaped for `style`. Bytes from
// 0x80 up are copied unchanged: callers writing JSON check UTF-8 themselves.
void append_quoted(std::string& out, std::string_view text, QuoteStyle style, char quote = '"');

}  // namespace trellis::ir

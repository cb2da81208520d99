#include "dsl/ir/quoted.h"

namespace trellis::ir {

namespace {

bool needs_escape(unsigned char c, QuoteStyle style, char quote) {
  if (c == static_cast<unsigned char>(quote) || c == '\\') return true;
  if (c < 0x20) return style != QuoteStyle::kExpression || c == '\n' || c == '\t' || c == '\r';
  return c == 0x7f && style == QuoteStyle::kYaml;
}

void append_escape(std::string& out, unsigned char c, QuoteStyle style) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '\\';
  switch (c) {
    case '\n':
      out += 'n';
      return;
    case '\t':
      out += 't';
      return;
    case '\r':
      out += 'r';
      return;
  }
  if (c >= 0x20 && c != 0x7f) {  // the quote or the backslash
    out += static_cast<char>(c);
    return;
  }
  out += style == QuoteStyle::kJson ? "u00" : "x";
  out += kHex[c >> 4];
  out += kHex[c & 0xf];
}

}  // namespace

// Copies runs of plain characters at once: a character at a time showed in
// profiles of the step history, which is mostly plain text.
void append_quoted(std::string& out, std::string_view text, QuoteStyle style, char quote) {
  out += quote;
  size_t plain = 0;  // start of the current run of plain characters
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (!needs_escape(c, style, quote)) continue;
    out.append(text, plain, i - plain);
    append_escape(out, c, style);
    plain = i + 1;
  }
  out.append(text, plain, std::string_view::npos);
  out += quote;
}

}  // namespace trellis::ir

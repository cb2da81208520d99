#include "dsl/string_literal.h"

#include <cstdint>

namespace trellis::dsl {
namespace {

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

uint32_t hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 16;
}

}  // namespace

std::string decode_string_literal(std::string_view quoted, const EscapeErrorSink& on_error) {
  std::string out;
  out.reserve(quoted.size());
  for (size_t i = 1; i + 1 < quoted.size(); ++i) {
    if (quoted[i] != '\\') {
      out += quoted[i];
      continue;
    }
    char escaped = quoted[++i];
    switch (escaped) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '"':
      case '\'':
      case '\\':
      case '/':
        out += escaped;
        break;
      case 'u': {
        uint32_t code_point = 0;
        bool ok = i + 4 < quoted.size();
        for (size_t k = 1; ok && k <= 4; ++k) {
          uint32_t digit = hex_digit(quoted[i + k]);
          ok = digit < 16;
          code_point = code_point * 16 + digit;
        }
        if (!ok) {
          on_error(EscapeError::kBadUnicode, i - 1, escaped);
          break;
        }
        append_utf8(out, code_point);
        i += 4;
        break;
      }
      default:
        on_error(EscapeError::kUnknown, i - 1, escaped);
    }
  }
  return out;
}

}  // namespace trellis::dsl

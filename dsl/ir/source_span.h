// Positions in a flow's source text. Every IR element carries one so that any
// consumer (checker, runtime, editor) can point a user at the exact token.
#pragma once

#include <cstdint>

namespace trellis::ir {

// A half-open range of one line or more in one source file. Lines and columns are
// 1-based, as editors show them; `line == 0` means "no position" (for elements built
// in memory, e.g. by the editor, before they are printed to a file).
struct SourceSpan {
  uint32_t line = 0;
  uint32_t column = 0;
  uint32_t offset = 0;  // byte offset of the first character in the file
  uint32_t length = 0;  // bytes; 0 for a point

  bool known() const { return line != 0; }
  // A span starting `columns` characters to the right on the same line, for
  // positions inside a string (an expression inside a YAML scalar, say).
  SourceSpan shifted(uint32_t columns, uint32_t new_length) const {
    return SourceSpan{line, column + columns, offset + columns, new_length};
  }
};

}  // namespace trellis::ir

// Internal to trellis_dsl: byte offsets in a source text to 1-based lines and
// columns, and where each character of a YAML scalar's value sits in the file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/source_span.h"

namespace trellis::dsl {

class SourceText {
 public:
  explicit SourceText(std::string_view text);

  // Columns count code points, as editors do. The span is clipped to the line
  // of `begin` so carets stay on the quoted line.
  ir::SourceSpan span(size_t begin, size_t end) const;
  ir::SourceSpan point(size_t offset) const { return span(offset, offset); }
  // 0-based line index of `offset`.
  size_t line_index(size_t offset) const;
  size_t line_count() const { return starts_.size(); }
  std::string_view line(size_t index) const;  // without the line break
  size_t line_start(size_t index) const { return starts_[index]; }
  std::string_view text() const { return text_; }

 private:
  std::string_view text_;
  std::vector<size_t> starts_;
  // Offsets of UTF-8 continuation bytes, ascending: a column is the byte
  // distance from the line start minus those in between, so span() costs a
  // binary search instead of a rescan of the line (linear parsing of long lines).
  std::vector<uint32_t> continuations_;
};

// Where a scalar's decoded value sits in the file. yaml-cpp gives the value
// and the token's start; quotes, escapes, folding and block scalars move
// characters around, so each value byte is aligned with its source byte.
struct ScalarLayout {
  std::vector<uint32_t> offsets;  // file offset of each byte of the value
  size_t token_begin = 0;         // the token as written, quotes included
  size_t token_end = 0;
  size_t content_begin = 0;  // where the value's first byte sits (or would)
};

// REQUIRES: `token_begin` is the mark of the scalar whose value is `value`.
ScalarLayout layout_scalar(const SourceText& source, size_t token_begin, const std::string& value);

// Moves a span that a parser computed as if `value` sat at `base` (a straight
// run of bytes from layout.content_begin) to where those bytes really are.
ir::SourceSpan remap_span(const SourceText& source, const ScalarLayout& layout,
                          const ir::SourceSpan& base, const ir::SourceSpan& span);

// The end-of-line comment of each line of a YAML text (by 0-based line index),
// without `#` and one following space: a `#` after white space that follows
// content on the line. A `#` inside a quoted scalar or on a line of a block
// scalar (`|`, `>`) is text, not a comment; lines that hold only a comment
// have none here (the loader reads those as comments above a key).
std::vector<std::optional<std::string>> end_of_line_comments(const SourceText& source);

}  // namespace trellis::dsl

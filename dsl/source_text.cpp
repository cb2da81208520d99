#include "dsl/source_text.h"

#include <algorithm>

namespace trellis::dsl {

SourceText::SourceText(std::string_view text) : text_(text) {
  starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') starts_.push_back(i + 1);
    if ((static_cast<unsigned char>(text_[i]) & 0xC0) == 0x80)
      continuations_.push_back(static_cast<uint32_t>(i));
  }
}

size_t SourceText::line_index(size_t offset) const {
  auto after = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<size_t>(after - starts_.begin()) - 1;
}

std::string_view SourceText::line(size_t index) const {
  if (index >= starts_.size()) return {};
  size_t begin = starts_[index];
  size_t end = index + 1 < starts_.size() ? starts_[index + 1] - 1 : text_.size();
  std::string_view text = text_.substr(begin, end - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

ir::SourceSpan SourceText::span(size_t begin, size_t end) const {
  begin = std::min(begin, text_.size());
  end = std::clamp(end, begin, text_.size());
  size_t index = line_index(begin);
  size_t line_end = starts_[index] + line(index).size();
  end = std::min(end, std::max(line_end, begin));
  // Count code points: UTF-8 continuation bytes do not start a column.
  auto continuations_before = [this](size_t offset) {
    return static_cast<size_t>(
        std::lower_bound(continuations_.begin(), continuations_.end(), offset) -
        continuations_.begin());
  };
  size_t continuations = continuations_before(begin) - continuations_before(starts_[index]);
  auto column = static_cast<uint32_t>(begin - starts_[index] - continuations + 1);
  return ir::SourceSpan{static_cast<uint32_t>(index + 1), column, static_cast<uint32_t>(begin),
                        static_cast<uint32_t>(end - begin)};
}

namespace {

enum class ScalarStyle { kPlain, kSingle, kDouble, kBlock };

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

size_t utf8_length(uint32_t code_point) {
  if (code_point < 0x80) return 1;
  if (code_point < 0x800) return 2;
  if (code_point < 0x10000) return 3;
  return 4;
}

struct Escape {
  size_t consumed;  // source bytes, backslash included
  size_t emitted;   // value bytes
};

// A backslash escape of a double-quoted scalar starting at `at`.
Escape read_escape(std::string_view text, size_t at) {
  char kind = text[at + 1];
  size_t digits = kind == 'x' ? 2 : kind == 'u' ? 4 : kind == 'U' ? 8 : 0;
  if (digits > 0) {
    uint32_t code_point = 0;
    size_t read = 0;
    while (read < digits && at + 2 + read < text.size() && hex_value(text[at + 2 + read]) >= 0) {
      code_point = code_point * 16 + static_cast<uint32_t>(hex_value(text[at + 2 + read]));
      ++read;
    }
    return {2 + read, kind == 'x' ? 1 : utf8_length(code_point)};
  }
  if (kind == '\n' || kind == '\r') return {2, 0};  // escaped line break: joins lines
  if (kind == 'N' || kind == '_') return {2, 2};    // U+0085, U+00A0
  if (kind == 'L' || kind == 'P') return {2, 3};    // U+2028, U+2029
  return {2, 1};
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

ScalarLayout layout_scalar(const SourceText& source, size_t token_begin, const std::string& value) {
  std::string_view text = source.text();
  ScalarLayout layout;
  token_begin = std::min(token_begin, text.size());
  layout.token_begin = token_begin;
  ScalarStyle style = ScalarStyle::kPlain;
  size_t j = token_begin;
  if (j < text.size()) {
    char first = text[j];
    if (first == '"') style = ScalarStyle::kDouble, ++j;
    if (first == '\'') style = ScalarStyle::kSingle, ++j;
    if (first == '|' || first == '>') {
      style = ScalarStyle::kBlock;
      size_t line_break = text.find('\n', j);
      j = line_break == std::string_view::npos ? text.size() : line_break + 1;
    }
  }
  layout.content_begin = j;
  layout.offsets.reserve(value.size());
  size_t i = 0;
  auto map_to = [&](size_t offset) {
    layout.offsets.push_back(static_cast<uint32_t>(offset));
    ++i;
  };
  while (i < value.size() && j < text.size()) {
    char c = text[j];
    if (style == ScalarStyle::kDouble && c == '\\' && j + 1 < text.size()) {
      Escape escape = read_escape(text, j);
      for (size_t k = 0; k < escape.emitted && i < value.size(); ++k) map_to(j);
      j += escape.consumed;
      continue;
    }
    if (style == ScalarStyle::kSingle && c == '\'' && j + 1 < text.size() && text[j + 1] == '\'') {
      map_to(j);
      j += 2;
      continue;
    }
    bool closing =
        (style == ScalarStyle::kDouble && c == '"') || (style == ScalarStyle::kSingle && c == '\'');
    if (closing) break;
    if (is_space(c) && c != value[i]) {
      ++j;  // indentation or a folded line break
    } else if (c != value[i] && is_space(value[i])) {
      map_to(j > 0 ? j - 1 : 0);  // whitespace that folding made from a line break
    } else {
      // The same byte, or (which should not happen) a mismatch: either way
      // both move on, so positions stay near.
      map_to(j);
      ++j;
    }
  }
  size_t last = std::min(j, text.size());
  while (layout.offsets.size() < value.size())
    layout.offsets.push_back(static_cast<uint32_t>(last));
  layout.token_end = last;
  bool quoted = style == ScalarStyle::kDouble || style == ScalarStyle::kSingle;
  if (quoted && last < text.size() && text[last] == text[token_begin]) layout.token_end = last + 1;
  if (style == ScalarStyle::kBlock) layout.token_end = token_begin + 1;  // point at `|` or `>`
  return layout;
}

// Just after the value's last visible character: "expected ... at end" points
// there, not at the line break a folded or block scalar ends with.
size_t end_of_value(const SourceText& source, const ScalarLayout& layout) {
  std::string_view text = source.text();
  for (size_t i = layout.offsets.size(); i > 0; --i) {
    size_t offset = layout.offsets[i - 1];
    if (offset < text.size() && !is_space(text[offset])) return offset + 1;
  }
  return layout.content_begin;
}

ir::SourceSpan remap_span(const SourceText& source, const ScalarLayout& layout,
                          const ir::SourceSpan& base, const ir::SourceSpan& span) {
  if (!span.known() || span.offset < base.offset) return span;
  size_t index = span.offset - base.offset;
  size_t count = layout.offsets.size();
  if (index > count) return span;
  if (count == 0) return source.point(layout.content_begin);
  size_t begin = index < count ? layout.offsets[index] : end_of_value(source, layout);
  size_t end_index = std::min(index + span.length, count);
  size_t end = end_index > index ? layout.offsets[end_index - 1] + 1 : begin;
  return source.span(begin, std::max(begin, end));
}

namespace {

// What the scan of one line carries over to the next.
struct ScanState {
  char quote = 0;           // inside a quoted scalar that spans lines
  int flow_depth = 0;       // inside `[...]` or `{...}`
  bool in_block = false;    // inside a block scalar's lines
  size_t block_parent = 0;  // indentation of the line that opened it
};

size_t indentation(std::string_view line) {
  size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos ? line.size() : first;
}

// A quote or bracket opens a node only where one may start: at the start of
// the line, after `key:`, after a leading `- ` or `? `, or after `[`, `{`, `,`
// inside a flow collection; in `don't` or `see [1]` it is text. `before` is
// the last non-blank byte before it on the line (npos: none), which the
// caller tracks as it goes so a line is scanned once.
bool opens_node(std::string_view line, size_t before, size_t indent, int flow_depth) {
  if (before == std::string_view::npos) return true;
  char c = line[before];
  if (c == ':') return true;
  if (c == '-' || c == '?') return before == indent;
  return flow_depth > 0 && (c == '[' || c == '{' || c == ',');
}

// `|`, `>-`, `|2+`: a value that starts a block scalar on the next lines.
bool opens_block(std::string_view content) {
  while (!content.empty() && (content.back() == ' ' || content.back() == '\t'))
    content.remove_suffix(1);
  size_t start = content.find_last_of(" \t");
  std::string_view word = start == std::string_view::npos ? content : content.substr(start + 1);
  if (word.empty() || (word[0] != '|' && word[0] != '>')) return false;
  return word.size() <= 3 &&
         word.substr(1).find_first_not_of("+-0123456789") == std::string_view::npos;
}

std::optional<std::string> scan_line(std::string_view line, ScanState& state) {
  const size_t indent = indentation(line);
  size_t comment = std::string_view::npos;
  size_t before = std::string_view::npos;  // last non-blank byte before i
  size_t seen = 0;                         // bytes [0, seen) are in `before`
  for (size_t i = 0; i < line.size() && comment == std::string_view::npos; ++i) {
    for (; seen < i; ++seen)
      if (line[seen] != ' ' && line[seen] != '\t') before = seen;
    char c = line[i];
    if (state.quote != 0) {
      if (state.quote == '"' && c == '\\') {
        ++i;
      } else if (c == state.quote) {
        if (state.quote == '\'' && i + 1 < line.size() && line[i + 1] == '\'') {
          ++i;
        } else {
          state.quote = 0;
        }
      }
      continue;
    }
    bool opens = opens_node(line, before, indent, state.flow_depth);
    if ((c == '"' || c == '\'') && opens) state.quote = c;
    if ((c == '[' || c == '{') && opens) ++state.flow_depth;
    if ((c == ']' || c == '}') && state.flow_depth > 0) --state.flow_depth;
    if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) comment = i;
  }
  std::string_view content = line.substr(0, std::min(comment, line.size()));
  if (state.quote == 0 && opens_block(content)) {
    state.in_block = true;
    state.block_parent = indent;
  }
  if (comment == std::string_view::npos || indent == comment) return std::nullopt;
  std::string_view text = line.substr(comment + 1);
  if (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

}  // namespace

std::vector<std::optional<std::string>> end_of_line_comments(const SourceText& source) {
  std::vector<std::optional<std::string>> comments(source.line_count());
  ScanState state;
  for (size_t index = 0; index < source.line_count(); ++index) {
    std::string_view line = source.line(index);
    if (state.in_block) {
      bool blank = indentation(line) == line.size();
      if (blank || indentation(line) > state.block_parent) continue;
      state.in_block = false;
    }
    comments[index] = scan_line(line, state);
  }
  return comments;
}

}  // namespace trellis::dsl

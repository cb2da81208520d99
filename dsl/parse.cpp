// Entry points of parse.h: each runs the generated parser through a
// GrammarAdapter and the Transformer, and turns any exception from the ANTLR
// runtime into a diagnostic, so nothing here throws.
#include "dsl/parse.h"

#include <exception>

#include "dsl/duration_text.h"
#include "dsl/grammar_adapter.h"

namespace trellis::dsl {

namespace {

// Deeper nesting than any person writes; it bounds the recursive descent so a
// hostile string cannot exhaust the stack.
constexpr int kMaxNesting = 64;

bool is_blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// Reports and returns false when brackets nest deeper than kMaxNesting.
bool nesting_ok(std::string_view source, const SourceMap& map, const std::string& file,
                ir::Diagnostics& diagnostics) {
  int depth = 0;
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '(' || source[i] == '[') ++depth;
    if (source[i] == ')' || source[i] == ']') --depth;
    if (depth > kMaxNesting) {
      diagnostics.error(file, map.bytes(i, i + 1), "expression nested too deeply");
      return false;
    }
  }
  return true;
}

}  // namespace

std::string expression_too_long(size_t bytes) {
  return "expression too long (" + std::to_string(bytes) + " bytes; the limit is " +
         std::to_string(kMaxExpressionBytes) + ")";
}

ir::Expression parse_expression(const std::string& source, ir::SourceSpan span,
                                const std::string& file, ir::Diagnostics& diagnostics) {
  ir::Expression result{source, span, std::nullopt};
  SourceMap map(source, span);
  if (is_blank(source)) {
    diagnostics.error(file, map.bytes(0, source.size()), "empty expression");
    return result;
  }
  if (source.size() > kMaxExpressionBytes) {
    diagnostics.error(file, map.bytes(0, source.size()), expression_too_long(source.size()));
    return result;
  }
  if (!nesting_ok(source, map, file, diagnostics)) return result;
  try {
    GrammarAdapter adapter(source, map);
    grammar::TrellisParser::ExpressionEntryContext* entry = adapter.parser().expressionEntry();
    if (adapter.failed()) {
      adapter.report(file, diagnostics);
      return result;
    }
    Transformer transformer(map, file, diagnostics);
    ir::Expr tree = transformer.transform_expression(entry->expression());
    if (!transformer.failed()) result.tree = std::move(tree);
  } catch (const std::exception& error) {
    diagnostics.error(file, map.bytes(0, source.size()),
                      std::string("could not parse the expression: ") + error.what());
  }
  return result;
}

namespace {

// Parses the inside of one `{{ ... }}` into `part`; false after reporting.
bool parse_placeholder(const std::string& inside, ir::SourceSpan inside_span, PathUse path_use,
                       const std::string& file, ir::Diagnostics& diagnostics,
                       ir::TemplatePart& part) {
  SourceMap map(inside, inside_span);
  if (is_blank(inside)) {
    diagnostics.error(file, part.span,
                      "empty placeholder: write a path, as in {{user.first_name}}");
    return false;
  }
  if (inside.size() > kMaxExpressionBytes) {
    diagnostics.error(file, part.span, "placeholder too long");
    return false;
  }
  try {
    GrammarAdapter adapter(inside, map, /*placeholder=*/true);
    grammar::TrellisParser::PlaceholderEntryContext* entry = adapter.parser().placeholderEntry();
    if (adapter.failed()) {
      adapter.report(file, diagnostics);
      return false;
    }
    Transformer transformer(map, file, diagnostics, path_use);
    part.path = transformer.transform_path(entry->path());
    part.fallback = transformer.transform_placeholder_filter(entry);
    return !transformer.failed();
  } catch (const std::exception& error) {
    diagnostics.error(file, part.span,
                      std::string("could not parse the placeholder: ") + error.what());
    return false;
  }
}

}  // namespace

ir::Template parse_template(const std::string& source, ir::SourceSpan span, const std::string& file,
                            ir::Diagnostics& diagnostics) {
  ir::Template result{source, span, {}};
  SourceMap map(source, span);
  size_t position = 0;
  while (position < source.size()) {
    size_t open = source.find("{{", position);
    size_t text_end = open == std::string::npos ? source.size() : open;
    if (text_end > position) {
      ir::TemplatePart text;
      text.text = source.substr(position, text_end - position);
      text.span = map.bytes(position, text_end);
      result.parts.push_back(std::move(text));
    }
    if (open == std::string::npos) break;
    size_t close = source.find("}}", open + 2);
    if (close == std::string::npos) {
      diagnostics.error(file, map.bytes(open, open + 2), "unclosed '{{': add '}}'");
      break;
    }
    ir::TemplatePart part;
    part.span = map.bytes(open, close + 2);
    std::string inside = source.substr(open + 2, close - open - 2);
    if (parse_placeholder(inside, map.bytes(open + 2, close), PathUse::kTemplate, file, diagnostics,
                          part)) {
      result.parts.push_back(std::move(part));
    }
    position = close + 2;
  }
  return result;
}

std::optional<ir::Duration> parse_duration(const std::string& source, ir::SourceSpan span,
                                           const std::string& file, ir::Diagnostics& diagnostics) {
  std::string message;
  std::optional<int64_t> seconds = duration_seconds(source, message);
  if (!seconds) {
    SourceMap map(source, span);
    diagnostics.error(file, map.bytes(0, source.size()), message);
    return std::nullopt;
  }
  return ir::Duration{*seconds, source, span.known() ? span.shifted(0, source.size()) : span};
}

}  // namespace trellis::dsl

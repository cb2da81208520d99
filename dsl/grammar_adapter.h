// Internal to trellis_dsl: runs the generated ANTLR parser over one string and
// maps its positions to file spans. This header and the transformer are the only
// hand-written code that sees generated or ANTLR types; parse.h stays free of them.
//
// The flow DSL front end reuses all of it: a GrammarAdapter over the whole file,
// then the Transformer for the expressions inside.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The ANTLR runtime and generated headers warn under -Wall -Wextra (overloaded
// virtuals, unused parameters); they are not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Woverloaded-virtual"
#include "TrellisLexer.h"
#include "TrellisParser.h"
#include "antlr4-runtime.h"
#pragma GCC diagnostic pop

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/expr.h"
#include "dsl/ir/source_span.h"

namespace trellis::dsl {

// Maps positions inside a parsed string to spans in the file. ANTLR counts code
// points; spans count bytes. Text after a newline in the string starts at column
// 1 of the next file line (exact for a whole DSL file; for a YAML block scalar the
// column ignores the block's indentation).
class SourceMap {
 public:
  // `base`: where the string's first byte sits. An unknown base (line 0) maps
  // as if the string were a file of its own, so positions stay useful.
  SourceMap(std::string_view source, ir::SourceSpan base);

  // Half-open ranges.
  ir::SourceSpan bytes(size_t first_byte, size_t end_byte) const;
  ir::SourceSpan code_points(size_t first, size_t end) const;
  ir::SourceSpan token(const antlr4::Token* token) const;
  ir::SourceSpan rule(antlr4::ParserRuleContext* context) const;
  // A point just after the last character, for "expected ... at end".
  ir::SourceSpan end() const;
  std::string_view source() const { return source_; }

 private:
  size_t byte_of(size_t code_point) const;

  std::string_view source_;
  ir::SourceSpan base_;
  std::vector<uint32_t> byte_of_code_point_;  // empty when the text is ASCII
  std::vector<uint32_t> newlines_;            // offsets of '\n', ascending
};

// Joins two spans into one that covers both (first must start first).
ir::SourceSpan cover(const ir::SourceSpan& first, const ir::SourceSpan& last);

// Owns one ANTLR pipeline (input, lexer, tokens, parser) over one string, and
// turns the first syntax error into a message in the user's words. Only the
// first error is kept: later ones are nearly always echoes of it.
class GrammarAdapter {
 public:
  // `placeholder`: the string is the inside of a template's `{{ }}` (for messages).
  GrammarAdapter(std::string_view source, const SourceMap& map, bool placeholder = false);
  ~GrammarAdapter();
  GrammarAdapter(const GrammarAdapter&) = delete;
  GrammarAdapter& operator=(const GrammarAdapter&) = delete;

  grammar::TrellisParser& parser() { return *parser_; }
  antlr4::CommonTokenStream& tokens() { return *tokens_; }
  // Lets a front end word the syntax errors of its own rules (the flow DSL): the
  // hook returns a message, and may move `span`, or nullopt to leave the error to
  // the expression messages.
  using MessageHook = std::function<std::optional<std::string>(
      antlr4::Parser& parser, antlr4::Token* offending, ir::SourceSpan& span)>;
  void set_message_hook(MessageHook hook) { hook_ = std::move(hook); }
  bool failed() const { return error_.has_value(); }
  // Adds the first syntax error, if any, to `diagnostics`.
  void report(const std::string& file, ir::Diagnostics& diagnostics) const;

 private:
  class ErrorListener;
  struct SyntaxError {
    ir::SourceSpan span;
    std::string message;
  };

  void on_syntax_error(antlr4::Parser& parser, antlr4::Token* offending);
  SyntaxError describe(antlr4::Parser& parser, antlr4::Token* offending) const;
  // May move `span` to a better place (the '(' that was never closed).
  std::string message_for(antlr4::Parser& parser, antlr4::Token* offending,
                          ir::SourceSpan& span) const;

  const SourceMap& map_;
  bool placeholder_;
  std::unique_ptr<antlr4::ANTLRInputStream> input_;
  std::unique_ptr<grammar::TrellisLexer> lexer_;
  std::unique_ptr<antlr4::CommonTokenStream> tokens_;
  std::unique_ptr<grammar::TrellisParser> parser_;
  std::unique_ptr<ErrorListener> listener_;
  std::optional<SyntaxError> error_;
  MessageHook hook_;
};

// Where a path may appear: `coupon.code` only in templates.
enum class PathUse { kExpression, kTemplate };

// Walks the parse tree of the expression rules into ir::Expr, one function per
// rule. Semantic slips (unknown function, `=` for `==`, bad escape) become
// diagnostics; the walk goes on so that every problem is reported. A caller
// keeps the result only when failed() is false.
class Transformer {
 public:
  using P = grammar::TrellisParser;

  Transformer(const SourceMap& map, std::string file, ir::Diagnostics& diagnostics,
              PathUse path_use = PathUse::kExpression);

  ir::Expr transform_expression(P::ExpressionContext* context);
  std::optional<ir::Path> transform_path(P::PathContext* context);
  // The placeholder's fallback text (`default: "x"`), or nullopt without one.
  std::optional<std::string> transform_placeholder_filter(P::PlaceholderEntryContext* context);
  bool failed() const { return failed_; }

 private:
  ir::Expr transform_or(P::OrExpressionContext* context);
  ir::Expr transform_and(P::AndExpressionContext* context);
  ir::Expr transform_not(P::NotExpressionContext* context);
  ir::Expr transform_comparison(P::ComparisonContext* context);
  ir::Expr transform_additive(P::AdditiveContext* context);
  ir::Expr transform_multiplicative(P::MultiplicativeContext* context);
  ir::Expr transform_unary(P::UnaryContext* context);
  ir::Expr transform_primary(P::PrimaryContext* context);
  ir::Expr transform_literal(P::LiteralContext* context);
  ir::Expr transform_list(P::ListContext* context);
  ir::Expr transform_call(P::CallContext* context);
  void check_behaviour_call(const ir::Expr& expr, const std::vector<bool>& named);
  void check_count_filter(const ir::Expr& filter);
  ir::Expr transform_path_expression(P::PathContext* context);
  ir::ExprOp comparison_op(P::ComparisonOperatorContext* context);
  std::string decode_string(antlr4::Token* token);
  void error(const ir::SourceSpan& span, std::string message);

  const SourceMap& map_;
  std::string file_;
  ir::Diagnostics& diagnostics_;
  PathUse path_use_;
  bool failed_ = false;
};

}  // namespace trellis::dsl

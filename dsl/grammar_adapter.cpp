#include "dsl/grammar_adapter.h"

#include <algorithm>

namespace trellis::dsl {

using grammar::TrellisParser;

// ---------------------------------------------------------------------------
// SourceMap

SourceMap::SourceMap(std::string_view source, ir::SourceSpan base)
    : source_(source), base_(base.known() ? base : ir::SourceSpan{1, 1, 0, 0}) {
  for (size_t i = 0; i < source.size(); ++i)
    if (source[i] == '\n') newlines_.push_back(static_cast<uint32_t>(i));
  bool ascii = std::all_of(source.begin(), source.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return;
  for (size_t i = 0; i < source.size(); ++i) {
    // Continuation bytes (10xxxxxx) do not start a code point.
    if ((static_cast<unsigned char>(source[i]) & 0xC0) != 0x80) {
      byte_of_code_point_.push_back(static_cast<uint32_t>(i));
    }
  }
  byte_of_code_point_.push_back(static_cast<uint32_t>(source.size()));
}

size_t SourceMap::byte_of(size_t code_point) const {
  if (byte_of_code_point_.empty()) return std::min(code_point, source_.size());
  if (code_point >= byte_of_code_point_.size()) return source_.size();
  return byte_of_code_point_[code_point];
}

ir::SourceSpan SourceMap::bytes(size_t first_byte, size_t end_byte) const {
  first_byte = std::min(first_byte, source_.size());
  end_byte = std::max(first_byte, std::min(end_byte, source_.size()));
  // Line breaks before first_byte, by binary search: a template with many
  // placeholders on one line asks for many spans (linear time overall).
  size_t breaks_before = static_cast<size_t>(
      std::lower_bound(newlines_.begin(), newlines_.end(), first_byte) - newlines_.begin());
  size_t newline = breaks_before == 0 ? std::string_view::npos : newlines_[breaks_before - 1];
  ir::SourceSpan span;
  span.offset = base_.offset + static_cast<uint32_t>(first_byte);
  span.length = static_cast<uint32_t>(end_byte - first_byte);
  if (newline == std::string_view::npos) {
    span.line = base_.line;
    span.column = base_.column + static_cast<uint32_t>(first_byte);
  } else {
    span.line = base_.line + static_cast<uint32_t>(breaks_before);
    span.column = static_cast<uint32_t>(first_byte - newline);
  }
  return span;
}

ir::SourceSpan SourceMap::code_points(size_t first, size_t end) const {
  return bytes(byte_of(first), byte_of(end));
}

ir::SourceSpan SourceMap::token(const antlr4::Token* token) const {
  if (token == nullptr || token->getType() == antlr4::Token::EOF) return end();
  return code_points(token->getStartIndex(), token->getStopIndex() + 1);
}

ir::SourceSpan SourceMap::rule(antlr4::ParserRuleContext* context) const {
  const antlr4::Token* start = context->getStart();
  const antlr4::Token* stop = context->getStop();
  if (start == nullptr || start->getType() == antlr4::Token::EOF) return end();
  if (stop == nullptr || stop->getStopIndex() < start->getStartIndex() ||
      stop->getType() == antlr4::Token::EOF) {
    return token(start);
  }
  return code_points(start->getStartIndex(), stop->getStopIndex() + 1);
}

ir::SourceSpan SourceMap::end() const { return bytes(source_.size(), source_.size()); }

ir::SourceSpan cover(const ir::SourceSpan& first, const ir::SourceSpan& last) {
  ir::SourceSpan span = first;
  uint32_t end = std::max(first.offset + first.length, last.offset + last.length);
  span.length = end - first.offset;
  return span;
}

// ---------------------------------------------------------------------------
// GrammarAdapter

class GrammarAdapter::ErrorListener : public antlr4::BaseErrorListener {
 public:
  explicit ErrorListener(GrammarAdapter& adapter) : adapter_(adapter) {}

  void syntaxError(antlr4::Recognizer* recognizer, antlr4::Token* offending, size_t line,
                   size_t column, const std::string& message, std::exception_ptr error) override {
    // Every character is some token (ERROR_CHARACTER), so only the parser reports.
    auto* parser = dynamic_cast<antlr4::Parser*>(recognizer);
    if (parser != nullptr) adapter_.on_syntax_error(*parser, offending);
  }

 private:
  GrammarAdapter& adapter_;
};

GrammarAdapter::GrammarAdapter(std::string_view source, const SourceMap& map, bool placeholder)
    : map_(map), placeholder_(placeholder) {
  input_ = std::make_unique<antlr4::ANTLRInputStream>(source.data(), source.size());
  lexer_ = std::make_unique<grammar::TrellisLexer>(input_.get());
  tokens_ = std::make_unique<antlr4::CommonTokenStream>(lexer_.get());
  parser_ = std::make_unique<grammar::TrellisParser>(tokens_.get());
  listener_ = std::make_unique<ErrorListener>(*this);
  lexer_->removeErrorListeners();
  parser_->removeErrorListeners();
  parser_->addErrorListener(listener_.get());
}

GrammarAdapter::~GrammarAdapter() = default;

void GrammarAdapter::report(const std::string& file, ir::Diagnostics& diagnostics) const {
  if (error_) diagnostics.error(file, error_->span, error_->message);
}

void GrammarAdapter::on_syntax_error(antlr4::Parser& parser, antlr4::Token* offending) {
  if (error_) return;
  error_ = describe(parser, offending);
}

namespace {

bool is_eof(const antlr4::Token* token) {
  return token == nullptr || token->getType() == antlr4::Token::EOF;
}

std::string quoted(const antlr4::Token* token) { return "'" + token->getText() + "'"; }

// Tokens after which an operand must follow.
bool is_operator(size_t type) {
  switch (type) {
    case TrellisParser::AND:
    case TrellisParser::OR:
    case TrellisParser::NOT:
    case TrellisParser::IN:
    case TrellisParser::EQ:
    case TrellisParser::NE:
    case TrellisParser::LE:
    case TrellisParser::GE:
    case TrellisParser::LT:
    case TrellisParser::GT:
    case TrellisParser::LT_GT:
    case TrellisParser::ASSIGN:
    case TrellisParser::AMP_AMP:
    case TrellisParser::PIPE_PIPE:
    case TrellisParser::BANG:
    case TrellisParser::PLUS:
    case TrellisParser::MINUS:
    case TrellisParser::STAR:
    case TrellisParser::SLASH:
    case TrellisParser::PERCENT:
    case TrellisParser::LPAREN:
    case TrellisParser::LBRACK:
    case TrellisParser::COMMA:
      return true;
    default:
      return false;
  }
}

// The innermost '(' or '[' still open before `limit`, if any.
const antlr4::Token* unclosed_bracket(antlr4::TokenStream& tokens, size_t limit, size_t open_type,
                                      size_t close_type) {
  std::vector<const antlr4::Token*> open;
  for (size_t i = 0; i < limit && i < tokens.size(); ++i) {
    const antlr4::Token* token = tokens.get(i);
    if (token->getType() == open_type) open.push_back(token);
    if (token->getType() == close_type && !open.empty()) open.pop_back();
  }
  return open.empty() ? nullptr : open.back();
}

}  // namespace

GrammarAdapter::SyntaxError GrammarAdapter::describe(antlr4::Parser& parser,
                                                     antlr4::Token* offending) const {
  ir::SourceSpan span = map_.token(offending);
  if (hook_) {
    if (std::optional<std::string> message = hook_(parser, offending, span))
      return {span, *message};
  }
  std::string message = message_for(parser, offending, span);
  return {span, std::move(message)};
}

std::string GrammarAdapter::message_for(antlr4::Parser& parser, antlr4::Token* offending,
                                        ir::SourceSpan& span) const {
  antlr4::misc::IntervalSet expected = parser.getExpectedTokens();
  bool wants_operand = expected.contains(static_cast<size_t>(TrellisParser::IDENTIFIER)) ||
                       expected.contains(static_cast<size_t>(TrellisParser::NUMBER));
  size_t index = offending == nullptr ? 0 : offending->getTokenIndex();
  const antlr4::Token* previous = index > 0 ? tokens_->get(index - 1) : nullptr;
  bool after_operator = previous != nullptr && is_operator(previous->getType());

  if (!is_eof(offending) && offending->getType() == TrellisParser::ERROR_CHARACTER) {
    return "unexpected character " + quoted(offending);
  }
  if (wants_operand && previous == nullptr) {
    return is_eof(offending) ? "expected an expression"
                             : "expected an expression, found " + quoted(offending);
  }
  if (wants_operand && after_operator) {
    std::string message = "expected an expression after " + quoted(previous);
    return is_eof(offending) ? message : message + ", found " + quoted(offending);
  }
  if (is_eof(offending)) {
    if (expected.contains(static_cast<size_t>(TrellisParser::RPAREN))) {
      const antlr4::Token* open =
          unclosed_bracket(*tokens_, index, TrellisParser::LPAREN, TrellisParser::RPAREN);
      if (open != nullptr) span = map_.token(open);
      return "missing ')' to close this '('";
    }
    if (expected.contains(static_cast<size_t>(TrellisParser::RBRACK))) {
      const antlr4::Token* open =
          unclosed_bracket(*tokens_, index, TrellisParser::LBRACK, TrellisParser::RBRACK);
      if (open != nullptr) span = map_.token(open);
      return "missing ']' to close this list";
    }
    if (expected.contains(static_cast<size_t>(TrellisParser::COLON))) {
      return "expected ':' after " + quoted(previous);
    }
    return "unexpected end of expression";
  }
  if (offending->getType() == TrellisParser::RPAREN &&
      unclosed_bracket(*tokens_, index, TrellisParser::LPAREN, TrellisParser::RPAREN) == nullptr) {
    return "unmatched ')'";
  }
  if (offending->getType() == TrellisParser::RBRACK &&
      unclosed_bracket(*tokens_, index, TrellisParser::LBRACK, TrellisParser::RBRACK) == nullptr) {
    return "unmatched ']'";
  }
  if (expected.contains(static_cast<size_t>(antlr4::Token::EOF)) ||
      expected.contains(static_cast<size_t>(TrellisParser::RPAREN)) ||
      expected.contains(static_cast<size_t>(TrellisParser::RBRACK))) {
    // The expression so far was complete: two operands in a row.
    if (placeholder_) {
      return "unexpected " + quoted(offending) +
             ": a placeholder holds a path and an optional '| default: \"text\"'";
    }
    return "unexpected " + quoted(offending) + "; is an operator such as 'and' missing before it?";
  }
  return "unexpected " + quoted(offending);
}

}  // namespace trellis::dsl

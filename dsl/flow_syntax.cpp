// Syntax errors of the flow DSL in the user's words. ANTLR knows which tokens
// it expected; this turns that, the token before and the rule being parsed into
// "expected '->' after 'next'" or "missing '}' to close node 'pick'".
#include <set>

#include "dsl/transform_flow.h"

namespace trellis::dsl {

using P = grammar::TrellisParser;

namespace {

bool is_eof(const antlr4::Token* token) {
  return token == nullptr || token->getType() == antlr4::Token::EOF;
}

std::string quoted(const antlr4::Token* token) {
  return is_eof(token) ? "the end of the file" : "'" + token->getText() + "'";
}

// The tokens of the default channel before and after `token` (comments are hidden).
const antlr4::Token* neighbour(antlr4::TokenStream& tokens, const antlr4::Token* token, int step) {
  if (token == nullptr) return nullptr;
  long index = static_cast<long>(token->getTokenIndex());
  if (token->getType() == antlr4::Token::EOF) index = static_cast<long>(tokens.size()) - 1;
  for (long i = index + step; i >= 0 && i < static_cast<long>(tokens.size()); i += step) {
    const antlr4::Token* other = tokens.get(static_cast<size_t>(i));
    if (other->getChannel() == antlr4::Token::DEFAULT_CHANNEL) return other;
  }
  return nullptr;
}

bool is_keyword(size_t type) {
  static const std::set<size_t> kKeywords = {
      P::FLOW,     P::DESCRIPTION, P::TRIGGER, P::WHEN,       P::KEY,      P::RE_ENTRY,
      P::NEVER,    P::ALWAYS,      P::AFTER,   P::EXIT_ON,    P::GOAL,     P::START,
      P::MATCH,    P::YES,         P::NO,      P::NEXT,       P::ON_EVENT, P::ON_EXHAUSTED,
      P::FOR,      P::UNTIL_EVENT, P::WHERE,   P::POOL,       P::GENERATE, P::PREFIX,
      P::LENGTH,   P::TEXT,        P::SUBJECT, P::BODY,       P::URL,      P::WEIGHT,
      P::CATEGORY, P::PRIORITY,    P::ON_CAP,  P::UNTIL_TIME, P::ON_DAYS};
  return kKeywords.count(type) > 0;
}

bool is_name(const antlr4::Token* token) {
  return token != nullptr && (token->getType() == P::IDENTIFIER || token->getType() == P::STRING ||
                              is_keyword(token->getType()));
}

bool is_operator(size_t type) {
  switch (type) {
    case P::AND:
    case P::OR:
    case P::NOT:
    case P::IN:
    case P::EQ:
    case P::NE:
    case P::LE:
    case P::GE:
    case P::LT:
    case P::GT:
    case P::LT_GT:
    case P::ASSIGN:
    case P::AMP_AMP:
    case P::PIPE_PIPE:
    case P::BANG:
    case P::PLUS:
    case P::MINUS:
    case P::STAR:
    case P::SLASH:
    case P::PERCENT:
    case P::LPAREN:
    case P::LBRACK:
    case P::COMMA:
    case P::DOT:
      return true;
    default:
      return false;
  }
}

template <typename T>
T* enclosing(antlr4::RuleContext* context) {
  for (; context != nullptr; context = dynamic_cast<antlr4::RuleContext*>(context->parent)) {
    if (auto* found = dynamic_cast<T*>(context)) return found;
  }
  return nullptr;
}

// A block whose '{' was read and whose '}' was not, at the time of the error.
struct OpenBlock {
  const antlr4::Token* brace = nullptr;
  std::string what;  // "node 'pick'" or "the flow block"
};

std::optional<OpenBlock> open_block(antlr4::RuleContext* context) {
  if (auto* node = enclosing<P::NodeBlockContext>(context)) {
    if (node->LBRACE() != nullptr && node->RBRACE() == nullptr) {
      return OpenBlock{node->LBRACE()->getSymbol(), "node '" + node->dslName()->getText() + "'"};
    }
    return std::nullopt;
  }
  if (auto* flow = enclosing<P::FlowBlockContext>(context)) {
    if (flow->LBRACE() != nullptr && flow->RBRACE() == nullptr) {
      return OpenBlock{flow->LBRACE()->getSymbol(), "the flow block"};
    }
  }
  return std::nullopt;
}

// What a keyword wants after it, for "expected ... after 'X'".
std::string wanted_after(const antlr4::misc::IntervalSet& expected) {
  auto has = [&](size_t type) { return expected.contains(type); };
  // Most specific first: a name also admits every keyword, an expression every name.
  if (has(P::ARROW)) return "'->'";
  if (has(P::IDENTIFIER) && has(P::NUMBER)) return "an expression";
  if (has(P::NUMBER_WITH_UNIT)) return "a duration such as 72h";
  if (has(P::STRING) && has(P::IDENTIFIER)) return "a name";
  if (has(P::NEVER)) return "never, always or after <duration>";
  if (has(P::STRING)) return "a quoted string";
  if (has(P::NUMBER)) return "a number";
  if (has(P::COLON)) return "':' and a node type";
  if (has(P::LBRACE)) return "'{'";
  return {};
}

// Values with a shape of their own: say what to write rather than which token.
std::optional<std::string> value_hint(const antlr4::Token* previous, const antlr4::Token* offending,
                                      antlr4::TokenStream& tokens, const SourceMap& map,
                                      ir::SourceSpan& span) {
  if (previous == nullptr) return std::nullopt;
  // `user.priority` is a path, not the field.
  const antlr4::Token* list = neighbour(tokens, previous, -1);
  if (list != nullptr && list->getType() == P::DOT) return std::nullopt;
  if (previous->getType() == P::UNTIL_TIME) {
    return "write the time of day quoted, as in until_time \"10:00\"";
  }
  if (previous->getType() == P::PRIORITY) {
    return "write high, normal, low or a whole number from 0 to 100 after 'priority'";
  }
  // `on_days` with no day before the next field: the field's keyword read as a day.
  if (!is_eof(offending) && offending->getType() == P::ARROW && list != nullptr &&
      (list->getType() == P::ON_DAYS || list->getType() == P::EXIT_ON)) {
    span = map.token(list);
    return "'" + list->getText() + "' needs at least one name before the next field, as in " +
           (list->getType() == P::ON_DAYS ? "on_days mon, tue" : "exit_on unsubscribe");
  }
  return std::nullopt;
}

// `subject "Hi {{user.first_name | default: "friend"}}"`: the string ends at
// the inner quote and the rest reads as stray words, glued to it.
std::optional<std::string> inner_quote_hint(const antlr4::Token* previous,
                                            const antlr4::Token* offending, const SourceMap& map,
                                            ir::SourceSpan& span) {
  if (previous == nullptr || is_eof(offending) || previous->getType() != P::STRING) {
    return std::nullopt;
  }
  std::string text = previous->getText();
  bool glued = offending->getStartIndex() == previous->getStopIndex() + 1;
  if (!glued || text.size() < 2) return std::nullopt;
  std::string quote(1, text.front());
  std::string other = quote == "\"" ? "'" : "\"";
  span = map.bytes(previous->getStopIndex(), previous->getStopIndex() + 1);
  return "the string ended at this " + quote + ", before " + quoted(offending) + ": inside a " +
         quote + "..." + quote + " string write \\" + quote +
         " for a quote, or quote the whole string with " + other + " (" + other +
         "Hi {{user.first_name | default: " + quote + "friend" + quote + "}}" + other + ")";
}

}  // namespace

std::optional<std::string> flow_syntax_message(antlr4::Parser& parser, antlr4::Token* offending,
                                               antlr4::TokenStream& tokens, const SourceMap& map,
                                               ir::SourceSpan& span) {
  if (!is_eof(offending) && offending->getType() == P::ERROR_CHARACTER) return std::nullopt;
  if (!is_eof(offending) && offending->getType() == P::UNCLOSED_STRING) {
    return std::string("unclosed string: add the closing ") + offending->getText()[0];
  }
  antlr4::RuleContext* context = parser.getContext();
  antlr4::misc::IntervalSet expected = parser.getExpectedTokens();
  const antlr4::Token* previous = neighbour(tokens, offending, -1);
  const antlr4::Token* next = is_eof(offending) ? nullptr : neighbour(tokens, offending, 1);
  bool in_expression = enclosing<P::ExpressionContext>(context) != nullptr;
  size_t type = is_eof(offending) ? antlr4::Token::EOF : offending->getType();

  if (std::optional<std::string> message = value_hint(previous, offending, tokens, map, span)) {
    return message;
  }
  if (std::optional<std::string> message = inner_quote_hint(previous, offending, map, span)) {
    return message;
  }

  // Inside an expression, after an operator: the expression messages say it best.
  if (in_expression && previous != nullptr && is_operator(previous->getType())) return std::nullopt;

  // A missing '}': the file ends, or the next node's header (`mail: email`) shows up.
  bool node_header_ahead =
      (is_name(offending) && next != nullptr && next->getType() == P::COLON) ||
      (type == P::COLON && is_name(previous) && !is_keyword(previous->getType()));
  if (is_eof(offending) || node_header_ahead) {
    if (std::optional<OpenBlock> block = open_block(context)) {
      span = map.token(block->brace);
      std::string where =
          is_eof(offending)
              ? "at the end of the file"
              : "before node '" + (type == P::COLON ? previous : offending)->getText() + "'";
      return "missing '}' to close " + block->what + " (expected " + where + ")";
    }
  }
  // YAML habits: `next: done`, `match: user.age > 30`.
  if (type == P::COLON && previous != nullptr && is_keyword(previous->getType())) {
    std::string word = previous->getText();
    if (expected.contains(static_cast<size_t>(P::ARROW)))
      return "write '" + word + " -> <node>': transitions use '->', not ':'";
    return "no ':' after '" + word + "' in a .flow file: write '" + word + " <value>'";
  }
  if (expected.contains(static_cast<size_t>(P::ARROW)) && previous != nullptr) {
    return "expected '->' after " + quoted(previous) + ", found " + quoted(offending);
  }
  if (in_expression) {
    // `match` with nothing after it: the expression rules would only say "unexpected".
    if (previous != nullptr && is_keyword(previous->getType()) &&
        expected.contains(static_cast<size_t>(P::IDENTIFIER))) {
      return "expected an expression after " + quoted(previous) + ", found " + quoted(offending);
    }
    return std::nullopt;
  }
  // `match user.a > 1 user.b`: the second path starts a new field.
  if (type == P::DOT && previous != nullptr && previous->getType() == P::IDENTIFIER) {
    span = map.token(previous);
    return "unexpected " + quoted(previous) + "; is an operator such as 'and' missing before it?";
  }

  // A node header without its '{': `pick: segment` followed by `match ...`
  // reads `match` as the next node's name.
  if (enclosing<P::NodeBlockContext>(context) != nullptr &&
      expected.contains(static_cast<size_t>(P::COLON)) && previous != nullptr &&
      is_keyword(previous->getType())) {
    const antlr4::Token* type_token = neighbour(tokens, previous, -1);
    const antlr4::Token* colon = neighbour(tokens, type_token, -1);
    if (type_token != nullptr && colon != nullptr && colon->getType() == P::COLON) {
      span = map.token(type_token);
      return "expected '{' after the node type " + quoted(type_token) + " to open its fields";
    }
  }
  if (type == P::RBRACE && open_block(context) == std::nullopt &&
      enclosing<P::FlowFileContext>(context) == context) {
    return "unmatched '}'";
  }
  if (enclosing<P::FlowBlockContext>(context) == context ||
      dynamic_cast<P::FlowSettingContext*>(context)) {
    if (is_keyword(type)) {
      return quoted(offending) +
             " does not belong in the flow block; it takes description, "
             "trigger, re_entry, exit_on, goal, category, priority, on_cap and start";
    }
  }
  std::string wanted = wanted_after(expected);
  if (!wanted.empty() && previous != nullptr) {
    return "expected " + wanted + " after " + quoted(previous) + ", found " + quoted(offending);
  }
  if (dynamic_cast<P::FlowFileContext*>(context) != nullptr) {
    return "expected a node ('name: type { ... }'), found " + quoted(offending);
  }
  if (dynamic_cast<P::NodeBlockContext*>(context) != nullptr) {
    return "expected a field or '}', found " + quoted(offending);
  }
  return "unexpected " + quoted(offending);
}

}  // namespace trellis::dsl

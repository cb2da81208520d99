// The transformer for the expression rules of Trellis.g4: one function per rule,
// each returning an owned ir::Expr with the span of the text it came from.
#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "dsl/duration_text.h"
#include "dsl/ir/suggest.h"
#include "dsl/grammar_adapter.h"
#include "dsl/string_literal.h"

namespace trellis::dsl {

namespace {

constexpr std::array<std::string_view, 6> kFunctions = {"has",           "days_since", "local_hour",
                                                        "local_weekday", "count",      "last_seen"};
constexpr std::array<std::string_view, 3> kRoots = {"user", "event", "last_event"};
constexpr std::array<std::string_view, 8> kKeywords = {"and",  "or",    "not",  "in",
                                                       "true", "false", "null", "now"};

// The closest of `words` by the one "did you mean" rule (dsl/ir/suggest.h), or empty.
template <size_t N>
std::string closest(std::string_view word, const std::array<std::string_view, N>& words) {
  return ir::closest_name(word, std::vector<std::string>(words.begin(), words.end())).value_or("");
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

ir::Expr literal(ir::SourceSpan span, decltype(ir::Literal::value) value,
                 bool is_duration = false) {
  ir::Expr expr;
  expr.op = ir::ExprOp::kLiteral;
  expr.span = span;
  expr.literal.value = std::move(value);
  expr.literal.is_duration = is_duration;
  return expr;
}

ir::Expr unary(ir::ExprOp op, ir::SourceSpan span, ir::Expr operand) {
  ir::Expr expr;
  expr.op = op;
  expr.span = span;
  expr.operands.push_back(std::move(operand));
  return expr;
}

ir::Expr binary(ir::ExprOp op, ir::Expr left, ir::Expr right) {
  ir::Expr expr;
  expr.op = op;
  expr.span = cover(left.span, right.span);
  expr.operands.push_back(std::move(left));
  expr.operands.push_back(std::move(right));
  return expr;
}

// One precedence level: operands joined by left-associative operators,
// ((a op b) op c) .... `next` transforms an operand (the level below), `op`
// names the operator at an index (and reports a misspelt one) before the
// operand after it is transformed. All operators at once: the generated
// xOperator(i) rescans the children, which made long chains quadratic.
template <typename Operand, typename Operator, typename Next, typename Op>
ir::Expr fold_left(const std::vector<Operand*>& operands, const std::vector<Operator*>& operators,
                   Next next, Op op) {
  ir::Expr result = next(operands[0]);
  for (size_t i = 1; i < operands.size(); ++i) {
    ir::ExprOp kind = op(operators[i - 1], i - 1);
    result = binary(kind, std::move(result), next(operands[i]));
  }
  return result;
}

}  // namespace

Transformer::Transformer(const SourceMap& map, std::string file, ir::Diagnostics& diagnostics,
                         PathUse path_use)
    : map_(map), file_(std::move(file)), diagnostics_(diagnostics), path_use_(path_use) {}

void Transformer::error(const ir::SourceSpan& span, std::string message) {
  diagnostics_.error(file_, span, std::move(message));
  failed_ = true;
}

ir::Expr Transformer::transform_expression(P::ExpressionContext* context) {
  return transform_or(context->orExpression());
}

ir::Expr Transformer::transform_or(P::OrExpressionContext* context) {
  return fold_left(
      context->andExpression(), context->orOperator(),
      [&](P::AndExpressionContext* operand) { return transform_and(operand); },
      [&](P::OrOperatorContext* op, size_t) {
        if (op->PIPE_PIPE() != nullptr) error(map_.rule(op), "use 'or' instead of '||'");
        return ir::ExprOp::kOr;
      });
}

ir::Expr Transformer::transform_and(P::AndExpressionContext* context) {
  return fold_left(
      context->notExpression(), context->andOperator(),
      [&](P::NotExpressionContext* operand) { return transform_not(operand); },
      [&](P::AndOperatorContext* op, size_t) {
        if (op->AMP_AMP() != nullptr) error(map_.rule(op), "use 'and' instead of '&&'");
        return ir::ExprOp::kAnd;
      });
}

ir::Expr Transformer::transform_not(P::NotExpressionContext* context) {
  if (context->comparison() != nullptr) return transform_comparison(context->comparison());
  P::NotOperatorContext* op = context->notOperator();
  if (op->BANG() != nullptr) error(map_.rule(op), "use 'not' instead of '!'");
  return unary(ir::ExprOp::kNot, map_.rule(context), transform_not(context->notExpression()));
}

ir::ExprOp Transformer::comparison_op(P::ComparisonOperatorContext* context) {
  if (context->EQ() != nullptr) return ir::ExprOp::kEq;
  if (context->NE() != nullptr) return ir::ExprOp::kNe;
  if (context->LT() != nullptr) return ir::ExprOp::kLt;
  if (context->LE() != nullptr) return ir::ExprOp::kLe;
  if (context->GT() != nullptr) return ir::ExprOp::kGt;
  if (context->GE() != nullptr) return ir::ExprOp::kGe;
  if (context->IN() != nullptr) return ir::ExprOp::kIn;
  if (context->ASSIGN() != nullptr) {
    error(map_.rule(context), "use '==' to compare");
    return ir::ExprOp::kEq;
  }
  error(map_.rule(context), "use '!=' for 'not equal'");
  return ir::ExprOp::kNe;
}

ir::Expr Transformer::transform_comparison(P::ComparisonContext* context) {
  return fold_left(
      context->additive(), context->comparisonOperator(),
      [&](P::AdditiveContext* operand) { return transform_additive(operand); },
      [&](P::ComparisonOperatorContext* op, size_t index) {
        if (index == 1) {
          error(map_.rule(op),
                "comparisons cannot be chained; combine them with 'and' (a < b and b < c)");
        }
        return comparison_op(op);
      });
}

ir::Expr Transformer::transform_additive(P::AdditiveContext* context) {
  return fold_left(
      context->multiplicative(), context->additiveOperator(),
      [&](P::MultiplicativeContext* operand) { return transform_multiplicative(operand); },
      [](P::AdditiveOperatorContext* op, size_t) {
        return op->PLUS() != nullptr ? ir::ExprOp::kAdd : ir::ExprOp::kSub;
      });
}

ir::Expr Transformer::transform_multiplicative(P::MultiplicativeContext* context) {
  return fold_left(
      context->unary(), context->multiplicativeOperator(),
      [&](P::UnaryContext* operand) { return transform_unary(operand); },
      [](P::MultiplicativeOperatorContext* op, size_t) {
        return op->STAR() != nullptr    ? ir::ExprOp::kMul
               : op->SLASH() != nullptr ? ir::ExprOp::kDiv
                                        : ir::ExprOp::kMod;
      });
}

ir::Expr Transformer::transform_unary(P::UnaryContext* context) {
  if (context->primary() != nullptr) return transform_primary(context->primary());
  ir::Expr operand = transform_unary(context->unary());
  ir::SourceSpan span = map_.rule(context);
  // Fold `-5` into a literal so that the checker sees a number, not an operation.
  if (operand.op == ir::ExprOp::kLiteral && std::holds_alternative<double>(operand.literal.value) &&
      !operand.literal.is_duration) {
    return literal(span, -std::get<double>(operand.literal.value));
  }
  return unary(ir::ExprOp::kNegate, span, std::move(operand));
}

ir::Expr Transformer::transform_primary(P::PrimaryContext* context) {
  if (context->literal() != nullptr) return transform_literal(context->literal());
  if (context->list() != nullptr) return transform_list(context->list());
  if (context->call() != nullptr) return transform_call(context->call());
  if (context->path() != nullptr) return transform_path_expression(context->path());
  if (context->NOW() != nullptr) {
    ir::Expr expr;
    expr.op = ir::ExprOp::kNow;
    expr.span = map_.rule(context);
    return expr;
  }
  // Parentheses: the inner tree, spanning the parentheses for carets.
  ir::Expr inner = transform_expression(context->expression());
  inner.span = map_.rule(context);
  return inner;
}

ir::Expr Transformer::transform_literal(P::LiteralContext* context) {
  ir::SourceSpan span = map_.rule(context);
  if (context->NUMBER() != nullptr) {
    std::string text = context->getText();
    double value = 0;
    auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (status != std::errc() || !std::isfinite(value)) error(span, "number out of range");
    return literal(span, value);
  }
  if (context->NUMBER_WITH_UNIT() != nullptr) {
    std::string message;
    std::optional<int64_t> seconds = duration_seconds(context->getText(), message);
    if (!seconds) {
      error(span, message);
      return literal(span, 0.0, true);
    }
    return literal(span, static_cast<double>(*seconds), true);
  }
  if (context->STRING() != nullptr)
    return literal(span, decode_string(context->STRING()->getSymbol()));
  if (context->UNCLOSED_STRING() != nullptr) {
    char quote = context->getText()[0];
    error(span, std::string("unclosed string: add the closing ") + quote);
    return literal(span, std::string());
  }
  if (context->TRUE() != nullptr) return literal(span, true);
  if (context->FALSE() != nullptr) return literal(span, false);
  return literal(span, ir::Null{});
}

std::string Transformer::decode_string(antlr4::Token* token) {
  ir::SourceSpan token_span = map_.token(token);
  return decode_string_literal(
      token->getText(), [&](EscapeError kind, size_t offset, char escaped) {
        ir::SourceSpan at = token_span.shifted(static_cast<uint32_t>(offset), 2);
        if (kind == EscapeError::kBadUnicode) {
          error(at, "'\\u' needs four hex digits, as in \\u00e9");
        } else {
          error(at, std::string("unknown escape '\\") + escaped +
                        "'; use \\\", \\\\, \\n, \\t or \\uXXXX");
        }
      });
}

ir::Expr Transformer::transform_list(P::ListContext* context) {
  ir::Expr expr;
  expr.op = ir::ExprOp::kList;
  expr.span = map_.rule(context);
  for (P::ExpressionContext* element : context->expression()) {
    expr.operands.push_back(transform_expression(element));
  }
  return expr;
}

ir::Expr Transformer::transform_call(P::CallContext* context) {
  ir::Expr expr;
  expr.op = ir::ExprOp::kCall;
  expr.span = map_.rule(context);
  expr.function = context->IDENTIFIER()->getText();
  std::vector<bool> named;  // per operand: written as `where: ...`
  for (P::CallArgumentContext* argument : context->callArgument()) {
    expr.operands.push_back(transform_expression(argument->expression()));
    named.push_back(argument->WHERE() != nullptr);
  }
  ir::SourceSpan name_span = map_.token(context->IDENTIFIER()->getSymbol());
  if (std::find(kFunctions.begin(), kFunctions.end(), expr.function) == kFunctions.end()) {
    std::string suggestion = closest(expr.function, kFunctions);
    error(name_span, "unknown function '" + expr.function + "'" +
                         (suggestion.empty() ? "; the functions are has(), days_since(), "
                                               "local_hour(), local_weekday(), count() and "
                                               "last_seen()"
                                             : "; did you mean '" + suggestion + "'?"));
    return expr;
  }
  for (size_t i = 0; i < named.size(); ++i) {
    if (named[i] && (expr.function != "count" || i != 2)) {
      error(map_.rule(context->callArgument()[i]),
            "only count() takes 'where:', as its third argument: count(\"product_viewed\", 30d, "
            "where: event.category == \"exam\")");
      return expr;
    }
  }
  if (expr.function == "count" || expr.function == "last_seen") {
    check_behaviour_call(expr, named);
    return expr;
  }
  bool takes_no_arguments = expr.function == "local_hour" || expr.function == "local_weekday";
  if (takes_no_arguments) {
    if (!expr.operands.empty()) {
      error(expr.span, expr.function +
                           "() takes no arguments: it reads now in the user's "
                           "time zone (user.timezone)");
    }
    return expr;
  }
  // has(last_seen("x")): whether the user was ever seen doing x.
  if (expr.function == "has" && expr.operands.size() == 1 &&
      expr.operands[0].op == ir::ExprOp::kCall && expr.operands[0].function == "last_seen") {
    return expr;
  }
  if (expr.operands.size() != 1 || expr.operands[0].op != ir::ExprOp::kPath) {
    error(expr.span, expr.function + "() takes one path, as in " + expr.function +
                         (expr.function == "has" ? "(user.email)" : "(user.signed_up_at)"));
  }
  return expr;
}

// count("type", <whole days>[, where: <event.* condition>]) and last_seen("type")
// (docs/expressions.md#behaviour). The event type and window are literals: the
// runtime derives what to count from the deployed flows, so both must be known
// before any event arrives.
void Transformer::check_behaviour_call(const ir::Expr& expr, const std::vector<bool>& named) {
  const bool is_count = expr.function == "count";
  const std::string example =
      is_count ? "count(\"product_viewed\", 30d)" : "last_seen(\"order_paid\")";
  const size_t least = is_count ? 2 : 1;
  const size_t most = is_count ? 3 : 1;
  if (expr.operands.size() < least || expr.operands.size() > most) {
    error(expr.span,
          expr.function + "() takes " +
              (is_count ? "an event type, a window and an optional where:" : "one event type") +
              ", as in " + example);
    return;
  }
  const ir::Expr& type = expr.operands[0];
  const auto* name = std::get_if<std::string>(&type.literal.value);
  if (type.op != ir::ExprOp::kLiteral || name == nullptr || name->empty()) {
    error(type.span, "the event type must be a quoted name, as in " + example +
                         ": what to count is known when the flow is deployed");
  }
  if (!is_count) return;
  const ir::Expr& window = expr.operands[1];
  const auto* seconds = std::get_if<double>(&window.literal.value);
  if (window.op != ir::ExprOp::kLiteral || seconds == nullptr || !window.literal.is_duration) {
    error(window.span, "the window must be a duration in days, as in 30d");
  } else if (*seconds < 86400 || std::fmod(*seconds, 86400) != 0) {
    error(window.span, "count() counts by UTC day: the window must be whole days, 1d to " +
                           std::to_string(ir::kMaxCountWindowDays) + "d");
  } else if (*seconds > 86400.0 * ir::kMaxCountWindowDays) {
    error(window.span, "the window is at most " + std::to_string(ir::kMaxCountWindowDays) +
                           "d: counters keep one day bucket per day of the longest window");
  }
  if (expr.operands.size() == 3) {
    if (!named[2]) {
      error(expr.operands[2].span, "name the filter: where: event.category == \"exam\"");
      return;
    }
    check_count_filter(expr.operands[2]);
  }
}

// A count's filter is judged once, on the counted event as it arrives: it may
// read only that event, and no behaviour of its own.
void Transformer::check_count_filter(const ir::Expr& filter) {
  if (filter.op == ir::ExprOp::kPath && filter.path.root != ir::PathRoot::kEvent &&
      !filter.path.segments.empty()) {
    error(filter.span,
          "a count's where: reads only the counted event (event.*), not " + filter.path.text());
    return;
  }
  if (filter.op == ir::ExprOp::kCall &&
      (filter.function == "count" || filter.function == "last_seen")) {
    error(filter.span, "a count's where: cannot use " + filter.function + "()");
    return;
  }
  for (const ir::Expr& operand : filter.operands) check_count_filter(operand);
}

ir::Expr Transformer::transform_path_expression(P::PathContext* context) {
  std::string root = context->IDENTIFIER()->getText();
  ir::SourceSpan span = map_.rule(context);
  // `PT72H` reads as an identifier; it is a duration.
  if (context->name().empty() && looks_like_iso_duration(root)) {
    std::string message;
    std::optional<int64_t> seconds = duration_seconds(root, message);
    if (seconds) return literal(span, static_cast<double>(*seconds), true);
  }
  ir::Expr expr;
  expr.op = ir::ExprOp::kPath;
  expr.span = span;
  std::optional<ir::Path> path = transform_path(context);
  if (path) expr.path = std::move(*path);
  return expr;
}

std::optional<ir::Path> Transformer::transform_path(P::PathContext* context) {
  std::string root = context->IDENTIFIER()->getText();
  ir::SourceSpan root_span = map_.token(context->IDENTIFIER()->getSymbol());
  ir::Path path;
  path.span = map_.rule(context);
  for (P::NameContext* name : context->name()) path.segments.push_back(name->getText());

  std::string lowered = lower(root);
  if (root != lowered &&
      std::find(kKeywords.begin(), kKeywords.end(), lowered) != kKeywords.end()) {
    error(root_span, "keywords are lower case: write '" + lowered + "'");
    return std::nullopt;
  }
  if (root == "user") {
    path.root = ir::PathRoot::kUser;
  } else if (root == "event") {
    path.root = ir::PathRoot::kEvent;
  } else if (root == "last_event") {
    path.root = ir::PathRoot::kLastEvent;
  } else if (root == "coupon") {
    if (path_use_ == PathUse::kExpression) {
      error(path.span, "coupon.code can only be used in templates");
      return std::nullopt;
    }
    if (path.segments != std::vector<std::string>{"code"}) {
      error(path.span, "a coupon has only a code: write coupon.code");
      return std::nullopt;
    }
    path.root = ir::PathRoot::kCoupon;
    return path;
  } else {
    std::string suggestion = closest(root, kRoots);
    std::string message = "unknown name '" + root + "'";
    if (!suggestion.empty()) {
      message += "; did you mean '" + suggestion + "'?";
    } else if (path.segments.empty()) {
      message += "; did you mean 'user." + root + "'?";
    } else {
      message += "; paths start with user., event. or last_event.";
    }
    error(root_span, message);
    return std::nullopt;
  }
  if (path.segments.empty()) {
    error(path.span, "'" + root + "' needs a name after it, as in " + root +
                         (root == "user" ? ".age" : ".value"));
    return std::nullopt;
  }
  return path;
}

std::optional<std::string> Transformer::transform_placeholder_filter(
    P::PlaceholderEntryContext* context) {
  if (context->name() == nullptr) return std::nullopt;
  std::string filter = context->name()->getText();
  if (filter != "default") {
    error(map_.rule(context->name()),
          "unknown filter '" + filter + "'; the only filter is default: \"text\"");
    return std::nullopt;
  }
  P::LiteralContext* value = context->literal();
  if (value->STRING() != nullptr) return decode_string(value->STRING()->getSymbol());
  if (value->UNCLOSED_STRING() != nullptr) {
    transform_literal(value);  // reports it
    return std::nullopt;
  }
  if (value->NULL_() != nullptr) return std::string();
  return value->getText();  // a number or boolean, as written
}

}  // namespace trellis::dsl

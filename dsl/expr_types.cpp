#include "dsl/expr_types.h"

#include <cctype>
#include <cstdlib>

namespace trellis::dsl {

namespace {

using ir::ExprOp;

bool is_comparison(ExprOp op) {
  return op == ExprOp::kEq || op == ExprOp::kNe || op == ExprOp::kLt || op == ExprOp::kLe ||
         op == ExprOp::kGt || op == ExprOp::kGe;
}

bool is_arithmetic(ExprOp op) {
  return op == ExprOp::kAdd || op == ExprOp::kSub || op == ExprOp::kMul || op == ExprOp::kDiv ||
         op == ExprOp::kMod;
}

bool is_numeric(StaticType type) {
  return type == StaticType::kNumber || type == StaticType::kDuration || type == StaticType::kTime;
}

StaticType literal_type(const ir::Literal& literal) {
  if (literal.is_duration) return StaticType::kDuration;
  switch (literal.value.index()) {
    case 0:
      return StaticType::kNull;
    case 1:
      return StaticType::kBool;
    case 2:
      return StaticType::kNumber;
    default:
      return StaticType::kString;
  }
}

// Time and duration arithmetic: time - time is a duration, time ± duration a time,
// number * duration a duration. Anything else numeric is a number.
StaticType arithmetic_type(ExprOp op, StaticType left, StaticType right) {
  if (!is_numeric(left) || !is_numeric(right)) return StaticType::kUnknown;
  using T = StaticType;
  if (op == ExprOp::kSub && left == T::kTime && right == T::kTime) return T::kDuration;
  if ((op == ExprOp::kAdd || op == ExprOp::kSub) && left == T::kTime) return T::kTime;
  if (op == ExprOp::kAdd && right == T::kTime) return T::kTime;
  if (left == T::kDuration || right == T::kDuration) return T::kDuration;
  return T::kNumber;
}

class TypeChecker {
 public:
  TypeChecker(const std::string& file, ir::Diagnostics& diagnostics, const std::string& node,
              const std::string& field)
      : file_(file), diagnostics_(diagnostics), node_(node), field_(field) {}

  void check(const ir::Expr& expr) {
    for (const ir::Expr& operand : expr.operands) check(operand);
    if (expr.operands.size() != 2) return;
    StaticType left = infer_type(expr.operands[0]);
    StaticType right = infer_type(expr.operands[1]);
    if (is_comparison(expr.op)) check_comparison(expr, left, right);
    if (expr.op == ExprOp::kIn) check_in(expr, left, right);
    if (is_arithmetic(expr.op)) check_arithmetic(expr, left, right);
  }

 private:
  void warn(const char* code, const ir::Expr& expr, std::string message) {
    diagnostics_.warning(file_, expr.span, std::move(message), node_, field_);
    diagnostics_.set_last_code(code);
  }

  void check_comparison(const ir::Expr& expr, StaticType left, StaticType right) {
    if (left == StaticType::kNull || right == StaticType::kNull) {
      const ir::Expr& other = left == StaticType::kNull ? expr.operands[1] : expr.operands[0];
      std::string advice = other.op == ExprOp::kPath
                               ? "; use has(" + other.path.text() + ") to test for a value"
                               : "";
      warn("compare_null", expr, "a comparison with null is always false" + advice);
      return;
    }
    bool ordering = expr.op != ExprOp::kEq && expr.op != ExprOp::kNe;
    if (ordering && quoted_number_beside(expr)) return;
    if (left == StaticType::kUnknown || right == StaticType::kUnknown || left == right) return;
    if (left == StaticType::kDuration || right == StaticType::kDuration) {
      if (is_numeric(left) && is_numeric(right) &&
          (left == StaticType::kTime || right == StaticType::kTime)) {
        warn("duration_mismatch", expr,
             "comparing a time with a duration; subtract: now - <time> > <duration>");
        return;
      }
      if (is_numeric(left) && is_numeric(right)) {
        warn("duration_mismatch", expr,
             "comparing a number with a duration (durations are seconds: 7d is 604800); "
             "days_since() returns days, so compare it with a plain number");
        return;
      }
    }
    if (is_numeric(left) && is_numeric(right)) return;
    warn("type_mismatch", expr,
         std::string("comparing ") + std::string(static_type_name(left)) + " with " +
             std::string(static_type_name(right)) +
             (ordering || expr.op == ExprOp::kEq ? " is always false" : " is always true"));
  }

  // `user.age > "30"`: whatever the trait holds, text compares letter by
  // letter ("100" < "30"), so a quoted number beside < or > is a slip.
  bool quoted_number_beside(const ir::Expr& expr) {
    for (const ir::Expr& operand : expr.operands) {
      const auto* text = std::get_if<std::string>(&operand.literal.value);
      if (operand.op != ExprOp::kLiteral || text == nullptr || !looks_like_number(*text)) continue;
      warn("quoted_number", expr,
           "\"" + *text + "\" is text, and text compares letter by letter (\"100\" < \"30\"): " +
               "write the number without quotes: " + *text);
      return true;
    }
    return false;
  }

  static bool looks_like_number(const std::string& text) {
    if (text.empty() || text.size() > 32) return false;
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    return end == text.c_str() + text.size() && !std::isspace(static_cast<unsigned char>(text[0]));
  }

  void check_in(const ir::Expr& expr, StaticType left, StaticType right) {
    if (right == StaticType::kUnknown || right == StaticType::kList ||
        right == StaticType::kString) {
      if (right == StaticType::kString && left != StaticType::kUnknown &&
          left != StaticType::kString) {
        warn("in_substring", expr,
             "'in' on a string looks for a substring; " + std::string(static_type_name(left)) +
                 " is never one");
      }
      if (right == StaticType::kList) check_list_membership(expr, left);
      return;
    }
    warn("in_needs_list", expr,
         "'in' needs a list or a string on its right, not " + std::string(static_type_name(right)));
  }

  void check_list_membership(const ir::Expr& expr, StaticType left) {
    if (left == StaticType::kUnknown || expr.operands[1].op != ExprOp::kList) return;
    for (const ir::Expr& element : expr.operands[1].operands) {
      StaticType type = infer_type(element);
      if (type == StaticType::kUnknown || type == left || (is_numeric(type) && is_numeric(left))) {
        return;
      }
    }
    if (expr.operands[1].operands.empty()) return;
    warn("in_list_never", expr,
         std::string("the list holds no ") + std::string(static_type_name(left)).substr(2) +
             ", so this is always false");
  }

  void check_arithmetic(const ir::Expr& expr, StaticType left, StaticType right) {
    for (StaticType type : {left, right}) {
      if (type != StaticType::kUnknown && !is_numeric(type)) {
        warn("arithmetic_on_text", expr,
             "arithmetic on " + std::string(static_type_name(type)) +
                 " gives null; arithmetic is for numbers, durations and times");
        return;
      }
    }
  }

  const std::string& file_;
  ir::Diagnostics& diagnostics_;
  const std::string& node_;
  const std::string& field_;
};

}  // namespace

std::string_view static_type_name(StaticType type) {
  switch (type) {
    case StaticType::kNull:
      return "null";
    case StaticType::kBool:
      return "a boolean";
    case StaticType::kNumber:
      return "a number";
    case StaticType::kString:
      return "a string";
    case StaticType::kList:
      return "a list";
    case StaticType::kDuration:
      return "a duration";
    case StaticType::kTime:
      return "a time";
    case StaticType::kUnknown:
      break;
  }
  return "a value";
}

StaticType infer_type(const ir::Expr& expr) {
  switch (expr.op) {
    case ExprOp::kLiteral:
      return literal_type(expr.literal);
    case ExprOp::kPath:
      return StaticType::kUnknown;
    case ExprOp::kList:
      return StaticType::kList;
    case ExprOp::kNow:
      return StaticType::kTime;
    case ExprOp::kCall:
      if (expr.function == "has") return StaticType::kBool;
      if (expr.function == "days_since") return StaticType::kNumber;
      if (expr.function == "local_hour") return StaticType::kNumber;
      if (expr.function == "local_weekday") return StaticType::kString;
      if (expr.function == "count") return StaticType::kNumber;
      if (expr.function == "last_seen") return StaticType::kTime;
      return StaticType::kUnknown;
    case ExprOp::kNot:
    case ExprOp::kAnd:
    case ExprOp::kOr:
    case ExprOp::kEq:
    case ExprOp::kNe:
    case ExprOp::kLt:
    case ExprOp::kLe:
    case ExprOp::kGt:
    case ExprOp::kGe:
    case ExprOp::kIn:
      return StaticType::kBool;
    case ExprOp::kNegate: {
      StaticType operand = infer_type(expr.operands[0]);
      return is_numeric(operand) ? operand : StaticType::kUnknown;
    }
    case ExprOp::kAdd:
    case ExprOp::kSub:
    case ExprOp::kMul:
    case ExprOp::kDiv:
    case ExprOp::kMod:
      return arithmetic_type(expr.op, infer_type(expr.operands[0]), infer_type(expr.operands[1]));
  }
  return StaticType::kUnknown;
}

void check_types(const ir::Expr& expr, const std::string& file, ir::Diagnostics& diagnostics,
                 const std::string& node, const std::string& field) {
  TypeChecker(file, diagnostics, node, field).check(expr);
}

}  // namespace trellis::dsl

// Test helper: an ir::Expr as a compact S-expression, so tables can state trees.
#pragma once

#include <string>

#include "dsl/ir/expr.h"

namespace trellis::testing {

inline std::string op_name(ir::ExprOp op) {
  switch (op) {
    case ir::ExprOp::kNot:
      return "not";
    case ir::ExprOp::kNegate:
      return "neg";
    case ir::ExprOp::kAnd:
      return "and";
    case ir::ExprOp::kOr:
      return "or";
    case ir::ExprOp::kEq:
      return "==";
    case ir::ExprOp::kNe:
      return "!=";
    case ir::ExprOp::kLt:
      return "<";
    case ir::ExprOp::kLe:
      return "<=";
    case ir::ExprOp::kGt:
      return ">";
    case ir::ExprOp::kGe:
      return ">=";
    case ir::ExprOp::kIn:
      return "in";
    case ir::ExprOp::kAdd:
      return "+";
    case ir::ExprOp::kSub:
      return "-";
    case ir::ExprOp::kMul:
      return "*";
    case ir::ExprOp::kDiv:
      return "/";
    case ir::ExprOp::kMod:
      return "%";
    default:
      return "?";
  }
}

inline std::string number_text(double value) {
  std::string text = std::to_string(value);
  text.erase(text.find_last_not_of('0') + 1);
  if (text.back() == '.') text.pop_back();
  return text;
}

inline std::string sexpr(const ir::Expr& expr) {
  switch (expr.op) {
    case ir::ExprOp::kLiteral: {
      const auto& value = expr.literal.value;
      if (std::holds_alternative<ir::Null>(value)) return "null";
      if (std::holds_alternative<bool>(value)) return std::get<bool>(value) ? "true" : "false";
      if (std::holds_alternative<double>(value)) {
        return number_text(std::get<double>(value)) + (expr.literal.is_duration ? "s" : "");
      }
      return "\"" + std::get<std::string>(value) + "\"";
    }
    case ir::ExprOp::kPath:
      return expr.path.text();
    case ir::ExprOp::kNow:
      return "now";
    case ir::ExprOp::kList:
    case ir::ExprOp::kCall: {
      std::string out = expr.op == ir::ExprOp::kList ? "[" : expr.function + "(";
      for (size_t i = 0; i < expr.operands.size(); ++i) {
        out += (i ? " " : "") + sexpr(expr.operands[i]);
      }
      return out + (expr.op == ir::ExprOp::kList ? "]" : ")");
    }
    default: {
      std::string out = "(" + op_name(expr.op);
      for (const ir::Expr& operand : expr.operands) out += " " + sexpr(operand);
      return out + ")";
    }
  }
}

}  // namespace trellis::testing

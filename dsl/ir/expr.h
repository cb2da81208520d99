// The expression language of docs/expressions.md as an owned tree. Front ends (YAML loader,
// textual DSL) parse expression strings into it; the checker reads it; the
// expression compiler (dsl/expr) turns it into a program that evaluates without
// allocating.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dsl/ir/source_span.h"

namespace trellis::ir {

// Where a path reads from. `coupon` is only valid in templates.
enum class PathRoot { kUser, kEvent, kLastEvent, kCoupon };

struct Path {
  PathRoot root = PathRoot::kUser;
  std::vector<std::string> segments;  // `user.address.city` -> {"address", "city"}
  SourceSpan span;

  std::string text() const;  // "user.address.city"
  bool operator==(const Path& other) const {
    return root == other.root && segments == other.segments;
  }
};

enum class ExprOp {
  kLiteral,  // literal
  kPath,     // path
  kList,     // operands are the elements
  kNow,      // `now`: seconds since the Unix epoch on the journey's clock
  kCall,     // function(operands...): `has`, `days_since`, `count`, `last_seen`
  kNot,
  kNegate,
  kAnd,
  kOr,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,  // list membership or substring
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
};

// count()'s longest window (docs/expressions.md#behaviour): each counter keeps
// at most this many day buckets per user.
constexpr int kMaxCountWindowDays = 365;

// count("type", 30d, where: event.x == 1) is a kCall with operands
// {"type", 30d, filter}: the filter, when given, is the third.
struct Null {
  bool operator==(const Null&) const { return true; }
};

// Durations (`72h`) are numbers of seconds with `is_duration` set, so that
// `now - event.time > 72h` needs no unit conversions at run time.
struct Literal {
  std::variant<Null, bool, double, std::string> value;
  bool is_duration = false;
};

struct Expr {
  ExprOp op = ExprOp::kLiteral;
  SourceSpan span;
  Literal literal;             // kLiteral
  Path path;                   // kPath
  std::string function;        // kCall
  std::vector<Expr> operands;  // unary: 1, binary: 2, list/call: any
};

// An expression as written, and its tree when it parsed. A failed parse leaves
// `tree` empty and produces diagnostics positioned inside `source`.
struct Expression {
  std::string source;
  SourceSpan span;  // span of `source` in the file
  std::optional<Expr> tree;
};

// `Hello {{user.first_name | default: "there"}}!` is three parts: literal text,
// a path with a fallback, and literal text. Empty text parts are left out.
struct TemplatePart {
  std::string text;  // literal text when `path` is empty
  std::optional<Path> path;
  std::optional<std::string> fallback;  // `| default: "x"`
  SourceSpan span;
};

struct Template {
  std::string source;
  SourceSpan span;
  std::vector<TemplatePart> parts;
};

}  // namespace trellis::ir

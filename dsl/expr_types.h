// Static types of expressions, for the checker. Traits and event properties
// have no declared types, so a path is kUnknown: only literals, `now`,
// functions and operators give types. That is enough to catch the obvious
// slips (`user.age > "thirty"`, `30 in user.age + 1`, `days_since(x) > 7d`)
// without false alarms.
#pragma once

#include <string>
#include <string_view>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/expr.h"

namespace trellis::dsl {

enum class StaticType { kUnknown, kNull, kBool, kNumber, kString, kList, kDuration, kTime };

std::string_view static_type_name(StaticType type);  // "a number", "a string", ...

// The type `expr` always has, or kUnknown when it depends on data.
StaticType infer_type(const ir::Expr& expr);

// Adds a warning for each operation whose operand types make it always false,
// always true or meaningless (a string compared with a number, `x == null`,
// `in` with a number on its right, arithmetic on strings). Positions are the
// operation's span; `node`/`field` are copied into each diagnostic.
void check_types(const ir::Expr& expr, const std::string& file, ir::Diagnostics& diagnostics,
                 const std::string& node = {}, const std::string& field = {});

}  // namespace trellis::dsl

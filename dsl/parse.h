// Parsers for the pieces of a flow that are strings inside a flow file:
// expressions, templates and durations. Both front ends (YAML loader, textual DSL)
// call these, so every syntax reports the same diagnostics at the same positions.
//
// `span` is where the string's first character sits in the file; diagnostics
// inside the string are positioned relative to it. Nothing here throws.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/expr.h"
#include "dsl/ir/flow.h"

namespace trellis::dsl {

// Longer than any condition a person writes. Operator chains (`a or b or ...`)
// become trees as deep as they are long, and everything that walks trees
// recurses, so length bounds depth too (docs/limits.md). Both front ends apply it.
inline constexpr size_t kMaxExpressionBytes = 4096;

// The diagnostic for an expression over kMaxExpressionBytes.
std::string expression_too_long(size_t bytes);

// Parses an expression (docs/expressions.md). On a syntax error the result has no tree and
// `diagnostics` holds an error positioned at the offending token.
ir::Expression parse_expression(const std::string& source, ir::SourceSpan span,
                                const std::string& file, ir::Diagnostics& diagnostics);

// Parses `{{path}}` and `{{path | default: "x"}}` placeholders into template parts.
ir::Template parse_template(const std::string& source, ir::SourceSpan span, const std::string& file,
                            ir::Diagnostics& diagnostics);

// `90s`, `30m`, `72h`, `7d`, and ISO 8601 durations (`PT72H`, `P1DT2H`).
// Returns nullopt (and adds a diagnostic) when the text is not a duration.
std::optional<ir::Duration> parse_duration(const std::string& source, ir::SourceSpan span,
                                           const std::string& file, ir::Diagnostics& diagnostics);

}  // namespace trellis::dsl

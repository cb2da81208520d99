// Internal to trellis_dsl: the pieces of the flow DSL front end that see ANTLR
// types (through grammar_adapter.h, the one header that includes them).
#pragma once

#include <optional>
#include <string>

#include "dsl/grammar_adapter.h"

namespace trellis::dsl {

// The syntax error message for the flow DSL's own rules, in the user's words
// ("expected '->' after 'next'", "missing '}' to close node 'pick'"); may move
// `span`. Nullopt for errors inside an expression, which the expression
// messages of GrammarAdapter word better.
std::optional<std::string> flow_syntax_message(antlr4::Parser& parser, antlr4::Token* offending,
                                               antlr4::TokenStream& tokens, const SourceMap& map,
                                               ir::SourceSpan& span);

}  // namespace trellis::dsl

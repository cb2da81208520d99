// Plain sentences for the checker's findings, as a marketer reads them in the
// editor ("Connect 'Wait 1' to the next step"), while the CLI keeps the precise
// message ("wait node 'wait_1' needs 'next': ..."). One table, keyed by
// ir::Diagnostic::code; the HTTP API sends the sentence as `plain`.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/diagnostic.h"

namespace trellis::dsl {

struct PlainWords {
  std::string_view code;
  // May name {node} (the node as the editor shows it: 'Wait 1'), {field} (what the
  // field is: "the subject") and {target} (where an arrow of that field leads:
  // "the next step").
  std::string_view sentence;
};

// Every code the checker and the expression type checks give, with its sentence.
const std::vector<PlainWords>& plain_words();

// The sentence for `diagnostic`; for one without a code (a syntax error of a
// front end) its message without code quotes.
std::string plain_sentence(const ir::Diagnostic& diagnostic);

// "wait_1" -> "Wait 1": how a marketer reads a node id.
std::string node_label(std::string_view id);

}  // namespace trellis::dsl

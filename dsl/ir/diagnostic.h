// Problems found in a flow, as values: the loader, parser and checker return
// them, the CLI prints them, the HTTP API sends them as JSON.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/source_span.h"

namespace trellis::ir {

enum class Severity { kError, kWarning };

std::string_view severity_name(Severity severity);  // "error" / "warning"

struct Diagnostic {
  Severity severity = Severity::kError;
  std::string file;  // path as the user named it
  SourceSpan span;
  std::string message;
  // Where in the flow the problem sits, so the editor can mark the node and field.
  // Both empty for flow-level problems; `field` is a key name such as "next".
  std::string node;
  std::string field;
  // The kind of problem ("missing_field", "unknown_target", ...) for the checker's
  // findings, so the editor can say it in plain words (dsl/plain_words.h); empty
  // for the front ends' syntax errors.
  std::string code = {};
};

class Diagnostics {
 public:
  void error(std::string file, SourceSpan span, std::string message, std::string node = {},
             std::string field = {});
  void warning(std::string file, SourceSpan span, std::string message, std::string node = {},
               std::string field = {});
  void add(Diagnostic diagnostic) { items_.push_back(std::move(diagnostic)); }
  // Names the kind of the diagnostic added last. REQUIRES: !empty().
  void set_last_code(std::string code) { items_.back().code = std::move(code); }
  void append(const Diagnostics& other);

  bool has_errors() const;
  size_t error_count() const;
  size_t warning_count() const;
  bool empty() const { return items_.empty(); }
  const std::vector<Diagnostic>& items() const { return items_; }
  // Orders by file, line, column so output reads top to bottom.
  void sort();

 private:
  std::vector<Diagnostic> items_;
};

// Renders one diagnostic as `file:line:col: error: message`, then the source line
// and a caret under the span (carets for its length). `source` is the whole file text;
// without it only the first line is printed.
std::string render(const Diagnostic& diagnostic, std::string_view source = {});

}  // namespace trellis::ir

#include "dsl/ir/diagnostic.h"

#include <algorithm>
#include <tuple>

namespace trellis::ir {

std::string_view severity_name(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

void Diagnostics::error(std::string file, SourceSpan span, std::string message, std::string node,
                        std::string field) {
  items_.push_back({Severity::kError, std::move(file), span, std::move(message), std::move(node),
                    std::move(field)});
}

void Diagnostics::warning(std::string file, SourceSpan span, std::string message, std::string node,
                          std::string field) {
  items_.push_back({Severity::kWarning, std::move(file), span, std::move(message), std::move(node),
                    std::move(field)});
}

void Diagnostics::append(const Diagnostics& other) {
  items_.insert(items_.end(), other.items_.begin(), other.items_.end());
}

bool Diagnostics::has_errors() const { return error_count() > 0; }

size_t Diagnostics::error_count() const {
  return std::count_if(items_.begin(), items_.end(),
                       [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

size_t Diagnostics::warning_count() const { return items_.size() - error_count(); }

void Diagnostics::sort() {
  std::stable_sort(items_.begin(), items_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::tie(a.file, a.span.line, a.span.column) <
           std::tie(b.file, b.span.line, b.span.column);
  });
}

namespace {

std::string_view line_of(std::string_view source, uint32_t line) {
  size_t begin = 0;
  for (uint32_t current = 1; current < line; ++current) {
    begin = source.find('\n', begin);
    if (begin == std::string_view::npos) return {};
    ++begin;
  }
  size_t end = source.find('\n', begin);
  std::string_view text = source.substr(begin, end == std::string_view::npos ? end : end - begin);
  if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
  return text;
}

}  // namespace

std::string render(const Diagnostic& diagnostic, std::string_view source) {
  std::string out = diagnostic.file.empty() ? "<flow>" : diagnostic.file;
  if (diagnostic.span.known()) {
    out +=
        ":" + std::to_string(diagnostic.span.line) + ":" + std::to_string(diagnostic.span.column);
  }
  out += ": ";
  out += severity_name(diagnostic.severity);
  out += ": " + diagnostic.message + "\n";
  if (!diagnostic.span.known() || source.empty()) return out;
  std::string_view text = line_of(source, diagnostic.span.line);
  if (text.empty()) return out;
  out += "  ";
  out += text;
  out += "\n  ";
  // Keep tabs so the caret lines up under the token whatever the tab width.
  for (uint32_t i = 1; i < diagnostic.span.column && i - 1 < text.size(); ++i) {
    out += text[i - 1] == '\t' ? '\t' : ' ';
  }
  size_t available =
      text.size() >= diagnostic.span.column ? text.size() - diagnostic.span.column + 1 : 1;
  size_t carets = std::max<size_t>(1, std::min<size_t>(diagnostic.span.length, available));
  out += std::string(carets, '^');
  out += "\n";
  return out;
}

}  // namespace trellis::ir

#include "dsl/load.h"

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

#include "dsl/checker.h"
#include "dsl/dsl_loader.h"
#include "dsl/ir/suggest.h"
#include "dsl/yaml_loader.h"

namespace trellis::dsl {

namespace {

bool ends_with(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::optional<FlowSyntax> syntax_for_path(const std::string& path) {
  if (ends_with(path, ".yaml") || ends_with(path, ".yml")) return FlowSyntax::kYaml;
  if (ends_with(path, ".flow")) return FlowSyntax::kDsl;
  return std::nullopt;
}

LoadResult load_flow_text(const std::string& text, const std::string& file, FlowSyntax syntax) {
  switch (syntax) {
    case FlowSyntax::kYaml:
      return load_flow_yaml(text, file);
    case FlowSyntax::kDsl: {
      LoadResult result;
      result.source = text;
      result.flow = load_dsl(text, file, result.diagnostics);
      return result;
    }
  }
  return LoadResult{};
}

LoadResult load_flow_file(const std::string& path) {
  std::optional<FlowSyntax> syntax = syntax_for_path(path);
  LoadResult result;
  if (!syntax) {
    result.readable = false;
    result.diagnostics.error(path, {}, "not a flow file: expected a .yaml, .yml or .flow file");
    return result;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    result.readable = false;
    result.diagnostics.error(path, {}, "cannot read the file");
    return result;
  }
  return load_flow_text(text.str(), path, *syntax);
}

// An unknown key is often a misspelt `next`.
bool front_end_lost_edges(const ir::Diagnostics& diagnostics) {
  // Node fields whose errors leave every edge in place.
  static const std::set<std::string> kEdgeFree = {"match",    "for",        "until_event", "text",
                                                  "subject",  "body",       "url",         "pool",
                                                  "generate", "description"};
  for (const ir::Diagnostic& diagnostic : diagnostics.items()) {
    if (diagnostic.severity != ir::Severity::kError) continue;
    std::string field = diagnostic.field.substr(0, diagnostic.field.find('.'));
    if (diagnostic.node.empty() ? (field == "start" || field == "nodes")
                                : !kEdgeFree.count(field)) {
      return true;
    }
  }
  return false;
}

namespace {

// For "unknown key 'strat' ...: did you mean 'start'?", the field the user
// meant, with the misspelt key's prefix ("trigger.wen" -> "trigger.when").
std::optional<std::string> meant_field(const ir::Diagnostic& diagnostic) {
  const std::string& message = diagnostic.message;
  bool unknown_key = message.rfind("unknown key '", 0) == 0 ||
                     message.rfind("unknown setting '", 0) == 0 ||
                     message.rfind("unknown field '", 0) == 0;
  std::string meant = ir::meant_in(message);
  if (!unknown_key || meant.empty()) return std::nullopt;
  size_t dot = diagnostic.field.rfind('.');
  std::string prefix = dot == std::string::npos ? "" : diagnostic.field.substr(0, dot + 1);
  return prefix + meant;
}

// True when a front-end error sits on the same node and on the diagnostic's
// field or a field containing it (`trigger` failed, so `trigger.event` is missing).
bool echoes(const std::set<std::pair<std::string, std::string>>& failed,
            const ir::Diagnostic& diagnostic) {
  std::string field = diagnostic.field;
  while (true) {
    if (failed.count({diagnostic.node, field})) return true;
    size_t dot = field.rfind('.');
    if (dot == std::string::npos) return false;
    field.resize(dot);
  }
}

// Adds the checker's findings to what the front end found. A checker finding on
// a node and field where the front end already failed is an echo of that
// failure (a `next:` that did not parse reads as a missing one), so it is
// dropped; graph warnings are skipped when the front end lost edges, since
// they would only echo that loss.
void add_checker_findings(LoadResult& result) {
  if (!result.flow) return;
  std::set<std::pair<std::string, std::string>> failed;
  for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
    if (diagnostic.severity == ir::Severity::kError && !diagnostic.field.empty()) {
      failed.emplace(diagnostic.node, diagnostic.field);
      // `strat:` (did you mean 'start'?) also explains why `start` is missing.
      if (auto meant = meant_field(diagnostic)) failed.emplace(diagnostic.node, *meant);
    }
  }
  CheckOptions options;
  options.graph_warnings = !front_end_lost_edges(result.diagnostics);
  options.now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  ir::Diagnostics found = check_flow(*result.flow, options);
  for (const ir::Diagnostic& diagnostic : found.items()) {
    if (!echoes(failed, diagnostic)) result.diagnostics.add(diagnostic);
  }
  result.diagnostics.sort();
}

}  // namespace

LoadResult check_flow_text(const std::string& text, const std::string& file, FlowSyntax syntax) {
  LoadResult result = load_flow_text(text, file, syntax);
  add_checker_findings(result);
  return result;
}

LoadResult check_flow_file(const std::string& path) {
  LoadResult result = load_flow_file(path);
  add_checker_findings(result);
  return result;
}

}  // namespace trellis::dsl

// `trellis check FILE...`: every diagnostic of every file, then one summary line.
#include <iostream>

#include "app/command.h"
#include "dsl/load.h"

namespace trellis::app {

namespace {

std::string plural(size_t count, const std::string& word) {
  return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}

int run_check(const std::vector<std::string>& files) {
  if (files.empty()) {
    std::cerr << "usage: trellis check FILE...\n";
    return 2;
  }
  size_t errors = 0;
  size_t warnings = 0;
  bool usage_error = false;
  for (const std::string& file : files) {
    dsl::LoadResult result = dsl::check_flow_file(file);
    if (!result.readable) {
      for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
        std::cerr << "trellis check: " << file << ": " << diagnostic.message << "\n";
      }
      usage_error = true;
      continue;
    }
    for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
      std::cout << ir::render(diagnostic, result.source);
    }
    errors += result.diagnostics.error_count();
    warnings += result.diagnostics.warning_count();
  }
  std::cout.flush();
  std::cerr << plural(errors, "error") << ", " << plural(warnings, "warning") << " in "
            << plural(files.size(), "file") << "\n";
  if (usage_error) return 2;
  return errors > 0 ? 1 : 0;
}

}  // namespace

Command check_command() {
  return {"check", "parse, type-check and analyse flow files",
          "usage: trellis check FILE...\n\n"
          "Checks flow files (.yaml, .yml; .flow) and prints every problem as\n"
          "file:line:col: error|warning: message, with the source line and a caret.\n"
          "Exit code: 0 clean or warnings only, 1 errors, 2 usage (no file, unreadable file).\n",
          run_check};
}

}  // namespace trellis::app

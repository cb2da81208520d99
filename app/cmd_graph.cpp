// `trellis graph [--dot] FILE`: the flow as Mermaid (default) or Graphviz DOT.
#include <iostream>

#include "app/command.h"
#include "dsl/graph_export.h"
#include "dsl/load.h"

namespace trellis::app {

namespace {

constexpr const char* kUsage = "usage: trellis graph [--dot] FILE\n";

int run_graph(const std::vector<std::string>& args) {
  bool dot = false;
  std::vector<std::string> files;
  for (const std::string& arg : args) {
    if (arg == "--dot") {
      dot = true;
    } else if (arg == "--mermaid") {
      dot = false;
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << "trellis graph: unknown option '" << arg << "'\n" << kUsage;
      return 2;
    } else {
      files.push_back(arg);
    }
  }
  if (files.size() != 1) {
    std::cerr << kUsage;
    return 2;
  }
  dsl::LoadResult result = dsl::check_flow_file(files[0]);
  if (!result.readable) {
    for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
      std::cerr << "trellis graph: " << files[0] << ": " << diagnostic.message << "\n";
    }
    return 2;
  }
  // Problems go to stderr so that stdout stays a clean graph.
  for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
    std::cerr << ir::render(diagnostic, result.source);
  }
  if (!result.flow || result.diagnostics.has_errors()) return 1;
  std::cout << (dot ? dsl::to_dot(*result.flow) : dsl::to_mermaid(*result.flow));
  return 0;
}

}  // namespace

Command graph_command() {
  return {"graph", "print a flow as a Mermaid or Graphviz DOT graph",
          "usage: trellis graph [--dot] FILE\n\n"
          "Prints the flow as a Mermaid flowchart (default) or, with --dot, as Graphviz DOT.\n"
          "Edges are labelled yes/no, on_event, timeout (a wait's next), on_exhausted and\n"
          "variant name and weight. A flow with errors prints its diagnostics and exits 1.\n",
          run_graph};
}

}  // namespace trellis::app

#include <algorithm>

#include "app/command.h"

namespace trellis::app {

// Each cmd_<name>.cpp defines one of these.
Command check_command();
Command graph_command();
Command fmt_command();
Command test_command();
Command serve_command();

const std::vector<Command>& all_commands() {
  static const std::vector<Command> commands = {
      check_command(), graph_command(), fmt_command(), test_command(), serve_command(),
  };
  return commands;
}

bool wants_help(const std::vector<std::string>& args) {
  return std::any_of(args.begin(), args.end(),
                     [](const std::string& a) { return a == "-h" || a == "--help"; });
}

}  // namespace trellis::app

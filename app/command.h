// The `trellis` command line: one Command per subcommand, each in its own
// cmd_<name>.cpp, listed once in commands.cpp.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace trellis::app {

struct Command {
  std::string name;
  std::string summary;  // one line for `trellis --help`
  std::string usage;    // full help text for `trellis NAME --help`
  // Receives the arguments after the command name. Returns the exit code.
  std::function<int(const std::vector<std::string>& args)> run;
};

const std::vector<Command>& all_commands();

// True when args hold -h or --help; commands print `usage` then and exit 0.
bool wants_help(const std::vector<std::string>& args);

}  // namespace trellis::app

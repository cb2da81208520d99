#include <iostream>
#include <string>
#include <vector>

#include "app/command.h"

namespace {

void print_overview(std::ostream& out) {
  out << "usage: trellis <command> [options]\n\ncommands:\n";
  for (const auto& command : trellis::app::all_commands()) {
    out << "  " << command.name << std::string(10 - std::min<size_t>(9, command.name.size()), ' ')
        << command.summary << "\n";
  }
  out << "\nRun `trellis <command> --help` for a command's options.\n";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    print_overview(std::cerr);
    return 2;
  }
  if (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    print_overview(std::cout);
    return 0;
  }
  for (const auto& command : trellis::app::all_commands()) {
    if (command.name != args[0]) continue;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    if (trellis::app::wants_help(rest)) {
      std::cout << command.usage;
      return 0;
    }
    return command.run(rest);
  }
  std::cerr << "trellis: unknown command '" << args[0] << "'\n";
  print_overview(std::cerr);
  return 2;
}

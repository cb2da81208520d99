// Placeholder until the checker lands: parses nothing yet.
#include <iostream>

#include "app/command.h"

namespace trellis::app {

Command check_command() {
  return {"check", "parse, type-check and analyse flow files",
          "usage: trellis check FILE...\n", [](const std::vector<std::string>& args) {
            std::cerr << "trellis check: not implemented yet\n";
            return 2;
          }};
}

}  // namespace trellis::app

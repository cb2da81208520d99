// `trellis check FILE...`: every diagnostic of every file, then one summary line.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "app/command.h"
#include "dsl/known_names.h"
#include "dsl/load.h"
#include "runtime/delivery/config.h"

namespace trellis::app {

namespace {

std::string plural(size_t count, const std::string& word) {
  return std::to_string(count) + " " + word + (count == 1 ? "" : "s");
}

// The text of a YAML file that is a delivery configuration (named
// `trellis.yaml`, or a mapping with channels, caps, ... and no `flow:`)
// rather than a flow; nullopt for anything else.
std::optional<std::string> delivery_config_text(const std::string& file) {
  const std::string ext = std::filesystem::path(file).extension().string();
  if (ext != ".yaml" && ext != ".yml") return std::nullopt;
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;  // the flow loader reports it
  std::stringstream text;
  text << in.rdbuf();
  const bool named_so =
      std::filesystem::path(file).filename() == runtime::delivery::kDeliveryConfigFile;
  if (!named_so && !runtime::delivery::looks_like_delivery_config(text.str())) return std::nullopt;
  return text.str();
}

// The `traits:` the trellis.yaml beside a flow file declares (none: empty), read
// once per folder. Its own problems are reported when it is checked itself.
const std::vector<std::string>& declared_traits_beside(const std::string& file) {
  static std::map<std::string, std::vector<std::string>> by_folder;
  const std::filesystem::path folder = std::filesystem::path(file).parent_path();
  auto [it, fresh] = by_folder.try_emplace(folder.string());
  std::error_code ec;
  const std::filesystem::path config = folder / runtime::delivery::kDeliveryConfigFile;
  if (fresh && std::filesystem::is_regular_file(config, ec))
    it->second = runtime::delivery::load_delivery_config(config.string()).config.traits;
  return it->second;
}

// Checks one file, flow or delivery configuration, printing its diagnostics.
// False when the file cannot be read (a usage error).
bool check_file(const std::string& file, size_t* errors, size_t* warnings) {
  if (auto config_text = delivery_config_text(file)) {
    auto loaded = runtime::delivery::parse_delivery_config(*config_text, file);
    for (const ir::Diagnostic& diagnostic : loaded.diagnostics.items())
      std::cout << ir::render(diagnostic, loaded.masked_source);
    *errors += loaded.diagnostics.error_count();
    *warnings += loaded.diagnostics.warning_count();
    return true;
  }
  dsl::LoadResult result = dsl::check_flow_file(file);
  if (!result.readable) {
    for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
      std::cerr << "trellis check: " << file << ": " << diagnostic.message << "\n";
    }
    return false;
  }
  if (result.flow && !declared_traits_beside(file).empty()) {
    dsl::KnownNames known;
    known.declared_traits = declared_traits_beside(file);
    result.diagnostics.append(dsl::check_known_names(*result.flow, known));
    result.diagnostics.sort();
  }
  for (const ir::Diagnostic& diagnostic : result.diagnostics.items()) {
    std::cout << ir::render(diagnostic, result.source);
  }
  *errors += result.diagnostics.error_count();
  *warnings += result.diagnostics.warning_count();
  return true;
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
    if (!check_file(file, &errors, &warnings)) usage_error = true;
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
          "Checks flow files (.yaml, .yml; .flow) and delivery configurations\n"
          "(trellis.yaml: a YAML mapping with channels, caps, ... and no flow key)\n"
          "and prints every problem as\n"
          "file:line:col: error|warning: message, with the source line and a caret.\n"
          "A flow's `user.` paths are checked against the `traits:` list of the\n"
          "trellis.yaml in its folder, when it declares one.\n"
          "Exit code: 0 clean or warnings only, 1 errors, 2 usage (no file, unreadable file).\n",
          run_check};
}

}  // namespace trellis::app

// `trellis fmt [--to yaml|dsl] [--check] [--write] FILE...`: a flow in
// canonical form, in either syntax. Printing is verified: the output is read
// back and must give the same IR, so fmt never loses meaning.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "app/command.h"
#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "dsl/load.h"

namespace trellis::app {

namespace {

constexpr const char* kUsage =
    "usage: trellis fmt [--to yaml|dsl] [--check] [--write] FILE...\n"
    "\n"
    "Prints a flow file (.yaml, .yml or .flow) in canonical form: keys in a fixed\n"
    "order, one node per block, quotes only where needed. Every comment is kept:\n"
    "a comment line above the key or list item below it (inside a nested map or\n"
    "list, above the field that holds it), a comment at the end of a line at the\n"
    "end of its field's line (`for: 72h  # durable timer`).\n"
    "\n"
    "  --to yaml|dsl  print in this syntax (default: the file's own)\n"
    "  --check        print nothing; exit 1 and name each file not in canonical form\n"
    "  --write        rewrite each file in place; with --to in the other syntax, write\n"
    "                 <name>.flow or <name>.yaml beside it instead\n"
    "\n"
    "A file that does not load (syntax errors, unknown fields) is not formatted:\n"
    "its diagnostics are printed as by `trellis check`.\n"
    "Exit code: 0 done (or already canonical), 1 a file has errors or (--check) is\n"
    "not canonical, 2 usage (bad option, no file, unreadable file).\n";

struct Options {
  std::optional<dsl::FlowSyntax> to;
  bool check = false;
  bool write = false;
  std::vector<std::string> files;
};

std::optional<Options> parse_options(const std::vector<std::string>& args) {
  Options options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--check") {
      options.check = true;
    } else if (arg == "--write") {
      options.write = true;
    } else if (arg == "--to" || arg.rfind("--to=", 0) == 0) {
      std::string value = arg == "--to" ? (i + 1 < args.size() ? args[++i] : "") : arg.substr(5);
      if (value == "yaml")
        options.to = dsl::FlowSyntax::kYaml;
      else if (value == "dsl" || value == "flow")
        options.to = dsl::FlowSyntax::kDsl;
      else {
        std::cerr << "trellis fmt: --to takes yaml or dsl, not '" << value << "'\n";
        return std::nullopt;
      }
    } else if (arg.size() > 1 && arg[0] == '-') {
      std::cerr << "trellis fmt: unknown option " << arg << "\n";
      return std::nullopt;
    } else {
      options.files.push_back(arg);
    }
  }
  if (options.files.empty()) {
    std::cerr << "trellis fmt: no file given\n";
    return std::nullopt;
  }
  if (options.check && options.write) {
    std::cerr << "trellis fmt: --check and --write exclude each other\n";
    return std::nullopt;
  }
  if (options.files.size() > 1 && !options.check && !options.write) {
    std::cerr << "trellis fmt: several files need --check or --write\n";
    return std::nullopt;
  }
  return options;
}

std::string print(const ir::Flow& flow, dsl::FlowSyntax syntax) {
  return syntax == dsl::FlowSyntax::kYaml ? dsl::format_yaml(flow) : dsl::format_dsl(flow);
}

std::string with_extension(const std::string& file, dsl::FlowSyntax syntax) {
  std::filesystem::path path(file);
  path.replace_extension(syntax == dsl::FlowSyntax::kYaml ? ".yaml" : ".flow");
  return path.string();
}

enum class Outcome { kDone, kFailed, kUsage };

// The canonical text of `file` in `to`, or nullopt after reporting why not.
std::optional<std::string> canonical(const std::string& file, dsl::FlowSyntax to, Outcome& outcome,
                                     std::string& source) {
  dsl::LoadResult result = dsl::load_flow_file(file);
  source = result.source;
  if (!result.readable) {
    for (const ir::Diagnostic& d : result.diagnostics.items()) {
      std::cerr << "trellis fmt: " << file << ": " << d.message << "\n";
    }
    outcome = Outcome::kUsage;
    return std::nullopt;
  }
  if (!result.ok()) {
    for (const ir::Diagnostic& d : result.diagnostics.items())
      std::cerr << ir::render(d, result.source);
    std::cerr << "trellis fmt: " << file << " has errors; not formatted\n";
    outcome = Outcome::kFailed;
    return std::nullopt;
  }
  std::string text = print(*result.flow, to);
  dsl::LoadResult back = dsl::load_flow_text(text, file, to);
  std::string difference = back.flow ? ir::same_flow(*result.flow, *back.flow) : "does not load";
  if (!back.ok() || !difference.empty()) {
    // A printer bug; refuse rather than write something that means less.
    std::cerr << "trellis fmt: " << file << ": the canonical form would not read back the same ("
              << (difference.empty() ? "it has errors" : difference) << "); please report this\n";
    outcome = Outcome::kFailed;
    return std::nullopt;
  }
  return text;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out);
}

Outcome format_one(const std::string& file, const Options& options) {
  std::optional<dsl::FlowSyntax> own = dsl::syntax_for_path(file);
  if (!own) {
    std::cerr << "trellis fmt: " << file << ": not a flow file: expected .yaml, .yml or .flow\n";
    return Outcome::kUsage;
  }
  dsl::FlowSyntax to = options.to.value_or(*own);
  Outcome outcome = Outcome::kDone;
  std::string source;
  std::optional<std::string> text = canonical(file, to, outcome, source);
  if (!text) return outcome;
  if (options.check) {
    if (to != *own) {
      std::cerr << "trellis fmt: --check compares a file with its own syntax; drop --to\n";
      return Outcome::kUsage;
    }
    if (*text == source) return Outcome::kDone;
    std::cerr << file << ": not in canonical form (run: trellis fmt --write " << file << ")\n";
    return Outcome::kFailed;
  }
  if (options.write) {
    std::string target = to == *own ? file : with_extension(file, to);
    if (target == file && *text == source) return Outcome::kDone;
    if (!write_file(target, *text)) {
      std::cerr << "trellis fmt: cannot write " << target << "\n";
      return Outcome::kFailed;
    }
    std::cerr << "wrote " << target << "\n";
    return Outcome::kDone;
  }
  std::cout << *text;
  return Outcome::kDone;
}

int run_fmt(const std::vector<std::string>& args) {
  std::optional<Options> options = parse_options(args);
  if (!options) {
    std::cerr << kUsage;
    return 2;
  }
  bool failed = false;
  bool usage = false;
  for (const std::string& file : options->files) {
    Outcome outcome = format_one(file, *options);
    failed |= outcome == Outcome::kFailed;
    usage |= outcome == Outcome::kUsage;
  }
  if (usage) return 2;
  return failed ? 1 : 0;
}

}  // namespace

Command fmt_command() {
  return {"fmt", "print flow files in canonical form, as YAML or as the textual DSL", kUsage,
          run_fmt};
}

}  // namespace trellis::app

#include "api/flow_catalog.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "dsl/checker.h"
#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/ir/compare.h"
#include "dsl/json_format.h"

namespace trellis::api {
namespace fs = std::filesystem;
namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The front end's findings plus the checker's, as dsl::check_flow_text does for text.
ParsedFlow check_loaded(dsl::LoadResult loaded, dsl::FlowSyntax syntax) {
  ParsedFlow out;
  out.syntax = syntax;
  out.diagnostics = std::move(loaded.diagnostics);
  out.flow = std::move(loaded.flow);
  out.diagnostics.sort();
  return out;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Write to a temporary file and rename over the old one, so a crash never
// leaves a half-written flow file behind.
Status write_atomically(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Error::io("cannot write " + tmp.string());
    out << text;
    out.flush();
    if (!out) return Error::io("cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Error::io("cannot rename " + tmp.string() + ": " + ec.message());
  return {};
}

std::string rendered(const ir::Diagnostics& diagnostics, const std::string& source) {
  std::string out;
  for (const auto& d : diagnostics.items())
    if (d.severity == ir::Severity::kError) out += ir::render(d, source);
  return out;
}

bool is_dsl_path(const std::string& path) { return fs::path(path).extension() == ".flow"; }

}  // namespace

dsl::FlowSyntax detect_syntax(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    std::string rest = line.substr(start);
    if (rest.rfind("flow", 0) != 0) return dsl::FlowSyntax::kYaml;
    size_t after = rest.find_first_not_of(" \t", 4);
    // `flow:` is YAML; `flow name {` is the DSL.
    if (after == std::string::npos || rest[after] == ':') return dsl::FlowSyntax::kYaml;
    return after > 4 ? dsl::FlowSyntax::kDsl : dsl::FlowSyntax::kYaml;
  }
  return dsl::FlowSyntax::kYaml;
}

bool valid_flow_name(const std::string& name) {
  if (name.empty() || name.size() > 128 || name[0] == '.') return false;
  // `trellis.yaml` in the flows folder is the delivery configuration: a flow
  // of that name would be saved over it.
  if (name + ".yaml" == runtime::delivery::kDeliveryConfigFile) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  return true;
}

ParsedFlow parse_flow_body(const std::string& body, const std::string& content_type,
                           const std::string& file) {
  std::string type = lower(content_type.substr(0, content_type.find(';')));
  if (type == "application/json") {
    ParsedFlow out;
    nlohmann::json json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      out.diagnostics.error(file, {}, "the body is not a JSON object (flow IR JSON expected)");
      return out;
    }
    out.flow = dsl::flow_from_json(json, file, out.diagnostics);
    dsl::CheckOptions options;
    options.graph_warnings = !dsl::front_end_lost_edges(out.diagnostics);
    out.diagnostics.append(dsl::check_flow(*out.flow, options));
    out.diagnostics.sort();
    return out;
  }
  dsl::FlowSyntax syntax;
  if (type.find("yaml") != std::string::npos)
    syntax = dsl::FlowSyntax::kYaml;
  else if (type == "text/x-trellis-flow")
    syntax = dsl::FlowSyntax::kDsl;
  else
    syntax = detect_syntax(body);
  return check_loaded(dsl::check_flow_text(body, file, syntax), syntax);
}

ParsedFlow parse_flow_source(const std::string& source, const std::string& file) {
  dsl::FlowSyntax syntax = detect_syntax(source);
  return check_loaded(dsl::check_flow_text(source, file, syntax), syntax);
}

FlowCatalog::FlowCatalog(std::string flows_dir, runtime::Engine& engine, JsonLog& log)
    : flows_dir_(std::move(flows_dir)), engine_(engine), log_(log) {}

size_t FlowCatalog::deploy_folder() {
  if (flows_dir_.empty()) return 0;
  std::error_code ec;
  std::vector<fs::path> paths;
  for (const auto& entry : fs::directory_iterator(flows_dir_, ec)) {
    auto ext = entry.path().extension().string();
    // The delivery configuration lives beside the flows but is not one (docs/delivery.md).
    if (entry.path().filename() == runtime::delivery::kDeliveryConfigFile) continue;
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml" || ext == ".flow"))
      paths.push_back(entry.path());
  }
  if (ec) {
    log_.warn(
        {{"msg", "cannot read the flows folder"}, {"dir", flows_dir_}, {"error", ec.message()}});
    return 0;
  }
  // YAML before DSL, so a flow kept in both forms deploys from its YAML file.
  std::sort(paths.begin(), paths.end(), [](const fs::path& a, const fs::path& b) {
    bool da = is_dsl_path(a.string()), db = is_dsl_path(b.string());
    return da != db ? db : a < b;
  });
  struct Loaded {
    std::string file, text;
    ir::Flow flow;
  };
  std::map<std::string, std::vector<Loaded>> by_name;
  std::vector<Loaded> broken;
  for (const auto& path : paths) {
    std::string text = read_text(path);
    ParsedFlow parsed = parse_flow_source(text, path.string());
    if (!parsed.ok()) {
      log_.error({{"msg", "flow file has errors; not deployed"},
                  {"file", path.string()},
                  {"diagnostics", dsl::diagnostics_to_json(parsed.diagnostics)}});
      // A draft saved with errors: the editor opens it again, deploy refuses it.
      if (parsed.flow && valid_flow_name(parsed.flow->name.value))
        broken.push_back({path.string(), text, std::move(*parsed.flow)});
      continue;
    }
    std::string name = parsed.flow->name.value;
    by_name[name].push_back({path.string(), text, std::move(*parsed.flow)});
  }
  size_t deployed = 0;
  for (auto& [name, loaded] : by_name) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& files = files_[name];
      for (const auto& l : loaded) files.push_back(l.file);
    }
    for (size_t i = 1; i < loaded.size(); ++i) {
      std::string difference = ir::same_flow(loaded[0].flow, loaded[i].flow);
      if (!difference.empty())
        log_.warn({{"msg", "a flow's files differ; deploying the first"},
                   {"flow", name},
                   {"file", loaded[0].file},
                   {"other", loaded[i].file},
                   {"difference", difference}});
    }
    auto outcome = deploy_text(name, loaded[0].text, loaded[0].file, "flows folder");
    if (!outcome.ok()) {
      log_.error(
          {{"msg", "deploy failed"}, {"file", loaded[0].file}, {"error", outcome.error().message}});
      continue;
    }
    log_.info({{"msg", "flow deployed"},
               {"flow", name},
               {"version", outcome->version},
               {"changed", outcome->changed},
               {"file", loaded[0].file}});
    ++deployed;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (Loaded& draft : broken) {
    const std::string& name = draft.flow.name.value;
    if (by_name.count(name) || drafts_.count(name)) continue;
    drafts_[name] = draft.text;
    files_[name] = {draft.file};
  }
  return deployed;
}

std::vector<std::string> FlowCatalog::files_for(const std::string& name,
                                                dsl::FlowSyntax syntax) const {
  auto it = files_.find(name);
  if (it != files_.end() && !it->second.empty()) return it->second;
  if (flows_dir_.empty()) return {};
  return {(fs::path(flows_dir_) / (name + (syntax == dsl::FlowSyntax::kDsl ? ".flow" : ".yaml")))
              .string()};
}

Status FlowCatalog::save(const ir::Flow& flow, dsl::FlowSyntax syntax) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string& name = flow.name.value;
  std::vector<std::string> files = files_for(name, syntax);
  // Each file keeps its own syntax, so a `.flow` file stays DSL when the editor saves JSON.
  for (const auto& file : files) {
    std::string text = is_dsl_path(file) ? dsl::format_dsl(flow) : dsl::format_yaml(flow);
    std::error_code ec;
    fs::create_directories(fs::path(file).parent_path(), ec);
    Status written = write_atomically(file, text);
    if (!written.ok()) return written;
  }
  if (!files.empty()) files_[name] = files;
  // The primary file's text is what deploy sends to the engine.
  bool dsl = files.empty() ? syntax == dsl::FlowSyntax::kDsl : is_dsl_path(files[0]);
  std::string text = dsl ? dsl::format_dsl(flow) : dsl::format_yaml(flow);
  auto deployed = engine_.flow(name);
  if (deployed && deployed->source == text)
    drafts_.erase(name);
  else
    drafts_[name] = text;
  return {};
}

std::optional<std::string> FlowCatalog::source(const std::string& name) const {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = drafts_.find(name);
    if (it != drafts_.end()) return it->second;
  }
  auto deployed = engine_.flow(name);
  if (deployed) return deployed->source;
  return std::nullopt;
}

Result<DeployOutcome> FlowCatalog::deploy(const std::string& name, const std::string& author) {
  auto text = source(name);
  if (!text) return Error::not_found("unknown flow " + name);
  std::vector<std::string> files;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files = files_for(name, detect_syntax(*text));
  }
  return deploy_text(name, *text, files.empty() ? name : files[0], author);
}

Result<DeployOutcome> FlowCatalog::redeploy_version(const std::string& name, int version,
                                                    const std::string& author) {
  std::optional<std::string> text;
  for (const runtime::FlowVersionRecord& r : engine_.flow_history(name))
    if (r.version == version) text = r.source;
  if (!text) return Error{"flow " + name + " has no version " + std::to_string(version)};
  ParsedFlow parsed = parse_flow_source(*text, name);
  if (!parsed.ok()) return Error{rendered(parsed.diagnostics, *text)};
  if (Status saved = save(*parsed.flow, parsed.syntax); !saved.ok()) return Error{saved.message()};
  return deploy(name, author);
}

Result<DeployOutcome> FlowCatalog::deploy_text(const std::string& name, const std::string& text,
                                               const std::string& file, const std::string& author) {
  ParsedFlow parsed = parse_flow_source(text, file);
  if (!parsed.ok()) return Error::invalid(rendered(parsed.diagnostics, text));
  std::lock_guard<std::mutex> lock(mu_);
  auto before = engine_.flow(name);
  auto version = engine_.deploy(*parsed.flow, text, author);
  if (!version.ok()) return version.error();
  drafts_.erase(name);
  return DeployOutcome{*version, !before || before->version != *version};
}

std::vector<FlowInfo> FlowCatalog::list() const {
  std::vector<std::string> names;
  for (const auto& f : engine_.flows()) names.push_back(f.name);
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [name, text] : drafts_) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::vector<FlowInfo> out;
  for (const auto& name : names)
    if (auto i = info(name)) out.push_back(*i);
  return out;
}

Status FlowCatalog::remove(const std::string& name) {
  if (engine_.flow(name)) return Error::conflict("flow " + name + " is deployed and keeps running");
  std::lock_guard<std::mutex> lock(mu_);
  if (drafts_.erase(name) == 0) return Error::not_found("unknown flow " + name);
  auto it = files_.find(name);
  if (it == files_.end()) return {};
  for (const auto& file : it->second) {
    std::error_code ec;
    fs::remove(file, ec);
    if (ec) return Error::io("cannot remove " + file + ": " + ec.message());
  }
  files_.erase(it);
  return {};
}

std::optional<FlowInfo> FlowCatalog::info(const std::string& name) const {
  FlowInfo out;
  out.name = name;
  auto deployed = engine_.flow(name);
  if (deployed) {
    out.deployed_version = deployed->version;
    out.deployed_at = deployed->deployed_at;
    out.state = deployed->state;
  }
  std::lock_guard<std::mutex> lock(mu_);
  out.has_draft = drafts_.count(name) > 0;
  auto it = files_.find(name);
  if (it != files_.end() && !it->second.empty()) {
    out.file = it->second[0];
    out.files = it->second;
  }
  if (!deployed && !out.has_draft) return std::nullopt;
  return out;
}

}  // namespace trellis::api

// The flows `trellis serve` knows: the files of the flows folder (the source of
// truth across restarts), drafts saved through `PUT /v1/flows/{name}`, and the
// versions deployed in the engine. PUT checks a flow and saves it as the
// flow's file in canonical form without touching the running version; deploy
// turns the saved text into the engine's next version.
//
// Thread-safety: every member may be called from any thread; saves and
// deploys of all flows are serialised by one mutex (they are rare).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/json_log.h"
#include "dsl/ir/diagnostic.h"
#include "dsl/ir/flow.h"
#include "dsl/ir/result.h"
#include "dsl/load.h"
#include "runtime/engine.h"

namespace trellis::api {

// DSL when the first line that is neither blank nor a comment reads
// `flow <name> {`; YAML otherwise.
dsl::FlowSyntax detect_syntax(const std::string& text);

// A flow read from a request or a file, then checked.
struct ParsedFlow {
  std::optional<ir::Flow> flow;
  ir::Diagnostics diagnostics;
  dsl::FlowSyntax syntax = dsl::FlowSyntax::kYaml;  // IR JSON counts as YAML (saved as YAML)
  bool ok() const { return flow.has_value() && !diagnostics.has_errors(); }
};

// Parses and checks flow text or IR JSON; `content_type` picks the front end:
// application/json is IR JSON, yaml types are YAML, text/x-trellis-flow is the
// DSL, anything else is detected by detect_syntax(). `file` labels diagnostics.
// REQUIRES for JSON: `body` was depth-checked by the caller.
ParsedFlow parse_flow_body(const std::string& body, const std::string& content_type,
                           const std::string& file);
// Parses and checks stored source text (YAML or DSL, detected).
ParsedFlow parse_flow_source(const std::string& source, const std::string& file);

// True for names usable in URLs and file names: [A-Za-z0-9_.-]+, not starting
// with '.', and not `trellis` (flows/trellis.yaml is the delivery configuration).
bool valid_flow_name(const std::string& name);

struct FlowInfo {
  std::string name;
  int deployed_version = 0;        // 0: never deployed
  int64_t deployed_at = 0;         // ms since the epoch
  bool has_draft = false;          // saved text differs from the deployed version
  std::string file;                // its primary file in the flows folder; empty when none
  std::vector<std::string> files;  // every file of the flow (YAML first)
  runtime::FlowState state = runtime::FlowState::kActive;  // of a deployed flow
};

struct DeployOutcome {
  int version = 0;
  bool changed = false;  // false when the text equals the latest version's
};

class FlowCatalog {
 public:
  // `engine` and `log` are borrowed. `flows_dir` may be empty (no folder:
  // saved flows live in memory until deployed).
  FlowCatalog(std::string flows_dir, runtime::Engine& engine, JsonLog& log);

  // Loads, checks and deploys every .yaml/.yml/.flow file of the flows folder.
  // A file with errors is logged with its diagnostics and skipped, so the
  // version already running keeps running. A flow kept in both syntaxes
  // (`x.yaml` and `x.flow`) deploys from its YAML file; a warning says when
  // the two differ. Returns how many flows deployed.
  size_t deploy_folder();

  // Saves a checked flow: writes its canonical text to its files (those it
  // was loaded from, every one in its own syntax, so a flow kept as both
  // `.yaml` and `.flow` stays in step; else `<name>.yaml`, or `<name>.flow`
  // for DSL input).
  // The flow may have checker errors: it is then a draft that deploy refuses.
  // Error when the file cannot be written.
  Status save(const ir::Flow& flow, dsl::FlowSyntax syntax);
  // The saved (or else deployed) text of a flow; nullopt when unknown.
  std::optional<std::string> source(const std::string& name) const;
  // Deploys the saved text as the next version. Error: unknown flow, or the
  // saved text no longer checks (messages in `error`).
  // `author` (who asked) is kept with the version.
  Result<DeployOutcome> deploy(const std::string& name, const std::string& author = "");
  // Rollback: saves the text of `version` as the flow's files and deploys it
  // as the next version. Error: unknown flow or version, or it no longer checks.
  Result<DeployOutcome> redeploy_version(const std::string& name, int version,
                                         const std::string& author);

  // Deletes a flow that was never deployed: its saved text and its files. A deployed
  // flow keeps running (its journeys are under way), so it is refused.
  // Error: unknown flow, deployed flow, or a file that cannot be removed.
  Status remove(const std::string& name);

  std::vector<FlowInfo> list() const;
  std::optional<FlowInfo> info(const std::string& name) const;

 private:
  Result<DeployOutcome> deploy_text(const std::string& name, const std::string& text,
                                    const std::string& file, const std::string& author);
  // The flow's files, YAML first; a new one by `syntax` when it has none.
  std::vector<std::string> files_for(const std::string& name, dsl::FlowSyntax syntax) const;

  std::string flows_dir_;
  runtime::Engine& engine_;
  JsonLog& log_;
  mutable std::mutex mu_;                                  // guards the maps below and file writes
  std::map<std::string, std::string> drafts_;              // name -> saved text not yet deployed
  std::map<std::string, std::vector<std::string>> files_;  // name -> its files, YAML first
};

}  // namespace trellis::api

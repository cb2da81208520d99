#include "api/lifecycle_routes.h"

#include <charconv>

#include "dsl/flow_diff.h"
#include "dsl/json_format.h"
#include "runtime/event.h"

namespace trellis::api {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

const std::string kName = "([^/]+)";
constexpr size_t kMaxAuthorBytes = 128;

std::string flow_param(ApiContext& ctx, const Request& req) {
  std::string name = req.matches[1];
  if (!valid_flow_name(name))
    throw HttpError{400, "bad_name", "flow names use letters, digits, '_', '-' and '.'"};
  if (!ctx.flows.info(name)) throw HttpError{404, "unknown_flow", "no flow named " + name};
  return name;
}

void require_deployed(ApiContext& ctx, const std::string& name) {
  if (!ctx.engine.flow(name))
    throw HttpError{409, "not_deployed", "flow " + name + " has never been deployed"};
}

int version_number(const std::string& text, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1)
    throw HttpError{400, "bad_version",
                    std::string(what) + " must be a version number (1, 2, ...)"};
  return v;
}

json optional_body(HttpServer& server, const Request& req) {
  if (req.body.empty()) return json::object();
  json body = parse_json_body(req.body, server.options().max_json_depth);
  if (!body.is_object()) throw HttpError{400, "bad_body", "send a JSON object"};
  return body;
}

std::string string_field(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return "";
  if (!it->is_string()) throw HttpError{400, "bad_body", std::string(field) + " must be a string"};
  std::string value = it->get<std::string>();
  if (Status s = runtime::check_identifier(field, value, 1024); !s.ok())
    throw HttpError{400, "bad_body", s.message()};
  return value;
}

// ---- lifecycle -----------------------------------------------------------------

void change_state(HttpServer& server, ApiContext& ctx, const Request& req, Response& res,
                  runtime::FlowState to) {
  std::string name = flow_param(ctx, req);
  require_deployed(ctx, name);
  json body = optional_body(server, req);
  runtime::LifecycleRequest request;
  request.to = to;
  request.by = request_author(req);
  request.reason = string_field(body, "reason");
  const std::string timers = string_field(body, "timers");
  if (timers == "shift")
    request.timers = runtime::HeldTimers::kShift;
  else if (!timers.empty() && timers != "fire")
    throw HttpError{400, "bad_body", "timers is \"fire\" (the default) or \"shift\""};
  auto outcome = ctx.engine.change_flow_state(name, request);
  if (!outcome.ok()) throw HttpError{409, "bad_state", outcome.error().message};
  auto flow = ctx.engine.flow(name);
  server.log().info({{"msg", "flow " + std::string(runtime::flow_state_name(to))},
                     {"flow", name},
                     {"was", std::string(runtime::flow_state_name(outcome->from))},
                     {"journeys", outcome->journeys},
                     {"by", request.by}});
  reply_json(res, 200,
             {{"flow", name},
              {"state", std::string(runtime::flow_state_name(outcome->to))},
              {"was", std::string(runtime::flow_state_name(outcome->from))},
              {"journeys", outcome->journeys},
              {"at", format_time(flow ? flow->state_at : 0)},
              {"by", request.by}});
}

// ---- versions, diff, rollback -----------------------------------------------------

const runtime::FlowVersionRecord& find_version(const std::vector<runtime::FlowVersionRecord>& all,
                                               const std::string& name, int version) {
  for (const auto& r : all)
    if (r.version == version) return r;
  throw HttpError{404, "unknown_version",
                  "flow " + name + " has no version " + std::to_string(version)};
}

void get_versions(ApiContext& ctx, const Request& req, Response& res) {
  std::string name = flow_param(ctx, req);
  auto history = ctx.engine.flow_history(name);
  json versions = json::array();
  for (auto it = history.rbegin(); it != history.rend(); ++it)
    versions.push_back({{"version", it->version},
                        {"deployed_at", format_time(it->deployed_at)},
                        {"author", it->author}});
  auto flow = ctx.engine.flow(name);
  json out = {{"flow", name}, {"current", flow ? flow->version : 0}, {"versions", versions}};
  if (flow) {
    out["state"] = std::string(runtime::flow_state_name(flow->state));
    if (flow->state_at) {
      out["state_at"] = format_time(flow->state_at);
      out["state_by"] = flow->state_by;
      if (!flow->state_reason.empty()) out["state_reason"] = flow->state_reason;
    }
  }
  reply_json(res, 200, out);
}

void get_version(ApiContext& ctx, const Request& req, Response& res) {
  std::string name = flow_param(ctx, req);
  const int version = version_number(req.matches[2], "version");
  auto history = ctx.engine.flow_history(name);
  const auto& record = find_version(history, name, version);
  res.set_header("X-Trellis-Version", std::to_string(version));
  res.set_header("X-Trellis-Author", record.author);
  bool dsl = detect_syntax(record.source) == dsl::FlowSyntax::kDsl;
  res.set_content(record.source,
                  dsl ? "text/x-trellis-flow; charset=utf-8" : "application/yaml; charset=utf-8");
}

ir::Flow parsed_or_throw(const std::string& source, const std::string& label) {
  ParsedFlow parsed = parse_flow_source(source, label);
  if (!parsed.flow) throw HttpError{500, "internal", label + " does not parse"};
  return std::move(*parsed.flow);
}

json changes_json(const std::vector<dsl::FlowChange>& changes) {
  json out = json::array();
  for (const auto& c : changes) {
    json item = {{"kind", std::string(dsl::change_kind_name(c.kind))}, {"text", c.text}};
    if (!c.node.empty()) item["node"] = c.node;
    out.push_back(item);
  }
  return out;
}

// GET ?from=N&to=M (versions; `to` may be "draft": the saved text). Without
// `to`, the newest version; without `from`, the version before `to`.
void get_diff(ApiContext& ctx, const Request& req, Response& res) {
  std::string name = flow_param(ctx, req);
  auto history = ctx.engine.flow_history(name);
  const int latest = history.empty() ? 0 : history.back().version;
  std::string to_text = req.has_param("to") ? req.get_param_value("to") : "";
  std::optional<ir::Flow> after;
  json to_label;
  int to_version = latest;
  if (to_text == "draft") {
    after = parsed_or_throw(*ctx.flows.source(name), name + " (draft)");
    to_label = "draft";
    to_version = latest + 1;
  } else {
    if (!to_text.empty()) to_version = version_number(to_text, "to");
    if (to_version == 0) throw HttpError{409, "not_deployed", "flow " + name + " has no versions"};
    after = parsed_or_throw(find_version(history, name, to_version).source, name);
    to_label = to_version;
  }
  int from_version = to_version - 1;
  if (req.has_param("from")) from_version = version_number(req.get_param_value("from"), "from");
  std::optional<ir::Flow> before;
  if (from_version >= 1)
    before = parsed_or_throw(find_version(history, name, from_version).source, name);
  auto changes = dsl::describe_changes(before ? &*before : nullptr, *after);
  reply_json(res, 200,
             {{"flow", name},
              {"from", from_version >= 1 ? json(from_version) : json(nullptr)},
              {"to", to_label},
              {"changes", changes_json(changes)}});
}

// POST with a flow body (YAML, DSL or IR JSON, as PUT takes): the changes from
// version ?from (default: the running one; none: a first version) to the
// body, unsaved: what the editor's deploy dialog shows.
void post_diff(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  std::string name = flow_param(ctx, req);
  std::string type = req.get_header_value("Content-Type");
  if (type.rfind("application/json", 0) == 0 &&
      runtime::json_nesting_exceeds(req.body, server.options().max_json_depth))
    throw HttpError{400, "json_too_deep", "JSON nests too deeply"};
  if (req.body.empty()) throw HttpError{400, "empty_body", "send the flow as YAML, DSL or IR JSON"};
  ParsedFlow parsed = parse_flow_body(req.body, type, name);
  if (!parsed.flow)
    throw HttpError{
        422, "invalid_flow", {{"diagnostics", dsl::diagnostics_to_json(parsed.diagnostics)}}};
  auto history = ctx.engine.flow_history(name);
  int from_version = history.empty() ? 0 : history.back().version;
  if (req.has_param("from")) from_version = version_number(req.get_param_value("from"), "from");
  std::optional<ir::Flow> before;
  if (from_version >= 1)
    before = parsed_or_throw(find_version(history, name, from_version).source, name);
  auto changes = dsl::describe_changes(before ? &*before : nullptr, *parsed.flow);
  reply_json(res, 200,
             {{"flow", name},
              {"from", from_version >= 1 ? json(from_version) : json(nullptr)},
              {"to", "request"},
              {"changes", changes_json(changes)}});
}

void post_rollback(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  std::string name = flow_param(ctx, req);
  json body = optional_body(server, req);
  auto v = body.find("version");
  if (v == body.end() || !v->is_number_integer() || v->get<int64_t>() < 1 ||
      v->get<int64_t>() > 1'000'000'000)
    throw HttpError{400, "bad_version", "send {\"version\": N}: the version to deploy again"};
  const int version = static_cast<int>(v->get<int64_t>());
  const std::string author = request_author(req);
  auto history = ctx.engine.flow_history(name);
  (void)find_version(history, name, version);
  auto outcome = ctx.flows.redeploy_version(name, version, author);
  if (!outcome.ok()) throw HttpError{422, "deploy_failed", outcome.error().message};
  server.log().info({{"msg", "flow rolled back"},
                     {"flow", name},
                     {"to_version", version},
                     {"version", outcome->version},
                     {"by", author}});
  reply_json(res, 200,
             {{"flow", name},
              {"version", outcome->version},
              {"changed", outcome->changed},
              {"from_version", version}});
}

// ---- migration of waiting journeys ---------------------------------------------

int int_field(const json& body, const char* field, int fallback) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1'000'000'000)
    throw HttpError{400, "bad_body", std::string(field) + " must be a version number"};
  return static_cast<int>(it->get<int64_t>());
}

runtime::MigrationRequest migration_request(const json& body) {
  runtime::MigrationRequest request;
  request.from = int_field(body, "from", 0);
  if (request.from == 0)
    throw HttpError{400, "bad_body", "from (the journeys' version) is required"};
  request.to = int_field(body, "to", 0);
  if (auto map = body.find("map"); map != body.end() && !map->is_null()) {
    if (!map->is_object())
      throw HttpError{400, "bad_body", "map is an object: {\"old node\": \"new node\"}"};
    for (const auto& [from, to] : map->items()) {
      if (!to.is_string()) throw HttpError{400, "bad_body", "map values are node ids"};
      request.node_map[from] = to.get<std::string>();
    }
  }
  if (auto dry = body.find("dry_run"); dry != body.end() && !dry->is_null()) {
    if (!dry->is_boolean()) throw HttpError{400, "bad_body", "dry_run is true or false"};
    request.dry_run = dry->get<bool>();
  }
  const std::string timers = string_field(body, "timers");
  if (timers == "restart")
    request.restart_timers = true;
  else if (!timers.empty() && timers != "keep")
    throw HttpError{400, "bad_body", "timers is \"keep\" (the default) or \"restart\""};
  return request;
}

json plan_json(const std::string& name, const runtime::MigrationPlan& plan, bool dry_run) {
  json moves = json::array(), blocked = json::array();
  int64_t movable = 0, stuck = 0;
  for (const auto& m : plan.moves) {
    moves.push_back({{"from_node", m.from_node}, {"to_node", m.to_node}, {"journeys", m.journeys}});
    movable += m.journeys;
  }
  for (const auto& b : plan.blocked) {
    blocked.push_back({{"node", b.node}, {"journeys", b.journeys}, {"reason", b.reason}});
    stuck += b.journeys;
  }
  return {{"flow", name},        {"from", plan.from},  {"to", plan.to},
          {"dry_run", dry_run},  {"movable", movable}, {"blocked_journeys", stuck},
          {"moved", plan.moved}, {"moves", moves},     {"blocked", blocked}};
}

void post_migrate(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  std::string name = flow_param(ctx, req);
  require_deployed(ctx, name);
  json body = optional_body(server, req);
  runtime::MigrationRequest request = migration_request(body);
  request.by = request_author(req);
  auto plan = ctx.engine.migrate_journeys(name, request);
  if (!plan.ok()) throw HttpError{422, "bad_migration", plan.error().message};
  if (!request.dry_run)
    server.log().info({{"msg", "journeys migrated"},
                       {"flow", name},
                       {"from", plan->from},
                       {"to", plan->to},
                       {"moved", plan->moved},
                       {"by", request.by}});
  reply_json(res, 200, plan_json(name, *plan, request.dry_run));
}

}  // namespace

std::string request_author(const Request& req) {
  std::string token = current_caller().name;
  std::string header = req.get_header_value("X-Trellis-Author");
  if (Status s = runtime::check_identifier("X-Trellis-Author", header, kMaxAuthorBytes);
      !header.empty() && !s.ok())
    throw HttpError{400, "bad_author", s.message()};
  if (token.empty()) return header;
  if (header.empty() || header == token) return token;
  return token + " (" + header + ")";
}

void add_lifecycle_routes(HttpServer& server, ApiContext& ctx) {
  HttpServer* s = &server;
  ApiContext* c = &ctx;
  const std::pair<const char*, runtime::FlowState> changes[] = {
      {"pause", runtime::FlowState::kPaused},
      {"resume", runtime::FlowState::kActive},
      {"stop", runtime::FlowState::kStopped},
      {"archive", runtime::FlowState::kArchived}};
  for (const auto& [verb, to] : changes) {
    const runtime::FlowState state = to;
    server.post(
        "/v1/flows/" + kName + "/" + verb,
        [s, c, state](const Request& q, Response& r) { change_state(*s, *c, q, r, state); },
        Access::kWrite);
  }
  server.get("/v1/flows/" + kName + "/versions",
             [c](const Request& q, Response& r) { get_versions(*c, q, r); });
  server.get("/v1/flows/" + kName + "/versions/([0-9]+)",
             [c](const Request& q, Response& r) { get_version(*c, q, r); });
  server.get("/v1/flows/" + kName + "/diff",
             [c](const Request& q, Response& r) { get_diff(*c, q, r); });
  // Comparing changes nothing: the read scope is enough, as for /v1/check.
  server.post(
      "/v1/flows/" + kName + "/diff",
      [s, c](const Request& q, Response& r) { post_diff(*s, *c, q, r); }, Access::kRead);
  server.post(
      "/v1/flows/" + kName + "/migrate",
      [s, c](const Request& q, Response& r) { post_migrate(*s, *c, q, r); }, Access::kAdmin);
  server.post(
      "/v1/flows/" + kName + "/rollback",
      [s, c](const Request& q, Response& r) { post_rollback(*s, *c, q, r); }, Access::kAdmin);
}

}  // namespace trellis::api

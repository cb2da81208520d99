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
constexpr size_t kMaxAuthorBytes = 128;

// The URL's flow, which must exist (a saved draft at least).
ApiResult<std::string> flow_param(ApiContext& ctx, const Request& req) {
  ApiResult<std::string> name = flow_name_param(req);
  if (name.ok() && !ctx.flows.info(*name))
    return ApiError::not_found("unknown_flow", "no flow named " + *name);
  return name;
}

Reply require_deployed(ApiContext& ctx, const std::string& name) {
  if (!ctx.engine.flow(name))
    return ApiError::conflict("not_deployed", "flow " + name + " has never been deployed");
  return {};
}

ApiResult<int> version_number(const std::string& text, const char* what) {
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < 1)
    return ApiError::invalid("bad_version",
                             std::string(what) + " must be a version number (1, 2, ...)");
  return v;
}

ApiError bad_body(std::string detail) { return ApiError::invalid("bad_body", std::move(detail)); }

ApiResult<json> optional_body(HttpServer& server, const Request& req) {
  if (req.body.empty()) return json::object();
  ApiResult<json> body = parse_json_body(req.body, server.options().max_json_depth);
  if (body.ok() && !body->is_object()) return bad_body("send a JSON object");
  return body;
}

ApiResult<std::string> string_field(const json& body, const char* field) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad_body(std::string(field) + " must be a string");
  std::string value = it->get<std::string>();
  if (Status s = runtime::check_identifier(field, value, 1024); !s.ok())
    return bad_body(s.message());
  return value;
}

// What a request that acts on a deployed flow's journeys carries: the URL's
// flow, which must have been deployed, its body (a JSON object; {} when
// empty) and who asks (request_author). Refusals in that order.
struct FlowAction {
  std::string name;
  json body;
  std::string by;
};

ApiResult<FlowAction> flow_action(HttpServer& server, ApiContext& ctx, const Request& req) {
  ApiResult<std::string> named = flow_param(ctx, req);
  if (!named.ok()) return named.error();
  if (Reply deployed = require_deployed(ctx, *named); !deployed.ok()) return deployed.error();
  ApiResult<json> body = optional_body(server, req);
  if (!body.ok()) return body.error();
  ApiResult<std::string> by = request_author(req);
  if (!by.ok()) return by.error();
  return FlowAction{std::move(*named), std::move(*body), std::move(*by)};
}

// ---- lifecycle -----------------------------------------------------------------

Reply change_state(HttpServer& server, ApiContext& ctx, const Request& req, Response& res,
                   runtime::FlowState to) {
  ApiResult<FlowAction> action = flow_action(server, ctx, req);
  if (!action.ok()) return action.error();
  const std::string& name = action->name;
  const json& body = action->body;
  runtime::LifecycleRequest request;
  request.to = to;
  request.by = action->by;
  ApiResult<std::string> reason = string_field(body, "reason");
  if (!reason.ok()) return reason.error();
  request.reason = *reason;
  ApiResult<std::string> timers = string_field(body, "timers");
  if (!timers.ok()) return timers.error();
  if (*timers == "shift")
    request.timers = runtime::HeldTimers::kShift;
  else if (!timers->empty() && *timers != "fire")
    return bad_body("timers is \"fire\" (the default) or \"shift\"");
  auto outcome = ctx.engine.change_flow_state(name, request);
  if (!outcome.ok()) return ApiError::conflict("bad_state", outcome.error().message);
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
  return {};
}

// ---- versions, diff, rollback -----------------------------------------------------

ApiResult<const runtime::FlowVersionRecord*> find_version(
    const std::vector<runtime::FlowVersionRecord>& all, const std::string& name, int version) {
  for (const auto& r : all)
    if (r.version == version) return &r;
  return ApiError::not_found("unknown_version",
                             "flow " + name + " has no version " + std::to_string(version));
}

Reply get_versions(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_param(ctx, req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
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
  return {};
}

Reply get_version(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_param(ctx, req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  ApiResult<int> version = version_number(req.matches[2], "version");
  if (!version.ok()) return version.error();
  auto history = ctx.engine.flow_history(name);
  ApiResult<const runtime::FlowVersionRecord*> found = find_version(history, name, *version);
  if (!found.ok()) return found.error();
  const runtime::FlowVersionRecord& record = **found;
  res.set_header("X-Trellis-Version", std::to_string(*version));
  res.set_header("X-Trellis-Author", record.author);
  bool dsl = detect_syntax(record.source) == dsl::FlowSyntax::kDsl;
  res.set_content(record.source,
                  dsl ? "text/x-trellis-flow; charset=utf-8" : "application/yaml; charset=utf-8");
  return {};
}

// A stored text that does not parse is the server's fault (500): it parsed
// when it was saved.
ApiResult<ir::Flow> parse_stored(const std::string& source, const std::string& label) {
  ParsedFlow parsed = parse_flow_source(source, label);
  if (!parsed.flow) return ApiError{ApiErrorKind::kInternal, "internal", label + " does not parse"};
  return std::move(*parsed.flow);
}

// Version `version` of a flow, parsed.
ApiResult<ir::Flow> stored_version(const std::vector<runtime::FlowVersionRecord>& history,
                                   const std::string& name, int version) {
  ApiResult<const runtime::FlowVersionRecord*> record = find_version(history, name, version);
  if (!record.ok()) return record.error();
  return parse_stored((*record)->source, name);
}

// The version to compare from: ?from, else `fallback`; nullopt below 1 (a first version).
ApiResult<std::optional<ir::Flow>> from_version_flow(
    const Request& req, const std::vector<runtime::FlowVersionRecord>& history,
    const std::string& name, int& from_version) {
  if (req.has_param("from")) {
    ApiResult<int> from = version_number(req.get_param_value("from"), "from");
    if (!from.ok()) return from.error();
    from_version = *from;
  }
  if (from_version < 1) return std::optional<ir::Flow>();
  ApiResult<ir::Flow> before = stored_version(history, name, from_version);
  if (!before.ok()) return before.error();
  return std::optional<ir::Flow>(std::move(*before));
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

// {flow, from (null: a first version), to, changes}: both diffs answer it.
json diff_json(const std::string& name, int from_version, const json& to,
               const std::vector<dsl::FlowChange>& changes) {
  return {{"flow", name},
          {"from", from_version >= 1 ? json(from_version) : json(nullptr)},
          {"to", to},
          {"changes", changes_json(changes)}};
}

// GET ?from=N&to=M (versions; `to` may be "draft": the saved text). Without
// `to`, the newest version; without `from`, the version before `to`.
Reply get_diff(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_param(ctx, req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  auto history = ctx.engine.flow_history(name);
  const int latest = history.empty() ? 0 : history.back().version;
  std::string to_text = req.has_param("to") ? req.get_param_value("to") : "";
  ApiResult<ir::Flow> after = ApiError{};
  json to_label;
  int to_version = latest;
  if (to_text == "draft") {
    after = parse_stored(*ctx.flows.source(name), name + " (draft)");
    to_label = "draft";
    to_version = latest + 1;
  } else {
    if (!to_text.empty()) {
      ApiResult<int> to = version_number(to_text, "to");
      if (!to.ok()) return to.error();
      to_version = *to;
    }
    if (to_version == 0)
      return ApiError::conflict("not_deployed", "flow " + name + " has no versions");
    after = stored_version(history, name, to_version);
    to_label = to_version;
  }
  if (!after.ok()) return after.error();
  int from_version = to_version - 1;
  ApiResult<std::optional<ir::Flow>> before = from_version_flow(req, history, name, from_version);
  if (!before.ok()) return before.error();
  auto changes = dsl::describe_changes(*before ? &**before : nullptr, *after);
  reply_json(res, 200, diff_json(name, from_version, to_label, changes));
  return {};
}

// POST with a flow body (YAML, DSL or IR JSON, as PUT takes): the changes from
// version ?from (default: the running one; none: a first version) to the
// body, unsaved: what the editor's deploy dialog shows.
Reply post_diff(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_param(ctx, req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  if (std::optional<ApiError> refused = check_flow_body(server, req)) return *refused;
  ParsedFlow parsed = parse_flow_body(req.body, req.get_header_value("Content-Type"), name);
  if (!parsed.flow)
    return ApiError::unprocessable("invalid_flow",
                                   {{"diagnostics", dsl::diagnostics_to_json(parsed.diagnostics)}});
  auto history = ctx.engine.flow_history(name);
  int from_version = history.empty() ? 0 : history.back().version;
  ApiResult<std::optional<ir::Flow>> before = from_version_flow(req, history, name, from_version);
  if (!before.ok()) return before.error();
  auto changes = dsl::describe_changes(*before ? &**before : nullptr, *parsed.flow);
  reply_json(res, 200, diff_json(name, from_version, "request", changes));
  return {};
}

Reply post_rollback(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_param(ctx, req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  ApiResult<json> body = optional_body(server, req);
  if (!body.ok()) return body.error();
  auto v = body->find("version");
  if (v == body->end() || !v->is_number_integer() || v->get<int64_t>() < 1 ||
      v->get<int64_t>() > 1'000'000'000)
    return ApiError::invalid("bad_version", "send {\"version\": N}: the version to deploy again");
  const int version = static_cast<int>(v->get<int64_t>());
  ApiResult<std::string> by = request_author(req);
  if (!by.ok()) return by.error();
  const std::string author = *by;
  auto history = ctx.engine.flow_history(name);
  if (auto found = find_version(history, name, version); !found.ok()) return found.error();
  auto outcome = ctx.flows.redeploy_version(name, version, author);
  if (!outcome.ok()) return ApiError::unprocessable("deploy_failed", outcome.error().message);
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
  return {};
}

// ---- migration of waiting journeys ---------------------------------------------

ApiResult<int> int_field(const json& body, const char* field, int fallback) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > 1'000'000'000)
    return bad_body(std::string(field) + " must be a version number");
  return static_cast<int>(it->get<int64_t>());
}

ApiResult<runtime::MigrationRequest> migration_request(const json& body) {
  runtime::MigrationRequest request;
  ApiResult<int> from = int_field(body, "from", 0);
  if (!from.ok()) return from.error();
  request.from = *from;
  if (request.from == 0) return bad_body("from (the journeys' version) is required");
  ApiResult<int> to = int_field(body, "to", 0);
  if (!to.ok()) return to.error();
  request.to = *to;
  if (auto map = body.find("map"); map != body.end() && !map->is_null()) {
    if (!map->is_object()) return bad_body("map is an object: {\"old node\": \"new node\"}");
    for (const auto& [from_node, to_node] : map->items()) {
      if (!to_node.is_string()) return bad_body("map values are node ids");
      request.node_map[from_node] = to_node.get<std::string>();
    }
  }
  if (auto dry = body.find("dry_run"); dry != body.end() && !dry->is_null()) {
    if (!dry->is_boolean()) return bad_body("dry_run is true or false");
    request.dry_run = dry->get<bool>();
  }
  ApiResult<std::string> timers = string_field(body, "timers");
  if (!timers.ok()) return timers.error();
  if (*timers == "restart")
    request.restart_timers = true;
  else if (!timers->empty() && *timers != "keep")
    return bad_body("timers is \"keep\" (the default) or \"restart\"");
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

Reply post_migrate(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<FlowAction> action = flow_action(server, ctx, req);
  if (!action.ok()) return action.error();
  const std::string& name = action->name;
  ApiResult<runtime::MigrationRequest> asked = migration_request(action->body);
  if (!asked.ok()) return asked.error();
  runtime::MigrationRequest& request = *asked;
  request.by = action->by;
  auto plan = ctx.engine.migrate_journeys(name, request);
  if (!plan.ok()) return ApiError::unprocessable("bad_migration", plan.error().message);
  if (!request.dry_run)
    server.log().info({{"msg", "journeys migrated"},
                       {"flow", name},
                       {"from", plan->from},
                       {"to", plan->to},
                       {"moved", plan->moved},
                       {"by", request.by}});
  reply_json(res, 200, plan_json(name, *plan, request.dry_run));
  return {};
}

}  // namespace

ApiResult<std::string> request_author(const Request& req) {
  std::string token = current_caller().name;
  std::string header = req.get_header_value("X-Trellis-Author");
  if (Status s = runtime::check_identifier("X-Trellis-Author", header, kMaxAuthorBytes);
      !header.empty() && !s.ok())
    return ApiError::invalid("bad_author", s.message());
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
        "/v1/flows/" + kNameGroup + "/" + verb,
        [s, c, state](const Request& q, Response& r) { return change_state(*s, *c, q, r, state); },
        Access::kWrite);
  }
  server.get("/v1/flows/" + kNameGroup + "/versions",
             [c](const Request& q, Response& r) { return get_versions(*c, q, r); });
  server.get("/v1/flows/" + kNameGroup + "/versions/([0-9]+)",
             [c](const Request& q, Response& r) { return get_version(*c, q, r); });
  server.get("/v1/flows/" + kNameGroup + "/diff",
             [c](const Request& q, Response& r) { return get_diff(*c, q, r); });
  // Comparing changes nothing: the read scope is enough, as for /v1/check.
  server.post(
      "/v1/flows/" + kNameGroup + "/diff",
      [s, c](const Request& q, Response& r) { return post_diff(*s, *c, q, r); }, Access::kRead);
  server.post(
      "/v1/flows/" + kNameGroup + "/migrate",
      [s, c](const Request& q, Response& r) { return post_migrate(*s, *c, q, r); }, Access::kAdmin);
  server.post(
      "/v1/flows/" + kNameGroup + "/rollback",
      [s, c](const Request& q, Response& r) { return post_rollback(*s, *c, q, r); },
      Access::kAdmin);
}

}  // namespace trellis::api

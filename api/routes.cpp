#include "api/routes.h"

#include <charconv>

#include "api/consent.h"
#include "api/json_text.h"
#include "api/lifecycle_routes.h"
#include "api/results.h"
#include "api/replay.h"
#include "api/segment.h"
#include "api/simulate.h"
#include "dsl/format_dsl.h"
#include "dsl/format_yaml.h"
#include "dsl/json_format.h"
#include "dsl/ir/node_table.h"
#include "dsl/known_names.h"
#include "runtime/event.h"

namespace trellis::api {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

// A user id or pool name from the URL of a write: the limits events have
// (length, UTF-8, no NUL), so nothing stored is longer or stranger than an
// event could make it.
ApiResult<std::string> identifier_param(const ApiContext& ctx, const Request& req,
                                        const char* field) {
  std::string value = req.matches[1];
  Status valid = runtime::check_identifier(field, value, ctx.ingest.limits().max_id_bytes);
  if (!valid.ok()) return ApiError::invalid("invalid_identifier", valid.message());
  return value;
}

json invalid_flow_detail(const ir::Diagnostics& diagnostics) {
  return {{"errors", diagnostics.error_count()},
          {"warnings", diagnostics.warning_count()},
          {"diagnostics", dsl::diagnostics_to_json(diagnostics)}};
}

// Parses a flow body for PUT, deploy and check; JSON bodies are depth-checked.
ApiResult<ParsedFlow> parse_flow_request(const HttpServer& server, const Request& req,
                                         const std::string& file) {
  if (auto refused = check_flow_body(server, req)) return *refused;
  return parse_flow_body(req.body, req.get_header_value("Content-Type"), file);
}

// The flow must be readable and carry the URL's name; checker errors may remain
// (a draft). A 422 otherwise.
Reply require_savable(ParsedFlow& parsed, const std::string& name, const std::string& file) {
  if (parsed.flow && parsed.flow->name.value.empty() && parsed.syntax == dsl::FlowSyntax::kYaml)
    parsed.flow->name.value = name;  // IR JSON from the editor may leave it to the URL
  bool named = parsed.flow && parsed.flow->name.value == name;
  if (parsed.flow && !named)
    parsed.diagnostics.error(
        file, parsed.flow->name.span,
        "the flow is named '" + parsed.flow->name.value + "' but the URL names '" + name + "'", "",
        "flow");
  if (!named)
    return ApiError::unprocessable("invalid_flow", invalid_flow_detail(parsed.diagnostics));
  return {};
}

Reply require_valid(ParsedFlow& parsed, const std::string& name, const std::string& file) {
  if (Reply savable = require_savable(parsed, name, file); !savable.ok()) return savable;
  if (!parsed.ok())
    return ApiError::unprocessable("invalid_flow", invalid_flow_detail(parsed.diagnostics));
  return {};
}

ApiResult<int64_t> parse_int(const std::string& text, const char* what) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size())
    return ApiError::invalid(std::string("bad_") + what, std::string(what) + " must be an integer");
  return v;
}

Reply require_known_user(runtime::Engine& engine, const std::string& user) {
  if (engine.profile(user) || !engine.journeys_of_user(user).empty()) return {};
  if (std::optional<std::string> into = engine.merged_into(user))
    return ApiError::not_found("merged_user", "user " + user + " was merged into " + *into);
  return ApiError::not_found("unknown_user", "no profile and no journeys for user " + user);
}

Reply require_known_flow(FlowCatalog& flows, const std::string& name) {
  if (!flows.info(name)) return ApiError::not_found("unknown_flow", "no flow named " + name);
  return {};
}

// ---- flows -----------------------------------------------------------------

json flow_info_json(const FlowInfo& f) {
  json j = {{"name", f.name}, {"version", f.deployed_version}, {"draft", f.has_draft}};
  if (f.deployed_version) {
    j["deployed_at"] = format_time(f.deployed_at);
    j["state"] = std::string(runtime::flow_state_name(f.state));
  }
  if (!f.file.empty()) j["file"] = f.file;
  if (f.files.size() > 1) j["files"] = f.files;
  return j;
}

Reply get_flow(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_name_param(req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  auto source = ctx.flows.source(name);
  if (!source) return ApiError::not_found("unknown_flow", "no flow named " + name);
  // ?version=deployed: the running version's text (the editor diffs against it).
  if (req.has_param("version") && req.get_param_value("version") == "deployed") {
    auto running = ctx.engine.flow(name);
    if (!running) return ApiError::not_found("not_deployed", "flow " + name + " is not deployed");
    source = running->source;
  }
  auto info = ctx.flows.info(name);
  res.set_header("X-Trellis-Version", std::to_string(info ? info->deployed_version : 0));
  res.set_header("X-Trellis-Draft", info && info->has_draft ? "true" : "false");
  std::string format = req.has_param("format") ? req.get_param_value("format") : "source";
  if (format == "source") {
    bool dsl = detect_syntax(*source) == dsl::FlowSyntax::kDsl;
    res.set_content(*source,
                    dsl ? "text/x-trellis-flow; charset=utf-8" : "application/yaml; charset=utf-8");
    return {};
  }
  ParsedFlow parsed = parse_flow_source(*source, name);
  if (!parsed.flow)
    return ApiError{ApiErrorKind::kInternal, "internal", "stored flow does not parse"};
  if (format == "json") {
    dsl::JsonOptions options;
    options.spans = true;
    reply_json(res, 200, dsl::flow_to_json(*parsed.flow, options));
  } else if (format == "yaml") {
    res.set_content(dsl::format_yaml(*parsed.flow), "application/yaml; charset=utf-8");
  } else if (format == "dsl") {
    res.set_content(dsl::format_dsl(*parsed.flow), "text/x-trellis-flow; charset=utf-8");
  } else {
    return ApiError::invalid("bad_format", "format is one of source, json, yaml, dsl");
  }
  return {};
}

// A flow never deployed can be deleted (the editor's rename is a copy, then this).
Reply delete_flow(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> name = flow_name_param(req);
  if (!name.ok()) return name.error();
  if (Reply known = require_known_flow(ctx.flows, *name); !known.ok()) return known;
  if (ctx.engine.flow(*name))
    return ApiError::conflict("flow_deployed", "flow " + *name + " is deployed and keeps running");
  Status removed = ctx.flows.remove(*name);
  if (!removed.ok()) return ApiError::from(removed.error(), "delete_failed");
  reply_json(res, 200, {{"deleted", *name}});
  return {};
}

// Deploys and says who did it in the log (the token's name).
ApiResult<json> deploy_json(HttpServer& server, const std::string& name,
                            const Result<DeployOutcome>& outcome) {
  // A flow that does not compile is unprocessable content, as an invalid body is.
  if (!outcome.ok() && outcome.error().code == ErrorCode::kInvalid)
    return ApiError::unprocessable("deploy_failed", outcome.error().message);
  if (!outcome.ok()) return ApiError::from(outcome.error(), "deploy_failed");
  server.log().info({{"msg", "flow deployed"},
                     {"flow", name},
                     {"version", outcome->version},
                     {"changed", outcome->changed},
                     {"by", current_caller().name}});
  return json{{"flow", name}, {"version", outcome->version}, {"changed", outcome->changed}};
}

// The name diagnostics give the request's flow: `<name>.flow` or `<name>.yaml`.
std::string file_label(const std::string& name, const Request& req) {
  bool dsl = req.get_header_value("Content-Type").rfind("text/x-trellis-flow", 0) == 0 ||
             (req.get_header_value("Content-Type").find("json") == std::string::npos &&
              req.get_header_value("Content-Type").find("yaml") == std::string::npos &&
              detect_syntax(req.body) == dsl::FlowSyntax::kDsl);
  return name + (dsl ? ".flow" : ".yaml");
}

Reply put_flow(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_name_param(req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  std::string file = file_label(name, req);
  ApiResult<ParsedFlow> read = parse_flow_request(server, req, file);
  if (!read.ok()) return read.error();
  ParsedFlow& parsed = *read;
  // A flow with errors is kept as a draft, so half-built work is never lost;
  // deploy refuses it until the errors are fixed.
  if (Reply savable = require_savable(parsed, name, file); !savable.ok()) return savable;
  Status saved = ctx.flows.save(*parsed.flow, parsed.syntax);
  if (!saved.ok()) return ApiError::from(saved.error(), "save_failed");
  json out = flow_info_json(*ctx.flows.info(name));
  out["errors"] = parsed.diagnostics.error_count();
  out["deployable"] = !parsed.diagnostics.has_errors();
  out["diagnostics"] = dsl::diagnostics_to_json(parsed.diagnostics);
  if (req.has_param("deploy") && req.get_param_value("deploy") != "false") {
    ApiResult<std::string> author = request_author(req);
    if (!author.ok()) return author.error();
    ApiResult<json> deployed = deploy_json(server, name, ctx.flows.deploy(name, *author));
    if (!deployed.ok()) return deployed.error();
    out["deploy"] = *deployed;
    out["version"] = out["deploy"]["version"];
    out["draft"] = false;
  }
  reply_json(res, 200, out);
  return {};
}

Reply deploy_flow(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_name_param(req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  if (!req.body.empty()) {  // deploy this text directly: save, then deploy
    std::string file = file_label(name, req);
    ApiResult<ParsedFlow> parsed = parse_flow_request(server, req, file);
    if (!parsed.ok()) return parsed.error();
    if (Reply valid = require_valid(*parsed, name, file); !valid.ok()) return valid;
    Status saved = ctx.flows.save(*parsed->flow, parsed->syntax);
    if (!saved.ok()) return ApiError::from(saved.error(), "save_failed");
  }
  if (Reply known = require_known_flow(ctx.flows, name); !known.ok()) return known;
  ApiResult<std::string> author = request_author(req);
  if (!author.ok()) return author.error();
  ApiResult<json> deployed = deploy_json(server, name, ctx.flows.deploy(name, *author));
  if (!deployed.ok()) return deployed.error();
  reply_json(res, 200, *deployed);
  return {};
}

// What became of one message node's deliveries, and the provider's feedback on them.
json message_count_json(const runtime::MessageCount& m) {
  return {{"node", m.node},
          {"channel", m.channel},
          {"created", m.created},
          {"sent", m.sent},
          {"deferred", m.deferred},
          {"suppressed", m.suppressed},
          {"dropped", m.dropped},
          {"dead", m.dead},
          {"delivered", m.delivered},
          {"opened", m.opened},
          {"clicked", m.clicked},
          {"bounced", m.bounced},
          {"complained", m.complained}};
}

// GET /v1/flows/{name}/broadcasts: the runs of a scheduled flow
// (docs/http-api.md#broadcasts), oldest first.
Reply flow_broadcasts(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_name_param(req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  if (!ctx.engine.flow(name))
    return ApiError::not_found("unknown_flow", "no deployed flow '" + name + "'");
  json runs = json::array();
  for (const runtime::BroadcastRecord& b : ctx.engine.broadcasts(name)) {
    json run = {{"run", b.run},       {"schedule", b.schedule},
                {"state", b.state},   {"entered", b.entered},
                {"walked", b.walked}, {"total", b.total},
                {"passes", b.passes}, {"due_at", format_time(b.due_at)}};
    run["started_at"] = b.started_at ? json(format_time(b.started_at)) : json(nullptr);
    run["finished_at"] = b.finished_at ? json(format_time(b.finished_at)) : json(nullptr);
    runs.push_back(std::move(run));
  }
  reply_json(res, 200, {{"flow", name}, {"broadcasts", runs}});
  return {};
}

Reply flow_stats(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> named = flow_name_param(req);
  if (!named.ok()) return named.error();
  const std::string& name = *named;
  auto counts = ctx.engine.stats(name);
  if (!counts.ok())
    return ApiError::from(counts.error(), counts.error().code == ErrorCode::kNotFound
                                              ? "unknown_flow"
                                              : "stats_failed");
  json nodes = json::array(), variants = json::array();
  for (const auto& n : counts->nodes)
    nodes.push_back(
        {{"node", n.node}, {"entered", n.entered}, {"waiting", n.waiting}, {"exited", n.exited}});
  for (const auto& v : counts->variants)
    variants.push_back({{"node", v.node},
                        {"variant", v.variant},
                        {"journeys", v.journeys},
                        {"conversions", v.conversions}});
  json messages = json::array();
  for (const auto& m : counts->messages) messages.push_back(message_count_json(m));
  auto info = ctx.flows.info(name);
  json out = {{"flow", name},
              {"version", info ? info->deployed_version : 0},
              {"journeys", counts->journeys},
              {"live", counts->live},
              {"conversions", counts->conversions},
              {"nodes", nodes},
              {"variants", variants},
              {"messages", messages}};
  std::string series;  // written as text, not a json tree (api/results.h)
  if (Reply added = add_flow_results(ctx, name, req, out, series); !added.ok()) return added;
  if (series.empty())
    reply_json(res, 200, out);
  else
    reply_json_text(res, 200, dump_with_member(out, "series", series));
  return {};
}

Reply check(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<ParsedFlow> read = parse_flow_request(server, req, "request");
  if (!read.ok()) return read.error();
  ParsedFlow& parsed = *read;
  // Names the server has never seen (a trigger on `page_veiw`, `user.frist_name`).
  if (parsed.flow) {
    dsl::KnownNames known = ctx.ingest.known_names();
    if (ctx.delivery) known.declared_traits = ctx.delivery->traits;  // `traits:` of trellis.yaml
    parsed.diagnostics.append(dsl::check_known_names(*parsed.flow, known));
    parsed.diagnostics.sort();
  }
  json out = {{"ok", parsed.ok()},
              {"errors", parsed.diagnostics.error_count()},
              {"warnings", parsed.diagnostics.warning_count()},
              {"diagnostics", dsl::diagnostics_to_json(parsed.diagnostics)}};
  if (parsed.flow) {
    dsl::JsonOptions options;
    options.spans = true;
    out["flow"] = dsl::flow_to_json(*parsed.flow, options);
  }
  reply_json(res, 200, out);
  return {};
}

// ---- events, users, coupons --------------------------------------------------

// A CloudEvent in binary mode (attributes in `ce-*` headers) as the
// structured JSON every other body uses; any other body as it is.
ApiResult<std::string> events_body(const Request& req) {
  if (!req.has_header("ce-specversion")) return req.body;
  std::vector<std::pair<std::string, std::string>> attributes;
  for (const auto& [name, value] : req.headers)
    if (name.size() > 3 && (name[0] == 'c' || name[0] == 'C') &&
        (name[1] == 'e' || name[1] == 'E') && name[2] == '-')
      attributes.emplace_back(name, value);
  auto structured =
      runtime::cloud_event_from_binary(attributes, req.get_header_value("Content-Type"), req.body);
  if (!structured.ok()) return ApiError::invalid("invalid_event", structured.error().message);
  return *structured;
}

Reply post_events(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  if (runtime::json_nesting_exceeds(req.body, server.options().max_json_depth)) return too_deep();
  ApiResult<std::string> body = events_body(req);
  if (!body.ok()) return body.error();
  IngestOutcome outcome = ctx.ingest.ingest_body(*body);
  if (outcome.refused) return *outcome.refused;
  json reply = {{"accepted", outcome.summary.accepted},
                {"duplicates", outcome.summary.duplicates},
                {"journeys_started", outcome.summary.journeys_started}};
  // Ingest checked every event before the commit, so the engine should refuse
  // none; if it does anyway, the answer says which had no effect.
  if (!outcome.summary.refused.empty()) {
    json refused = json::array();
    for (const auto& r : outcome.summary.refused)
      refused.push_back({{"index", r.index}, {"message", r.message}});
    reply["refused"] = refused;
  }
  reply_json(res, 202, reply);
  return {};
}

Reply put_user(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> id = identifier_param(ctx, req, "user_id");
  if (!id.ok()) return id.error();
  const std::string& user = *id;
  if (runtime::json_nesting_exceeds(req.body, server.options().max_json_depth)) return too_deep();
  auto traits = runtime::parse_traits(req.body, ctx.ingest.limits());
  if (!traits.ok()) return ApiError::invalid("invalid_traits", traits.error().message);
  Status put = ctx.engine.put_profile(user, *traits);
  if (!put.ok()) return ApiError::unavailable("store_unavailable", put.message());
  ctx.ingest.note_traits(*traits);
  auto profile = ctx.engine.profile(user);
  reply_json(res, 200, {{"user_id", user}, {"traits", json::parse(profile.value_or("{}"))}});
  return {};
}

Reply get_user(ApiContext& ctx, const Request& req, Response& res) {
  std::string user = req.matches[1];
  auto profile = ctx.engine.profile(user);
  if (!profile) return ApiError::not_found("unknown_user", "no profile for user " + user);
  reply_json(res, 200, {{"user_id", user}, {"traits", json::parse(*profile)}});
  return {};
}

// Erasure and export (docs/security.md#erasure). Both need the write scope;
// the access log shows their route, not the user id.
Reply delete_user(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> id = identifier_param(ctx, req, "user_id");
  if (!id.ok()) return id.error();
  const std::string& user = *id;
  auto erased = ctx.engine.erase_user(user);
  if (!erased.ok()) return ApiError::unavailable("store_unavailable", erased.error().message);
  if (!erased->held) return ApiError::not_found("unknown_user", "nothing held about user " + user);
  reply_json(res, 200,
             {{"user_id", user},
              {"erased", true},
              {"journeys", erased->journeys},
              {"journeys_exited", erased->journeys_exited},
              {"deliveries", erased->deliveries}});
  return {};
}

json export_json(const ApiContext& ctx, const std::string& user, const runtime::UserExport& e);

Reply export_user(ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> id = identifier_param(ctx, req, "user_id");
  if (!id.ok()) return id.error();
  const std::string& user = *id;
  runtime::UserExport held = ctx.engine.export_user(user);
  if (!held.held()) return ApiError::not_found("unknown_user", "nothing held about user " + user);
  reply_json(res, 200, export_json(ctx, user, held));
  return {};
}

json consent_reply(const runtime::Engine& engine, const std::string& user) {
  return {{"user_id", user}, {"channels", consent_to_json(engine.consent(user))}};
}

// Consent may be recorded before the user has a profile (an imported
// suppression list), so an unknown user is no error here.
Reply put_consent(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> id = identifier_param(ctx, req, "user_id");
  if (!id.ok()) return id.error();
  const std::string& user = *id;
  if (req.body.empty())
    return ApiError::invalid("invalid_consent",
                             {{"field", ""}, {"message", "send {\"sms\": false, ...}"}});
  ApiResult<json> body = parse_json_body(req.body, server.options().max_json_depth);
  if (!body.ok()) return body.error();
  auto read = read_consent_body(*body, consent_channels(ctx.delivery.get()));
  if (const auto* bad = std::get_if<ConsentBodyError>(&read))
    return ApiError::invalid("invalid_consent", {{"field", bad->field}, {"message", bad->message}});
  const ConsentChange& change = std::get<ConsentChange>(read);
  Status set = ctx.engine.set_consent(user, change.channels, change.reason);
  if (!set.ok()) return ApiError::unavailable("store_unavailable", set.message());
  reply_json(res, 200, consent_reply(ctx.engine, user));
  return {};
}

Reply get_consent(ApiContext& ctx, const Request& req, Response& res) {
  std::string user = req.matches[1];
  json reply = consent_reply(ctx.engine, user);
  if (reply["channels"].empty())
    if (Reply known = require_known_user(ctx.engine, user); !known.ok()) return known;
  reply_json(res, 200, reply);
  return {};
}

// The id clients see: `<number>-<mac>` (api/journey_ids.h).
json public_journey_id(const ApiContext& ctx, int64_t id) {
  if (!ctx.journey_ids) return id;
  return ctx.journey_ids->encode(id);
}

json public_journey_json(const ApiContext& ctx, const runtime::JourneyRecord& j) {
  json out = journey_to_json(j);
  out["id"] = public_journey_id(ctx, j.id);
  return out;
}

Reply user_journeys(ApiContext& ctx, const Request& req, Response& res) {
  std::string user = req.matches[1];
  if (Reply known = require_known_user(ctx.engine, user); !known.ok()) return known;
  json out = json::array();
  for (const auto& j : ctx.engine.journeys_of_user(user))
    out.push_back(public_journey_json(ctx, j));
  reply_json(res, 200, {{"user_id", user}, {"journeys", out}});
  return {};
}

// The counters of count() and last_seen() (docs/expressions.md#behaviour):
// {"counts": [{"counter", "day" (YYYY-MM-DD), "count"}], "last_seen": {type: time}}.
json behaviour_json(const runtime::BehaviourRecord& b) {
  json counts = json::array();
  for (const auto& bucket : b.buckets) {
    counts.push_back({{"counter", bucket.key},
                      {"day", runtime::format_rfc3339(bucket.day * 86'400'000).substr(0, 10)},
                      {"count", bucket.count}});
  }
  json last_seen = json::object();
  for (const auto& seen : b.last_seen)
    last_seen[seen.event_type] = runtime::format_rfc3339(seen.at);
  return {{"counts", counts}, {"last_seen", last_seen}};
}

json export_json(const ApiContext& ctx, const std::string& user, const runtime::UserExport& e) {
  json journeys = json::array();
  for (const auto& detail : e.journeys) {
    json j = public_journey_json(ctx, detail.journey);
    j["trigger_event"] = json::parse(detail.journey.trigger_event, nullptr, false);
    j["last_event"] = json::parse(detail.journey.last_event, nullptr, false);
    json steps = json::array();
    for (const auto& s : detail.steps) steps.push_back(step_to_json(s));
    j["steps"] = steps;
    journeys.push_back(j);
  }
  json deliveries = json::array();
  for (const auto& d : e.deliveries) {
    json item = delivery_to_json(d);
    item["journey_id"] = public_journey_id(ctx, d.journey_id);
    deliveries.push_back(item);
  }
  json events = json::array();
  for (const auto& kept : e.events) events.push_back(retained_event_to_json(kept));
  return {{"user_id", user},
          {"traits", e.profile ? json::parse(*e.profile) : json::object()},
          {"merged_ids", e.merged_ids},
          {"consent", consent_to_json(e.consent)},
          {"journeys", journeys},
          {"deliveries", deliveries},
          {"events", events},
          {"behaviour", behaviour_json(e.behaviour)}};
}

ApiResult<std::vector<std::string>> coupon_codes(const HttpServer& server, const Request& req) {
  std::vector<std::string> codes;
  std::string type = req.get_header_value("Content-Type");
  if (type.rfind("text/plain", 0) == 0) {
    size_t start = 0;
    while (start <= req.body.size()) {
      size_t end = req.body.find('\n', start);
      if (end == std::string::npos) end = req.body.size();
      std::string line = req.body.substr(start, end - start);
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      if (!line.empty()) codes.push_back(line);
      start = end + 1;
    }
  } else {
    ApiResult<json> parsed = parse_json_body(req.body, server.options().max_json_depth);
    if (!parsed.ok()) return parsed.error();
    const json& body = *parsed;
    const json& list = body.is_object() && body.contains("codes") ? body["codes"] : body;
    if (!list.is_array())
      return ApiError::invalid("invalid_codes", "send a JSON array of codes or {\"codes\": [...]}");
    for (const auto& c : list) {
      if (!c.is_string()) return ApiError::invalid("invalid_codes", "every code must be a string");
      codes.push_back(c.get<std::string>());
    }
  }
  if (codes.empty()) return ApiError::invalid("invalid_codes", "no codes in the body");
  for (const auto& c : codes)
    if (Status valid = runtime::check_identifier("code", c, 256); !valid.ok())
      return ApiError::invalid("invalid_codes",
                               "codes are 1 to 256 bytes of UTF-8: " + valid.message());
  return codes;
}

Reply post_coupons(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<std::string> pool = identifier_param(ctx, req, "pool");
  if (!pool.ok()) return pool.error();
  auto codes = coupon_codes(server, req);
  if (!codes.ok()) return codes.error();
  auto added = ctx.engine.load_coupons(*pool, *codes);
  if (!added.ok()) return ApiError::unavailable("store_unavailable", added.error().message);
  reply_json(res, 200,
             {{"pool", *pool}, {"added", *added}, {"left", ctx.engine.coupons_left(*pool)}});
  return {};
}

// ---- deliveries and journeys -------------------------------------------------

ApiResult<std::optional<runtime::DeliveryStatus>> status_param(const Request& req) {
  if (!req.has_param("status")) return std::optional<runtime::DeliveryStatus>();
  if (auto status = runtime::delivery_status_from_name(req.get_param_value("status")))
    return status;
  return ApiError::invalid("bad_status",
                           "status is one of pending, sent, dead, deferred, suppressed, dropped");
}

// The store reads deliveries oldest first without a status filter, so a
// filtered request reads a wider window and filters it here.
constexpr size_t kStatusScanWindow = 20000;

Reply get_deliveries(ApiContext& ctx, const Request& req, Response& res) {
  std::string user = req.get_param_value("user"), flow = req.get_param_value("flow");
  size_t limit = 1000;
  if (req.has_param("limit")) {
    ApiResult<int64_t> l = parse_int(req.get_param_value("limit"), "limit");
    if (!l.ok()) return l.error();
    if (*l < 1 || *l > 10000) return ApiError::invalid("bad_limit", "limit is 1 to 10000");
    limit = static_cast<size_t>(*l);
  }
  ApiResult<std::optional<runtime::DeliveryStatus>> wanted = status_param(req);
  if (!wanted.ok()) return wanted.error();
  const std::optional<runtime::DeliveryStatus> status = *wanted;
  if (!flow.empty())
    if (Reply known = require_known_flow(ctx.flows, flow); !known.ok()) return known;
  if (!user.empty())
    if (Reply known = require_known_user(ctx.engine, user); !known.ok()) return known;
  json out = json::array();
  for (const auto& d : ctx.engine.deliveries(user, flow, status ? kStatusScanWindow : limit)) {
    if (status && d.status != *status) continue;
    json item = delivery_to_json(d);
    item["journey_id"] = public_journey_id(ctx, d.journey_id);
    out.push_back(item);
    if (out.size() == limit) break;
  }
  reply_json(res, 200, {{"deliveries", out}});
  return {};
}

Reply get_journey(ApiContext& ctx, const Request& req, Response& res) {
  const std::string text = req.matches[1];
  std::optional<int64_t> id;
  if (ctx.journey_ids) {
    id = ctx.journey_ids->decode(text);  // a guessed or altered id is simply unknown
  } else {
    ApiResult<int64_t> number = parse_int(text, "id");
    if (!number.ok()) return number.error();
    id = *number;
  }
  auto detail = id ? ctx.engine.journey(*id) : std::nullopt;
  if (!detail) return ApiError::not_found("unknown_journey", "no journey " + text);
  json out = public_journey_json(ctx, detail->journey);
  json steps = json::array();
  for (const auto& s : detail->steps) steps.push_back(step_to_json(s));
  out["steps"] = steps;
  reply_json(res, 200, out);
  return {};
}

// ---- simulation ----------------------------------------------------------------

Reply post_simulate(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<json> body = parse_json_body(req.body, server.options().max_json_depth);
  if (!body.ok()) return body.error();
  SimulateContext context;
  runtime::Engine* engine = &ctx.engine;
  context.deployed_source = [engine](const std::string& name) -> std::optional<std::string> {
    auto flow = engine->flow(name);
    if (!flow) return std::nullopt;
    return flow->source;
  };
  context.delivery = ctx.delivery;
  SimulateOutcome out = simulate(*body, context);
  reply_json(res, out.status, out.body);
  return {};
}

// ---- replay ------------------------------------------------------------------

Reply post_replay(HttpServer& server, ApiContext& ctx, const Request& req, Response& res) {
  ApiResult<json> body = parse_json_body(req.body, server.options().max_json_depth);
  if (!body.ok()) return body.error();
  if (!ctx.replay_slot->try_take())
    return ApiError::conflict("replay_running",
                              "another replay is running on this server; try "
                              "again when it has answered");
  struct Release {
    ReplaySlot& slot;
    ~Release() { slot.release(); }
  } release{*ctx.replay_slot};
  ReplayContext context;
  context.engine = &ctx.engine;
  context.delivery = ctx.delivery;
  context.limits = ctx.replay_limits;
  ReplayOutcome out = replay(req.matches[1], *body, context);
  reply_json(res, out.status, out.body);
  return {};
}

}  // namespace

ApiResult<std::string> flow_name_param(const Request& req) {
  std::string name = req.matches[1];
  if (!valid_flow_name(name))
    return ApiError::invalid("bad_name", "flow names use letters, digits, '_', '-' and '.'");
  return name;
}

ApiError too_deep() { return ApiError::invalid("json_too_deep", "JSON nests too deeply"); }

std::optional<ApiError> check_flow_body(const HttpServer& server, const Request& req) {
  if (req.get_header_value("Content-Type").rfind("application/json", 0) == 0 &&
      runtime::json_nesting_exceeds(req.body, server.options().max_json_depth))
    return too_deep();
  if (req.body.empty())
    return ApiError::invalid("empty_body", "send the flow as YAML, DSL or IR JSON");
  return std::nullopt;
}

std::string format_time(int64_t ms) { return runtime::format_rfc3339(ms); }

json journey_to_json(const runtime::JourneyRecord& j) {
  json out = {{"id", j.id},
              {"flow", j.flow},
              {"version", j.version},
              {"user_id", j.user_id},
              {"state", std::string(runtime::lifecycle_name(j.state))},
              {"node", j.node},
              {"entered_at", format_time(j.entered_at)},
              {"updated_at", format_time(j.updated_at)}};
  if (!j.key.empty()) out["key"] = j.key;
  if (!j.waiting_for.empty()) out["waiting_for"] = j.waiting_for;
  if (!j.variant.empty()) out["variants"] = j.variant;
  if (!j.coupon_code.empty()) out["coupon_code"] = j.coupon_code;
  if (j.ended_at) out["ended_at"] = format_time(*j.ended_at);
  if (j.converted_at) out["converted_at"] = format_time(*j.converted_at);
  if (j.revenue) out["revenue"] = *j.revenue;
  if (!j.converted_after.empty()) out["converted_after"] = j.converted_after;
  return out;
}

json step_to_json(const runtime::StepRecord& s) {
  return {{"seq", s.seq},
          {"node", s.node},
          {"input", s.input},
          {"at", format_time(s.at)},
          {"reason", s.reason}};
}

json retained_event_to_json(const runtime::RetainedEvent& e) {
  json out = {{"type", e.type},
              {"user_id", e.user_id},
              {"at", format_time(e.at)},
              {"properties", json::parse(e.properties, nullptr, false)}};
  if (!e.id.empty()) out["id"] = e.id;
  if (e.identify) out["identify"] = true;
  return out;
}

json delivery_to_json(const runtime::DeliveryRecord& d) {
  json out = {{"id", d.id},
              {"key", d.key},
              {"channel", d.channel},
              {"user_id", d.user_id},
              {"flow", d.flow},
              {"flow_version", d.flow_version},
              {"node", d.node},
              {"at", format_time(d.at)},
              {"to", d.to},
              {"body", d.body},
              {"journey_id", d.journey_id},
              {"status", runtime::delivery_status_name(d.status)},
              {"attempts", d.attempts},
              {"category", d.category},
              {"priority", d.priority}};
  if (!d.subject.empty()) out["subject"] = d.subject;
  if (d.release_at) out["release_at"] = format_time(d.release_at);
  if (!d.feedback.empty()) {
    out["feedback"] = d.feedback;  // the provider's newest: "delivered", "bounced hard", ...
    out["feedback_at"] = format_time(d.feedback_at);
  }
  if (!d.last_error.empty()) {
    out["last_error"] = d.last_error;
    // Why it was not sent: the governance decision, or the last failed attempt.
    if (d.status != runtime::DeliveryStatus::kSent) out["reason"] = d.last_error;
  }
  return out;
}

void add_routes(HttpServer& server, ApiContext& ctx) {
  HttpServer* s = &server;
  ApiContext* c = &ctx;
  server.get("/v1/flows", [c](const Request& req, Response& res) {
    // Archived flows only when asked for (?archived=true).
    const bool archived = req.get_param_value("archived") == "true";
    json out = json::array();
    for (const auto& f : c->flows.list()) {
      if (!archived && f.state == runtime::FlowState::kArchived) continue;
      json item = flow_info_json(f);
      // Headline numbers for the editor's list, from the store's kept counts.
      if (f.deployed_version) {
        const runtime::FlowTotals totals = c->engine.totals(f.name);
        item["journeys"] = totals.journeys;
        item["live"] = totals.live;
        item["conversions"] = totals.conversions;
      }
      out.push_back(item);
    }
    reply_json(res, 200, {{"flows", out}});
  });
  server.get("/v1/flows/" + kNameGroup,
             [c](const Request& q, Response& r) { return get_flow(*c, q, r); });
  // Flows are configuration: a saved file is deployed on the next start.
  server.put(
      "/v1/flows/" + kNameGroup,
      [s, c](const Request& q, Response& r) { return put_flow(*s, *c, q, r); }, Access::kAdmin);
  server.del(
      "/v1/flows/" + kNameGroup,
      [c](const Request& q, Response& r) { return delete_flow(*c, q, r); }, Access::kAdmin);
  server.post(
      "/v1/flows/" + kNameGroup + "/deploy",
      [s, c](const Request& q, Response& r) { return deploy_flow(*s, *c, q, r); }, Access::kAdmin);
  server.get("/v1/flows/" + kNameGroup + "/stats",
             [c](const Request& q, Response& r) { return flow_stats(*c, q, r); });
  add_results_routes(server, *c);
  server.get("/v1/flows/" + kNameGroup + "/broadcasts",
             [c](const Request& q, Response& r) { return flow_broadcasts(*c, q, r); });
  // Checking and simulating change nothing: the read scope is enough.
  server.post(
      "/v1/check", [s, c](const Request& q, Response& r) { return check(*s, *c, q, r); },
      Access::kRead);
  server.get("/v1/schema/nodes", [](const Request&, Response& res) {
    res.set_content(ir::node_schemas_json(), "application/json");
  });

  server.post("/v1/events",
              [s, c](const Request& q, Response& r) { return post_events(*s, *c, q, r); });
  server.get("/v1/events/recent-types", [c](const Request&, Response& res) {
    reply_json(res, 200, {{"types", c->ingest.recent_types()}});
  });
  server.put("/v1/users/" + kNameGroup,
             [s, c](const Request& q, Response& r) { return put_user(*s, *c, q, r); });
  server.get("/v1/users/" + kNameGroup,
             [c](const Request& q, Response& r) { return get_user(*c, q, r); });
  server.del(
      "/v1/users/" + kNameGroup,
      [c](const Request& q, Response& r) { return delete_user(*c, q, r); }, Access::kWrite);
  server.get(
      "/v1/users/" + kNameGroup + "/export",
      [c](const Request& q, Response& r) { return export_user(*c, q, r); }, Access::kWrite);
  server.put("/v1/users/" + kNameGroup + "/consent",
             [s, c](const Request& q, Response& r) { return put_consent(*s, *c, q, r); });
  server.get("/v1/users/" + kNameGroup + "/consent",
             [c](const Request& q, Response& r) { return get_consent(*c, q, r); });
  server.get("/v1/users/" + kNameGroup + "/journeys",
             [c](const Request& q, Response& r) { return user_journeys(*c, q, r); });
  server.post("/v1/coupons/" + kNameGroup,
              [s, c](const Request& q, Response& r) { return post_coupons(*s, *c, q, r); });
  server.get("/v1/coupons/" + kNameGroup, [c](const Request& q, Response& res) {
    std::string pool = q.matches[1];
    reply_json(res, 200, {{"pool", pool}, {"left", c->engine.coupons_left(pool)}});
  });
  server.get("/v1/deliveries",
             [c](const Request& q, Response& r) { return get_deliveries(*c, q, r); });
  server.get("/v1/journeys/" + kNameGroup,
             [c](const Request& q, Response& r) { return get_journey(*c, q, r); });
  server.post(
      "/v1/simulate", [s, c](const Request& q, Response& r) { return post_simulate(*s, *c, q, r); },
      Access::kRead);
  server.post(
      "/v1/flows/" + kNameGroup + "/replay",
      [s, c](const Request& q, Response& r) { return post_replay(*s, *c, q, r); }, Access::kRead);
  add_segment_routes(server, ctx);
  add_lifecycle_routes(server, ctx);
}

}  // namespace trellis::api

// The endpoints of the HTTP API and the editor's extras, on an HttpServer. Each
// handler maps the engine's results to JSON and returns its refusals as values
// (api/api_error.h), which the server answers with {"error", "detail"}; a bad
// request changes nothing. README "HTTP API" lists
// every endpoint with its errors.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "api/flow_catalog.h"
#include "api/http_server.h"
#include "api/ingest.h"
#include "api/journey_ids.h"
#include "api/replay.h"
#include "runtime/engine.h"

namespace trellis::api {

struct ApiContext {
  runtime::Engine& engine;
  FlowCatalog& flows;
  Ingest& ingest;
  // The server's delivery configuration (null: none): the channels consent
  // may name, and the rules a simulation runs under.
  std::shared_ptr<const runtime::delivery::DeliveryConfig> delivery;
  // Public journey ids (null: the store's integers, for tests of other parts).
  const JourneyIds* journey_ids = nullptr;
  // POST /v1/flows/{name}/replay: one at a time, within these limits.
  std::shared_ptr<ReplaySlot> replay_slot = std::make_shared<ReplaySlot>();
  ReplayLimits replay_limits;
};

// REQUIRES: before server.bind(). `context` must outlive the server.
void add_routes(HttpServer& server, ApiContext& context);

// The URL group that matches a name (a flow, a user, a pool).
inline const std::string kNameGroup = "([^/]+)";

// Request readers shared by the route files, each a value or the refusal.
// The flow name in the URL's first group: 400 `bad_name` unless valid.
ApiResult<std::string> flow_name_param(const httplib::Request& req);
// A flow body (YAML, DSL or IR JSON) that can be parsed: 400 `json_too_deep`
// for JSON nesting deeper than the server allows, 400 `empty_body`; nullopt
// when it can be parsed.
std::optional<ApiError> check_flow_body(const HttpServer& server, const httplib::Request& req);
// 400 `json_too_deep`, for bodies nesting deeper than the server allows.
ApiError too_deep();

// JSON shapes shared with the tests and the simulator.
nlohmann::json journey_to_json(const runtime::JourneyRecord& journey);
nlohmann::json step_to_json(const runtime::StepRecord& step);
nlohmann::json delivery_to_json(const runtime::DeliveryRecord& delivery);
// An event kept for replay, as GET /v1/users/{id}/export lists it.
nlohmann::json retained_event_to_json(const runtime::RetainedEvent& event);
std::string format_time(int64_t ms);  // RFC 3339, UTC

}  // namespace trellis::api

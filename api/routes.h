// The endpoints of the HTTP API and the editor's extras, on an HttpServer. Each
// handler maps the engine's results to JSON and its errors to 4xx/5xx with
// {"error", "detail"}; a bad request changes nothing. README "HTTP API" lists
// every endpoint with its errors.
#pragma once

#include <memory>

#include "api/flow_catalog.h"
#include "api/http_server.h"
#include "api/ingest.h"
#include "api/journey_ids.h"
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
};

// REQUIRES: before server.bind(). `context` must outlive the server.
void add_routes(HttpServer& server, ApiContext& context);

// JSON shapes shared with the tests and the simulator.
nlohmann::json journey_to_json(const runtime::JourneyRecord& journey);
nlohmann::json step_to_json(const runtime::StepRecord& step);
nlohmann::json delivery_to_json(const runtime::DeliveryRecord& delivery);
// An event kept for replay, as GET /v1/users/{id}/export lists it.
nlohmann::json retained_event_to_json(const runtime::RetainedEvent& event);
// "pending", "sent", "dead", "deferred", "suppressed", "dropped".
const char* delivery_status_name(runtime::DeliveryStatus status);
std::string format_time(int64_t ms);  // RFC 3339, UTC

}  // namespace trellis::api

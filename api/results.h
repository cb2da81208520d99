// The results part of the HTTP API (docs/http-api.md, docs/results.md): the
// stats endpoint's goal, revenue, cost, A/B, funnel and series fields, the
// drill-down list of a flow's journeys, and the global holdout.
#pragma once

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "api/routes.h"

namespace trellis::api {

// Adds the results fields to a stats answer `out` (which holds `nodes`), and
// the series when the request has from, to, bucket or tz. 400 `bad_query`
// naming the parameter; 404 `unknown_flow`.
Reply add_flow_results(ApiContext& ctx, const std::string& flow, const httplib::Request& req,
                       nlohmann::json& out);

// GET /v1/flows/{name}/journeys and GET /v1/holdout.
void add_results_routes(HttpServer& server, ApiContext& context);

}  // namespace trellis::api

// The results part of the HTTP API (docs/http-api.md, docs/results.md): the
// stats endpoint's goal, revenue, cost, A/B, funnel and series fields, the
// drill-down list of a flow's journeys, and the global holdout.
#pragma once

#include <nlohmann/json.hpp>

#include "api/http_server.h"
#include "api/routes.h"
#include "runtime/results.h"

namespace trellis::api {

// Adds the results fields to a stats answer `out` (which holds `nodes`) and,
// when the request has from, to, bucket or tz, the range it echoes; then
// `series` is the value of the answer's "series" member as JSON text
// (series_text), else it stays empty. 400 `bad_query` naming the parameter;
// 404 `unknown_flow`.
Reply add_flow_results(ApiContext& ctx, const std::string& flow, const httplib::Request& req,
                       nlohmann::json& out, std::string& series);

// The series as JSON text, byte for byte what dump() writes for it as a json
// array of bucket objects, written directly (api/json_text.h): up to 9,600
// buckets, whose json tree cost most of a year-by-hour request's CPU.
std::string series_text(const runtime::FlowResults& results, const runtime::SeriesQuery& q);

// GET /v1/flows/{name}/journeys and GET /v1/holdout.
void add_results_routes(HttpServer& server, ApiContext& context);

}  // namespace trellis::api

// Segment's HTTP Tracking API on `trellis serve`, as Segment's and
// RudderStack's SDKs call it: POST /v1/batch with `{"batch": [...], "sentAt"}`
// and the single calls /v1/track, /v1/identify, /v1/page, /v1/screen,
// /v1/group, /v1/alias. Calls parse as runtime/event.h describes and commit
// through Ingest like every other body. docs/events.md documents the answers.
#pragma once

#include <string>

#include "api/http_server.h"
#include "api/routes.h"

namespace trellis::api {

// The body's `writeKey` (what @segment/analytics-node sends instead of Basic
// auth), or empty. The routes take the write key from Basic auth (Segment's
// HTTP API, RudderStack) or a bearer header first, as every route does.
std::string body_write_key(const std::string& body);

// REQUIRES: before server.bind(). `context` must outlive the server.
void add_segment_routes(HttpServer& server, ApiContext& context);

}  // namespace trellis::api

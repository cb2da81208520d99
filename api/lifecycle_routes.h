// A flow's life after its first deploy (docs/http-api.md#flow-lifecycle and
// #versions-history-and-rollback): pause, resume, stop and archive; the
// version history with who deployed each version, the diff between any two
// in words, rollback; and the migration of waiting journeys between versions.
#pragma once

#include <string>

#include "api/http_server.h"
#include "api/routes.h"

namespace trellis::api {

// Who asks, for the version history and journey traces: the token's name,
// with the X-Trellis-Author header's name in brackets when both are given;
// the header alone on a server without tokens; empty when neither. 400
// `bad_author` for a header that is no identifier.
ApiResult<std::string> request_author(const httplib::Request& req);

// REQUIRES: before server.bind(). `context` must outlive the server.
void add_lifecycle_routes(HttpServer& server, ApiContext& context);

}  // namespace trellis::api

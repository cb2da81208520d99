#include "api/segment.h"

#include <chrono>

#include "runtime/event.h"

namespace trellis::api {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The write key is a token with the write scope, like every other write.
// Without tokens on the server any key, or none, is accepted.
Reply require_write_key(const HttpServer& server, const Request& req) {
  set_current_caller({});
  if (!server.has_tokens()) return {};
  Authentication auth = server.authenticate(req);  // Basic user name, or bearer
  if (auth.outcome == AuthOutcome::kNoCredentials) {
    const std::string key = body_write_key(req.body);
    if (key.empty())
      return ApiError{ApiErrorKind::kUnauthorized, "unauthorized",
                      "this server needs the write key (Basic auth user name or `writeKey`)"};
    auto caller = server.find_token(key);
    auth = caller ? Authentication{AuthOutcome::kAuthenticated, *caller}
                  : Authentication{AuthOutcome::kUnknownToken, {}};
  }
  if (auth.outcome != AuthOutcome::kAuthenticated)
    return ApiError{ApiErrorKind::kUnauthorized, "unauthorized", "unknown write key"};
  set_current_caller(auth.caller);
  if (!auth.caller.allows(Access::kWrite))
    return ApiError{ApiErrorKind::kForbidden, "forbidden",
                    "the token " + auth.caller.name + " lacks the write scope"};
  return {};
}

// 200 {"success": true} when every element applied (duplicates included);
// 400 with per-element errors when some did not. The SDKs retry 5xx and 429
// and drop a 400, so the applied elements are never sent twice and the
// refused ones, which a retry would not fix, are reported, not retried.
Reply post_segment(HttpServer& server, ApiContext& ctx, const std::string& call, const Request& req,
                   Response& res) {
  if (runtime::json_nesting_exceeds(req.body, server.options().max_json_depth)) return too_deep();
  if (Reply allowed = require_write_key(server, req); !allowed.ok()) return allowed;
  runtime::ParseContext context;
  context.received_at = wall_ms();
  if (call != "batch") context.segment_call = call;
  Ingest::EachOutcome each = ctx.ingest.ingest_each(req.body, context);
  const IngestOutcome& outcome = each.outcome;
  if (outcome.refused) return *outcome.refused;
  json reply = {{"success", each.errors.empty()},
                {"accepted", outcome.summary.accepted},
                {"duplicates", outcome.summary.duplicates}};
  if (each.errors.empty()) {
    reply_json(res, 200, reply);
    return {};
  }
  json errors = json::array();
  for (const auto& e : each.errors) errors.push_back({{"index", e.index}, {"message", e.message}});
  reply["error"] = "invalid_event";
  reply["detail"] = "event " + std::to_string(each.errors[0].index) + ": " + each.errors[0].message;
  reply["errors"] = errors;
  reply_json(res, 400, reply);
  return {};
}

}  // namespace

std::string body_write_key(const std::string& body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("writeKey") && parsed["writeKey"].is_string())
    return parsed["writeKey"].get<std::string>();
  return "";
}

void add_segment_routes(HttpServer& server, ApiContext& ctx) {
  HttpServer* s = &server;
  ApiContext* c = &ctx;
  for (const char* call : {"batch", "track", "identify", "page", "screen", "group", "alias"}) {
    std::string name = call;
    // Open to the server's own check: the write key may come in the body.
    server.post(
        "/v1/" + name,
        [s, c, name](const Request& q, Response& r) { return post_segment(*s, *c, name, q, r); },
        Access::kOpen);
  }
}

}  // namespace trellis::api

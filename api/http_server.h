// The HTTP front of `trellis serve`, on cpp-httplib: routing, named tokens
// with scopes on every API route (api/access.h), body-size and JSON-depth limits, `{"error","detail"}` bodies for
// every 4xx, one exception handler that turns surprises into a 500 and keeps
// the process alive, one JSON log line and one latency observation per
// request, /healthz, /metrics and the editor's static files with an SPA
// fallback. Endpoints of the API are added by api/routes.h.
//
// Thread-safety: register routes, then start()/serve() once; handlers run on
// the server's worker threads concurrently. stop() may be called from any thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "api/access.h"
#include "api/api_error.h"
#include "api/guarded_server.h"
#include "api/json_log.h"
#include "api/metrics.h"
#include "dsl/ir/result.h"

namespace trellis::api {

struct ServerOptions {
  std::string host = "127.0.0.1";     // loopback unless told otherwise
  int port = 8080;                    // 0 picks a free port (see HttpServer::port())
  std::string token;                  // non-empty: one admin token named "default"
  std::vector<Token> tokens;          // named tokens with scopes (--tokens-file)
  bool open_metrics = false;          // /metrics without a token (else it needs read)
  size_t max_body_bytes = 16u << 20;  // larger bodies answer 413
  int max_json_depth = 32;            // deeper JSON answers 400 json_too_deep
  std::string editor_dir;             // built editor files served at `/`; empty: none
  int threads = 16;  // workers serving requests; idle connections hold none (api/guarded_server.h)
  int queue_limit = 256;               // requests waiting for a worker; more answer 503
  int max_connections = 512;           // open connections; more answer 503
  int header_timeout_ms = 10000;       // a request's headers must arrive within this
  int body_timeout_ms = 30000;         // and its body within this after the headers
  int keep_alive_max_requests = 1000;  // per connection, then `Connection: close`
};

class HttpServer {
 public:
  // A route handler: writes its answer and returns ok, or returns the
  // ApiError that refuses the request (api/api_error.h).
  using Handler = std::function<Reply(const httplib::Request&, httplib::Response&)>;

  // `metrics` and `log` are borrowed and must outlive the server.
  HttpServer(ServerOptions options, MetricsRegistry& metrics, JsonLog& log);
  ~HttpServer();  // stops the server when still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is an httplib regex ("/v1/flows/([^/]+)"); `route` names it in
  // metrics and logs. When the server has tokens, a route needs a token with
  // the scope `access` names: GETs read by default, other methods write,
  // DELETE admin. The handler finds its caller in current_caller().
  // A handler that cannot refuse (it always answers) may return void.
  template <typename F>
  void get(const std::string& pattern, F handler, Access access = Access::kRead) {
    add_get(pattern, as_handler(std::move(handler)), access);
  }
  template <typename F>
  void post(const std::string& pattern, F handler, Access access = Access::kWrite) {
    add_with_body("POST", pattern, as_handler(std::move(handler)), access);
  }
  template <typename F>
  void put(const std::string& pattern, F handler, Access access = Access::kWrite) {
    add_with_body("PUT", pattern, as_handler(std::move(handler)), access);
  }
  template <typename F>
  void del(const std::string& pattern, F handler, Access access = Access::kAdmin) {
    add_with_body("DELETE", pattern, as_handler(std::move(handler)), access);
  }

  // Who sent `req`, for routes that take credentials in another form (the
  // Segment write key): the token's name and scopes, or why there is none.
  Authentication authenticate(const httplib::Request& req) const {
    return tokens_.authenticate(req);
  }
  bool has_tokens() const { return !tokens_.empty(); }
  // The token whose secret this is (a write key sent in a request's body).
  std::optional<Caller> find_token(const std::string& secret) const { return tokens_.find(secret); }

  // Adds the built-in routes and binds. Error when the address is taken.
  // REQUIRES: called once, after every route is registered.
  Status bind();
  int port() const { return port_; }
  // Serves until stop(). REQUIRES: bind() succeeded.
  void serve();
  // bind() and serve() on a background thread; returns once accepting.
  Status start();
  // Stops accepting, lets in-flight requests finish, joins the background thread.
  void stop();
  bool is_running() const { return server_.is_running(); }

  const ServerOptions& options() const { return options_; }
  MetricsRegistry& metrics() { return metrics_; }
  JsonLog& log() { return log_; }

 private:
  template <typename F>
  static Handler as_handler(F f) {
    if constexpr (std::is_void_v<
                      std::invoke_result_t<F&, const httplib::Request&, httplib::Response&>>)
      return [f = std::move(f)](const httplib::Request& req, httplib::Response& res) mutable {
        f(req, res);
        return Reply();
      };
    else
      return Handler(std::move(f));
  }
  void add_get(const std::string& pattern, Handler handler, Access access);
  void add_with_body(const char* method, const std::string& pattern, Handler handler,
                     Access access);
  httplib::Server::Handler wrap(const std::string& pattern, Access access, Handler handler);
  httplib::Server::HandlerWithContentReader with_body(const std::string& pattern, Access access,
                                                      Handler handler);
  // Answers 413 for a declared body over the limit and 415 for multipart,
  // before httplib reads (or skips) the body.
  bool refuse_before_body(const httplib::Request& req, httplib::Response& res);
  void install_hooks();
  // A 401/403 unless the request's token has the scope `access` needs;
  // sets current_caller().
  Reply authorize(const httplib::Request& req, Access access) const;
  Reply serve_static(const httplib::Request& req, httplib::Response& res);

  ServerOptions options_;
  TokenSet tokens_;
  MetricsRegistry& metrics_;
  JsonLog& log_;
  GuardedServer server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<bool> bound_{false};
};

// Writes `body` as the JSON response.
void reply_json(httplib::Response& res, int status, const nlohmann::json& body);
// Writes `body`, JSON text already, as the JSON response (moved, not copied:
// a stats series can be a megabyte).
void reply_json_text(httplib::Response& res, int status, std::string body);
// Writes {"error": error, "detail": detail}.
void reply_error(httplib::Response& res, int status, const std::string& error,
                 const nlohmann::json& detail = nullptr);
// Writes a refusal: its status and body (a 401 also asks for a bearer token).
void reply_error(httplib::Response& res, const ApiError& error);

// Parses the request body as JSON, refusing nesting deeper than `max_depth`:
// 400 `bad_json` / `json_too_deep`.
ApiResult<nlohmann::json> parse_json_body(const std::string& body, int max_depth);

// Maps a URL path under `root` to a file path, or "" when the path would leave
// `root` (`..`, backslashes, NUL) — the guard against path traversal.
std::string resolve_static_path(const std::string& root, const std::string& url_path);

}  // namespace trellis::api

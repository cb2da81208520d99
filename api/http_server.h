// The HTTP front of `trellis serve`, on cpp-httplib: routing, bearer-token auth
// on writes, body-size and JSON-depth limits, `{"error","detail"}` bodies for
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

#include "api/json_log.h"
#include "api/metrics.h"
#include "dsl/ir/result.h"

namespace trellis::api {

struct ServerOptions {
  std::string host = "127.0.0.1";     // loopback unless told otherwise
  int port = 8080;                    // 0 picks a free port (see HttpServer::port())
  std::string token;                  // non-empty: writes need `Authorization: Bearer <token>`
  size_t max_body_bytes = 16u << 20;  // larger bodies answer 413
  int max_json_depth = 32;            // deeper JSON answers 400 json_too_deep
  std::string editor_dir;             // built editor files served at `/`; empty: none
  int threads = 32;  // worker threads; httplib holds one per open keep-alive connection
  int keep_alive_max_requests = 10000;  // per connection; httplib's default of 5 costs reconnects
};

// Thrown by handlers to answer `status` with {"error": error, "detail": detail}.
// Used only inside api/: the server's route wrapper catches it.
struct HttpError {
  int status;
  std::string error;
  nlohmann::json detail;
};

class HttpServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  // `metrics` and `log` are borrowed and must outlive the server.
  HttpServer(ServerOptions options, MetricsRegistry& metrics, JsonLog& log);
  ~HttpServer();  // stops the server when still running
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is an httplib regex ("/v1/flows/([^/]+)"); `route` names it in
  // metrics and logs. Methods other than GET need the token when one is set.
  void get(const std::string& pattern, Handler handler);
  void post(const std::string& pattern, Handler handler);
  void put(const std::string& pattern, Handler handler);
  void del(const std::string& pattern, Handler handler);

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
  Handler wrap(const std::string& method, const std::string& pattern, Handler handler);
  void install_hooks();
  // Throws HttpError 401/403 unless the request carries the bearer token.
  void check_token(const httplib::Request& req) const;
  void serve_static(const httplib::Request& req, httplib::Response& res);

  ServerOptions options_;
  MetricsRegistry& metrics_;
  JsonLog& log_;
  httplib::Server server_;
  int port_ = -1;
  std::thread thread_;
  std::atomic<bool> bound_{false};
};

// Writes `body` as the JSON response.
void reply_json(httplib::Response& res, int status, const nlohmann::json& body);
// Writes {"error": error, "detail": detail}.
void reply_error(httplib::Response& res, int status, const std::string& error,
                 const nlohmann::json& detail = nullptr);

// Parses the request body as JSON, refusing nesting deeper than `max_depth`.
// Throws HttpError 400 (`bad_json` / `json_too_deep`) on failure.
nlohmann::json parse_json_body(const std::string& body, int max_depth);
// True when `text` nests arrays/objects deeper than `max_depth` (strings skipped).
bool json_too_deep(const std::string& text, int max_depth);

// Maps a URL path under `root` to a file path, or "" when the path would leave
// `root` (`..`, backslashes, NUL) — the guard against path traversal.
std::string resolve_static_path(const std::string& root, const std::string& url_path);

}  // namespace trellis::api

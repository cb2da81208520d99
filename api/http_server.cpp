#include "api/http_server.h"

#include <zlib.h>

#include "runtime/event.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>

namespace trellis::api {
namespace fs = std::filesystem;
namespace {

// httplib runs pre-routing, the handler and the logger of one request on one
// worker thread, so the request's start time and route name can ride along in
// thread-locals instead of a per-request map.
thread_local std::chrono::steady_clock::time_point t_request_start;
thread_local const char* t_route = nullptr;
thread_local std::string t_route_storage;

std::string default_error_name(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 413:
      return "payload_too_large";
    case 415:
      return "unsupported_media_type";
    case 422:
      return "invalid";
    case 500:
      return "internal";
    case 503:
      return "unavailable";
    default:
      return status >= 500 ? "server_error" : "client_error";
  }
}

// Does the request's Accept-Encoding take gzip (and not refuse it with q=0)?
bool accepts_gzip(const httplib::Request& req) {
  std::string accept = req.get_header_value("Accept-Encoding");
  for (char& c : accept) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t at = accept.find("gzip");
  if (at == std::string::npos) return false;
  size_t end = accept.find(',', at);
  std::string item = accept.substr(at, end == std::string::npos ? std::string::npos : end - at);
  item.erase(std::remove(item.begin(), item.end(), ' '), item.end());
  size_t q = item.find(";q=");
  return q == std::string::npos || std::strtod(item.c_str() + q + 3, nullptr) > 0;
}

// gzip of `text` at zlib's default level, or nullopt if zlib fails.
std::optional<std::string> gzip(const std::string& text) {
  z_stream z{};
  // 15 + 16: the largest window, with a gzip header and trailer (not zlib's own).
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return std::nullopt;
  std::string out(deflateBound(&z, text.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (result != Z_STREAM_END) return std::nullopt;
  return out;
}

// Sends `body` as is: a content provider of known length, which httplib neither
// compresses nor copies.
void send_as_is(httplib::Response& res, std::shared_ptr<const std::string> body,
                const std::string& content_type) {
  res.set_content_provider(
      body->size(), content_type, [body](size_t offset, size_t length, httplib::DataSink& sink) {
        return sink.write(body->data() + offset, std::min(length, body->size() - offset));
      });
}

// Smaller answers gain little from gzip: their headers are most of the packet.
constexpr size_t kGzipFromBytes = 1024;

// httplib would compress an answer itself, with brotli at its slowest quality whenever
// the client offers br, as every browser does: a year of hourly stats (1 MB of JSON)
// took 2.5 s that way against 74 ms as it is. Answers go out as they are, or gzipped
// here at zlib's default level when the client takes gzip and the answer is worth it
// (1 MB to 27 KB in a few milliseconds).
void send_body(const httplib::Request& req, httplib::Response& res) {
  const std::string content_type = res.get_header_value("Content-Type");
  if (res.body.empty() || res.content_provider_ || content_type.empty()) return;
  res.headers.erase("Content-Type");  // set_content_provider sets it again
  std::optional<std::string> zipped;
  if (res.body.size() >= kGzipFromBytes && accepts_gzip(req)) zipped = gzip(res.body);
  if (zipped) {
    res.set_header("Content-Encoding", "gzip");
    res.set_header("Vary", "Accept-Encoding");
  }
  auto body =
      std::make_shared<const std::string>(zipped ? std::move(*zipped) : std::move(res.body));
  res.body.clear();
  send_as_is(res, std::move(body), content_type);
}

std::string mime_for(const fs::path& path) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(path.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

bool read_file(const fs::path& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

ConnectionLimits connection_limits(const ServerOptions& o) {
  ConnectionLimits limits;
  limits.workers = o.threads > 0 ? o.threads : 8;
  limits.queue_limit = o.queue_limit;
  limits.max_connections = o.max_connections;
  limits.header_timeout_ms = o.header_timeout_ms;
  limits.body_timeout_ms = o.body_timeout_ms;
  limits.max_body_bytes = o.max_body_bytes;
  limits.max_requests_per_connection = o.keep_alive_max_requests;
  return limits;
}

// Reads a POST/PUT/DELETE body through httplib's content reader, so a
// chunked body stops at the limit instead of being buffered whole (httplib
// applies its payload limit to Content-Length bodies only): 413 beyond it.
ApiResult<std::string> read_body_capped(const httplib::ContentReader& reader, size_t max_bytes) {
  std::string body;
  bool too_large = false;
  bool complete = reader([&](const char* data, size_t size) {
    if (body.size() + size > max_bytes) {
      too_large = true;
      return false;
    }
    body.append(data, size);
    return true;
  });
  if (too_large || GuardedServer::body_too_large()) {
    GuardedServer::close_after_response();  // the rest of the body is still on the wire
    return ApiError{ApiErrorKind::kTooLarge, "payload_too_large",
                    "request body is larger than " + std::to_string(max_bytes) + " bytes"};
  }
  if (!complete) {
    GuardedServer::close_after_response();
    if (GuardedServer::body_timed_out())
      return ApiError{ApiErrorKind::kTimeout, "request_timeout",
                      "the request body did not arrive in time"};
    return ApiError::invalid("bad_body", "the request body could not be read");
  }
  return body;
}

}  // namespace

Reply HttpServer::authorize(const httplib::Request& req, Access access) const {
  set_current_caller({});
  if (tokens_.empty() || access == Access::kOpen) return {};
  Authentication auth = tokens_.authenticate(req);
  if (auth.outcome == AuthOutcome::kNoCredentials)
    return ApiError{ApiErrorKind::kUnauthorized, "unauthorized",
                    "this server needs Authorization: Bearer <token> (" +
                        std::string(access_name(access)) + " scope)"};
  if (auth.outcome == AuthOutcome::kUnknownToken)
    return ApiError{ApiErrorKind::kUnauthorized, "unauthorized", "unknown token"};
  set_current_caller(auth.caller);
  if (!auth.caller.allows(access))
    return ApiError{
        ApiErrorKind::kForbidden, "forbidden",
        "the token " + auth.caller.name + " lacks the " + access_name(access) + " scope"};
  return {};
}

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  reply_json_text(res, status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void reply_json_text(httplib::Response& res, int status, std::string body) {
  res.status = status;
  res.body = std::move(body);
  res.headers.erase("Content-Type");  // as set_content() does, which would copy the body
  res.set_header("Content-Type", "application/json");
}

int http_status(ApiErrorKind kind) {
  switch (kind) {
    case ApiErrorKind::kInvalid:
      return 400;
    case ApiErrorKind::kUnauthorized:
      return 401;
    case ApiErrorKind::kForbidden:
      return 403;
    case ApiErrorKind::kNotFound:
      return 404;
    case ApiErrorKind::kTimeout:
      return 408;
    case ApiErrorKind::kConflict:
      return 409;
    case ApiErrorKind::kTooLarge:
      return 413;
    case ApiErrorKind::kUnprocessable:
      return 422;
    case ApiErrorKind::kUnavailable:
      return 503;
    case ApiErrorKind::kInternal:
      return 500;
  }
  return 500;
}

ApiErrorKind api_error_kind(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalid:
      return ApiErrorKind::kInvalid;
    case ErrorCode::kNotFound:
      return ApiErrorKind::kNotFound;
    case ErrorCode::kConflict:
      return ApiErrorKind::kConflict;
    case ErrorCode::kUnavailable:
      return ApiErrorKind::kUnavailable;
    case ErrorCode::kInternal:
    case ErrorCode::kCorrupt:
    case ErrorCode::kIo:
      return ApiErrorKind::kInternal;
  }
  return ApiErrorKind::kInternal;
}

int http_status(ErrorCode code) { return http_status(api_error_kind(code)); }

void reply_error(httplib::Response& res, int status, const std::string& error,
                 const nlohmann::json& detail) {
  reply_json(res, status, {{"error", error}, {"detail", detail}});
}

void reply_error(httplib::Response& res, const ApiError& error) {
  if (error.kind == ApiErrorKind::kUnauthorized) res.set_header("WWW-Authenticate", "Bearer");
  reply_json(res, error.status(), error.body());
}

ApiResult<nlohmann::json> parse_json_body(const std::string& body, int max_depth) {
  if (runtime::json_nesting_exceeds(body, max_depth))
    return ApiError::invalid("json_too_deep",
                             "JSON nests deeper than " + std::to_string(max_depth) + " levels");
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    return ApiError::invalid("bad_json", e.what());
  }
}

std::string resolve_static_path(const std::string& root, const std::string& url_path) {
  if (root.empty()) return "";
  if (url_path.find('\0') != std::string::npos || url_path.find('\\') != std::string::npos)
    return "";
  fs::path rel;
  std::stringstream ss(url_path);
  std::string segment;
  while (std::getline(ss, segment, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") return "";
    rel /= segment;
  }
  std::error_code ec;
  fs::path base = fs::weakly_canonical(fs::path(root), ec);
  if (ec) return "";
  fs::path full = fs::weakly_canonical(base / rel, ec);
  if (ec) return "";
  // A symlink inside the editor folder must not lead out of it either.
  auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (b != base.end()) return "";
  return full.string();
}

namespace {
std::vector<Token> all_tokens(const ServerOptions& o) {
  std::vector<Token> tokens = o.tokens;
  if (!o.token.empty()) tokens.push_back({"default", kScopeAdmin, o.token});
  return tokens;
}
}  // namespace

HttpServer::HttpServer(ServerOptions options, MetricsRegistry& metrics, JsonLog& log)
    : options_(std::move(options)),
      tokens_(all_tokens(options_)),
      metrics_(metrics),
      log_(log),
      server_(connection_limits(options_), [this](const char* reason) {
        metrics_
            .counter("trellis_http_refused_total",
                     "Connections refused or cut off before a handler ran", {{"reason", reason}})
            .inc();
      }) {
  install_hooks();
}

HttpServer::~HttpServer() { stop(); }

httplib::Server::Handler HttpServer::wrap(const std::string& pattern, Access access,
                                          Handler handler) {
  return [this, pattern, access, handler = std::move(handler)](const httplib::Request& req,
                                                               httplib::Response& res) {
    t_route_storage = pattern;
    t_route = t_route_storage.c_str();
    Reply reply = authorize(req, access);
    if (reply.ok()) reply = handler(req, res);
    if (!reply.ok()) reply_error(res, reply.error());
    send_body(req, res);
  };
}

// Writes are authorized before their body is read, and read it through a
// capped content reader; then they run as GETs do.
httplib::Server::HandlerWithContentReader HttpServer::with_body(const std::string& pattern,
                                                                Access access, Handler handler) {
  httplib::Server::Handler inner = wrap(pattern, access, std::move(handler));
  return [this, pattern, access, inner](const httplib::Request& req, httplib::Response& res,
                                        const httplib::ContentReader& reader) {
    httplib::Request with_body = req;  // `matches` still points into req.path, alive meanwhile
    t_route_storage = pattern;
    t_route = t_route_storage.c_str();
    Reply authorized = authorize(req, access);
    ApiResult<std::string> body = authorized.ok()
                                      ? read_body_capped(reader, options_.max_body_bytes)
                                      : ApiResult<std::string>(authorized.error());
    if (!body.ok()) {
      GuardedServer::close_after_response();  // an unread body may follow
      res.set_header("Connection", "close");
      reply_error(res, body.error());
      return;
    }
    with_body.body = std::move(*body);
    inner(with_body, res);
  };
}

void HttpServer::add_get(const std::string& p, Handler h, Access a) {
  server_.Get(p, wrap(p, a, std::move(h)));
}
void HttpServer::add_with_body(const char* method, const std::string& p, Handler h, Access a) {
  auto handler = with_body(p, a, std::move(h));
  if (std::string_view(method) == "POST")
    server_.Post(p, std::move(handler));
  else if (std::string_view(method) == "PUT")
    server_.Put(p, std::move(handler));
  else
    server_.Delete(p, std::move(handler));
}

void HttpServer::install_hooks() {
  // Only for the Keep-Alive header httplib writes; GuardedServer enforces both.
  server_.set_keep_alive_max_count(options_.keep_alive_max_requests);
  server_.set_keep_alive_timeout(server_.limits().idle_timeout_ms / 1000);
  // httplib writes headers and body separately; with Nagle on, the body waits
  // for the client's delayed ACK (~40 ms a response).
  server_.set_tcp_nodelay(true);

  // Runs once the headers are in and before any body byte is read.
  server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    t_request_start = std::chrono::steady_clock::now();
    t_route = nullptr;
    set_current_caller({});
    return refuse_before_body(req, res) ? httplib::Server::HandlerResponse::Handled
                                        : httplib::Server::HandlerResponse::Unhandled;
  });

  // Fills in a JSON body for every error httplib answers on its own (no route,
  // body too large, bad request line), so every 4xx has {"error","detail"}.
  server_.set_error_handler(
      httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
        // A handler's own answer (sent as is by send_body) stays.
        if (!res.body.empty() || res.content_provider_)
          return httplib::Server::HandlerResponse::Unhandled;
        // A body cut off by GuardedServer's deadline or byte budget.
        if (GuardedServer::body_too_large()) res.status = 413;
        if (GuardedServer::body_timed_out()) res.status = 408;
        std::string detail;
        if (res.status == 408) detail = "the request body did not arrive in time";
        if (res.status == 404) detail = "no route for " + req.method + " " + req.path;
        if (res.status == 413) detail = "request body is too large";
        reply_error(res, res.status, default_error_name(res.status), detail);
        return httplib::Server::HandlerResponse::Handled;
      }));

  server_.set_exception_handler([this](const httplib::Request& req, httplib::Response& res,
                                       std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    log_.error({{"msg", "unhandled exception"},
                {"method", req.method},
                {"path", req.path},
                {"exception", what}});
    metrics_.counter("trellis_http_exceptions_total", "Handler exceptions answered as 500").inc();
    reply_error(res, 500, "internal", "unexpected server error; see the server log");
  });

  server_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    double seconds = 0;
    if (t_request_start.time_since_epoch().count() != 0)
      seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_request_start).count();
    std::string route = t_route ? t_route : (res.status == 404 ? "unmatched" : "none");
    metrics_
        .histogram("trellis_http_request_duration_seconds", "HTTP request latency",
                   {{"method", req.method}, {"route", route}})
        .observe(seconds);
    metrics_
        .counter("trellis_http_requests_total", "HTTP requests by route and status",
                 {{"method", req.method}, {"route", route}, {"status", std::to_string(res.status)}})
        .inc();
    if (log_.request_lines()) {
      // A user id is personal data: user routes log their pattern instead
      // (docs/security.md#erasure).
      const bool personal = route.rfind("/v1/users/", 0) == 0;
      log_.info({{"msg", "request"},
                 {"method", req.method},
                 {"path", personal ? route : req.path},
                 {"route", route},
                 {"status", res.status},
                 {"ms", seconds * 1000.0},
                 {"bytes_in", req.body.size()},
                 {"bytes_out", res.content_provider_ ? res.content_length_ : res.body.size()},
                 {"remote", req.remote_addr},
                 {"token", current_caller().name}});
    }
    t_request_start = {};
    t_route = nullptr;
  });
}

bool HttpServer::refuse_before_body(const httplib::Request& req, httplib::Response& res) {
  const std::string length = req.get_header_value("Content-Length");
  if (!length.empty() && length.find_first_not_of("0123456789") == std::string::npos &&
      (length.size() > 18 || std::stoull(length) > options_.max_body_bytes)) {
    GuardedServer::close_after_response();  // the body is not read
    res.set_header("Connection", "close");
    reply_error(
        res, 413, "payload_too_large",
        "request body is larger than " + std::to_string(options_.max_body_bytes) + " bytes");
    return true;
  }
  if (req.get_header_value("Content-Type").rfind("multipart/", 0) == 0) {
    GuardedServer::close_after_response();
    reply_error(res, 415, "unsupported_media_type", "multipart bodies are not accepted");
    return true;
  }
  return false;
}

Reply HttpServer::serve_static(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/v1/", 0) == 0 || req.path == "/v1")
    return ApiError::not_found("not_found", "no route for GET " + req.path);
  if (options_.editor_dir.empty())
    return ApiError::not_found("not_found", "no editor is served (see --editor-dir)");
  std::string file = resolve_static_path(options_.editor_dir, req.path);
  if (file.empty()) return ApiError::invalid("bad_path", "path leaves the editor folder");
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) {
    // SPA fallback: the editor routes client-side, so unknown paths without a
    // file extension get index.html; a missing asset stays a 404.
    if (fs::path(req.path).has_extension() && req.path != "/")
      return ApiError::not_found("not_found", "no file " + req.path);
    file = (fs::path(options_.editor_dir) / "index.html").string();
  }
  // The gzip copy scripts/build-editor.sh made beside the file, when the browser takes
  // gzip. httplib would otherwise compress each answer itself, with brotli at its
  // slowest quality when the browser offers br: 9 s for the editor's script and 20 s
  // for ELK's worker on the loaded 2-core VM, every page load, before the editor could
  // start (docs/benchmarks.md#editor-first-opening). So files go out as they are stored.
  const bool gzipped = accepts_gzip(req) && fs::is_regular_file(file + ".gz", ec);
  auto body = std::make_shared<std::string>();
  if (!read_file(gzipped ? file + ".gz" : file, body.get()))
    return ApiError::not_found(
        "not_found", "the editor is not built (no index.html in " + options_.editor_dir + ")");
  res.status = 200;
  if (gzipped) res.set_header("Content-Encoding", "gzip");
  res.set_header("Vary", "Accept-Encoding");
  // Vite names what it puts in assets/ by a hash of the content: such a name never
  // changes meaning, so the browser keeps the file; index.html is asked again each time.
  res.set_header("Cache-Control", req.path.rfind("/assets/", 0) == 0
                                      ? "public, max-age=31536000, immutable"
                                      : "no-cache");
  // A content provider of known length is sent as is (httplib compresses only bodies
  // and chunked providers).
  send_as_is(res, std::move(body), mime_for(file));
  return {};
}

Status HttpServer::bind() {
  get(
      "/healthz",
      [](const httplib::Request&, httplib::Response& res) {
        reply_json(res, 200, {{"status", "ok"}});
      },
      Access::kOpen);
  get(
      "/metrics",
      [this](const httplib::Request&, httplib::Response& res) {
        res.set_content(metrics_.render(), "text/plain; version=0.0.4; charset=utf-8");
      },
      options_.open_metrics ? Access::kOpen : Access::kRead);
  // The editor's files are public; the API calls it makes need a token.
  get(
      "/(.*)",
      [this](const httplib::Request& req, httplib::Response& res) {
        return serve_static(req, res);
      },
      Access::kOpen);
  if (options_.port == 0) {
    port_ = server_.bind_to_any_port(options_.host);
    if (port_ <= 0) return Error{"cannot bind to " + options_.host + " on any port"};
  } else {
    if (!server_.bind_to_port(options_.host, options_.port))
      return Error{"cannot bind to " + options_.host + ":" + std::to_string(options_.port) +
                   " (address in use or not local)"};
    port_ = options_.port;
  }
  server_.widen_backlog();
  bound_ = true;
  return {};
}

void HttpServer::serve() { server_.listen_after_bind(); }

Status HttpServer::start() {
  if (!bound_) {
    Status bound = bind();
    if (!bound.ok()) return bound;
  }
  thread_ = std::thread([this] { serve(); });
  // cpp-httplib 0.11 has no wait_until_ready(); is_running() turns true inside listen.
  for (int i = 0; i < 2000 && !server_.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!server_.is_running()) return Error{"server did not start"};
  return {};
}

void HttpServer::stop() {
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace trellis::api

// The HTTP front on real loopback sockets: auth, limits, error bodies, the
// exception handler, static files and metrics.
#include "api/http_server.h"

#include <catch2/catch.hpp>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "tests/api/test_support.h"

namespace api = trellis::api;
using api::testing::raw_http;
using api::testing::TempDir;
using api::testing::write_file;
using nlohmann::json;

namespace {

struct Fixture {
  explicit Fixture(api::ServerOptions options = {}) : log(log_text) {
    options.port = 0;
    server = std::make_unique<api::HttpServer>(options, metrics, log);
    server->post("/v1/echo", [this](const httplib::Request& req, httplib::Response& res) {
      auto body = api::parse_json_body(req.body, server->options().max_json_depth);
      if (!body.ok()) return api::Reply(body.error());
      api::reply_json(res, 200, *body);
      return api::Reply();
    });
    server->get("/v1/boom", [](const httplib::Request&, httplib::Response&) {
      throw std::runtime_error("kaboom");
    });
    server->get("/v1/teapot", [](const httplib::Request&, httplib::Response&) {
      return api::Reply(api::ApiError::unprocessable("teapot", {{"why", "short and stout"}}));
    });
    REQUIRE(server->start().ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", server->port());
  }
  ~Fixture() { server->stop(); }

  std::ostringstream log_text;
  api::MetricsRegistry metrics;
  api::JsonLog log;
  std::unique_ptr<api::HttpServer> server;
  std::unique_ptr<httplib::Client> client;
};

json body_of(const httplib::Result& r) { return json::parse(r->body); }

}  // namespace

TEST_CASE("healthz answers ok and unknown API paths answer a JSON 404") {
  Fixture f;
  auto r = f.client->Get("/healthz");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["status"] == "ok");

  auto missing = f.client->Get("/v1/nothing-here");
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(body_of(missing)["error"] == "not_found");

  auto wrong_method = f.client->Delete("/v1/echo");
  REQUIRE(wrong_method);
  CHECK(wrong_method->status == 404);
  CHECK(body_of(wrong_method).contains("detail"));
}

TEST_CASE("without a token, writes are open") {
  Fixture f;
  auto r = f.client->Post("/v1/echo", R"({"a":1})", "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(body_of(r)["a"] == 1);
}

TEST_CASE("with a token, API calls need the bearer token and /healthz stays open") {
  api::ServerOptions options;
  options.token = "s3cret";
  Fixture f(options);

  auto none = f.client->Post("/v1/echo", "{}", "application/json");
  REQUIRE(none);
  CHECK(none->status == 401);
  CHECK(body_of(none)["error"] == "unauthorized");
  CHECK(none->get_header_value("WWW-Authenticate") == "Bearer");

  auto wrong =
      f.client->Post("/v1/echo", {{"Authorization", "Bearer nope"}}, "{}", "application/json");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);
  CHECK(body_of(wrong)["error"] == "unauthorized");

  auto right = f.client->Post("/v1/echo", {{"Authorization", "Bearer s3cret"}}, R"({"x":true})",
                              "application/json");
  REQUIRE(right);
  CHECK(right->status == 200);

  auto read = f.client->Get("/healthz");
  REQUIRE(read);
  CHECK(read->status == 200);
}

TEST_CASE("bad JSON, too-deep JSON and too-large bodies answer 4xx with error and detail") {
  api::ServerOptions options;
  options.max_body_bytes = 1024;
  options.max_json_depth = 4;
  Fixture f(options);

  auto bad = f.client->Post("/v1/echo", "{nope", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(body_of(bad)["error"] == "bad_json");
  CHECK(body_of(bad)["detail"].is_string());

  auto deep = f.client->Post("/v1/echo", "[[[[[1]]]]]", "application/json");
  REQUIRE(deep);
  CHECK(deep->status == 400);
  CHECK(body_of(deep)["error"] == "json_too_deep");

  auto ok_depth = f.client->Post("/v1/echo", R"([[[{"s":"[[[[[["}]]])", "application/json");
  REQUIRE(ok_depth);
  CHECK(ok_depth->status == 200);  // brackets inside strings do not count

  auto big = f.client->Post("/v1/echo", std::string(4096, ' '), "application/json");
  REQUIRE(big);
  CHECK(big->status == 413);
  CHECK(body_of(big)["error"] == "payload_too_large");
}

TEST_CASE("API answers are gzipped when taken, never brotli, and small ones go as they are") {
  Fixture f;
  json big = json::array();
  for (int i = 0; i < 5000; ++i) big.push_back({{"hour", i}, {"entered", i * 7}});
  const std::string big_text = big.dump();
  // A browser offers br first; httplib on its own would answer with brotli at its
  // slowest quality (seconds for a large answer). The client here decompresses gzip.
  httplib::Headers browser = {{"Accept-Encoding", "gzip, deflate, br"}};
  auto r = f.client->Post("/v1/echo", browser, big_text, "application/json");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Encoding") == "gzip");
  CHECK(r->get_header_value("Content-Type") == "application/json");
  CHECK(r->body == big_text);
  // Small answers, and clients that take no gzip, get the text as it is.
  auto small = f.client->Post("/v1/echo", browser, "[1,2,3]", "application/json");
  REQUIRE(small);
  CHECK(small->get_header_value("Content-Encoding").empty());
  CHECK(small->body == "[1,2,3]");
  for (std::string accept : {"br", "identity", "gzip;q=0, br"}) {
    INFO(accept);
    auto plain =
        f.client->Post("/v1/echo", {{"Accept-Encoding", accept}}, big_text, "application/json");
    REQUIRE(plain);
    CHECK(plain->get_header_value("Content-Encoding").empty());
    CHECK(plain->body == big_text);
  }
}

TEST_CASE("a handler's refusal becomes its kind's status and the JSON error body") {
  Fixture f;
  auto r = f.client->Get("/v1/teapot");
  REQUIRE(r);
  CHECK(r->status == 422);
  CHECK(r->get_header_value("Content-Type") == "application/json");
  CHECK(body_of(r).size() == 2);
  CHECK(body_of(r)["error"] == "teapot");
  CHECK(body_of(r)["detail"]["why"] == "short and stout");
}

TEST_CASE("an unexpected exception answers 500 and the server keeps serving") {
  Fixture f;
  for (int i = 0; i < 3; ++i) {
    auto r = f.client->Get("/v1/boom");
    REQUIRE(r);
    CHECK(r->status == 500);
    CHECK(body_of(r)["error"] == "internal");
  }
  auto health = f.client->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  f.server->stop();  // joins the workers before the log is read
  CHECK(f.log_text.str().find("kaboom") != std::string::npos);
}

TEST_CASE("every log line is one JSON object with ts and level") {
  Fixture f;
  REQUIRE(f.client->Get("/healthz"));
  REQUIRE(f.client->Get("/v1/nothing"));
  f.server->stop();
  std::istringstream lines(f.log_text.str());
  std::string line;
  int requests = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    CHECK(j.contains("ts"));
    CHECK(j.contains("level"));
    if (j.value("msg", "") == "request") {
      ++requests;
      CHECK(j.contains("status"));
      CHECK(j.contains("ms"));
    }
  }
  CHECK(requests == 2);
}

TEST_CASE("the editor's files are served with an SPA fallback and no path traversal") {
  TempDir dir;
  write_file(dir.file("dist/index.html"), "<html>editor</html>");
  write_file(dir.file("dist/assets/app.js"), "console.log(1)");
  write_file(dir.file("secret.txt"), "do not serve");
  api::ServerOptions options;
  options.editor_dir = dir.file("dist");
  Fixture f(options);

  auto index = f.client->Get("/");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(index->body == "<html>editor</html>");
  CHECK(index->get_header_value("Content-Type").find("text/html") == 0);

  auto js = f.client->Get("/assets/app.js");
  REQUIRE(js);
  CHECK(js->status == 200);
  CHECK(js->get_header_value("Content-Type").find("text/javascript") == 0);

  auto spa = f.client->Get("/flows/cart_reminder");
  REQUIRE(spa);
  CHECK(spa->status == 200);
  CHECK(spa->body == "<html>editor</html>");

  auto missing_asset = f.client->Get("/assets/missing.js");
  REQUIRE(missing_asset);
  CHECK(missing_asset->status == 404);
  CHECK(json::parse(missing_asset->body)["error"] == "not_found");

  for (std::string path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                           "/assets/..%2f..%2fsecret.txt", "/..\\secret.txt"}) {
    INFO(path);
    std::string resp = raw_http(f.server->port(), "GET " + path +
                                                      " HTTP/1.1\r\nHost: x\r\nConnection: "
                                                      "close\r\n\r\n");
    REQUIRE(!resp.empty());
    CHECK(resp.find("do not serve") == std::string::npos);
    CHECK(resp.find("HTTP/1.1 400") == 0);
  }
}

TEST_CASE("the editor's files go out as stored: a gzip copy when taken, never compressed again") {
  TempDir dir;
  write_file(dir.file("dist/index.html"), "<html>editor</html>");
  write_file(dir.file("dist/assets/app.js"), "console.log(1)");
  write_file(dir.file("dist/assets/app.js.gz"), "GZIP-COPY");
  write_file(dir.file("dist/assets/plain.js"), "console.log(2)");
  api::ServerOptions options;
  options.editor_dir = dir.file("dist");
  Fixture f(options);
  auto get = [&](const std::string& path, const std::string& accept) {
    std::string head = "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (!accept.empty()) head += "Accept-Encoding: " + accept + "\r\n";
    std::string resp = raw_http(f.server->port(), head + "\r\n");
    REQUIRE(!resp.empty());
    return resp;
  };
  auto body = [](const std::string& resp) { return resp.substr(resp.find("\r\n\r\n") + 4); };
  // A browser's offer: the stored gzip copy, not brotli made on the spot.
  std::string js = get("/assets/app.js", "gzip, deflate, br");
  CHECK(js.find("Content-Encoding: gzip") != std::string::npos);
  CHECK(body(js) == "GZIP-COPY");
  CHECK(js.find("Content-Type: text/javascript") != std::string::npos);
  CHECK(js.find("Cache-Control: public, max-age=31536000, immutable") != std::string::npos);
  // No gzip taken (or refused with q=0): the file itself.
  for (std::string accept : {"", "br", "gzip;q=0, br"}) {
    INFO(accept);
    std::string plain = get("/assets/app.js", accept);
    CHECK(plain.find("Content-Encoding") == std::string::npos);
    CHECK(body(plain) == "console.log(1)");
  }
  // No gzip copy: the file itself, whatever the browser offers.
  std::string other = get("/assets/plain.js", "gzip, deflate, br");
  CHECK(other.find("Content-Encoding") == std::string::npos);
  CHECK(body(other) == "console.log(2)");
  // index.html is asked again each time (it names the assets of the current build).
  std::string index = get("/flows/cart_reminder", "gzip, br");
  CHECK(index.find("Cache-Control: no-cache") != std::string::npos);
  CHECK(body(index) == "<html>editor</html>");
}

TEST_CASE("resolve_static_path refuses every way out of the root") {
  TempDir dir;
  write_file(dir.file("root/a.txt"), "a");
  std::string root = dir.file("root");
  CHECK(api::resolve_static_path(root, "/a.txt") == root + "/a.txt");
  CHECK(api::resolve_static_path(root, "/../a.txt").empty());
  CHECK(api::resolve_static_path(root, "/x/../../a.txt").empty());
  CHECK(api::resolve_static_path(root, std::string("/a\0b", 4)).empty());
  CHECK(api::resolve_static_path("", "/a.txt").empty());
}

TEST_CASE("without an editor folder, / answers a JSON 404") {
  Fixture f;
  auto r = f.client->Get("/");
  REQUIRE(r);
  CHECK(r->status == 404);
  CHECK(json::parse(r->body)["error"] == "not_found");
}

TEST_CASE("/metrics counts requests by route and status and has latency histograms") {
  Fixture f;
  REQUIRE(f.client->Get("/healthz"));
  REQUIRE(f.client->Get("/v1/boom"));
  // Requests are counted after their response is written: poll (bounded, 10 s,
  // which only a hang exhausts; a loaded machine took more than 1 s once).
  auto counted = [](const httplib::Result& r) {
    return r->body.find("route=\"/v1/boom\"") != std::string::npos &&
           r->body.find("route=\"/healthz\"") != std::string::npos;
  };
  httplib::Result r = f.client->Get("/metrics");
  for (int i = 0; i < 1000 && r && !counted(r); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    r = f.client->Get("/metrics");
  }
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type").find("text/plain") == 0);
  const std::string& text = r->body;
  CHECK(text.find(R"(trellis_http_requests_total{method="GET",route="/healthz",status="200"} 1)") !=
        std::string::npos);
  CHECK(text.find(R"(trellis_http_requests_total{method="GET",route="/v1/boom",status="500"} 1)") !=
        std::string::npos);
  CHECK(text.find("# TYPE trellis_http_request_duration_seconds histogram") != std::string::npos);
  CHECK(
      text.find(
          R"(trellis_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 1)") !=
      std::string::npos);
}

TEST_CASE("an error from below answers with the status of its code") {
  using trellis::Error;
  using trellis::ErrorCode;
  CHECK(api::http_status(ErrorCode::kInvalid) == 400);
  CHECK(api::http_status(ErrorCode::kNotFound) == 404);
  CHECK(api::http_status(ErrorCode::kConflict) == 409);
  CHECK(api::http_status(ErrorCode::kUnavailable) == 503);
  CHECK(api::http_status(ErrorCode::kInternal) == 500);
  CHECK(api::http_status(ErrorCode::kCorrupt) == 500);
  CHECK(api::http_status(ErrorCode::kIo) == 500);
  const api::ApiError e = api::ApiError::from(Error::not_found("unknown flow 'x'"), "unknown_flow");
  CHECK(e.status() == 404);
  CHECK(e.error == "unknown_flow");
  CHECK(e.detail == "unknown flow 'x'");
  CHECK(e.body() == json{{"error", "unknown_flow"}, {"detail", "unknown flow 'x'"}});
  // A failure that is not a missing flow is no longer a 404.
  CHECK(api::ApiError::from(Error{"disk full"}, "stats_failed").status() == 500);
}

TEST_CASE("every refusal kind has its own status") {
  using K = api::ApiErrorKind;
  const std::pair<K, int> table[] = {{K::kInvalid, 400},     {K::kUnauthorized, 401},
                                     {K::kForbidden, 403},   {K::kNotFound, 404},
                                     {K::kTimeout, 408},     {K::kConflict, 409},
                                     {K::kTooLarge, 413},    {K::kUnprocessable, 422},
                                     {K::kUnavailable, 503}, {K::kInternal, 500}};
  for (const auto& [kind, status] : table) CHECK(api::http_status(kind) == status);
}

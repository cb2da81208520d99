#include "tests/api/service_fixture.h"

#include <catch2/catch.hpp>

namespace trellis::api::testing {

using nlohmann::json;

ServiceFixture::ServiceFixture() : log(log_text) {}

ServiceFixture::~ServiceFixture() {
  if (service) service->shutdown();
}

void ServiceFixture::add_flow(const std::string& file, const std::string& text) {
  write_file(dir.file("flows/" + file), text);
}

void ServiceFixture::start(ServiceOptions options) {
  options.db = dir.file("trellis.db");
  options.flows_dir = dir.file("flows");
  options.adapter = "none";
  options.http.port = 0;
  options.log_requests = log_requests;
  auto opened = Service::open(options, log);
  if (!opened.ok()) FAIL(opened.error().message);
  service = std::move(*opened);
  REQUIRE(service->start().ok());
  client = std::make_unique<httplib::Client>("127.0.0.1", service->port());
  client->set_keep_alive(true);
}

httplib::Result ServiceFixture::post_json(const std::string& path, const json& body) {
  return client->Post(path.c_str(), headers(), body.dump(), "application/json");
}

httplib::Result ServiceFixture::put(const std::string& path, const std::string& body,
                                    const std::string& type) {
  return client->Put(path.c_str(), headers(), body, type.c_str());
}

httplib::Headers ServiceFixture::headers() const {
  if (token.empty()) return {};
  return {{"Authorization", "Bearer " + token}};
}

json ServiceFixture::get_json(const std::string& path, int expect_status) {
  auto r = client->Get(path.c_str(), headers());
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  REQUIRE(r->status == expect_status);
  return json::parse(r->body);
}

json ServiceFixture::post_ok(const std::string& path, const json& body, int expect_status) {
  auto r = post_json(path, body);
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  REQUIRE(r->status == expect_status);
  return json::parse(r->body);
}

void ServiceFixture::send_events(const json& events) { post_ok("/v1/events", events, 202); }

void ServiceFixture::put_traits(const std::string& user, const json& traits) {
  auto r = put("/v1/users/" + user, traits.dump(), "application/json");
  REQUIRE(r);
  INFO(r->body);
  REQUIRE(r->status == 200);
}

void require_error(const httplib::Result& r, int status, const std::string& error) {
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == status);
  json body = json::parse(r->body);
  CHECK(body["error"] == error);
  CHECK(body.contains("detail"));
}

}  // namespace trellis::api::testing

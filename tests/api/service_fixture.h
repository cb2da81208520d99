// A Service on a free loopback port over a fresh folder (the SQLite file and
// flows/ inside it, adapter "none"), with a keep-alive client and JSON
// helpers: what the endpoint tests share.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "api/service.h"
#include "tests/api/test_support.h"

namespace trellis::api::testing {

struct ServiceFixture {
  ServiceFixture();
  ~ServiceFixture();
  ServiceFixture(const ServiceFixture&) = delete;
  ServiceFixture& operator=(const ServiceFixture&) = delete;

  // Writes flows/<file> (before start()).
  void add_flow(const std::string& file, const std::string& text);
  // Opens and starts the service; fills in the database, flows folder,
  // adapter and port, keeps every other option. Fails the test on error.
  void start(ServiceOptions options = {});

  // Requests carry the bearer token when `token` is set.
  httplib::Result post_json(const std::string& path, const nlohmann::json& body);
  httplib::Result put(const std::string& path, const std::string& body, const std::string& type);
  httplib::Headers headers() const;
  // GETs `path`, requires `expect_status` and returns the body as JSON.
  nlohmann::json get_json(const std::string& path, int expect_status = 200);
  // POSTs `body` as JSON to `path`, requires `expect_status` and returns the answer.
  nlohmann::json post_ok(const std::string& path, const nlohmann::json& body,
                         int expect_status = 200);
  // POST /v1/events (one event or an array), required to commit (202).
  void send_events(const nlohmann::json& events);
  // PUT /v1/users/{user} with these traits, required to succeed.
  void put_traits(const std::string& user, const nlohmann::json& traits);

  bool log_requests = false;  // access log lines into log_text (set before start())
  TempDir dir;
  std::ostringstream log_text;
  JsonLog log;
  std::unique_ptr<Service> service;
  std::unique_ptr<httplib::Client> client;
  std::string token;
};

// Checks a {"error", "detail"} answer.
void require_error(const httplib::Result& r, int status, const std::string& error);

}  // namespace trellis::api::testing

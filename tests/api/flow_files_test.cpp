// The editor's flow list through real HTTP: the running version's text for the deploy
// diff, and deleting a flow that was never deployed (rename is a copy, then a delete).
#include <catch2/catch.hpp>

#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::read_file;
using api::testing::require_error;
using nlohmann::json;

namespace {

const char* kGreet = R"(flow: greet
trigger:
  event: signup
start: hello
nodes:
  hello:
    type: email
    subject: Hi
    body: Welcome
    next: done
  done:
    type: exit
)";

std::string renamed(std::string text, const std::string& name) {
  text.replace(text.find("flow: greet"), 11, "flow: " + name);
  return text;
}

}  // namespace

TEST_CASE("GET ?version=deployed answers the running version, not the saved draft") {
  api::testing::ServiceFixture f;
  f.add_flow("greet.yaml", kGreet);
  f.start();
  std::string changed = kGreet;
  changed.replace(changed.find("subject: Hi"), 11, "subject: Hello");
  REQUIRE(f.put("/v1/flows/greet", changed, "application/yaml")->status == 200);
  json saved = f.get_json("/v1/flows/greet?format=json");
  json running = f.get_json("/v1/flows/greet?format=json&version=deployed");
  CHECK(saved["nodes"][0]["subject"] == "Hello");
  CHECK(running["nodes"][0]["subject"] == "Hi");

  REQUIRE(f.put("/v1/flows/fresh", renamed(kGreet, "fresh"), "application/yaml")->status == 200);
  require_error(f.client->Get("/v1/flows/fresh?format=json&version=deployed"), 404, "not_deployed");
}

TEST_CASE("DELETE removes a flow never deployed with its file, and refuses a deployed flow") {
  api::testing::ServiceFixture f;
  f.add_flow("greet.yaml", kGreet);
  f.start();
  // A copy under a new name, as the editor's duplicate makes it.
  REQUIRE(
      f.put("/v1/flows/greet_copy", renamed(kGreet, "greet_copy"), "application/yaml")->status ==
      200);
  const std::string copy_file = f.dir.file("flows/greet_copy.yaml");
  CHECK(read_file(copy_file).find("flow: greet_copy") != std::string::npos);
  CHECK(f.get_json("/v1/flows")["flows"].size() == 2);

  auto gone = f.client->Delete("/v1/flows/greet_copy", f.headers());
  REQUIRE(gone);
  CHECK(gone->status == 200);
  CHECK(json::parse(gone->body)["deleted"] == "greet_copy");
  CHECK_FALSE(std::filesystem::exists(copy_file));
  CHECK(f.get_json("/v1/flows")["flows"].size() == 1);
  require_error(f.client->Get("/v1/flows/greet_copy"), 404, "unknown_flow");

  require_error(f.client->Delete("/v1/flows/greet_copy", f.headers()), 404, "unknown_flow");
  require_error(f.client->Delete("/v1/flows/greet", f.headers()), 409, "flow_deployed");
  CHECK(std::filesystem::exists(f.dir.file("flows/greet.yaml")));
}

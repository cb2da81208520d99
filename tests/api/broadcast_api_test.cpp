// Broadcasts through real HTTP on loopback against a real SQLite file
// (docs/http-api.md#get-v1flowsnamebroadcasts, docs/flows.md#redeploying-a-broadcast):
// a scheduled flow deployed with PUT /v1/flows/{name}?deploy=true plans its run;
// redeployed with another date the pending run is withdrawn and the new one
// planned; with the audience alone changed the run stays; without a schedule
// nothing is pending any more. The dates are far ahead: nothing runs here.
#include <catch2/catch.hpp>

#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

std::string sale(const std::string& trigger) {
  return "flow: sale\n" + trigger +
         "start: text\nnodes:\n  text: { type: sms, text: \"Sale\", next: done }\n"
         "  done: { type: exit }\n";
}

struct Fixture : api::testing::ServiceFixture {
  Fixture() { start(); }

  void deploy(const std::string& yaml) {
    auto r = put("/v1/flows/sale?deploy=true", yaml, "application/yaml");
    REQUIRE(r);
    INFO(r->body);
    REQUIRE(r->status == 200);
  }

  // "run state" of each run, oldest first.
  std::vector<std::string> runs() {
    std::vector<std::string> out;
    const json body = get_json("/v1/flows/sale/broadcasts");
    for (const json& r : body["broadcasts"])
      out.push_back(r["run"].get<std::string>() + " " + r["state"].get<std::string>());
    return out;
  }
};

using Runs = std::vector<std::string>;

}  // namespace

TEST_CASE("a redeploy moves a pending broadcast run, keeps it, or withdraws it") {
  Fixture f;
  require_error(f.client->Get("/v1/flows/sale/broadcasts", f.headers()), 404, "unknown_flow");
  f.deploy(sale("trigger:\n  schedule: \"2099-03-01 10:00\"\n  audience: user.vip == true\n"));
  CHECK(f.runs() == Runs{"2099-03-01 10:00 scheduled"});
  json run = f.get_json("/v1/flows/sale/broadcasts")["broadcasts"][0];
  CHECK(run["due_at"] == "2099-03-01T10:00:00.000Z");
  CHECK(run["started_at"].is_null());

  // Another date: the pending run is withdrawn and the new one planned.
  f.deploy(sale("trigger:\n  schedule: \"2099-03-08 10:00\"\n  audience: user.vip == true\n"));
  CHECK(f.runs() == Runs{"2099-03-01 10:00 withdrawn", "2099-03-08 10:00 scheduled"});
  json withdrawn = f.get_json("/v1/flows/sale/broadcasts")["broadcasts"][0];
  CHECK(withdrawn["entered"] == 0);
  CHECK(withdrawn["started_at"].is_null());
  CHECK_FALSE(withdrawn["finished_at"].is_null());

  // The audience alone: the same run stays.
  f.deploy(sale("trigger:\n  schedule: \"2099-03-08 10:00\"\n  audience: user.tier == \"gold\"\n"));
  CHECK(f.runs() == Runs{"2099-03-01 10:00 withdrawn", "2099-03-08 10:00 scheduled"});

  // Each user's own time zone: the same run, due when 10:00 first comes (UTC+14).
  f.deploy(sale("trigger:\n  schedule: \"2099-03-08 10:00\"\n  in_user_time_zone: true\n"));
  CHECK(f.get_json("/v1/flows/sale/broadcasts")["broadcasts"][1]["due_at"] ==
        "2099-03-07T20:00:00.000Z");

  // No schedule: nothing is pending.
  f.deploy(sale("trigger: { event: signup }\n"));
  CHECK(f.runs() == Runs{"2099-03-01 10:00 withdrawn", "2099-03-08 10:00 withdrawn"});
  CHECK(f.get_json("/v1/flows/sale/versions")["versions"].size() == 5);
}

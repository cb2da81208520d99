// The results API over real HTTP on loopback: goal, revenue and cost, A/B
// comparisons with their verdict, funnel, series over time with bucket and
// time zone, clear 400s for bad parameters, the drill-down list and the
// holdout (docs/http-api.md, docs/results.md).
#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "runtime/clock.h"
#include "tests/api/service_fixture.h"

namespace api = trellis::api;
using api::testing::require_error;
using nlohmann::json;

namespace {

const char* kSplitFlow = R"(flow: split
trigger: {event: signup}
goal: {event: order_paid, within: 2d, value: event.revenue}
start: pick
nodes:
  pick:
    type: ab
    variants:
      a: {weight: 50, next: text_a}
      b: {weight: 50, next: text_b}
  text_a: {type: sms, text: "A", next: done}
  text_b: {type: sms, text: "B", next: done}
  done: {type: exit}
)";

struct SplitFixture : api::testing::ServiceFixture {
  explicit SplitFixture(int users) {
    add_flow("split.yaml", kSplitFlow);
    api::ServiceOptions options;
    auto config = std::make_shared<trellis::runtime::delivery::DeliveryConfig>();
    config->costs["sms"] = 0.01;
    options.delivery = config;
    start(options);
    json events = json::array();
    for (int i = 0; i < users; ++i) {
      const std::string user = "u" + std::to_string(i);
      events.push_back({{"id", "p" + std::to_string(i)},
                        {"type", "identify"},
                        {"user_id", user},
                        {"properties", {{"phone", "+1555"}}}});
      events.push_back({{"id", "s" + std::to_string(i)}, {"type", "signup"}, {"user_id", user}});
      // Every third user orders, worth 20.
      if (i % 3 == 0)
        events.push_back({{"id", "o" + std::to_string(i)},
                          {"type", "order_paid"},
                          {"user_id", user},
                          {"properties", {{"revenue", 20}}}});
    }
    for (size_t at = 0; at < events.size(); at += 900) {
      json chunk(events.begin() + static_cast<long>(at),
                 events.begin() + static_cast<long>(std::min(events.size(), at + 900)));
      REQUIRE(post_json("/v1/events", chunk)->status == 202);
    }
  }
};

}  // namespace

TEST_CASE("stats: goal, revenue, cost, ROI, attribution, A/B verdict and funnel") {
  SplitFixture f(300);
  json stats = f.get_json("/v1/flows/split/stats");
  CHECK(stats["goal"] ==
        json{{"event", "order_paid"}, {"within", "2d"}, {"value", "event.revenue"}});
  CHECK(stats["conversions"] == 100);
  CHECK(stats["revenue"] == 2000.0);
  CHECK(stats["cost"].get<double>() == Approx(3.0));  // 300 SMS at 0.01
  CHECK(stats["roi"].get<double>() == Approx((2000.0 - 3.0) / 3.0));
  int64_t attributed = 0;
  for (const auto& node : stats["nodes"]) attributed += node["converted_after"].get<int64_t>();
  CHECK(attributed == 100);  // every conversion came after its variant's SMS

  REQUIRE(stats["ab"].size() == 1);
  const json& ab = stats["ab"][0];
  CHECK(ab["node"] == "pick");
  CHECK(ab["control"] == "a");
  CHECK(ab["min_sample"] == 100);
  REQUIRE(ab["variants"].size() == 2);
  const json &a = ab["variants"][0], &b = ab["variants"][1];
  CHECK(a["journeys"].get<int64_t>() + b["journeys"].get<int64_t>() == 300);
  CHECK(a["conversions"].get<int64_t>() + b["conversions"].get<int64_t>() == 100);
  CHECK(a["uplift"].is_null());
  CHECK(a["p_value"].is_null());
  CHECK(b["p_value"].is_number());
  CHECK(b["rate_ci"][0].get<double>() <= b["rate"].get<double>());
  CHECK(b["rate_ci"][1].get<double>() >= b["rate"].get<double>());
  CHECK(a["cost"].get<double>() == Approx(a["journeys"].get<double>() * 0.01));
  // Each variant has about 150 journeys: a verdict is made (rates alike: no difference).
  CHECK(ab["verdict"] == "no_difference");
  CHECK_FALSE(ab.contains("winner"));

  REQUIRE(stats["funnel"].size() == 2);
  CHECK(stats["funnel"][0]["path"] == json{"pick", "text_a", "done"});
  CHECK(stats["funnel"][0]["reached"][0] == 300);
  CHECK(stats["funnel"][0]["reached"][1] == a["journeys"]);
  CHECK(stats["funnel"][0]["reached"][2] == a["journeys"]);
  CHECK_FALSE(stats.contains("series"));
}

TEST_CASE("stats: not enough data yet below the minimum sample") {
  SplitFixture f(30);
  json ab = f.get_json("/v1/flows/split/stats")["ab"][0];
  CHECK(ab["verdict"] == "not_enough_data");
  CHECK(ab["summary"].get<std::string>().rfind("Not enough data yet: ", 0) == 0);
}

TEST_CASE("stats over time: hour and day buckets, echoed parameters, clear 400s") {
  SplitFixture f(12);
  json hourly =
      f.get_json("/v1/flows/split/stats?from=2020-01-01T00:00:00Z&to=2020-01-01T03:00:00Z");
  CHECK(hourly["bucket"] == "hour");
  CHECK(hourly["tz"] == "UTC");
  REQUIRE(hourly["series"].size() == 3);
  CHECK(hourly["series"][0]["start"] == "2020-01-01T00:00:00.000Z");
  CHECK(hourly["series"][2]["entered"] == 0);

  // The last 2 days by day in Berlin: today's bucket holds the 12 journeys.
  json daily = f.get_json(
      "/v1/flows/split/stats?bucket=day&tz=Europe/Berlin&from=" +
      trellis::runtime::format_rfc3339(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count() -
                                       2 * 86400000LL));
  int64_t entered = 0, converted = 0, sent = 0;
  for (const auto& b : daily["series"]) {
    entered += b["entered"].get<int64_t>();
    converted += b["converted"].get<int64_t>();
    if (b["messages"].contains("sms"))  // released: pending, or sent by the time we ask
      sent += b["messages"]["sms"]["pending"].get<int64_t>() +
              b["messages"]["sms"]["sent"].get<int64_t>();
    const std::string start = b["start"];
    CHECK((start.substr(19) == ".000+01:00" || start.substr(19) == ".000+02:00"));
  }
  CHECK(entered == 12);
  CHECK(converted == 4);
  CHECK(sent == 12);
  CHECK(daily["tz"] == "Europe/Berlin");

  auto bad = [&](const std::string& query, const std::string& field) {
    auto r = f.client->Get(("/v1/flows/split/stats?" + query).c_str(), f.headers());
    require_error(r, 400, "bad_query");
    CHECK(json::parse(r->body)["detail"]["field"] == field);
  };
  bad("from=yesterday", "from");
  bad("to=2020-13-01T00:00:00Z", "to");
  bad("from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z", "from");
  bad("from=2019-01-01T00:00:00Z&to=2020-06-01T00:00:00Z", "to");
  bad("bucket=week", "bucket");
  bad("bucket=day&tz=Mars/Olympus", "tz");
  // Empty values and a date without its time are refused the same way.
  bad("from=", "from");
  bad("to=", "to");
  bad("from=2020-01-01", "from");
  bad("bucket=", "bucket");
  bad("bucket=day&tz=", "tz");
  auto r = f.client->Get("/v1/flows/nope/stats?bucket=day", f.headers());
  require_error(r, 404, "unknown_flow");

  // A range from before 1970 holds no all-time sums (stored at hour -1 ms).
  for (const char* bucket : {"hour", "day"}) {
    json epoch = f.get_json(std::string("/v1/flows/split/stats?from=1969-12-31T00:00:00Z&") +
                            "to=1970-01-02T00:00:00Z&bucket=" + bucket);
    CHECK(epoch["series"].size() == (bucket == std::string("hour") ? 48u : 2u));
    for (const auto& b : epoch["series"]) {
      CHECK(b["entered"] == 0);
      CHECK(b["messages"].empty());
    }
  }
}

// The series are written as JSON text, not through a json tree
// (api/json_text.h): the answers stay byte for byte what dump() writes for
// their values (tests/api/series_text_test.cpp compares the series both ways).
TEST_CASE("stats answers are exactly dump() of their values, with and without series") {
  SplitFixture f(40);
  const std::string from =
      trellis::runtime::format_rfc3339(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::system_clock::now().time_since_epoch())
                                           .count() -
                                       3 * 86400000LL);
  for (const std::string& query : std::vector<std::string>{
           "", "?from=" + from, "?bucket=day&tz=Asia/Kolkata&from=" + from, "?bucket=hour"}) {
    INFO("query " << query);
    auto r = f.client->Get(("/v1/flows/split/stats" + query).c_str(), f.headers());
    REQUIRE(r);
    REQUIRE(r->status == 200);
    CHECK(r->get_header_value("Content-Type") == "application/json");
    const json answer = json::parse(r->body);
    CHECK(r->body == answer.dump(-1, ' ', false, json::error_handler_t::replace));
    CHECK(answer.contains("series") == !query.empty());
    int64_t entered = 0;
    for (const json& b : answer.value("series", json::array()))
      entered += b["entered"].get<int64_t>();
    CHECK(entered == (query.empty() ? 0 : 40));
  }
}

TEST_CASE("drill-down: a flow's journeys by node, state and variant, in pages") {
  SplitFixture f(25);
  json page = f.get_json("/v1/flows/split/journeys?limit=10");
  REQUIRE(page["journeys"].size() == 10);
  REQUIRE(page.contains("next"));
  const json& first = page["journeys"][0];
  CHECK(first["node"] == "done");
  CHECK(first["state"] == "completed");
  // The id is the public one GET /v1/journeys/{id} takes.
  auto text = [](const json& id) { return id.is_string() ? id.get<std::string>() : id.dump(); };
  CHECK(f.get_json("/v1/journeys/" + text(first["id"]))["user_id"] == first["user_id"]);

  int64_t seen = 10;
  std::string after = text(page["next"]);
  for (;;) {
    json next = f.get_json("/v1/flows/split/journeys?limit=10&after=" + after);
    seen += static_cast<int64_t>(next["journeys"].size());
    if (!next.contains("next")) break;
    after = text(next["next"]);
  }
  CHECK(seen == 25);

  json converted = f.get_json("/v1/flows/split/journeys?state=converted&limit=500");
  CHECK(converted["journeys"].size() == 9);  // u0, u3, ..., u24
  for (const auto& j : converted["journeys"]) CHECK(j["revenue"] == 20.0);
  json in_a = f.get_json("/v1/flows/split/journeys?variant=pick%3Da&limit=500");
  json in_b = f.get_json("/v1/flows/split/journeys?variant=pick%3Db&limit=500");
  CHECK(in_a["journeys"].size() + in_b["journeys"].size() == 25);
  CHECK(f.get_json("/v1/flows/split/journeys?node=text_a")["journeys"].empty());

  // `limit` is bounded: 1 to 500, anything else a 400 naming the field and the range.
  CHECK(f.get_json("/v1/flows/split/journeys?limit=500")["journeys"].size() == 25);
  CHECK(f.get_json("/v1/flows/split/journeys?limit=1")["journeys"].size() == 1);
  for (const char* limit : {"501", "0", "-1", "ten", "10x", "1e2", "", "99999999999999999999"}) {
    INFO("limit=" << limit);
    auto r = f.client->Get(("/v1/flows/split/journeys?limit=" + std::string(limit)).c_str(),
                           f.headers());
    require_error(r, 400, "bad_query");
    const json detail = json::parse(r->body)["detail"];
    CHECK(detail["field"] == "limit");
    CHECK(detail["message"] == "limit is a whole number from 1 to 500");
  }
  auto r = f.client->Get("/v1/flows/split/journeys?state=asleep", f.headers());
  require_error(r, 400, "bad_query");
  r = f.client->Get("/v1/flows/nope/journeys", f.headers());
  require_error(r, 404, "unknown_flow");
}

TEST_CASE("holdout: no holdout configured answers zeros and null lift") {
  SplitFixture f(5);
  json h = f.get_json("/v1/holdout");
  CHECK(h["percent"] == 0.0);
  CHECK(h["held_out"]["journeys"] == 0);
  CHECK(h["exposed"]["journeys"] == 5);
  CHECK(h["lift"]["absolute"].is_null());
}

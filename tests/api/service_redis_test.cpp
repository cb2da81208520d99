// Redis Streams through the whole service: a real redis-server on a free
// loopback port, the engine-backed sink, deliveries compared with HTTP ingestion.
#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "api/service.h"
#include "tests/api/test_support.h"

namespace api = trellis::api;
using api::testing::RedisServer;
using api::testing::TempDir;
using api::testing::write_file;
using nlohmann::json;

namespace {

const char* kFlow = R"(flow: promo
trigger:
  event: visit
  when: event.page == "pricing"
start: pick
nodes:
  pick:
    type: segment
    match: user.plan == "pro"
    yes: thanks
    no: offer
  thanks: {type: email, subject: "Thanks", body: "Thanks, {{user.name}}", next: done}
  offer: {type: sms, text: "Try pro, {{user.name}}", next: done}
  done: {type: exit}
)";

struct Node {
  Node(const std::string& redis_url) : log(log_text) {
    write_file(dir.file("flows/promo.yaml"), kFlow);
    api::ServiceOptions options;
    options.db = dir.file("t.db");
    options.flows_dir = dir.file("flows");
    options.adapter = "none";
    options.http.port = 0;
    options.log_requests = false;
    if (!redis_url.empty()) {
      api::RedisOptions redis;
      redis.url = redis_url;
      redis.stream = "events";
      redis.group = "trellis";
      redis.consumer = "t1";
      redis.block_ms = 50;
      options.redis = redis;
    }
    auto opened = api::Service::open(options, log);
    if (!opened.ok()) FAIL(opened.error().message);
    service = std::move(*opened);
    REQUIRE(service->start().ok());
    client = std::make_unique<httplib::Client>("127.0.0.1", service->port());
  }
  ~Node() { service->shutdown(); }

  // channel/user/node/subject/body of every delivery, in order.
  std::vector<std::string> deliveries() {
    auto r = client->Get("/v1/deliveries");
    std::vector<std::string> out;
    if (!r || r->status != 200) return out;
    json body = json::parse(r->body);  // kept alive: the loop borrows from it
    for (const auto& d : body["deliveries"])
      out.push_back(d["channel"].get<std::string>() + "|" + d["user_id"].get<std::string>() + "|" +
                    d["node"].get<std::string>() + "|" + d.value("subject", "") + "|" +
                    d["body"].get<std::string>());
    return out;
  }
  std::vector<std::string> wait_for(size_t n) {
    std::vector<std::string> got;
    for (int i = 0; i < 300 && (got = deliveries()).size() < n; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return got;
  }

  TempDir dir;
  std::ostringstream log_text;
  api::JsonLog log;
  std::unique_ptr<api::Service> service;
  std::unique_ptr<httplib::Client> client;
};

std::vector<json> sample_events() {
  std::vector<json> events;
  events.push_back({{"type", "identify"},
                    {"userId", "a"},
                    {"traits", {{"plan", "pro"}, {"name", "Ana"}, {"email", "ana@x.org"}}}});
  events.push_back({{"type", "identify"},
                    {"userId", "b"},
                    {"traits", {{"plan", "free"}, {"name", "Bo"}, {"phone", "+15550101"}}}});
  events.push_back(
      {{"id", "v1"}, {"type", "visit"}, {"user_id", "a"}, {"properties", {{"page", "pricing"}}}});
  events.push_back(
      {{"id", "v2"}, {"type", "visit"}, {"user_id", "b"}, {"properties", {{"page", "home"}}}});
  events.push_back(
      {{"id", "v3"}, {"type", "visit"}, {"user_id", "b"}, {"properties", {{"page", "pricing"}}}});
  events.push_back(
      {{"id", "v3"}, {"type", "visit"}, {"user_id", "b"}, {"properties", {{"page", "pricing"}}}});
  return events;
}

}  // namespace

TEST_CASE("events over the stream produce the same deliveries as over HTTP") {
  RedisServer redis;
  Node over_http("");
  Node over_stream(redis.url());
  for (const auto& e : sample_events()) {
    auto r = over_http.client->Post("/v1/events", e.dump(), "application/json");
    REQUIRE(r);
    REQUIRE(r->status == 202);
    redis.command({"XADD", "events", "*", "event", e.dump()});
  }
  auto expected = over_http.deliveries();
  REQUIRE(expected.size() == 2);
  CHECK(expected[0] == "email|a|thanks|Thanks|Thanks, Ana");
  CHECK(expected[1] == "sms|b|offer||Try pro, Bo");
  CHECK(over_stream.wait_for(2) == expected);
  // Every message was acked after its commit.
  CHECK(redis.command({"XPENDING", "events", "trellis"})[0] == "0");
}

TEST_CASE("a poison message lands in the dead-letter stream and ingestion goes on") {
  RedisServer redis;
  Node node(redis.url());
  auto events = sample_events();
  redis.command({"XADD", "events", "*", "event", events[1].dump()});
  std::string poison = redis.command({"XADD", "events", "*", "event", R"({"type":"visit"})"})[0];
  redis.command({"XADD", "events", "*", "event", "not json at all"});
  redis.command({"XADD", "events", "*", "event", events[4].dump()});
  CHECK(node.wait_for(1) == std::vector<std::string>{"sms|b|offer||Try pro, Bo"});

  std::vector<std::string> dead;
  for (int i = 0;
       i < 300 && (dead = redis.command({"XRANGE", "events:dead", "-", "+"})).size() < 18; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(dead.size() == 18);  // two entries of 9 strings each
  CHECK(dead[2] == R"({"type":"visit"})");
  CHECK(dead[4].find("user") != std::string::npos);  // the parse error names the missing field
  CHECK(dead[6] == poison);
  CHECK(dead[11] == "not json at all");
  CHECK(redis.command({"XPENDING", "events", "trellis"})[0] == "0");
}

TEST_CASE("a killed consumer's pending messages are applied after restart") {
  RedisServer redis;
  TempDir spare;
  auto events = sample_events();
  {
    Node first(redis.url());  // creates the group, then stops
  }
  // A consumer that read and died before XACK: its entries stay pending.
  for (const auto& e : events) redis.command({"XADD", "events", "*", "event", e.dump()});
  redis.command({"XREADGROUP", "GROUP", "trellis", "dead-consumer", "COUNT", "100", "STREAMS",
                 "events", ">"});
  REQUIRE(redis.command({"XPENDING", "events", "trellis"})[0] == std::to_string(events.size()));

  // With a long min-idle the entries are not claimed yet; with 0 they are.
  Node restarted(redis.url());  // claim_idle_ms default 30 s: nothing yet
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(restarted.deliveries().empty());
  restarted.service->shutdown();

  write_file(spare.file("flows/promo.yaml"), kFlow);
  std::ostringstream log_text;
  api::JsonLog log(log_text);
  api::ServiceOptions options;
  options.db = spare.file("t.db");
  options.flows_dir = spare.file("flows");
  options.adapter = "none";
  options.http.port = 0;
  api::RedisOptions r;
  r.url = redis.url();
  r.stream = "events";
  r.group = "trellis";
  r.consumer = "t2";
  r.block_ms = 50;
  r.claim_idle_ms = 0;
  options.redis = r;
  auto service = api::Service::open(options, log);
  REQUIRE(service.ok());
  REQUIRE((*service)->start().ok());
  httplib::Client client("127.0.0.1", (*service)->port());
  size_t n = 0;
  for (int i = 0; i < 300 && n < 2; ++i) {
    auto got = client.Get("/v1/deliveries");
    n = got && got->status == 200 ? json::parse(got->body)["deliveries"].size() : 0;
    if (n < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  CHECK(n == 2);
  CHECK(redis.command({"XPENDING", "events", "trellis"})[0] == "0");
  (*service)->shutdown();
}

TEST_CASE("a Segment batch envelope and CloudEvents carry over the stream unchanged") {
  RedisServer redis;
  Node over_http("");
  Node over_stream(redis.url());
  // What a Segment SDK posts to /v1/batch, and a structured CloudEvent.
  json batch = {{"batch",
                 {{{"type", "identify"},
                   {"userId", "a"},
                   {"traits", {{"plan", "pro"}, {"name", "Ana"}, {"email", "ana@x.org"}}}},
                  {{"type", "identify"},
                   {"anonymousId", "anon-b"},
                   {"traits", {{"plan", "free"}, {"name", "Bo"}, {"phone", "+15550101"}}}},
                  {{"type", "track"},
                   {"event", "visit"},
                   {"userId", "a"},
                   {"messageId", "m1"},
                   {"properties", {{"page", "pricing"}}}}}},
                {"sentAt", "2026-11-23T10:00:00Z"}};
  json cloud_event = {{"specversion", "1.0"}, {"id", "c1"},
                      {"type", "visit"},      {"source", "/web"},
                      {"subject", "anon-b"},  {"data", {{"page", "pricing"}}}};
  auto r = over_http.client->Post("/v1/batch", batch.dump(), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  r = over_http.client->Post("/v1/events", cloud_event.dump(), "application/cloudevents+json");
  REQUIRE(r);
  REQUIRE(r->status == 202);
  redis.command({"XADD", "events", "*", "event", batch.dump()});
  redis.command({"XADD", "events", "*", "event", cloud_event.dump()});
  auto expected = over_http.deliveries();
  REQUIRE(expected.size() == 2);
  CHECK(expected[0] == "email|a|thanks|Thanks|Thanks, Ana");
  CHECK(expected[1] == "sms|anon-b|offer||Try pro, Bo");
  CHECK(over_stream.wait_for(2) == expected);
  CHECK(redis.command({"XPENDING", "events", "trellis"})[0] == "0");

  // Identity in the Trellis form (docs/events.md#identity): on both paths the
  // identify merges the visitor into `b`, its SMS with it.
  json link = {{"type", "identify"}, {"user_id", "b"}, {"anonymous_id", "anon-b"}};
  r = over_http.client->Post("/v1/events", link.dump(), "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 202);
  redis.command({"XADD", "events", "*", "event", link.dump()});
  expected[1] = "sms|b|offer||Try pro, Bo";
  CHECK(over_http.deliveries() == expected);
  std::vector<std::string> streamed;
  for (int i = 0; i < 300 && (streamed = over_stream.deliveries()) != expected; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(streamed == expected);
}

TEST_CASE("a million-deep entry is dead-lettered with its fields and the stream goes on") {
  RedisServer redis;
  Node node(redis.url());
  // Before the limits this entry crashed serve (stack overflow printing it)
  // and, left pending, crashed every restart too.
  std::string deep = R"({"type":"visit","user_id":"b","properties":{"x":)" +
                     std::string(1000000, '[') + std::string(1000000, ']') + "}}";
  std::string poison = redis.command({"XADD", "events", "*", "producer", "shop", "event", deep})[0];
  redis.command({"XADD", "events", "*", "payload", R"({"type":"visit"})"});  // no `event`, 1 of 2
  redis.command({"XADD", "events", "*", "a", "1", "b", "2"});                // no `event` at all
  // The Trellis form of identify, then an event that uses its traits.
  redis.command({"XADD", "events", "*", "event",
                 R"({"type":"identify","user_id":"b",)"
                 R"("traits":{"plan":"free","name":"Bo","phone":"+15550101"}})"});
  redis.command({"XADD", "events", "*", "event", sample_events()[4].dump()});
  std::vector<std::string> dead;
  for (int i = 0;
       i < 300 && (dead = redis.command({"XRANGE", "events:dead", "-", "+"})).size() < 31; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  // Three entries, each [id, original fields..., error, why, source_id, id, source_stream, s].
  REQUIRE(dead.size() == 11 + 9 + 11);
  CHECK(std::vector<std::string>(dead.begin() + 1, dead.begin() + 4) ==
        std::vector<std::string>{"producer", "shop", "event"});
  CHECK(dead[4] == deep);
  CHECK(dead[5] == "error");
  CHECK(dead[6] == "JSON nests deeper than 32 levels");
  CHECK(dead[8] == poison);
  CHECK(dead[12] == "payload");  // a single field of any name is the event
  CHECK(dead[15].find("user") != std::string::npos);
  // The message without an `event` field kept its original fields.
  CHECK(std::vector<std::string>(dead.begin() + 21, dead.begin() + 27) ==
        std::vector<std::string>{"a", "1", "b", "2", "error", "message has no `event` field"});
  CHECK(node.wait_for(1) == std::vector<std::string>{"sms|b|offer||Try pro, Bo"});
  CHECK(redis.command({"XPENDING", "events", "trellis"})[0] == "0");
  auto health = node.client->Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
}

#include "runtime/event.h"

#include <catch2/catch.hpp>

using namespace trellis::runtime;

TEST_CASE("the three event forms parse into one Event") {
  SECTION("Trellis form") {
    auto r = parse_events(R"({"id": "e1", "type": "add_to_cart", "user_id": "u1",
                              "time": "2026-11-23T10:00:00Z", "properties": {"value": 59}})");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    const Event& e = r->front();
    CHECK(e.id == "e1");
    CHECK(e.type == "add_to_cart");
    CHECK(e.user_id == "u1");
    CHECK(e.time == 1795428000000LL);
    CHECK(e.properties_json == R"({"value":59})");
    CHECK(e.form == EventForm::kTrellis);
  }
  SECTION("Segment track and identify in one array") {
    auto r = parse_events(R"([
      {"type": "track", "event": "order_paid", "userId": "u2", "messageId": "m1",
       "timestamp": "2026-11-23T10:00:00Z", "properties": {"total": 10}},
      {"type": "identify", "userId": "u2", "traits": {"age": 34}}])");
    REQUIRE(r.ok());
    REQUIRE(r->size() == 2);
    CHECK((*r)[0].type == "order_paid");
    CHECK((*r)[0].id == "m1");
    CHECK((*r)[0].form == EventForm::kSegmentTrack);
    CHECK((*r)[1].is_identify());
    CHECK((*r)[1].properties_json == R"({"age":34})");
    CHECK_FALSE((*r)[1].time.has_value());
  }
  SECTION("CloudEvents 1.0") {
    auto r = parse_events(R"({"specversion": "1.0", "id": "c1", "type": "add_to_cart",
                              "source": "/shop", "subject": "u3", "data": {"cart_id": "k1"}})");
    REQUIRE(r.ok());
    CHECK(r->front().user_id == "u3");
    CHECK(r->front().form == EventForm::kCloudEvent);
    CHECK(r->front().properties_json == R"({"cart_id":"k1"})");
  }
}

TEST_CASE("a malformed element fails the whole body with its index") {
  auto r = parse_events(R"([{"type": "a", "user_id": "u1"}, {"type": "b"}])");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message == "event 1: missing user id");
  CHECK_FALSE(parse_events("{not json").ok());
  CHECK_FALSE(parse_events(R"({"type": "a", "user_id": "u", "time": "yesterday"})").ok());
  CHECK_FALSE(parse_events(R"({"type": "a", "user_id": "u", "properties": [1]})").ok());
  CHECK_FALSE(parse_events(R"(42)").ok());
}

TEST_CASE("profile bodies must be JSON objects") {
  CHECK(parse_traits(R"({"age": 3})").ok());
  CHECK_FALSE(parse_traits("[1]").ok());
}

TEST_CASE("delivery feedback may omit the user but must name its delivery") {
  auto by_id = parse_events(R"({"type": "message_bounced", "properties": {"delivery_id": 12}})");
  REQUIRE(by_id.ok());
  CHECK(by_id->front().user_id.empty());
  CHECK(parse_events(R"({"type": "message_opened", "properties": {"key": "7:mail:1"}})").ok());
  CHECK(parse_events(R"({"type": "message_clicked", "properties": {"delivery_id": "12"}})").ok());

  auto missing = parse_events(R"([{"type": "message_delivered", "user_id": "u1"}])");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message ==
        "event 0: `properties.delivery_id` or `properties.key` is required on message_delivered");
  CHECK_FALSE(parse_events(R"({"type": "message_opened", "properties": {"delivery_id": 0}})").ok());
  CHECK_FALSE(parse_events(R"({"type": "message_opened", "properties": {"key": ["k"]}})").ok());
  // Other events still need their user.
  CHECK_FALSE(parse_events(R"({"type": "order_paid", "properties": {"delivery_id": 12}})").ok());
}

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

TEST_CASE("a numeric time is epoch seconds or milliseconds within 1970 to 9999") {
  auto seconds = parse_events(R"({"type": "a", "user_id": "u", "time": 1700000000})");
  REQUIRE(seconds.ok());
  CHECK(seconds->front().time == 1700000000000);
  auto millis = parse_events(R"({"type": "a", "user_id": "u", "time": 1700000000123})");
  REQUIRE(millis.ok());
  CHECK(millis->front().time == 1700000000123);
  for (const char* time : {"1e57", "-5", "253402300800000"}) {
    auto r = parse_events(std::string(R"({"type": "a", "user_id": "u", "time": )") + time + "}");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("`time` is out of range") != std::string::npos);
  }
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

TEST_CASE("Segment calls: each kind becomes an event with documented properties") {
  auto r = parse_events(R"({"batch": [
      {"type": "page", "userId": "u1", "name": "Home", "properties": {"url": "/"}},
      {"type": "screen", "userId": "u1", "name": "Cart", "category": "shop"},
      {"type": "group", "userId": "u1", "groupId": "g7", "traits": {"plan": "pro"}},
      {"type": "alias", "userId": "u1", "previousId": "anon-1"},
      {"type": "track", "event": "Order Completed", "anonymousId": "anon-2",
       "context": {"timezone": "Europe/Paris", "traits": {"email": "a@b.c"}},
       "properties": {"total": 3}},
      {"type": "identify", "userId": "u1", "anonymousId": "anon-1", "traits": {"age": 3},
       "context": {"ip": "10.0.0.1"}}],
    "sentAt": "2026-11-23T10:00:00Z"})");
  REQUIRE(r.ok());
  REQUIRE(r->size() == 6);
  const auto& e = *r;
  CHECK(e[0].type == "page");
  CHECK(e[0].properties_json == R"({"name":"Home","url":"/"})");
  CHECK(e[1].type == "screen");
  CHECK(e[1].properties_json == R"({"category":"shop","name":"Cart"})");
  CHECK(e[2].type == "group");
  CHECK(e[2].properties_json == R"({"group_id":"g7","plan":"pro"})");
  CHECK(e[3].type == "alias");
  CHECK(e[3].user_id == "u1");
  CHECK(e[3].properties_json == R"({"previous_id":"anon-1"})");
  CHECK(e[3].anonymous_id == "anon-1");  // merged into u1 when applied
  CHECK(e[4].anonymous_id.empty());      // a track never merges
  CHECK(e[5].anonymous_id == "anon-1");
  // Only an anonymous id: it is the user id. The context rides along for flows.
  CHECK(e[4].type == "Order Completed");
  CHECK(e[4].user_id == "anon-2");
  CHECK(e[4].properties_json ==
        R"({"context":{"timezone":"Europe/Paris","traits":{"email":"a@b.c"}},"total":3})");
  // Identify traits go to the profile as they are: no context among them.
  CHECK(e[5].is_identify());
  CHECK(e[5].user_id == "u1");
  CHECK(e[5].properties_json == R"({"age":3})");
}

TEST_CASE("Segment times are corrected by the producer's clock skew") {
  ParseContext context;
  parse_rfc3339("2026-11-23T10:00:05Z", &context.received_at.emplace());
  // The producer's clock is 60 s behind: sent at 09:59:05 by its clock,
  // received at 10:00:05 by ours; the event happened 2 s before sending.
  auto r = parse_events(R"({"batch": [
      {"type": "track", "event": "a", "userId": "u", "timestamp": "2026-11-23T09:59:03Z"},
      {"type": "track", "event": "b", "userId": "u", "timestamp": "2026-11-23T09:59:03Z",
       "sentAt": "2026-11-23T09:59:04Z"},
      {"type": "track", "event": "c", "userId": "u"}],
    "sentAt": "2026-11-23T09:59:05Z"})",
                        context);
  REQUIRE(r.ok());
  TimeMs expected_a, expected_b;
  parse_rfc3339("2026-11-23T10:00:03Z", &expected_a);
  parse_rfc3339("2026-11-23T10:00:04Z", &expected_b);
  CHECK((*r)[0].time == expected_a);
  CHECK((*r)[1].time == expected_b);  // a call's own sentAt wins over the batch's
  CHECK_FALSE((*r)[2].time.has_value());
  // Without a receipt time, nothing is corrected.
  auto raw = parse_events(R"({"type": "track", "event": "a", "userId": "u",
      "timestamp": "2026-11-23T09:59:03Z", "sentAt": "2026-11-23T09:59:05Z"})");
  REQUIRE(raw.ok());
  TimeMs stamped;
  parse_rfc3339("2026-11-23T09:59:03Z", &stamped);
  CHECK(raw->front().time == stamped);
}

TEST_CASE("a single Segment call may leave its type to the endpoint") {
  ParseContext context;
  context.segment_call = "track";
  auto r = parse_events(R"({"event": "Signed Up", "userId": "u9", "messageId": "m9"})", context);
  REQUIRE(r.ok());
  CHECK(r->front().type == "Signed Up");
  CHECK(r->front().id == "m9");
  context.segment_call = "identify";
  auto i = parse_events(R"({"userId": "u9", "traits": {"plan": "pro"}})", context);
  REQUIRE(i.ok());
  CHECK(i->front().is_identify());
  context.segment_call = "alias";
  auto bad = parse_events(R"({"userId": "u9"})", context);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message == "Segment alias without `previousId`");
}

TEST_CASE("per-element parsing keeps the good elements and says why the others failed") {
  auto r = parse_events_each(R"({"batch": [
      {"type": "track", "event": "a", "userId": "u"},
      {"type": "track", "userId": "u"},
      {"type": "track", "event": "c"},
      {"type": "merge", "userId": "u"},
      {"type": "identify", "anonymousId": "x", "traits": {}}]})");
  REQUIRE(r.ok());
  CHECK(r->elements == 5);
  REQUIRE(r->events.size() == 2);
  CHECK(r->indexes == std::vector<size_t>{0, 4});
  REQUIRE(r->errors.size() == 3);
  CHECK(r->errors[0].index == 1);
  CHECK(r->errors[0].message == "Segment track without `event`");
  CHECK(r->errors[1].index == 2);
  CHECK(r->errors[1].message == "missing user id");
  CHECK(r->errors[2].index == 3);
  CHECK_FALSE(parse_events_each("{nope").ok());
  CHECK_FALSE(parse_events_each(R"({"batch": []})").ok());
  CHECK_FALSE(parse_events_each(R"({"batch": 3})").ok());
  // The all-or-nothing parse refuses the same body, naming the first bad element.
  auto all = parse_events(R"({"batch": [{"type": "track", "event": "a", "userId": "u"},
                                        {"type": "track", "userId": "u"}]})");
  REQUIRE_FALSE(all.ok());
  CHECK(all.error().message == "event 1: Segment track without `event`");
}

TEST_CASE("CloudEvents: the user from subject or the userid extension, batches as arrays") {
  auto r = parse_events(R"([
      {"specversion": "1.0", "id": "c1", "type": "t", "source": "/s", "subject": "u1"},
      {"specversion": "1.0", "id": "c2", "type": "t", "source": "/s", "subject": "order-9",
       "userid": "u2", "data": {"n": 1}}])");
  REQUIRE(r.ok());
  CHECK((*r)[0].user_id == "u1");
  CHECK((*r)[1].user_id == "u2");
  CHECK((*r)[1].properties_json == R"({"n":1})");
}

TEST_CASE("a binary-mode CloudEvent becomes the structured event") {
  std::vector<std::pair<std::string, std::string>> headers = {
      {"ce-specversion", "1.0"}, {"ce-id", "b1"},          {"Ce-Type", "Order Completed"},
      {"ce-source", "/shop"},    {"ce-userid", "u%C3%A9"}, {"ce-time", "2026-11-23T10:00:00Z"}};
  auto text =
      cloud_event_from_binary(headers, "application/json; charset=utf-8", R"({"total": 5})");
  REQUIRE(text.ok());
  auto r = parse_events(*text);
  REQUIRE(r.ok());
  const Event& e = r->front();
  CHECK(e.id == "b1");
  CHECK(e.type == "Order Completed");
  CHECK(e.user_id == "u\xC3\xA9");
  CHECK(e.time == 1795428000000LL);
  CHECK(e.properties_json == R"({"total":5})");
  CHECK(e.form == EventForm::kCloudEvent);
  // Data of another media type is kept as text.
  auto plain = cloud_event_from_binary(headers, "text/plain", "hello");
  REQUIRE(plain.ok());
  auto plain_events = parse_events(*plain);
  REQUIRE(plain_events.ok());
  CHECK(plain_events->front().properties_json == R"({"data":"hello"})");
  CHECK_FALSE(cloud_event_from_binary(headers, "application/json", "{bad").ok());
  // Without a user the event is refused like any other.
  headers.erase(headers.begin() + 4);
  auto no_user_text = cloud_event_from_binary(headers, "", "");
  REQUIRE(no_user_text.ok());
  auto no_user = parse_events(*no_user_text);
  REQUIRE_FALSE(no_user.ok());
  CHECK(no_user.error().message == "missing user id");
}

TEST_CASE("the Trellis form of identify is accepted with its user_id") {
  auto r = parse_events(R"({"type": "identify", "user_id": "u", "traits": {"plan": "pro"}})");
  REQUIRE(r.ok());
  CHECK(r->front().is_identify());
  CHECK(r->front().user_id == "u");
  CHECK(r->front().properties_json == R"({"plan":"pro"})");
}

TEST_CASE("numeric user ids keep their digits, up to the largest unsigned 64-bit integer") {
  auto r = parse_events(R"({"type": "visit", "user_id": 18446744073709551615})");
  REQUIRE(r.ok());
  CHECK(r->front().user_id == "18446744073709551615");
  auto negative = parse_events(R"({"type": "visit", "user_id": -42})");
  REQUIRE(negative.ok());
  CHECK(negative->front().user_id == "-42");
  // Beyond 64 bits, or with a fraction, the digits would not survive: refused.
  auto huge = parse_events(R"({"type": "visit", "user_id": 184467440737095516150})");
  REQUIRE_FALSE(huge.ok());
  CHECK(huge.error().message == "`user_id` must be a string or an integer");
  CHECK_FALSE(parse_events(R"({"type": "visit", "user_id": 1.5})").ok());
}

TEST_CASE("identifiers are bounded and validated, and the error names the field") {
  auto message = [](const std::string& body) {
    auto r = parse_events(body);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  CHECK(message(R"({"type": 5, "user_id": "u"})") == "`type` must be a string");
  CHECK(message(R"({"type": "track", "event": 5, "userId": "u"})") == "`event` must be a string");
  CHECK(message(R"({"type": ")" + std::string(201, 't') + R"(", "user_id": "u"})") ==
        "`type` is longer than 200 bytes");
  CHECK(message(R"({"type": ")" + std::string(200, 't') + R"(", "user_id": "u"})") == "ok");
  CHECK(message(R"({"type": "visit", "user_id": ")" + std::string(257, 'u') + R"("})") ==
        "`user_id` is longer than 256 bytes");
  CHECK(message(R"({"type": "visit", "user_id": "a\u0000b"})") ==
        "`user_id` contains a NUL character");
  CHECK(message(R"({"type": "track", "event": "visit", "userId": "u", "messageId": "m\u0000"})") ==
        "`messageId` contains a NUL character");
  CHECK(message(R"({"specversion": "1.0", "type": "v", "subject": "a\u0000", "id": "1"})") ==
        "`subject` contains a NUL character");
  // Event types may hold spaces: only length, UTF-8 and NUL are checked.
  CHECK(message(R"({"type": "Order Completed", "user_id": "u"})") == "ok");
  CHECK(message(R"({"type": "visit", "user_id": "é"})") == "ok");
}

TEST_CASE("the ingest limits bound size, depth and properties before parsing") {
  ParseContext context;
  context.limits.max_properties_bytes = 20;
  auto big = parse_events(R"({"type": "v", "user_id": "u", "properties": {"a": "0123456789abc"}})",
                          context);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error().message == "`properties` is larger than 20 bytes");
  context.limits.max_body_bytes = 10;
  CHECK(parse_events(R"({"type": "v", "user_id": "u"})", context).error().message ==
        "body is larger than 10 bytes");

  // A million levels would overflow the stack in any recursive parser or printer.
  std::string deep = R"({"type": "v", "user_id": "u", "properties": )";
  deep += std::string(1000000, '[') + std::string(1000000, ']') + "}";
  auto refused = parse_events(deep);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message == "JSON nests deeper than 32 levels");
  CHECK_FALSE(parse_traits(std::string(1000000, '{')).ok());
  // Brackets inside strings are text, not nesting.
  CHECK(parse_events(R"({"type": "v", "user_id": "u", "properties": {"s": ")" +
                     std::string(100, '[') + R"("}})")
            .ok());
}

TEST_CASE("identity links in the Trellis form: identify's anonymous_id, alias's previous_id") {
  auto r = parse_events(R"([
      {"type": "identify", "user_id": "u1", "anonymous_id": "a1", "properties": {"age": 3}},
      {"type": "alias", "user_id": "u2", "properties": {"previous_id": "a2"}},
      {"type": "alias", "user_id": "u3", "anonymous_id": "a3"},
      {"type": "add_to_cart", "user_id": "u4", "anonymous_id": "a4"}])");
  REQUIRE(r.ok());
  CHECK((*r)[0].anonymous_id == "a1");
  CHECK((*r)[0].is_identify());
  CHECK((*r)[1].anonymous_id == "a2");
  CHECK((*r)[2].anonymous_id == "a3");
  CHECK((*r)[3].anonymous_id.empty());  // only identify and alias link ids
  // An identify of an anonymous visitor alone links nothing.
  auto only = parse_events(R"({"type": "identify", "anonymousId": "x", "traits": {}})");
  REQUIRE(only.ok());
  CHECK((*only)[0].user_id == "x");
  CHECK((*only)[0].anonymous_id.empty());
}

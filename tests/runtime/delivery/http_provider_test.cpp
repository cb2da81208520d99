// The http provider against cpp-httplib receivers on loopback: what it sends,
// and how each answer becomes an outcome.
#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdlib>

#include "runtime/delivery/provider.h"
#include "runtime/delivery/providers.h"
#include "nodes/webhook_target.h"
#include "servers.h"

using namespace trellis;
using namespace trellis::runtime;
using namespace trellis::runtime::delivery;
using trellis::nodes::host_allowed;
using trellis::nodes::internal_host;
using trellis::testing::HttpReceiver;

namespace {

DeliveryRecord sms(const std::string& key) {
  DeliveryRecord d;
  d.id = 3;
  d.key = key;
  d.channel = "sms";
  d.user_id = "u1";
  d.flow = "f";
  d.flow_version = 1;
  d.node = "hi";
  d.at = 1795428000000LL;
  d.to = "+4712345678";
  d.body = "Welcome Ana";
  return d;
}

std::unique_ptr<Provider> http_provider(const std::string& url, std::vector<Header> headers = {},
                                        Millis timeout_ms = 5000,
                                        std::vector<std::string> webhook_allow_hosts = {}) {
  ChannelConfig c;
  c.webhook_allow_hosts = std::move(webhook_allow_hosts);
  c.name = "sms";
  c.provider = "http";
  c.url = url;
  c.headers = std::move(headers);
  c.timeout_ms = timeout_ms;
  static ProviderContext context("unused.jsonl");
  Result<ProviderFactory> factory = open_provider(c, context);
  REQUIRE(factory.ok());
  return factory.value()();
}

}  // namespace

TEST_CASE(
    "http: the delivery as JSON with its Idempotency-Key and a header secret from the "
    "environment") {
  ::setenv("TRELLIS_TEST_SMS_TOKEN", "tok-123-secret", 1);
  HttpReceiver receiver([](auto&, auto&, int) {});
  auto provider =
      http_provider(receiver.url(), {{"Authorization", "Bearer ${TRELLIS_TEST_SMS_TOKEN}"}});
  REQUIRE(provider->send(sms("9:hi:1")).is_ok());
  REQUIRE(provider->send(sms("10:hi:1")).is_ok());
  const auto got = receiver.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].path == "/messages");
  CHECK(got[0].idempotency_key == "9:hi:1");
  CHECK(got[1].idempotency_key == "10:hi:1");
  CHECK(got[0].authorization == "Bearer tok-123-secret");
  auto body = nlohmann::json::parse(got[0].body);
  CHECK(body["key"] == "9:hi:1");
  CHECK(body["to"] == "+4712345678");
  CHECK(body["body"] == "Welcome Ana");
}

TEST_CASE("http: a webhook node's delivery goes to its own url with its own body") {
  HttpReceiver receiver([](auto&, auto&, int) {});
  auto provider = http_provider("", {}, 5000, {"127.0.0.1"});  // the receiver is on loopback
  DeliveryRecord d = sms("4:hook:1");
  d.channel = "webhook";
  d.to = receiver.url("/crm/lead");
  d.body = R"({"lead": "u1"})";
  REQUIRE(provider->send(d).is_ok());
  REQUIRE(receiver.count() == 1);
  CHECK(receiver.received()[0].path == "/crm/lead");
  CHECK(receiver.received()[0].body == R"({"lead": "u1"})");
  d.channel = "sms";  // an sms delivery with no channel url cannot go anywhere
  CHECK(provider->send(d).kind == SendOutcome::Kind::kPermanent);
}

TEST_CASE("http: a webhook to an internal address is refused unless its host is allowed") {
  HttpReceiver receiver([](auto&, auto&, int) {});
  const std::string port = receiver.url().substr(receiver.url().rfind(':'));  // ":N/..."
  auto guarded = http_provider("", {}, 5000, {"hooks.example"});
  auto send_to = [&](Provider& provider, const std::string& url) {
    DeliveryRecord d = sms("5:hook:1");
    d.channel = "webhook";
    d.to = url;
    return provider.send(d);
  };
  // Literal addresses and names, and one curl resolves to 127.0.0.1 though it
  // is no dotted quad (checked on the address the connection would use).
  for (const std::string& url :
       std::vector<std::string>{receiver.url("/x"), "http://localhost" + port,
                                "http://127.1" + port, "http://2130706433" + port,
                                "http://[::1]" + port, "http://169.254.169.254/latest/meta-data",
                                "http://10.1.2.3/", "http://[fd00:ec2::254]/"}) {
    SendOutcome refused = send_to(*guarded, url);
    INFO(url << ": " << refused.error);
    CHECK(refused.kind == SendOutcome::Kind::kPermanent);  // never retried
    CHECK(refused.error.find("webhook: refused to send to ") == 0);
    CHECK(refused.error.find("allow_hosts") != std::string::npos);
  }
  CHECK(send_to(*guarded, "http://169.254.169.254/").error.find("cloud metadata address") !=
        std::string::npos);
  CHECK(receiver.count() == 0);
  // An operator's own channel url is trusted: only a webhook node's url is checked.
  auto channel = http_provider(receiver.url());
  CHECK(channel->send(sms("6:hi:1")).is_ok());
  auto allowed = http_provider("", {}, 5000, {"LOCALHOST"});
  CHECK(send_to(*allowed, "http://localhost" + port).is_ok());
  CHECK(receiver.count() == 2);
}

TEST_CASE("webhook targets: which addresses and hosts are internal") {
  CHECK(internal_host("127.0.0.1") == "loopback address 127.0.0.1");
  CHECK(internal_host("[::1]") == "loopback address ::1");
  CHECK(internal_host("[::ffff:192.168.1.4]").value().find("private address") == 0);
  CHECK(internal_host("172.31.255.255").has_value());
  CHECK_FALSE(internal_host("172.32.0.1").has_value());
  CHECK(internal_host("fe80::1").value().find("link-local") == 0);
  CHECK(internal_host("metadata.google.internal").has_value());
  CHECK(internal_host("a.localhost.").has_value());
  CHECK_FALSE(internal_host("hooks.example.com").has_value());
  CHECK_FALSE(internal_host("8.8.8.8").has_value());
  CHECK_FALSE(internal_host("[2606:4700::1111]").has_value());
  CHECK(host_allowed("[::1]", {"::1"}));
  CHECK(host_allowed("Hooks.Internal", {"hooks.internal"}));
  CHECK_FALSE(host_allowed("hooks.internal.evil.com", {"hooks.internal"}));
}

TEST_CASE("http: answers become outcomes") {
  int status = 200;
  std::string retry_after;
  HttpReceiver receiver([&](auto&, httplib::Response& res, int) {
    res.status = status;
    if (!retry_after.empty()) res.set_header("Retry-After", retry_after);
  });
  auto provider = http_provider(receiver.url());
  auto send = [&](int s, std::string after = "") {
    status = s;
    retry_after = std::move(after);
    return provider->send(sms("1:hi:1"));
  };
  CHECK(send(204).is_ok());
  SendOutcome limited = send(429, "2");
  CHECK(limited.kind == SendOutcome::Kind::kRetry);
  CHECK(limited.retry_after_ms == 2000);
  CHECK(send(503, "").kind == SendOutcome::Kind::kRetry);
  CHECK_FALSE(send(503, "").retry_after_ms);
  CHECK(send(500).kind == SendOutcome::Kind::kRetry);
  CHECK(send(408).kind == SendOutcome::Kind::kRetry);
  SendOutcome bad = send(400);
  CHECK(bad.kind == SendOutcome::Kind::kPermanent);
  CHECK(bad.error.rfind("http: HTTP 400", 0) == 0);
  CHECK(send(404).kind == SendOutcome::Kind::kPermanent);
  CHECK(receiver.count() == 8);
}

TEST_CASE("http: Retry-After as seconds or an HTTP date") {
  CHECK(parse_retry_after("2") == 2000);
  CHECK(parse_retry_after("0") == 0);
  CHECK_FALSE(parse_retry_after("soon"));
  CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0);  // in the past: now
  const auto in_an_hour = parse_retry_after("Fri, 01 Jan 2100 00:00:00 GMT");
  REQUIRE(in_an_hour);
  CHECK(*in_an_hour > 3600 * 1000);
}

TEST_CASE(
    "http: a provider that hangs is a retry after the timeout; a secret it echoes is redacted") {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  HttpReceiver hanging([&](const httplib::Request& req, httplib::Response& res, int index) {
    if (index == 0) {
      std::unique_lock<std::mutex> l(mu);
      cv.wait_for(l, std::chrono::seconds(10), [&] { return release; });
      return;
    }
    res.status = 401;
    res.body = "bad credentials: " + req.get_header_value("Authorization");
  });
  ::setenv("TRELLIS_TEST_ECHOED_TOKEN", "echo-me-not-42", 1);
  auto provider = http_provider(hanging.url(),
                                {{"X-Api-Key", "${TRELLIS_TEST_ECHOED_TOKEN}"},
                                 {"Authorization", "Bearer ${TRELLIS_TEST_ECHOED_TOKEN}"}},
                                300);
  SendOutcome timed_out = provider->send(sms("1:hi:1"));
  {
    std::lock_guard<std::mutex> l(mu);
    release = true;
    cv.notify_all();
  }
  CHECK(timed_out.kind == SendOutcome::Kind::kRetry);
  CHECK(timed_out.error.find("imeout") != std::string::npos);
  SendOutcome refused = provider->send(sms("2:hi:1"));
  CHECK(refused.kind == SendOutcome::Kind::kPermanent);
  CHECK(refused.error.find("bad credentials") != std::string::npos);
  CHECK(refused.error.find("echo-me-not-42") == std::string::npos);
  CHECK(redact("a x1y x1y", {"x1y"}) == "a [redacted] [redacted]");
}

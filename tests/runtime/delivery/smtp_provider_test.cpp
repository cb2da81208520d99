// The smtp provider against Debian's aiosmtpd on loopback: the message as an
// independent reader (Python's email package) sees it, STARTTLS with AUTH
// from the environment, and failures as outcomes.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "runtime/delivery/mail_message.h"
#include "runtime/delivery/provider.h"
#include "servers.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using namespace trellis::runtime::delivery;
using trellis::testing::SmtpServer;
using trellis::testing::TempDir;

namespace {

DeliveryRecord mail(const std::string& key, const std::string& subject) {
  DeliveryRecord d;
  d.id = 1;
  d.key = key;
  d.channel = "email";
  d.user_id = "u1";
  d.flow = "f";
  d.node = "mail";
  d.to = "ana@example.com";
  d.subject = subject;
  d.body = "Hej Ana,\nuse SPRING-20 for 20 % off. Grüße!";
  return d;
}

ChannelConfig smtp_channel(const std::string& url) {
  ChannelConfig c;
  c.name = "email";
  c.provider = "smtp";
  c.url = url;
  c.from = "Shop <shop@example.com>";
  c.timeout_ms = 5000;
  return c;
}

std::unique_ptr<Provider> open(const ChannelConfig& channel, ProviderContext& context) {
  Result<ProviderFactory> factory = open_provider(channel, context);
  REQUIRE(factory.ok());
  return factory.value()();
}

}  // namespace

TEST_CASE("smtp: From, To, an RFC 2047 subject and the key's Message-ID, the same on a retry") {
  TempDir dir;
  SmtpServer server(dir.path().string());
  REQUIRE(server.ready());
  ChannelConfig channel = smtp_channel(server.url());
  channel.starttls = false;  // a local relay without TLS
  ProviderContext context(dir.file("unused.jsonl"));
  auto provider = open(channel, context);

  const std::string subject = "Dein Warenkorb wartet, Ana — 20 % Rabatt für Grüße aus Köln 🎉";
  REQUIRE(provider->send(mail("41:mail:1", subject)).is_ok());
  REQUIRE(provider->send(mail("41:mail:1", subject)).is_ok());  // a retry after a lost outcome
  REQUIRE(provider->send(mail("42:mail:1", "Plain")).is_ok());  // the same connection again

  const auto messages = server.messages();
  REQUIRE(messages.size() == 3);
  const auto& m = messages[0];
  CHECK(m["mail_from"] == "shop@example.com");
  CHECK(m["rcpt_tos"] == nlohmann::json::array({"ana@example.com"}));
  CHECK(m["from"] == "Shop <shop@example.com>");
  CHECK(m["to"] == "ana@example.com");
  CHECK(m["subject"] == subject);  // decoded by Python from RFC 2047 words
  CHECK(m["raw_subject"].get<std::string>().rfind("=?UTF-8?B?", 0) == 0);
  CHECK(m["message_id"] == message_id("41:mail:1", "example.com"));
  CHECK(messages[1]["message_id"] == m["message_id"]);
  CHECK(messages[2]["message_id"] != m["message_id"]);
  CHECK(m["content_type"] == "text/plain");
  CHECK(m["charset"] == "utf-8");
  CHECK(m["body"].get<std::string>().find("Grüße!") != std::string::npos);
  CHECK_FALSE(m["date"].get<std::string>().empty());
}

TEST_CASE("smtp: STARTTLS and AUTH with credentials from the environment") {
  TempDir dir;
  std::string cert, key;
  if (!trellis::testing::make_certificate(dir.path().string(), &cert, &key)) {
    WARN("openssl is missing: STARTTLS and AUTH not tested");
    return;
  }
  ::setenv("TRELLIS_TEST_SMTP_USER", "mailer", 1);
  ::setenv("TRELLIS_TEST_SMTP_PASSWORD", "pa55-w0rd-xyz", 1);
  SmtpServer server(dir.path().string(), cert, key, "mailer", "pa55-w0rd-xyz");
  REQUIRE(server.ready());
  ChannelConfig channel = smtp_channel(server.url());
  channel.ca_file = cert;
  channel.username_env = "TRELLIS_TEST_SMTP_USER";
  channel.password_env = "TRELLIS_TEST_SMTP_PASSWORD";
  ProviderContext context(dir.file("unused.jsonl"));
  auto provider = open(channel, context);
  SendOutcome sent = provider->send(mail("5:mail:1", "Hi"));
  INFO(sent.error);
  REQUIRE(sent.is_ok());
  auto messages = server.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0]["auth_user"] == "mailer");
  CHECK(messages[0]["tls"] == true);

  SECTION("a wrong password is a retry whose error does not repeat it") {
    ::setenv("TRELLIS_TEST_SMTP_PASSWORD", "wrong-secret-123", 1);
    ProviderContext other(dir.file("unused.jsonl"));
    auto refused = open(channel, other)->send(mail("6:mail:1", "Hi"));
    CHECK(refused.kind == SendOutcome::Kind::kRetry);
    CHECK(refused.error.find("wrong-secret-123") == std::string::npos);
    CHECK(server.messages().size() == 1);
  }
  SECTION("without the CA the certificate is refused: nothing is sent in clear text") {
    channel.ca_file.clear();
    ProviderContext other(dir.file("unused.jsonl"));
    auto refused = open(channel, other)->send(mail("7:mail:1", "Hi"));
    CHECK_FALSE(refused.is_ok());
    CHECK(server.messages().size() == 1);
  }
}

TEST_CASE("smtp: a missing environment variable stops the provider from opening, named") {
  ::unsetenv("TRELLIS_TEST_NO_SUCH_USER");
  ChannelConfig channel = smtp_channel("smtp://127.0.0.1:1");
  channel.username_env = "TRELLIS_TEST_NO_SUCH_USER";
  channel.password_env = "TRELLIS_TEST_NO_SUCH_USER";
  ProviderContext context("unused.jsonl");
  Result<ProviderFactory> factory = open_provider(channel, context);
  REQUIRE_FALSE(factory.ok());
  CHECK(factory.error().message ==
        "channel email: environment variable TRELLIS_TEST_NO_SUCH_USER is not set");
}

TEST_CASE("smtp: no server is a retry") {
  ChannelConfig channel =
      smtp_channel("smtp://127.0.0.1:" + std::to_string(trellis::testing::free_port()));
  channel.starttls = false;
  ProviderContext context("unused.jsonl");
  auto provider = open(channel, context);
  CHECK(provider->send(mail("1:mail:1", "x")).kind == SendOutcome::Kind::kRetry);
}

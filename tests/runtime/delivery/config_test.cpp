// The delivery configuration checker: every mistake is a diagnostic at the
// token's file:line:col, and no message repeats a secret.
#include "runtime/delivery/config.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/delivery/secrets.h"

using namespace trellis;
using namespace trellis::runtime::delivery;

namespace {

// "line:col: message" of each diagnostic, for compact assertions.
std::vector<std::string> positions(const LoadedConfig& loaded) {
  std::vector<std::string> out;
  for (const ir::Diagnostic& d : loaded.diagnostics.items())
    out.push_back(std::to_string(d.span.line) + ":" + std::to_string(d.span.column) + ": " +
                  d.message);
  return out;
}

bool has(const std::vector<std::string>& lines, const std::string& prefix,
         const std::string& fragment) {
  for (const std::string& line : lines)
    if (line.rfind(prefix + ": ", 0) == 0 && line.find(fragment) != std::string::npos) return true;
  return false;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("the brief's example configuration reads clean into the structs") {
  const char* text = R"(timezone: Europe/Berlin
channels:
  email: {provider: smtp, url: "smtp://127.0.0.1:2525", from: "Shop <shop@example.com>", username_env: SMTP_USER, password_env: SMTP_PASSWORD, rate: 50, concurrency: 4, timeout: 10s, retry: {max_attempts: 8, backoff: 1s, max_backoff: 1h}, quiet_hours: "21:00-09:00"}
  sms: {provider: http, url: "https://sms.example.com/v1/messages", headers: {Authorization: "Bearer ${SMS_TOKEN}"}, rate: 100, concurrency: 8}
  webhook: {provider: http}   # a webhook node's own url
caps: [{channel: sms, max: 2, per: 1d}, {channel: any, max: 6, per: 7d}]
max_defer: 3d
consent_events: [{event: unsubscribe}, {event: subscribe, subscribe: true}]
)";
  LoadedConfig loaded = parse_delivery_config(text, "trellis.yaml");
  INFO(positions(loaded).size());
  REQUIRE(loaded.diagnostics.empty());
  const DeliveryConfig& c = loaded.config;
  CHECK(c.default_timezone == "Europe/Berlin");
  REQUIRE(c.channels.size() == 3);
  const ChannelConfig& email = c.channels.at("email");
  CHECK(email.provider == "smtp");
  CHECK(email.from == "Shop <shop@example.com>");
  CHECK(email.password_env == "SMTP_PASSWORD");
  CHECK(email.rate == 50);
  CHECK(email.concurrency == 4);
  CHECK(email.timeout_ms == 10000);
  CHECK(email.retry.max_backoff_ms == 3600000);
  REQUIRE(email.quiet_hours);
  CHECK(email.quiet_hours->start_minute == 21 * 60);
  CHECK(email.quiet_hours->end_minute == 9 * 60);
  const ChannelConfig& sms = c.channels.at("sms");
  REQUIRE(sms.headers.size() == 1);
  CHECK(sms.headers[0].value == "Bearer ${SMS_TOKEN}");  // resolved only when the provider opens
  CHECK(c.channels.at("webhook").url.empty());
  REQUIRE(c.caps.size() == 2);
  CHECK(c.caps[0].text == "sms 2/1d");
  CHECK(c.caps[1].channel.empty());
  CHECK(c.caps[1].window_ms == 7LL * 86400000);
  CHECK(c.max_defer_ms == 3LL * 86400000);
  REQUIRE(c.consent_events.size() == 2);
  CHECK(c.consent_events[1].subscribe);
}

TEST_CASE("every mistake is reported at its line and column") {
  const char* text = R"(timezone: Mars/Olympus
chanels: {}
channels:
  sms:
    provider: htp
    url: "ftp://sms.example.com"
    rate: 200000
    concurency: 2
    timeout: 10 seconds
  email:
    provider: smtp
    url: "https://mail.example.com"
    from: "Shop <shop@example.com>"
    password: hunter2
    quiet_hours: "21:00-25:00"
  push:
    provider: http
    url: "https://push.example.com"
    headers: {Authorization: "Bearer abc123secret", X-Trace: "${BROKEN"}
    retry: {max_attempts: 0, backoff: 1d, max_backoff: 1h}
caps:
  - {channel: sms, max: two, per: 1d}
  - {channel: any, max: 3, per: 1fortnight}
max_defer: 90d
consent_events: [{event: unsubscribe, subscribe: maybe}]
)";
  LoadedConfig loaded = parse_delivery_config(text, "trellis.yaml");
  const auto lines = positions(loaded);
  INFO([&] {
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    return all;
  }());
  CHECK_FALSE(loaded.ok());
  CHECK(has(lines, "1:11", "unknown time zone 'Mars/Olympus'"));
  CHECK(has(lines, "2:1", "unknown key 'chanels' in the configuration: did you mean 'channels'?"));
  CHECK(has(lines, "5:15", "unknown provider 'htp': did you mean 'http'?"));
  CHECK(has(lines, "7:11", "'sms.rate' is 200000; it must be from 0 to 100000"));
  CHECK(
      has(lines, "8:5", "unknown key 'concurency' in channel 'sms': did you mean 'concurrency'?"));
  CHECK(has(lines, "9:14", "'10 seconds' is not a duration"));
  CHECK(has(lines, "12:10", "needs an smtp:// or smtps:// url, not 'https://mail.example.com'"));
  CHECK(has(lines, "14:5", "'password' would put a secret in this file"));
  CHECK(has(lines, "15:18", "must be a local time window"));
  CHECK(has(lines, "19:30", "header 'Authorization' holds a literal secret"));
  CHECK(has(lines, "19:62", "unterminated '${'"));
  CHECK(has(lines, "20:27", "'push.retry.max_attempts' is 0; it must be from 1 to 100"));
  CHECK(has(lines, "20:12", "max_backoff is shorter than backoff"));
  CHECK(has(lines, "22:25", "'max' must be a number, not 'two'"));
  CHECK(has(lines, "23:33", "'1fortnight' is not a duration"));
  CHECK(has(lines, "24:12", "'max_defer' is 90d; it must be from 1m to 30d"));
  CHECK(has(lines, "25:50", "'subscribe' must be true or false"));
  // The http channel with a bad scheme, caught once the provider is known to be http.
  for (const std::string& line : lines) {
    CHECK(line.find("abc123secret") == std::string::npos);
    CHECK(line.find("hunter2") == std::string::npos);
  }
  // What check and serve print under each diagnostic: the secrets masked, columns kept.
  CHECK(loaded.masked_source.size() == std::string(text).size());
  CHECK(loaded.masked_source.find("abc123secret") == std::string::npos);
  CHECK(loaded.masked_source.find("hunter2") == std::string::npos);
  CHECK(loaded.masked_source.find("\"*******************\"") != std::string::npos);
  for (const ir::Diagnostic& d : loaded.diagnostics.items())
    CHECK(ir::render(d, loaded.masked_source).find("hunter2") == std::string::npos);
}

TEST_CASE("provider requirements and secrets in URLs") {
  const char* text = R"(channels:
  email: {provider: smtp, url: "smtp://bob:pw@mail.example.com", username_env: SMTP_USER}
  sms: {provider: http}
  webhook: {provider: http}
  coupon: {provider: file, url: "/tmp/x"}
  smss: {provider: file}
)";
  LoadedConfig loaded = parse_delivery_config(text, "t.yaml");
  const auto lines = positions(loaded);
  CHECK(has(lines, "2:3", "the smtp provider needs 'from'"));
  CHECK(has(lines, "2:3", "give both username_env and password_env"));
  CHECK(has(lines, "2:32", "the url holds a password"));
  CHECK(has(lines, "3:3", "the http provider needs a url"));
  CHECK(has(lines, "5:33", "the file provider takes 'path', not 'url'"));
  CHECK(has(lines, "6:3", "channel 'smss' is not one a flow node produces: did you mean 'sms'?"));
  for (const std::string& line : lines) CHECK(line.find("pw@") == std::string::npos);
  CHECK(loaded.masked_source.find("bob:pw@") == std::string::npos);
  CHECK(loaded.diagnostics.warning_count() == 1);
}

TEST_CASE("quiet hours as a mapping, durations, YAML syntax errors") {
  LoadedConfig ok = parse_delivery_config(
      "channels:\n  sms: {provider: file, quiet_hours: {from: \"22:30\", to: \"07:00\", spread: "
      "10m}, "
      "timeout: 500ms}\n",
      "t.yaml");
  REQUIRE(ok.diagnostics.empty());
  const ChannelConfig& sms = ok.config.channels.at("sms");
  CHECK(sms.quiet_hours->start_minute == 22 * 60 + 30);
  CHECK(sms.quiet_hours->spread_ms == 600000);
  CHECK(sms.quiet_hours->text == "22:30-07:00");
  CHECK(sms.timeout_ms == 500);

  LoadedConfig bad = parse_delivery_config("channels:\n  sms: {provider: file\n", "t.yaml");
  REQUIRE(bad.diagnostics.error_count() == 1);
  CHECK(bad.diagnostics.items()[0].message.rfind("YAML syntax", 0) == 0);
  CHECK(bad.diagnostics.items()[0].span.line >= 2);

  CHECK(parse_duration_ms("1d") == 86400000);
  CHECK(parse_duration_ms("30s") == 30000);
  CHECK(parse_duration_ms("500ms") == 500);
  CHECK_FALSE(parse_duration_ms("30"));
  CHECK_FALSE(parse_duration_ms("-1s"));
  CHECK_FALSE(parse_duration_ms("1.5h"));
  CHECK(duration_text(86400000) == "1d");
  CHECK(duration_text(1500) == "1500ms");
}

TEST_CASE("a delivery configuration is told apart from a flow") {
  CHECK(looks_like_delivery_config("channels:\n  sms: {provider: file}\n"));
  CHECK(looks_like_delivery_config("caps: []\n"));
  CHECK_FALSE(looks_like_delivery_config("flow: x\nchannels: {}\n"));
  CHECK_FALSE(looks_like_delivery_config("flow: x\nstart: a\n"));
  CHECK_FALSE(looks_like_delivery_config("[1, 2"));
}

TEST_CASE("traits: declares the profile traits flows may name") {
  LoadedConfig ok = parse_delivery_config("traits: [first_name, tier, orders_2]\n", "t.yaml");
  CHECK(ok.diagnostics.empty());
  CHECK(ok.config.traits == std::vector<std::string>{"first_name", "tier", "orders_2"});
  CHECK(looks_like_delivery_config("traits: [first_name]\n"));

  LoadedConfig bad =
      parse_delivery_config("traits: [first_name, user.tier, first_name]\n", "t.yaml");
  auto found = positions(bad);
  CHECK(has(found, "1:22", "'user.tier' is not a trait name"));
  CHECK(has(found, "1:33", "trait 'first_name' is declared twice"));
  CHECK(bad.config.traits == std::vector<std::string>{"first_name"});
  CHECK(has(positions(parse_delivery_config("traits: first_name\n", "t.yaml")), "1:9",
            "'traits' must be a list of trait names"));
}

TEST_CASE("the shipped flows/trellis.yaml is clean") {
  const std::string path = std::string(TRELLIS_SOURCE_ROOT_DIR) + "/flows/trellis.yaml";
  LoadedConfig loaded = load_delivery_config(path);
  CHECK(loaded.diagnostics.empty());
  CHECK(loaded.config.channels.at("sms").provider == "file");
  CHECK(loaded.config.traits.front() == "first_name");
  CHECK(looks_like_delivery_config(read_file(path)));
}

TEST_CASE("${NAME} references resolve from the environment and errors name only the variable") {
  ::setenv("TRELLIS_TEST_TOKEN", "s3cr3t-value", 1);
  auto resolved = resolve_references("Bearer ${TRELLIS_TEST_TOKEN}!");
  REQUIRE(resolved.ok());
  CHECK(resolved.value() == "Bearer s3cr3t-value!");
  ::unsetenv("TRELLIS_TEST_MISSING");
  auto missing = resolve_references("x ${TRELLIS_TEST_MISSING}");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "environment variable TRELLIS_TEST_MISSING is not set");
  CHECK(check_references("${1X}") != "");
  CHECK(check_references("plain") == "");
}

TEST_CASE("webhooks.allow_hosts names the internal hosts a webhook node may reach") {
  LoadedConfig ok = parse_delivery_config(
      "channels: {webhook: {provider: http}}\n"
      "webhooks: {allow_hosts: [127.0.0.1, hooks.internal, '::1']}\n",
      "t.yaml");
  INFO(positions(ok).size());
  REQUIRE(ok.ok());
  CHECK(ok.config.webhook_allow_hosts ==
        std::vector<std::string>{"127.0.0.1", "hooks.internal", "::1"});
  CHECK(parse_delivery_config("", "t.yaml").config.webhook_allow_hosts.empty());

  LoadedConfig bad = parse_delivery_config(
      "webhooks:\n"
      "  allow_hosts: [http://hooks.internal/x, 'hooks.internal:8080']\n"
      "  allow: [x]\n",
      "t.yaml");
  const auto lines = positions(bad);
  CHECK(has(lines, "2:17", "must be a host alone"));
  CHECK(has(lines, "2:42", "must be a host alone"));
  CHECK(has(lines, "3:3", "unknown key 'allow'"));
  CHECK(has(positions(parse_delivery_config("webhooks: [a]\n", "t.yaml")), "1:11",
            "'webhooks' must be a mapping"));
}

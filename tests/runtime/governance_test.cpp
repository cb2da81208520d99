// The governance rules on their own: consent, caps, quiet hours, max_defer.
#include "runtime/governance.h"

#include <algorithm>
#include <catch2/catch.hpp>

using namespace trellis;
using namespace trellis::runtime;
using governance::Outcome;

namespace {

constexpr TimeMs kHour = 3'600'000;
constexpr TimeMs kDay = 24 * kHour;
constexpr TimeMs kT0 = 1767225600000LL;  // 2026-01-01T00:00:00Z, a Thursday

delivery::DeliveryConfig config_with_cap(const std::string& channel, int max, TimeMs window,
                                         const std::string& text) {
  delivery::DeliveryConfig config;
  delivery::CapRule cap;
  cap.channel = channel;
  cap.max = max;
  cap.window_ms = window;
  cap.text = text;
  config.caps.push_back(cap);
  return config;
}

delivery::DeliveryConfig config_with_quiet_hours(const std::string& channel, TimeMs spread_ms) {
  delivery::DeliveryConfig config;
  delivery::ChannelConfig c;
  c.name = channel;
  delivery::QuietHours quiet;
  quiet.start_minute = 21 * 60;
  quiet.end_minute = 9 * 60;
  quiet.spread_ms = spread_ms;
  quiet.text = "21:00-09:00";
  c.quiet_hours = quiet;
  config.channels[channel] = c;
  return config;
}

governance::Message message(const std::string& channel, TimeMs created,
                            ir::FlowCategory category = ir::FlowCategory::kMarketing,
                            ir::CapPolicy on_cap = ir::CapPolicy::kDefer) {
  return governance::Message{"1:sms_a:1", channel, category, on_cap, created};
}

governance::UserFacts user(std::vector<ConsentRecord> consent = {},
                           std::vector<ReleasedMessage> released = {}, std::string zone = "") {
  return governance::UserFacts{"u1", std::move(consent), std::move(released), std::move(zone)};
}

ConsentRecord consent(const std::string& channel, bool subscribed, TimeMs at,
                      const std::string& reason) {
  return ConsentRecord{"u1", channel, subscribed, at, reason};
}

}  // namespace

TEST_CASE("governance: no consent record means subscribed") {
  const governance::Verdict v =
      governance::judge(delivery::DeliveryConfig{}, message("sms", kT0), user(), kT0);
  CHECK(v.outcome == Outcome::kSend);
  CHECK(v.reason.empty());
}

TEST_CASE("governance: an unsubscribe suppresses with the record in the reason") {
  const governance::Verdict v = governance::judge(
      delivery::DeliveryConfig{}, message("sms", kT0 + 2 * kHour),
      user({consent("sms", false, kT0 + kHour, "event unsubscribe")}), kT0 + 2 * kHour);
  CHECK(v.outcome == Outcome::kSuppress);
  CHECK(v.reason ==
        "not sent: user u1 unsubscribed from sms at 2026-01-01T01:00:00Z (event unsubscribe)");
}

TEST_CASE("governance: the newest of the channel's and the every-channel record decides") {
  const delivery::DeliveryConfig config;
  // Everything off, then sms back on: sms goes, email does not.
  auto facts = user({consent("*", false, kT0, "api"), consent("sms", true, kT0 + kHour, "api")});
  CHECK(
      governance::judge(config, message("sms", kT0 + 2 * kHour), facts, kT0 + 2 * kHour).outcome ==
      Outcome::kSend);
  const governance::Verdict email =
      governance::judge(config, message("email", kT0 + 2 * kHour), facts, kT0 + 2 * kHour);
  CHECK(email.outcome == Outcome::kSuppress);
  CHECK(email.reason ==
        "not sent: user u1 unsubscribed from every channel at 2026-01-01T00:00:00Z (api)");
  // sms on, then everything off: the newer "*" wins.
  facts = user({consent("sms", true, kT0, "api"), consent("*", false, kT0 + kHour, "api")});
  CHECK(
      governance::judge(config, message("sms", kT0 + 2 * kHour), facts, kT0 + 2 * kHour).outcome ==
      Outcome::kSuppress);
}

TEST_CASE("governance: transactional ignores a user's unsubscribe, not a hard bounce") {
  const delivery::DeliveryConfig config;
  const auto transactional = ir::FlowCategory::kTransactional;
  CHECK(governance::judge(config, message("email", kT0, transactional),
                          user({consent("email", false, kT0 - kHour, "event unsubscribe")}), kT0)
            .outcome == Outcome::kSend);
  const governance::Verdict bounced = governance::judge(
      config, message("email", kT0, transactional),
      user({consent("email", false, kT0 - kHour, governance::hard_bounce_reason(12))}), kT0);
  CHECK(bounced.outcome == Outcome::kSuppress);
  CHECK(bounced.reason ==
        "not sent: user u1 unsubscribed from email at 2025-12-31T23:00:00Z "
        "(hard bounce of delivery 12)");
  // A bounce on email and a later marketing unsubscribe of everything: the
  // bounce still stops transactional email.
  CHECK(governance::judge(
            config, message("email", kT0, transactional),
            user({consent("email", false, kT0 - 2 * kHour, governance::complaint_reason(3)),
                  consent("*", false, kT0 - kHour, "event unsubscribe")}),
            kT0)
            .outcome == Outcome::kSuppress);
}

TEST_CASE("governance: a user's unsubscribe does not overwrite a provider's suppression") {
  const ConsentRecord bounce = consent("email", false, kT0, governance::hard_bounce_reason(7));
  CHECK_FALSE(governance::replaces(bounce, consent("email", false, kT0 + 1, "event unsubscribe")));
  CHECK(governance::replaces(bounce, consent("email", true, kT0 + 1, "event subscribe")));
  CHECK(governance::replaces(consent("email", false, kT0, "api"),
                             consent("email", false, kT0 + 1, governance::complaint_reason(8))));
}

TEST_CASE("governance: a message over a cap waits until the oldest counted one leaves") {
  const auto config = config_with_cap("sms", 2, kDay, "sms 2/1d");
  const auto facts = user({}, {{kT0 + 8 * kHour, "sms", "marketing"},
                               {kT0 + 10 * kHour, "sms", "marketing"},
                               {kT0 + 9 * kHour, "email", "marketing"},
                               {kT0 + 9 * kHour, "sms", "transactional"}});
  const TimeMs now = kT0 + 12 * kHour;
  const governance::Verdict v = governance::judge(config, message("sms", now), facts, now);
  CHECK(v.outcome == Outcome::kDefer);
  CHECK(v.until == kT0 + kDay + 8 * kHour);
  CHECK(v.reason == "deferred until 2026-01-02T08:00:00Z (cap sms 2/1d)");
  // Email is not capped; a day later the window is clear.
  CHECK(governance::judge(config, message("email", now), facts, now).outcome == Outcome::kSend);
  CHECK(governance::judge(config, message("sms", kT0 + kDay + 8 * kHour), facts,
                          kT0 + kDay + 8 * kHour)
            .outcome == Outcome::kSend);
}

TEST_CASE("governance: on_cap skip drops, transactional is neither capped nor counted") {
  const auto config = config_with_cap("sms", 2, kDay, "sms 2/1d");
  const auto facts = user({}, {{kT0, "sms", "marketing"}, {kT0 + kHour, "sms", "marketing"}});
  const governance::Verdict skipped = governance::judge(
      config, message("sms", kT0 + 2 * kHour, ir::FlowCategory::kMarketing, ir::CapPolicy::kSkip),
      facts, kT0 + 2 * kHour);
  CHECK(skipped.outcome == Outcome::kDrop);
  CHECK(skipped.reason == "dropped: cap sms 2/1d (on_cap: skip)");
  CHECK(governance::judge(config, message("sms", kT0 + 2 * kHour, ir::FlowCategory::kTransactional),
                          facts, kT0 + 2 * kHour)
            .outcome == Outcome::kSend);
}

TEST_CASE("governance: a cap of every channel counts them all, coupons and webhooks aside") {
  auto config = config_with_cap("", 2, 7 * kDay, "any 2/7d");
  config.max_defer_ms = 8 * kDay;
  const auto facts = user({}, {{kT0, "sms", "marketing"},
                               {kT0 + 1, "coupon", "marketing"},
                               {kT0 + 2, "webhook", "marketing"},
                               {kT0 + 3, "email", "marketing"}});
  const governance::Verdict v =
      governance::judge(config, message("sms", kT0 + 10), facts, kT0 + 10);
  CHECK(v.outcome == Outcome::kDefer);
  CHECK(v.until == kT0 + 7 * kDay);
  CHECK(governance::judge(config, message("coupon", kT0 + 10), facts, kT0 + 10).outcome ==
        Outcome::kSend);
  CHECK(governance::judge(config, message("webhook", kT0 + 10), facts, kT0 + 10).outcome ==
        Outcome::kSend);
  CHECK_FALSE(governance::is_governed_channel(config, "webhook"));
  config.caps.push_back(config_with_cap("webhook", 1, kDay, "webhook 1/1d").caps[0]);
  CHECK(governance::is_governed_channel(config, "webhook"));
}

TEST_CASE("governance: with two caps broken, the message waits for both") {
  auto config = config_with_cap("sms", 1, kDay, "sms 1/1d");
  config.caps.push_back(config_with_cap("", 2, 2 * kDay, "any 2/2d").caps[0]);
  const auto facts = user({}, {{kT0, "email", "marketing"}, {kT0 + kHour, "sms", "marketing"}});
  const governance::Verdict v =
      governance::judge(config, message("sms", kT0 + 2 * kHour), facts, kT0 + 2 * kHour);
  CHECK(v.outcome == Outcome::kDefer);
  CHECK(v.until == kT0 + 2 * kDay);
  CHECK(v.reason == "deferred until 2026-01-03T00:00:00Z (cap any 2/2d)");
}

TEST_CASE("governance: quiet hours defer to the window's end in the user's zone") {
  const auto config = config_with_quiet_hours("sms", 0);
  // 23:00 in Berlin (UTC+1 in January): quiet until 09:00 local, 08:00Z.
  const TimeMs now = kT0 + 22 * kHour;
  const governance::Verdict berlin =
      governance::judge(config, message("sms", now), user({}, {}, "Europe/Berlin"), now);
  CHECK(berlin.outcome == Outcome::kDefer);
  CHECK(berlin.reason ==
        "deferred until 2026-01-02T08:00:00Z (quiet hours 21:00-09:00 Europe/Berlin)");
  // 17:00 in New York: not quiet.
  CHECK(governance::judge(config, message("sms", now), user({}, {}, "America/New_York"), now)
            .outcome == Outcome::kSend);
  // No zone: the configured default (UTC); an unknown one says so.
  const governance::Verdict unknown =
      governance::judge(config, message("sms", now), user({}, {}, "Mars/Olympus"), now);
  CHECK(unknown.until == kT0 + kDay + 9 * kHour);
  CHECK(unknown.reason ==
        "deferred until 2026-01-02T09:00:00Z (quiet hours 21:00-09:00 UTC; time "
        "zone 'Mars/Olympus' is unknown; using UTC)");
  // Transactional messages ignore quiet hours; email has none here.
  CHECK(governance::judge(config, message("sms", now, ir::FlowCategory::kTransactional),
                          user({}, {}, "Europe/Berlin"), now)
            .outcome == Outcome::kSend);
  CHECK(governance::judge(config, message("email", now), user({}, {}, "Europe/Berlin"), now)
            .outcome == Outcome::kSend);
}

TEST_CASE("governance: the quiet-hours spread is deterministic by key and within bounds") {
  const TimeMs spread = 30 * 60'000;
  const auto config = config_with_quiet_hours("sms", spread);
  const TimeMs now = kT0 + 22 * kHour;
  const TimeMs end = kT0 + kDay + 8 * kHour;
  std::vector<TimeMs> seen;
  for (int i = 0; i < 50; ++i) {
    governance::Message m = message("sms", now);
    m.key = std::to_string(i) + ":sms_a:1";
    const governance::Verdict v = governance::judge(config, m, user({}, {}, "Europe/Berlin"), now);
    REQUIRE(v.outcome == Outcome::kDefer);
    CHECK(v.until >= end);
    CHECK(v.until < end + spread);
    CHECK(v.until % 1000 == 0);
    CHECK(governance::judge(config, m, user({}, {}, "Europe/Berlin"), now).until == v.until);
    seen.push_back(v.until);
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::unique(seen.begin(), seen.end()) - seen.begin() > 25);  // spread out, not lumped
}

TEST_CASE("governance: a deferral past max_defer drops the message") {
  auto config = config_with_cap("sms", 1, 5 * kDay, "sms 1/5d");
  const auto facts = user({}, {{kT0, "sms", "marketing"}});
  const governance::Verdict v =
      governance::judge(config, message("sms", kT0 + kHour), facts, kT0 + kHour);
  CHECK(v.outcome == Outcome::kDrop);
  CHECK(v.reason == "dropped: deferred past max_defer 3d");
  // Counted from when the message was created, not from this judgement.
  config.max_defer_ms = 6 * kDay;
  CHECK(governance::judge(config, message("sms", kT0 + kHour), facts, kT0 + kHour).outcome ==
        Outcome::kDefer);
  CHECK(governance::judge(config, message("sms", kT0 - 2 * kDay), facts, kT0 + kHour).outcome ==
        Outcome::kDrop);
}

TEST_CASE("governance: consent comes before caps and quiet hours") {
  auto config = config_with_quiet_hours("sms", 0);
  const TimeMs now = kT0 + 22 * kHour;
  const governance::Verdict v = governance::judge(
      config, message("sms", now), user({consent("sms", false, kT0, "api")}, {}, "UTC"), now);
  CHECK(v.outcome == Outcome::kSuppress);
}

TEST_CASE("governance: trace times and durations") {
  CHECK(governance::trace_time(kT0) == "2026-01-01T00:00:00Z");
  CHECK(governance::trace_time(kT0 + 1500) == "2026-01-01T00:00:01.500Z");
  CHECK(governance::duration_text(3 * kDay) == "3d");
  CHECK(governance::duration_text(36 * kHour) == "36h");
  CHECK(governance::duration_text(90 * 60'000) == "90m");
  CHECK(governance::duration_text(45'000) == "45s");
  CHECK(governance::duration_text(250) == "250ms");
}

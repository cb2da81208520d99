// Governed delivery through the Engine: consent by API and by event, verdicts
// in the outbox and the trace, the release pass, provider feedback.
#include <catch2/catch.hpp>
#include <fstream>

#include "flow_loader.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;  // 2026-01-01T00:00:00Z
constexpr TimeMs kHour = 3'600'000;

const char* kHelloFlow = R"(flow: hello
trigger: { event: go }
re_entry: always
start: hi
nodes:
  hi: { type: sms, text: "hi", next: done }
  done: { type: exit }
)";

class Governed {
 public:
  explicit Governed(std::shared_ptr<const delivery::DeliveryConfig> config = nullptr) : clock(kT0) {
    EngineOptions options;
    options.store = trellis::runtime::store_factory(dir.file("trellis.db")).value();
    options.clock = &clock;
    options.parse_flow = testing::parse_stored_flow;
    options.adapter = "none";
    options.delivery = std::move(config);
    auto opened = Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(opened.value());
    REQUIRE(engine->put_profile("u1", R"({"phone": "+4711", "email": "a@example.com"})"));
  }

  void deploy(const std::string& yaml) {
    const std::string path = dir.file("flow" + std::to_string(++flows_) + ".yaml");
    std::ofstream(path) << yaml;
    auto loaded = testing::load_checked_flow(path);
    INFO((loaded.ok() ? "" : loaded.error().message));
    REQUIRE(loaded.ok());
    REQUIRE(engine->deploy(loaded->flow, loaded->source).ok());
  }

  IngestSummary send(const std::string& type, const std::string& props = "{}",
                     const std::string& user = "u1") {
    Event e;
    e.type = type;
    e.user_id = user;
    e.properties_json = props;
    auto r = engine->ingest({e});
    REQUIRE(r.ok());
    return r.value();
  }

  // The reason of the newest step of the user's newest journey.
  std::string last_reason() {
    auto journeys = engine->journeys_of_user("u1");
    REQUIRE(!journeys.empty());
    auto detail = engine->journey(journeys.back().id);
    REQUIRE(detail);
    std::string reason;
    for (const auto& s : detail->steps)
      if (s.node == "hi" || s.node == "mail") reason = s.reason;
    return reason;
  }

  TempDir dir;
  VirtualClock clock;
  std::unique_ptr<Engine> engine;

 private:
  int flows_ = 0;
};

}  // namespace

TEST_CASE("governed engine: consent set by the API suppresses, and is read back") {
  Governed g;
  g.deploy(kHelloFlow);
  REQUIRE(g.engine->set_consent("u1", {{"sms", false}, {"email", true}}, "api"));
  const auto consent = g.engine->consent("u1");
  REQUIRE(consent.size() == 2);
  CHECK(consent[0].channel == "email");
  CHECK(consent[0].subscribed);
  CHECK(consent[1].channel == "sms");
  CHECK_FALSE(consent[1].subscribed);
  CHECK(consent[1].reason == "api");

  g.clock.advance_ms(kHour);
  g.send("go");
  const auto deliveries = g.engine->deliveries("u1", "");
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0].status == DeliveryStatus::kSuppressed);
  CHECK(deliveries[0].last_error ==
        "not sent: user u1 unsubscribed from sms at 2026-01-01T00:00:00Z (api)");
  CHECK(deliveries[0].release_at == 0);
  CHECK(g.last_reason() ==
        "sms to +4711: \"hi\"; not sent: user u1 unsubscribed from sms at "
        "2026-01-01T00:00:00Z (api)");
}

TEST_CASE("governed engine: unsubscribe and subscribe events set consent before flows run") {
  Governed g;
  g.deploy(kHelloFlow);
  g.send("unsubscribe");  // no channel: every channel
  g.send("go");
  g.clock.advance_ms(kHour);
  g.send("subscribe", R"({"channel": "sms"})");
  g.send("go");
  const auto deliveries = g.engine->deliveries("u1", "");
  REQUIRE(deliveries.size() == 2);
  CHECK(deliveries[0].status == DeliveryStatus::kSuppressed);
  CHECK(deliveries[0].last_error ==
        "not sent: user u1 unsubscribed from every channel at "
        "2026-01-01T00:00:00Z (event unsubscribe)");
  CHECK(deliveries[1].status == DeliveryStatus::kPending);
  CHECK(deliveries[1].release_at == kT0 + kHour);
  CHECK(deliveries[1].last_error.empty());
}

TEST_CASE("governed engine: a flow without configuration keeps its trace and outbox row") {
  Governed g;
  g.deploy(kHelloFlow);
  g.send("go");
  const auto deliveries = g.engine->deliveries("u1", "");
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0].status == DeliveryStatus::kPending);
  CHECK(deliveries[0].category == "marketing");
  CHECK(deliveries[0].priority == 50);
  CHECK(deliveries[0].release_at == kT0);
  CHECK(g.last_reason() == "sms to +4711: \"hi\"");
}

TEST_CASE("governed engine: a capped message is deferred, then released by the timer pass") {
  auto config = std::make_shared<delivery::DeliveryConfig>();
  config->caps.push_back(delivery::CapRule{"sms", 1, 2 * kHour, "sms 1/2h", {}});
  Governed g(config);
  g.deploy(kHelloFlow);
  g.send("go");
  g.clock.advance_ms(kHour);
  g.send("go");
  auto deliveries = g.engine->deliveries("u1", "");
  REQUIRE(deliveries.size() == 2);
  CHECK(deliveries[1].status == DeliveryStatus::kDeferred);
  CHECK(deliveries[1].release_at == kT0 + 2 * kHour);
  CHECK(g.last_reason() ==
        "sms to +4711: \"hi\"; deferred until 2026-01-01T02:00:00Z (cap sms 1/2h)");
  REQUIRE(g.engine->next_timer_due() == kT0 + 2 * kHour);

  g.clock.set_ms(kT0 + 2 * kHour);
  REQUIRE(g.engine->fire_due_timers().ok());
  deliveries = g.engine->deliveries("u1", "");
  CHECK(deliveries[1].status == DeliveryStatus::kPending);
  CHECK(deliveries[1].release_at == kT0 + 2 * kHour);
  CHECK_FALSE(g.engine->next_timer_due());
  // The release is in the journey's trace, as a step of the node.
  auto detail = g.engine->journey(deliveries[1].journey_id);
  REQUIRE(detail);
  CHECK(detail->steps.back().input == "release");
  CHECK(detail->steps.back().node == "hi");
  CHECK(detail->steps.back().reason ==
        "sms released; it was deferred until 2026-01-01T02:00:00Z (cap sms 1/2h)");

  const auto stats = g.engine->stats("hello");
  REQUIRE(stats.ok());
  REQUIRE(stats->messages.size() == 1);
  CHECK(stats->messages[0].node == "hi");
  CHECK(stats->messages[0].created == 2);
  CHECK(stats->messages[0].deferred == 0);
}

TEST_CASE("governed engine: a message held when its flow stops is suppressed, not released") {
  auto config = std::make_shared<delivery::DeliveryConfig>();
  config->caps.push_back(delivery::CapRule{"sms", 1, 2 * kHour, "sms 1/2h", {}});
  Governed g(config);
  g.deploy(kHelloFlow);
  g.send("go");
  g.clock.advance_ms(kHour);
  g.send("go");
  REQUIRE(g.engine->deliveries("u1", "")[1].status == DeliveryStatus::kDeferred);

  LifecycleRequest stop;
  stop.to = FlowState::kStopped;
  stop.by = "ops";
  REQUIRE(g.engine->change_flow_state("hello", stop).ok());
  g.clock.set_ms(kT0 + 2 * kHour);
  REQUIRE(g.engine->fire_due_timers().ok());

  const auto deliveries = g.engine->deliveries("u1", "");
  CHECK(deliveries[0].status == DeliveryStatus::kPending);  // released before the stop
  CHECK(deliveries[1].status == DeliveryStatus::kSuppressed);
  CHECK(deliveries[1].last_error == "flow stopped");
  auto detail = g.engine->journey(deliveries[1].journey_id);
  REQUIRE(detail);
  CHECK(detail->steps.back().input == "release");
  CHECK(detail->steps.back().reason == "flow stopped");
}

TEST_CASE("governed engine: feedback events are recorded, enriched and routed") {
  Governed g;
  g.deploy(R"(flow: mailer
trigger: { event: go }
start: mail
nodes:
  mail: { type: email, subject: "s", body: "b", next: wait_click }
  wait_click:
    type: wait
    for: 2d
    until_event:
      event: message_clicked
      where: event.node == "mail"
    on_event: clicked
    next: done
  clicked: { type: exit }
  done: { type: exit }
)");
  g.send("go");
  const auto mail = g.engine->deliveries("u1", "")[0];

  Event unknown;
  unknown.type = "message_clicked";
  unknown.properties_json = R"({"delivery_id": 999})";
  CHECK_FALSE(g.engine->validate_event(unknown));
  auto refused = g.engine->ingest({unknown});
  REQUIRE(refused.ok());
  REQUIRE(refused->refused.size() == 1);
  CHECK(refused->refused[0].message == "message_clicked: no delivery 999");
  CHECK(refused->accepted == 0);

  Event clicked;
  clicked.type = "message_clicked";
  clicked.properties_json = R"({"key": ")" + mail.key + R"("})";
  CHECK(g.engine->validate_event(clicked));
  auto applied = g.engine->ingest({clicked});
  REQUIRE(applied.ok());
  CHECK(applied->accepted == 1);
  const auto journey = g.engine->journeys_of_user("u1").back();
  CHECK(journey.node == "clicked");
  CHECK(lifecycle_name(journey.state) == "completed");
  CHECK(g.engine->deliveries("u1", "")[0].feedback == "clicked");

  // A hard bounce suppresses email for the user.
  g.send("message_bounced",
         R"({"delivery_id": )" + std::to_string(mail.id) + R"(, "bounce_type": "hard"})");
  const auto consent = g.engine->consent("u1");
  REQUIRE(consent.size() == 1);
  CHECK(consent[0].channel == "email");
  CHECK_FALSE(consent[0].subscribed);
  CHECK(consent[0].reason == "hard bounce of delivery " + std::to_string(mail.id));
  const auto stats = g.engine->stats("mailer");
  REQUIRE(stats.ok());
  REQUIRE(stats->messages.size() == 1);
  CHECK(stats->messages[0].clicked == 1);
  CHECK(stats->messages[0].bounced == 1);
  CHECK(g.engine->deliveries("u1", "")[0].feedback == "bounced hard");
}

// The dispatcher inside a running engine, against real receivers on
// loopback: channels on their own workers, Retry-After, the circuit breaker,
// dead letters, secrets kept out of errors and metrics, and a clean stop.
// Waits are bounded polls of observable state, never sleeps as assertions.
#include "runtime/delivery/dispatcher.h"

#include <catch2/catch.hpp>
#include <condition_variable>
#include <cstdlib>
#include <fstream>

#include "flow_loader.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "servers.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::eventually;
using trellis::testing::HttpReceiver;
using trellis::testing::TempDir;

namespace {

// signup -> sms -> wait 1s -> email -> exit
const char* kFlow = R"(flow: hello
trigger: { event: signup }
start: hi
nodes:
  hi: { type: sms, text: "Welcome {{user.name}}", next: pause }
  pause: { type: wait, for: 1s, next: mail }
  mail: { type: email, subject: "Hi {{user.name}}", body: "Glad you are here", next: done }
  done: { type: exit }
)";

struct Observed {
  std::mutex mu;
  std::vector<std::string> outcomes;  // "sent", "retry", ...
  std::vector<std::string> errors;
  int timers_fired = 0;
};

// An engine on the system clock with `config` (YAML) and the flow above,
// started: the dispatcher's workers run.
struct Running {
  Running(const std::string& config_yaml, std::string adapter = "file",
          const char* flow_text = kFlow) {
    auto loaded = delivery::parse_delivery_config(config_yaml, "trellis.yaml");
    for (const ir::Diagnostic& d : loaded.diagnostics.items()) FAIL_CHECK(ir::render(d));
    REQUIRE(loaded.ok());
    EngineOptions options;
    options.store = trellis::runtime::store_factory(dir.file("t.db")).value();
    options.parse_flow = testing::parse_stored_flow;
    options.deliveries_path = dir.file("deliveries.jsonl");
    options.adapter = std::move(adapter);
    options.delivery = std::make_shared<delivery::DeliveryConfig>(loaded.config);
    options.on_delivery = [this](const DeliveryRecord&, const std::string& outcome,
                                 const std::string& error) {
      std::lock_guard<std::mutex> l(observed.mu);
      observed.outcomes.push_back(outcome);
      observed.errors.push_back(error);
    };
    options.on_timer_fired = [this](TimeMs) {
      std::lock_guard<std::mutex> l(observed.mu);
      ++observed.timers_fired;
    };
    auto opened = Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(opened.value());
    std::ofstream(dir.file("hello.yaml")) << flow_text;
    auto flow = testing::load_checked_flow(dir.file("hello.yaml"));
    REQUIRE(flow.ok());
    REQUIRE(engine->deploy(flow->flow, flow->source).ok());
    engine->start();
  }
  ~Running() { engine->stop(); }

  void sign_up(int users) {
    std::vector<Event> events;
    for (int i = 0; i < users; ++i) {
      const std::string user = "u" + std::to_string(i);
      REQUIRE(
          engine->put_profile(user, R"({"name": "Ana", "phone": "+47", "email": "a@example.com"})")
              .ok());
      Event e;
      e.type = "signup";
      e.user_id = user;
      e.id = "signup-" + user;
      events.push_back(e);
    }
    REQUIRE(engine->ingest(events).ok());
  }

  std::vector<DeliveryRecord> of_channel(const std::string& channel) {
    std::vector<DeliveryRecord> out;
    for (DeliveryRecord& d : engine->deliveries("", "hello"))
      if (d.channel == channel) out.push_back(d);
    return out;
  }

  int timers_fired() {
    std::lock_guard<std::mutex> l(observed.mu);
    return observed.timers_fired;
  }

  TempDir dir;
  Observed observed;
  std::unique_ptr<Engine> engine;
};

bool all_status(const std::vector<DeliveryRecord>& ds, DeliveryStatus status, size_t count) {
  if (ds.size() != count) return false;
  for (const auto& d : ds)
    if (d.status != status) return false;
  return true;
}

// A receiver whose first `hang` requests wait until release() (10 s at most).
struct Hanging {
  explicit Hanging(int hang)
      : receiver([this, hang](auto&, auto&, int index) {
          if (index >= hang) return;
          std::unique_lock<std::mutex> l(mu);
          cv.wait_for(l, std::chrono::seconds(10), [&] { return released; });
        }) {}
  ~Hanging() { release(); }
  void release() {
    std::lock_guard<std::mutex> l(mu);
    released = true;
    cv.notify_all();
  }
  std::mutex mu;
  std::condition_variable cv;
  bool released = false;
  HttpReceiver receiver;
};

}  // namespace

TEST_CASE("a hanging sms provider delays neither the email channel nor the timers") {
  Hanging sms(1000);
  HttpReceiver email([](auto&, auto&, int) {});
  Running run(
      "channels:\n"
      "  sms: {provider: http, url: \"" +
      sms.receiver.url() +
      "\", timeout: 30s}\n"
      "  email: {provider: http, url: \"" +
      email.url() + "\"}\n");
  run.sign_up(3);
  // All three journeys wait 1 s after their sms, fire their timers and send
  // their email while the sms provider still holds its first call.
  REQUIRE(eventually([&] { return email.count() == 3; }));
  CHECK(run.timers_fired() == 3);
  CHECK(sms.receiver.count() == 1);  // concurrency 1: one call, hanging
  CHECK(all_status(run.of_channel("email"), DeliveryStatus::kSent, 3));
  CHECK(all_status(run.of_channel("sms"), DeliveryStatus::kPending, 3));
  const std::string metrics = run.engine->prometheus_metrics();
  CHECK(metrics.find("trellis_delivery_in_flight{channel=\"sms\"} 3") != std::string::npos);

  // stop() cuts the hanging call short; it is not a failed attempt.
  run.engine->stop();
  for (const DeliveryRecord& d : run.of_channel("sms")) CHECK(d.attempts == 0);
}

TEST_CASE("429 with Retry-After: 2 is retried no earlier than 2 s later") {
  HttpReceiver sms([](auto&, httplib::Response& res, int index) {
    if (index == 0) {
      res.status = 429;
      res.set_header("Retry-After", "2");
    }
  });
  Running run("channels:\n  sms: {provider: http, url: \"" + sms.url() +
              "\"}\n"
              "  email: {provider: file}\n");
  run.sign_up(1);
  REQUIRE(eventually([&] { return all_status(run.of_channel("sms"), DeliveryStatus::kSent, 1); }));
  const auto got = sms.received();
  REQUIRE(got.size() == 2);
  CHECK(got[1].at - got[0].at >= std::chrono::milliseconds(2000));
  CHECK(got[0].idempotency_key == got[1].idempotency_key);
  CHECK(run.of_channel("sms")[0].attempts == 1);
}

TEST_CASE(
    "the circuit opens after N failures, waiting deliveries keep their attempts, a probe closes "
    "it") {
  std::atomic<bool> saw_open{false};
  HttpReceiver sms([](auto&, httplib::Response& res, int index) {
    // Two failures open the circuit; the first probe fails too; then healthy.
    if (index < 3) res.status = 503;
  });
  Running run(
      "channels:\n"
      "  sms: {provider: http, url: \"" +
      sms.url() +
      "\", "
      "retry: {max_attempts: 20, backoff: 10ms, max_backoff: 20ms}, "
      "circuit: {failures: 2, open: 300ms}}\n");
  run.sign_up(5);
  REQUIRE(eventually([&] {
    if (run.engine->prometheus_metrics().find("trellis_delivery_circuit_open{channel=\"sms\"} 1") !=
        std::string::npos)
      saw_open = true;
    return all_status(run.of_channel("sms"), DeliveryStatus::kSent, 5);
  }));
  CHECK(saw_open);
  // Three failed calls, five good ones: nobody was called while the circuit was open.
  CHECK(sms.count() == 8);
  int attempts = 0;
  for (const DeliveryRecord& d : run.of_channel("sms")) attempts += d.attempts;
  CHECK(attempts == 3);
  CHECK(run.engine->prometheus_metrics().find("trellis_delivery_circuit_open{channel=\"sms\"} 0") !=
        std::string::npos);
}

TEST_CASE("a delivery becomes a dead letter after max_attempts, a 4xx at once") {
  HttpReceiver failing([](auto&, httplib::Response& res, int) { res.status = 500; });
  HttpReceiver refusing([](auto&, httplib::Response& res, int) { res.status = 422; });
  Running run(
      "channels:\n"
      "  sms: {provider: http, url: \"" +
      failing.url() +
      "\", "
      "retry: {max_attempts: 3, backoff: 10ms, max_backoff: 10ms}, circuit: {failures: 100}}\n"
      "  email: {provider: http, url: \"" +
      refusing.url() + "\"}\n");
  run.sign_up(1);
  REQUIRE(eventually([&] {
    return all_status(run.of_channel("sms"), DeliveryStatus::kDead, 1) &&
           all_status(run.of_channel("email"), DeliveryStatus::kDead, 1);
  }));
  CHECK(failing.count() == 3);
  CHECK(run.of_channel("sms")[0].attempts == 3);
  CHECK(run.of_channel("sms")[0].last_error == "http: HTTP 500");
  CHECK(refusing.count() == 1);
  CHECK(run.of_channel("email")[0].attempts == 1);
  std::lock_guard<std::mutex> l(run.observed.mu);
  CHECK(std::count(run.observed.outcomes.begin(), run.observed.outcomes.end(), "dead") == 2);
  CHECK(std::count(run.observed.outcomes.begin(), run.observed.outcomes.end(), "retry") == 2);
}

TEST_CASE("a webhook to an internal target is a dead letter at once, unless its host is allowed") {
  const char* webhook_flow = R"(flow: hello
trigger: { event: signup }
start: hook
nodes:
  hook: { type: webhook, url: "{{user.hook}}", body: "{}", next: done }
  done: { type: exit }
)";
  HttpReceiver receiver([](auto&, auto&, int) {});
  for (bool allowed : {false, true}) {
    Running run("channels: {webhook: {provider: http}}\n" +
                    std::string(allowed ? "webhooks: {allow_hosts: [127.0.0.1]}\n" : ""),
                "file", webhook_flow);
    REQUIRE(run.engine->put_profile("u0", R"({"hook": ")" + receiver.url("/hook") + R"("})").ok());
    Event e;
    e.type = "signup";
    e.user_id = "u0";
    e.id = "signup-u0";
    REQUIRE(run.engine->ingest({e}).ok());
    const DeliveryStatus expected = allowed ? DeliveryStatus::kSent : DeliveryStatus::kDead;
    REQUIRE(eventually([&] { return all_status(run.of_channel("webhook"), expected, 1); }));
    if (!allowed) {
      const DeliveryRecord refused = run.of_channel("webhook")[0];
      CHECK(refused.attempts == 1);  // never retried
      CHECK(refused.last_error.find("webhook: refused to send to loopback address 127.0.0.1") == 0);
      CHECK(receiver.count() == 0);
    }
  }
  CHECK(receiver.count() == 1);
}

TEST_CASE("a secret a provider echoes stays out of the store, the observers and /metrics") {
  ::setenv("TRELLIS_TEST_DISPATCH_TOKEN", "very-secret-token-77", 1);
  HttpReceiver echoing([](const httplib::Request& req, httplib::Response& res, int) {
    res.status = 401;
    res.body = "rejected " + req.get_header_value("Authorization");
  });
  Running run(
      "channels:\n"
      "  sms: {provider: http, url: \"" +
      echoing.url() +
      "\", "
      "headers: {Authorization: \"Bearer ${TRELLIS_TEST_DISPATCH_TOKEN}\"}}\n");
  run.sign_up(1);
  REQUIRE(eventually([&] { return all_status(run.of_channel("sms"), DeliveryStatus::kDead, 1); }));
  REQUIRE(echoing.received()[0].authorization == "Bearer very-secret-token-77");
  const std::string error = run.of_channel("sms")[0].last_error;
  CHECK(error.find("rejected Bearer [redacted]") != std::string::npos);
  CHECK(run.engine->prometheus_metrics().find("very-secret") == std::string::npos);
  std::lock_guard<std::mutex> l(run.observed.mu);
  for (const std::string& e : run.observed.errors)
    CHECK(e.find("very-secret") == std::string::npos);
}

TEST_CASE("channels sharing a file share one writer, unconfigured channels use the default") {
  TempDir files;
  const std::string shared = files.file("shared.jsonl");
  Running run("channels:\n  sms: {provider: file, path: \"" + shared +
              "\"}\n"
              "  email: {provider: file, path: \"" +
              shared + "\"}\n");
  run.sign_up(2);
  REQUIRE(eventually([&] {
    return all_status(run.of_channel("sms"), DeliveryStatus::kSent, 2) &&
           all_status(run.of_channel("email"), DeliveryStatus::kSent, 2);
  }));
  std::ifstream in(shared);
  int lines = 0;
  for (std::string line; std::getline(in, line);) ++lines;
  CHECK(lines == 4);
}

TEST_CASE("effective channels: configured ones, then the default under every other node channel") {
  auto loaded = delivery::parse_delivery_config(
      "channels:\n  sms: {provider: http, url: \"http://127.0.0.1:9/x\"}\n", "t.yaml");
  REQUIRE(loaded.ok());
  delivery::ChannelConfig fallback;
  fallback.provider = "file";
  auto channels = delivery::effective_channels(&loaded.config, fallback);
  std::vector<std::string> names;
  for (const auto& c : channels) names.push_back(c.name + "=" + c.provider);
  CHECK(names == std::vector<std::string>{"sms=http", "email=file", "webhook=file", "coupon=file"});
  delivery::DeliveryConfig rules_only;  // as code builds it: quiet hours, no provider
  rules_only.channels["email"].name = "email";
  auto with_default = delivery::effective_channels(&rules_only, fallback);
  REQUIRE(with_default[0].name == "email");
  CHECK(with_default[0].provider == "file");
  delivery::RetryPolicy policy{8, 1000, 3600000};
  CHECK(delivery::backoff_delay(policy, 1, 0.999) == 999);
  CHECK(delivery::backoff_delay(policy, 3, 0.5) == 2000);
  CHECK(delivery::backoff_delay(policy, 30, 0.999) == 3596400);
  CHECK(delivery::backoff_delay(policy, 2, 0) == 0);
}

TEST_CASE("consent withdrawn after the node ran: the worker records the delivery as suppressed") {
  HttpReceiver sms([](auto&, auto&, int) {});
  TempDir dir;
  EngineOptions options;
  options.store = trellis::runtime::store_factory(dir.file("t.db")).value();
  options.parse_flow = testing::parse_stored_flow;
  options.deliveries_path = dir.file("deliveries.jsonl");
  auto loaded = delivery::parse_delivery_config(
      "channels:\n  sms: {provider: http, url: \"" + sms.url() + "\"}\n", "trellis.yaml");
  REQUIRE(loaded.ok());
  options.delivery = std::make_shared<delivery::DeliveryConfig>(loaded.config);
  std::vector<std::string> outcomes;
  options.on_delivery = [&](const DeliveryRecord&, const std::string& outcome, const std::string&) {
    outcomes.push_back(outcome);
  };
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  std::ofstream(dir.file("hello.yaml")) << kFlow;
  auto flow = testing::load_checked_flow(dir.file("hello.yaml"));
  REQUIRE(flow.ok());
  REQUIRE(engine.value()->deploy(flow->flow, flow->source).ok());
  REQUIRE(engine.value()->put_profile("u1", R"({"name": "Ana", "phone": "+47"})").ok());
  Event e;
  e.type = "signup";
  e.user_id = "u1";
  REQUIRE(engine.value()->ingest({e}).ok());
  // The sms is pending; the user unsubscribes before any worker takes it.
  REQUIRE(engine.value()->set_consent("u1", {{"sms", false}}, "api").ok());
  engine.value()->start();
  std::vector<DeliveryRecord> d;
  REQUIRE(eventually([&] {
    d = engine.value()->deliveries("u1", "");
    return !d.empty() && d[0].status == DeliveryStatus::kSuppressed;
  }));
  engine.value()->stop();
  CHECK(sms.count() == 0);
  CHECK_FALSE(d[0].last_error.empty());
  CHECK(outcomes == std::vector<std::string>{"suppressed"});
}

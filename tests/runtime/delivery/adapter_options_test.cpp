// The engine's adapter options (`serve --adapter file|webhook`) on real parts:
// a JSON-lines file, and a webhook receiver on 127.0.0.1 (cpp-httplib) that
// fails on purpose, through Engine::dispatch_deliveries() on a virtual clock.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <mutex>
#include <thread>

#include "flow_loader.h"
#include "runtime/delivery/provider.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

DeliveryRecord make_delivery(const std::string& key) {
  DeliveryRecord d;
  d.id = 1;
  d.key = key;
  d.channel = "sms";
  d.user_id = "u1";
  d.flow = "f";
  d.flow_version = 1;
  d.node = "n";
  d.at = 1795428000000LL;
  d.to = "+47";
  d.body = "hi";
  return d;
}

// A receiver that answers `fail_first` requests with 503, then 200.
struct Receiver {
  explicit Receiver(int fail_first) : fail_first_(fail_first) {
    server.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> l(mu);
      keys.push_back(req.get_header_value("Idempotency-Key"));
      bodies.push_back(req.body);
      res.status = static_cast<int>(keys.size()) <= fail_first_ ? 503 : 200;
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    for (int i = 0; i < 500 && !server.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~Receiver() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port) + "/hook"; }

  httplib::Server server;
  std::thread thread;
  int port = 0;
  std::mutex mu;
  std::vector<std::string> keys, bodies;

 private:
  int fail_first_;
};

const char* kSmsFlow = R"(flow: hello
trigger: { event: signup }
start: hi
nodes:
  hi: { type: sms, text: "Welcome {{user.name}}", next: done }
  done: { type: exit }
)";

std::unique_ptr<Engine> webhook_engine(TempDir& dir, VirtualClock& clock, const std::string& url,
                                       int max_attempts) {
  EngineOptions options;
  options.store = trellis::runtime::store_factory(dir.file("t.db")).value();
  options.clock = &clock;
  options.parse_flow = testing::parse_stored_flow;
  options.adapter = "webhook";
  options.webhook_url = url;
  options.webhook_max_attempts = max_attempts;
  options.webhook_retry_base_ms = 1000;
  options.webhook_timeout_ms = 2000;
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  std::ofstream(dir.file("hello.yaml")) << kSmsFlow;
  auto flow = testing::load_checked_flow(dir.file("hello.yaml"));
  REQUIRE(flow.ok());
  REQUIRE(engine.value()->deploy(flow->flow, flow->source).ok());
  REQUIRE(engine.value()->put_profile("u1", R"({"name": "Ana", "phone": "+4712345678"})").ok());
  Event e;
  e.type = "signup";
  e.user_id = "u1";
  REQUIRE(engine.value()->ingest({e}).ok());
  return std::move(engine.value());
}

}  // namespace

TEST_CASE("the file provider repairs a torn line and skips keys already written") {
  TempDir dir;
  const std::string path = dir.file("out.jsonl");
  std::ofstream(path) << delivery::delivery_json(make_delivery("1:n:1"))
                      << "\n{\"id\":2,\"key\":\"2:n";
  delivery::ChannelConfig channel;
  channel.name = "sms";
  channel.provider = "file";
  delivery::ProviderContext context(path);
  auto factory = delivery::open_provider(channel, context);
  REQUIRE(factory.ok());
  auto provider = factory.value()();
  REQUIRE(provider->send(make_delivery("1:n:1")).is_ok());  // written before the "crash"
  REQUIRE(provider->send(make_delivery("2:n:1")).is_ok());
  REQUIRE(provider->flush().ok());
  auto lines = lines_of(path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find("\"key\":\"1:n:1\"") != std::string::npos);
  CHECK(lines[1].find("\"key\":\"2:n:1\"") != std::string::npos);
  CHECK(lines[1].find("\"at\":\"2026-11-23T10:00:00.000Z\"") != std::string::npos);
}

TEST_CASE("webhook deliveries retry with jittered back-off under one Idempotency-Key") {
  TempDir dir;
  Receiver receiver(2);
  VirtualClock clock(1767225600000LL);
  auto engine = webhook_engine(dir, clock, receiver.url(), 5);
  CHECK(engine->dispatch_deliveries() == 0);  // 503
  auto d = engine->deliveries("u1", "");
  REQUIRE(d.size() == 1);
  // Full jitter: the next attempt somewhere in the first back-off (1 s).
  CHECK(d[0].next_attempt_at >= clock.now_ms());
  CHECK(d[0].next_attempt_at <= clock.now_ms() + 1000);
  clock.advance_ms(1000);
  CHECK(engine->dispatch_deliveries() == 0);  // 503, the next within 2 s
  d = engine->deliveries("u1", "");
  CHECK(d[0].next_attempt_at <= clock.now_ms() + 2000);
  clock.advance_ms(2000);
  CHECK(engine->dispatch_deliveries() == 1);  // 200
  REQUIRE(receiver.keys.size() == 3);
  CHECK(receiver.keys[0] == receiver.keys[2]);
  CHECK(receiver.keys[0].find(":hi:1") != std::string::npos);
  CHECK(receiver.bodies[2].find("\"body\":\"Welcome Ana\"") != std::string::npos);
  d = engine->deliveries("u1", "");
  REQUIRE(d.size() == 1);
  CHECK(d[0].status == DeliveryStatus::kSent);
  CHECK(d[0].attempts == 2);
}

TEST_CASE("a webhook delivery becomes a dead letter after N failed tries, durably") {
  TempDir dir;
  Receiver receiver(1000);
  VirtualClock clock(1767225600000LL);
  {
    auto engine = webhook_engine(dir, clock, receiver.url(), 3);
    engine->dispatch_deliveries();
    clock.advance_ms(1000);
    engine->dispatch_deliveries();
  }
  // Attempts survive a restart; the third is the last.
  EngineOptions options;
  options.store = trellis::runtime::store_factory(dir.file("t.db")).value();
  options.clock = &clock;
  options.parse_flow = testing::parse_stored_flow;
  options.adapter = "webhook";
  options.webhook_url = receiver.url();
  options.webhook_max_attempts = 3;
  options.webhook_retry_base_ms = 1000;
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  clock.advance_ms(2000);
  engine.value()->dispatch_deliveries();
  clock.advance_ms(3'600'000);
  engine.value()->dispatch_deliveries();
  CHECK(receiver.keys.size() == 3);
  auto d = engine.value()->deliveries("u1", "");
  REQUIRE(d.size() == 1);
  CHECK(d[0].status == DeliveryStatus::kDead);
  CHECK(d[0].attempts == 3);
  CHECK(d[0].last_error == "http: HTTP 503");
}

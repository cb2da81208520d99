// The Redis Streams consumer against a real redis-server on a free loopback
// port, with a recording sink (the engine-backed sink is tested in
// serve_test.cpp): ack after apply, dead letters, reclaiming pending entries.
#include "api/redis_consumer.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/api/test_support.h"

namespace api = trellis::api;
using api::testing::RedisServer;

namespace {

// Applies JSON payloads; "poison" or non-JSON payloads are poison; fails with
// kRetry while `fail_next` is positive.
class RecordingSink : public api::EventSink {
 public:
  std::vector<api::SinkOutcome> apply(const std::vector<api::StreamMessage>& messages) override {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<api::SinkOutcome> out;
    bool fail = fail_next > 0;
    if (fail) --fail_next;
    for (const auto& m : messages) {
      if (fail) {
        out.push_back({api::SinkVerdict::kRetry, "store busy"});
      } else if (!nlohmann::json::accept(m.payload)) {
        out.push_back({api::SinkVerdict::kPoison, "not JSON"});
      } else {
        applied.push_back(m.payload);
        sources.push_back(m.source_id);
        out.push_back({});
      }
    }
    return out;
  }
  std::mutex mu;
  std::vector<std::string> applied;
  std::vector<std::string> sources;
  int fail_next = 0;
};

struct Fixture {
  Fixture() : log(log_text) {
    options.url = redis.url();
    options.stream = "events";
    options.group = "g";
    options.consumer = "c1";
    options.block_ms = 50;
    options.claim_idle_ms = 0;
    options.retry_pause_ms = 50;
  }
  std::string add(const std::string& payload) {
    return redis.command({"XADD", "events", "*", "event", payload})[0];
  }
  std::string pending_count() { return redis.command({"XPENDING", "events", "g"})[0]; }

  RedisServer redis;
  std::ostringstream log_text;
  api::MetricsRegistry metrics;
  api::JsonLog log;
  api::RedisOptions options;
  RecordingSink sink;
};

// Polls until `n` messages were handled, at most 50 rounds.
void drain(api::RedisConsumer& consumer, size_t n) {
  size_t total = 0;
  for (int i = 0; i < 50 && total < n; ++i) {
    auto r = consumer.poll_once();
    if (r.ok()) total += *r;
  }
  REQUIRE(total == n);
}

}  // namespace

TEST_CASE("redis URLs parse into host, port, db and password") {
  auto a = api::parse_redis_url("redis://127.0.0.1:6380/2");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 6380);
  CHECK(a->db == 2);
  auto b = api::parse_redis_url("redis://:pw@localhost");
  REQUIRE(b.ok());
  CHECK(b->password == "pw");
  CHECK(b->port == 6379);
  CHECK_FALSE(api::parse_redis_url("http://x").ok());
  CHECK_FALSE(api::parse_redis_url("redis://x:notaport").ok());
}

TEST_CASE("messages are applied in order and acked after the sink commits") {
  Fixture f;
  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  std::string id1 = f.add(R"({"n":1})");
  f.add(R"({"n":2})");
  f.add(R"([{"n":3},{"n":4}])");
  drain(consumer, 3);
  CHECK(f.sink.applied ==
        std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"([{"n":3},{"n":4}])"});
  CHECK(f.sink.sources[0] == "events/" + id1);
  CHECK(f.pending_count() == "0");
}

TEST_CASE("a poison message goes to the dead-letter stream and ingestion goes on") {
  Fixture f;
  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  f.add(R"({"n":1})");
  std::string poison_id = f.add("{this is not json");
  f.redis.command({"XADD", "events", "*", "wrong", "a", "fields", "b"});
  f.add(R"({"n":2})");
  drain(consumer, 4);
  CHECK(f.sink.applied == std::vector<std::string>{R"({"n":1})", R"({"n":2})"});
  CHECK(f.pending_count() == "0");
  auto dead = f.redis.command({"XRANGE", "events:dead", "-", "+"});
  // Each entry: [id, its original fields..., error, msg, source_id, id, source_stream, name].
  REQUIRE(dead.size() == 20);
  CHECK(dead[1] == "event");
  CHECK(dead[2] == "{this is not json");
  CHECK(dead[4] == "not JSON");
  CHECK(dead[6] == poison_id);
  // A message without `event` keeps the fields it was written with.
  CHECK(std::vector<std::string>(dead.begin() + 10, dead.begin() + 14) ==
        std::vector<std::string>{"wrong", "a", "fields", "b"});
  CHECK(dead[14] == "error");
  CHECK(dead[15] == "message has no `event` field");
  CHECK(f.metrics.render().find(R"(trellis_redis_messages_total{outcome="dead_letter"} 2)") !=
        std::string::npos);
}

TEST_CASE("entries a crashed consumer left pending are reclaimed (XAUTOCLAIM)") {
  Fixture f;
  // Creates the group, then another consumer reads two entries and dies before XACK.
  {
    api::RedisConsumer setup(f.options, f.sink, f.metrics, f.log);
    REQUIRE(setup.connect().ok());
  }
  f.add(R"({"n":1})");
  f.add(R"({"n":2})");
  auto taken = f.redis.command(
      {"XREADGROUP", "GROUP", "g", "crashed", "COUNT", "10", "STREAMS", "events", ">"});
  REQUIRE(taken.size() > 2);
  REQUIRE(f.pending_count() == "2");

  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  drain(consumer, 2);
  CHECK(f.sink.applied == std::vector<std::string>{R"({"n":1})", R"({"n":2})"});
  CHECK(f.pending_count() == "0");
  CHECK(f.metrics.render().find("trellis_redis_reclaimed_total 2") != std::string::npos);
}

TEST_CASE("a restarted consumer re-reads its own pending entries first") {
  Fixture f;
  f.options.claim_idle_ms = 60000;  // only the own-pending path may pick them up
  {
    api::RedisConsumer setup(f.options, f.sink, f.metrics, f.log);
    REQUIRE(setup.connect().ok());
  }
  f.add(R"({"n":1})");
  f.redis.command({"XREADGROUP", "GROUP", "g", "c1", "COUNT", "10", "STREAMS", "events", ">"});
  REQUIRE(f.pending_count() == "1");
  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  drain(consumer, 1);
  CHECK(f.sink.applied == std::vector<std::string>{R"({"n":1})"});
  CHECK(f.pending_count() == "0");
}

TEST_CASE("a transient sink failure leaves the batch pending and it is retried") {
  Fixture f;
  f.sink.fail_next = 1;
  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  f.add(R"({"n":1})");
  auto first = consumer.poll_once();
  for (int i = 0; i < 5 && first.ok() && *first == 0; ++i) first = consumer.poll_once();
  CHECK_FALSE(first.ok());  // the retry is reported
  CHECK(f.pending_count() == "1");
  drain(consumer, 1);
  CHECK(f.sink.applied == std::vector<std::string>{R"({"n":1})"});
  CHECK(f.pending_count() == "0");
}

TEST_CASE("run() consumes in the background and stop() ends it promptly") {
  Fixture f;
  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  std::thread t([&] { consumer.run(); });
  for (int i = 0; i < 20; ++i) f.add(R"({"n":)" + std::to_string(i) + "}");
  for (int i = 0; i < 200; ++i) {
    {
      std::lock_guard<std::mutex> lock(f.sink.mu);
      if (f.sink.applied.size() == 20) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  consumer.stop();
  t.join();
  CHECK(f.sink.applied.size() == 20);
  CHECK(f.pending_count() == "0");
}

TEST_CASE("connect() reports an unreachable server") {
  std::ostringstream text;
  api::JsonLog log(text);
  api::MetricsRegistry metrics;
  RecordingSink sink;
  api::RedisOptions options;
  options.url = "redis://127.0.0.1:" + std::to_string(api::testing::free_port());
  api::RedisConsumer consumer(options, sink, metrics, log);
  CHECK_FALSE(consumer.connect().ok());
}

TEST_CASE("an entry that stopped every consumer reading it is dead-lettered, not read for ever") {
  Fixture f;
  f.options.max_deliveries = 3;
  {
    api::RedisConsumer creates_group(f.options, f.sink, f.metrics, f.log);
    REQUIRE(creates_group.connect().ok());
  }
  std::string id = f.add(R"({"n":1})");
  // Read once, then re-read at three starts that each died before the ack.
  f.redis.command({"XREADGROUP", "GROUP", "g", "c1", "STREAMS", "events", ">"});
  for (int i = 0; i < 3; ++i)
    f.redis.command({"XREADGROUP", "GROUP", "g", "c1", "STREAMS", "events", "0"});
  f.add(R"({"n":2})");

  api::RedisConsumer consumer(f.options, f.sink, f.metrics, f.log);
  REQUIRE(consumer.connect().ok());
  drain(consumer, 2);
  CHECK(f.sink.applied == std::vector<std::string>{R"({"n":2})"});
  auto dead = f.redis.command({"XRANGE", "events:dead", "-", "+"});
  REQUIRE(dead.size() == 9);
  CHECK(dead[2] == R"({"n":1})");
  CHECK(dead[4] == "read 5 times without being acknowledged: handling it stopped every consumer");
  CHECK(dead[6] == id);
  CHECK(f.pending_count() == "0");
}

// Behavioural counters on ingest (docs/expressions.md#behaviour), through the
// engine on a real SQLite file: only what a deployed flow reads is counted,
// from its deployment on; a duplicate counts once; export shows the counters
// and erasure removes them.
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
constexpr TimeMs kDayMs = 86'400'000;
constexpr int64_t kDay0 = kT0 / kDayMs;

const char* kExamFlow = R"(flow: exam
trigger: { event: product_viewed, when: 'count("product_viewed", 30d, where: event.category == "exam") >= 2' }
start: say
nodes:
  say: { type: sms, text: "Exam time", next: done }
  done: { type: exit }
)";

const char* kPaidFlow = R"(flow: paid
trigger: { event: app_opened, when: 'now - last_seen("order_paid") < 7d' }
start: say
nodes:
  say: { type: sms, text: "Thanks for paying", next: done }
  done: { type: exit }
)";

struct Fixture {
  TempDir dir;
  VirtualClock clock{kT0};
  std::unique_ptr<Engine> engine;

  Fixture() {
    EngineOptions options;
    options.store = trellis::runtime::store_factory(dir.file("trellis.db")).value();
    options.clock = &clock;
    options.parse_flow = testing::parse_stored_flow;
    options.adapter = "file";
    options.deliveries_path = dir.file("deliveries.jsonl");
    auto opened = Engine::open(options);
    REQUIRE(opened.ok());
    engine = std::move(*opened);
  }

  void deploy(const std::string& name, const char* yaml) {
    const std::string path = dir.file(name + ".yaml");
    std::ofstream(path) << yaml;
    auto loaded = testing::load_checked_flow(path);
    REQUIRE(loaded.ok());
    REQUIRE(engine->deploy(loaded->flow, loaded->source).ok());
  }

  void send(const std::string& type, const std::string& user, const std::string& properties,
            const std::string& id = "", std::optional<TimeMs> time = std::nullopt) {
    Event e;
    e.type = type;
    e.user_id = user;
    e.id = id;
    e.time = time;
    e.properties_json = properties;
    REQUIRE(engine->ingest({e}).ok());
  }

  int64_t bucket(const std::string& user, const std::string& key, int64_t day) {
    for (const auto& b : engine->export_user(user).behaviour.buckets)
      if (b.key == key && b.day == day) return b.count;
    return 0;
  }
};

const std::string kExamKey = "product_viewed where (== event.category \"exam\")";

}  // namespace

TEST_CASE("nothing is counted until a flow that reads the counter is deployed") {
  Fixture f;
  f.send("product_viewed", "u1", R"({"category":"exam"})");
  CHECK(f.engine->export_user("u1").behaviour.buckets.empty());
  f.deploy("exam", kExamFlow);
  f.send("product_viewed", "u1", R"({"category":"exam"})");   // the first counted
  f.send("product_viewed", "u1", R"({"category":"games"})");  // filtered out
  CHECK(f.bucket("u1", kExamKey, kDay0) == 1);
  CHECK(f.engine->stats("exam")->journeys == 0);
  f.send("product_viewed", "u1", R"({"category":"exam"})");
  CHECK(f.bucket("u1", kExamKey, kDay0) == 2);
  CHECK(f.engine->stats("exam")->journeys == 1);  // the view counted before `when` read it
  // No last_seen is kept when no flow reads it.
  CHECK(f.engine->export_user("u1").behaviour.last_seen.empty());
}

TEST_CASE("a redelivered event counts once and an event older than the window not at all") {
  Fixture f;
  f.deploy("exam", kExamFlow);
  f.send("product_viewed", "u1", R"({"category":"exam"})", "v1");
  f.send("product_viewed", "u1", R"({"category":"exam"})", "v1");
  CHECK(f.bucket("u1", kExamKey, kDay0) == 1);
  CHECK(f.engine->stats("exam")->journeys == 0);
  f.send("product_viewed", "u1", R"({"category":"exam"})", "v-old", kT0 - 40 * kDayMs);
  CHECK(f.engine->export_user("u1").behaviour.buckets.size() == 1);
  // An event dated 10 days back lands on its own day.
  f.send("product_viewed", "u1", R"({"category":"exam"})", "v2", kT0 - 10 * kDayMs);
  CHECK(f.bucket("u1", kExamKey, kDay0 - 10) == 1);
  CHECK(f.engine->stats("exam")->journeys == 1);
}

TEST_CASE("last_seen is kept for the types a flow reads and is exported and erased with the user") {
  Fixture f;
  f.deploy("paid", kPaidFlow);
  f.send("order_paid", "u1", "{}");
  f.clock.set_ms(kT0 + 3 * kDayMs);
  f.send("app_opened", "u1", "{}");
  f.send("app_opened", "u2", "{}");  // never paid: null, so `when` is false
  CHECK(f.engine->stats("paid")->journeys == 1);
  UserExport held = f.engine->export_user("u1");
  REQUIRE(held.behaviour.last_seen.size() == 1);
  CHECK(held.behaviour.last_seen[0].event_type == "order_paid");
  CHECK(held.behaviour.last_seen[0].at == kT0);
  CHECK(held.held());

  auto erased = f.engine->erase_user("u1");
  REQUIRE(erased.ok());
  CHECK(f.engine->export_user("u1").behaviour.last_seen.empty());
  // Erased: a later app_opened finds no payment.
  f.send("app_opened", "u1", "{}");
  CHECK(f.engine->stats("paid")->journeys == 1);
}

TEST_CASE("a counter read only by the goal is counted, and the goal's where and value read it") {
  Fixture f;
  f.deploy("repeat", R"(flow: repeat
trigger: { event: signup }
goal: { event: order_paid, where: 'count("order_paid", 30d) >= 2', within: 30d, value: 'count("order_paid", 30d) * 10' }
start: say
nodes:
  say: { type: sms, text: "Welcome", next: done }
  done: { type: exit }
)");
  f.send("signup", "u1", "{}");
  f.send("order_paid", "u1", "{}");  // the first order: count 1, no conversion
  CHECK(f.engine->stats("repeat")->conversions == 0);
  REQUIRE(f.engine->export_user("u1").behaviour.buckets.size() == 1);
  CHECK(f.engine->export_user("u1").behaviour.buckets[0].count == 1);
  f.send("order_paid", "u1", "{}");  // the second: count 2 (this one included)
  CHECK(f.engine->stats("repeat")->conversions == 1);
  JourneyQuery q;
  q.flow = "repeat";
  auto journeys = f.engine->flow_journeys(q);
  REQUIRE(journeys.ok());
  REQUIRE(journeys.value().size() == 1);
  CHECK(journeys.value()[0].revenue == std::optional<double>(20.0));
}

// Erasure and export (docs/security.md#erasure) on a real SQLite file: what
// the store held about a user is exported whole, then erased, down to the
// bytes of the database file, while the flow's counts stay as they were.
#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>

#include "flow_loader.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

constexpr TimeMs kT0 = 1767225600000LL;

const char* kThanksFlow = R"(flow: thanks
trigger: { event: order_paid }
start: say
nodes:
  say: { type: sms, text: "Thanks {{user.name}} for card {{event.card}}", next: done }
  done: { type: exit }
)";

const char* kWaitFlow = R"(flow: waiter
trigger: { event: add_to_cart }
start: w
nodes:
  w: { type: wait, for: 1h, next: hello }
  hello: { type: sms, text: "Still there, {{user.name}}?", next: done }
  done: { type: exit }
)";

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void deploy(Engine& engine, TempDir& dir, const std::string& name, const char* yaml) {
  const std::string path = dir.file(name + ".yaml");
  std::ofstream(path) << yaml;
  auto loaded = testing::load_checked_flow(path);
  REQUIRE(loaded.ok());
  REQUIRE(engine.deploy(loaded->flow, loaded->source).ok());
}

Event event(const std::string& type, const std::string& user, const std::string& properties) {
  Event e;
  e.type = type;
  e.user_id = user;
  e.properties_json = properties;
  return e;
}

bool same_counts(const FlowCounts& a, const FlowCounts& b) {
  if (a.journeys != b.journeys || a.conversions != b.conversions ||
      a.nodes.size() != b.nodes.size() || a.messages.size() != b.messages.size())
    return false;
  for (size_t i = 0; i < a.nodes.size(); ++i)
    if (a.nodes[i].node != b.nodes[i].node || a.nodes[i].entered != b.nodes[i].entered)
      return false;
  for (size_t i = 0; i < a.messages.size(); ++i)
    if (a.messages[i].created != b.messages[i].created || a.messages[i].sent != b.messages[i].sent)
      return false;
  return true;
}

}  // namespace

TEST_CASE(
    "a user's export holds everything and erasure leaves the counts and no byte of the user") {
  TempDir dir;
  VirtualClock clock(kT0);
  EngineOptions options;
  options.store = trellis::runtime::store_factory(dir.file("trellis.db")).value();
  options.clock = &clock;
  options.parse_flow = testing::parse_stored_flow;
  options.adapter = "file";
  options.deliveries_path = dir.file("deliveries.jsonl");
  auto opened = Engine::open(options);
  REQUIRE(opened.ok());
  std::unique_ptr<Engine> engine = std::move(*opened);
  deploy(*engine, dir, "thanks", kThanksFlow);
  deploy(*engine, dir, "waiter", kWaitFlow);

  REQUIRE(engine->put_profile("u1", R"({"name":"Zelda Quist","phone":"+4791234567"})").ok());
  REQUIRE(engine->put_profile("u2", R"({"name":"Bo","phone":"+4700000002"})").ok());
  REQUIRE(engine->set_consent("u1", {{"email", false}}, "api").ok());
  REQUIRE(engine
              ->ingest({event("order_paid", "u1", R"({"card":"4242-zz-secret"})"),
                        event("order_paid", "u2", R"({"card":"1111"})"),
                        event("add_to_cart", "u1", R"({"sku":"sku-private-77"})")})
              .ok());
  CHECK(engine->dispatch_deliveries() == 2);  // the two thanks, sent
  const FlowCounts thanks_before = engine->stats("thanks").value();

  UserExport held = engine->export_user("u1");
  REQUIRE(held.held());
  CHECK(held.profile->find("Zelda Quist") != std::string::npos);
  REQUIRE(held.consent.size() == 1);
  CHECK_FALSE(held.consent[0].subscribed);
  REQUIRE(held.journeys.size() == 2);
  CHECK(held.journeys[0].journey.trigger_event.find("4242-zz-secret") != std::string::npos);
  CHECK(held.journeys[1].journey.state == Lifecycle::kWaitingTimer);
  REQUIRE(held.deliveries.size() == 1);
  CHECK(held.deliveries[0].body == "Thanks Zelda Quist for card 4242-zz-secret");

  auto erased = engine->erase_user("u1");
  REQUIRE(erased.ok());
  CHECK(erased->held);
  CHECK(erased->journeys == 2);
  CHECK(erased->journeys_exited == 1);  // the waiting one, reason `erased`
  CHECK(erased->deliveries == 1);
  CHECK_FALSE(engine->export_user("u1").held());
  CHECK(same_counts(engine->stats("thanks").value(), thanks_before));
  CHECK(engine->stats("thanks")->messages[0].sent == 2);
  // The waiting journey exited at its wait: its timer fires nothing.
  clock.set_ms(kT0 + 2 * 3600 * 1000);
  REQUIRE(engine->fire_due_timers().ok());
  CHECK(engine->stats("waiter")->messages.empty());
  // The other user is untouched.
  CHECK(engine->export_user("u2").deliveries[0].body == "Thanks Bo for card 1111");
  CHECK(engine->erase_user("nobody")->held == false);

  engine.reset();  // closes the file: the WAL is checkpointed into it
  const std::string db = file_bytes(dir.file("trellis.db"));
  REQUIRE(db.size() > 4096);
  for (const char* secret :
       {"Zelda Quist", "4242-zz-secret", "+4791234567", "4791234567", "sku-private-77"}) {
    INFO(secret);
    CHECK(db.find(secret) == std::string::npos);
  }
  CHECK(db.find("Thanks Bo for card 1111") != std::string::npos);  // a real check: u2 is there
}

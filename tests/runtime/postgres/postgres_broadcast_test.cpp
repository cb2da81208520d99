// Two engines ("nodes") on one PostgreSQL database walking the same due
// broadcast run, as two `trellis serve` processes would: each window is
// claimed by one node (the run's row FOR UPDATE SKIP LOCKED, its users'
// locks tried, never waited for), so every user of the audience is entered
// exactly once, nobody else is, no window is skipped, and both nodes share
// the walk (docs/flows.md#broadcasts, docs/operations.md#running-several-nodes).
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "flow_loader.h"
#include "postgres/pg_cluster.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "temp_dir.h"

using namespace trellis;
using namespace trellis::runtime;

namespace {

constexpr int kProfiles = 1200;  // every third is not in the audience

// Due as soon as it is deployed (a date in the past everywhere).
const char* kSale = R"(flow: node_sale
trigger:
  schedule: "2026-01-01 00:00"
  audience: user.vip == true
start: hello
nodes:
  hello: { type: sms, text: "Sale", next: done }
  done: { type: exit }
)";

std::string profile_id(int i) {
  char id[16];
  std::snprintf(id, sizeof id, "p%05d", i);
  return id;
}

// Paced per node and walked in small windows, so that each node waits for
// tokens between windows and the other one can take the run meanwhile.
std::unique_ptr<Engine> open_node(const std::string& url) {
  EngineOptions options;
  options.store = store_factory(url).value();
  options.parse_flow = testing::parse_stored_flow;
  options.adapter = "none";
  options.broadcast_entries_per_second = 200;
  options.broadcast_window = 16;
  auto engine = Engine::open(options);
  REQUIRE(engine.ok());
  return std::move(engine.value());
}

}  // namespace

TEST_CASE("two nodes walk one broadcast: every audience user entered once, by either node",
          "[.postgres]") {
  testing::TempDir dir;
  const std::string url = testing::PgCluster::shared().fresh_url();
  std::unique_ptr<Engine> a = open_node(url), b = open_node(url);
  std::set<std::string> audience;
  for (int i = 0; i < kProfiles; ++i) {
    const bool vip = i % 3 != 2;
    if (vip) audience.insert(profile_id(i));
    REQUIRE(a->put_profile(profile_id(i), std::string(R"({"phone":"+4790000000","vip":)") +
                                              (vip ? "true" : "false") + "}")
                .ok());
  }
  const std::string path = dir.file("node_sale.yaml");
  std::ofstream(path) << kSale;
  auto loaded = testing::load_checked_flow(path);
  REQUIRE(loaded.ok());
  REQUIRE(a->deploy(loaded->flow, loaded->source).ok());
  a->start();
  b->start();

  const auto limit = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  auto run = [&] { return a->broadcasts("node_sale").at(0); };
  while (run().state != "done" && std::chrono::steady_clock::now() < limit)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  a->stop();
  b->stop();

  const BroadcastRecord done = run();
  INFO("run state " << done.state << ", entered " << done.entered << ", walked " << done.walked
                    << "; node a entered " << a->metrics().broadcast_entries << ", node b "
                    << b->metrics().broadcast_entries);
  REQUIRE(done.state == "done");
  CHECK(done.entered == static_cast<int64_t>(audience.size()));
  CHECK(done.walked == kProfiles);  // no window walked twice, none skipped
  CHECK(a->broadcasts("node_sale").size() == 1);
  // Both nodes took windows, and their entries add up to the run's.
  CHECK(a->metrics().broadcast_entries > 0);
  CHECK(b->metrics().broadcast_entries > 0);
  CHECK(a->metrics().broadcast_entries + b->metrics().broadcast_entries == done.entered);
  int entered_users = 0;
  for (int i = 0; i < kProfiles; ++i) {
    const std::string user = profile_id(i);
    const size_t journeys = a->journeys_of_user(user).size();
    INFO(user);
    CHECK(journeys == (audience.count(user) ? 1u : 0u));
    entered_users += journeys > 0;
  }
  CHECK(entered_users == static_cast<int>(audience.size()));
}

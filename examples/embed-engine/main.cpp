// Embedding the Trellis engine in a program of your own: load a flow file, deploy
// it, give users traits and a coupon pool, send events, move a virtual clock
// forward four days, firing each timer when it comes due, and print each journey's path
// with the reasons the nodes gave, then the messages the outbox holds.
//
//   embed_engine FLOW_FILE
//
// Nothing is sent: the engine runs without a dispatcher (adapter "none"), so the
// messages stay in the outbox for us to read. `trellis serve` is this same
// Engine with the system clock, a dispatcher and an HTTP API around it.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "dsl/load.h"
#include "runtime/clock.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

namespace fs = std::filesystem;
using trellis::Result;
using trellis::dsl::FlowSyntax;
using trellis::runtime::Engine;
using trellis::runtime::EngineOptions;
using trellis::runtime::Event;
using trellis::runtime::TimeMs;
using trellis::runtime::VirtualClock;

namespace {

constexpr TimeMs kHour = 3600 * 1000;

// Loads and checks a flow file; prints its diagnostics when it has errors.
std::optional<trellis::dsl::LoadResult> load_checked(const std::string& path) {
  trellis::dsl::LoadResult loaded = trellis::dsl::check_flow_file(path);
  for (const auto& d : loaded.diagnostics.items())
    std::fprintf(stderr, "%s\n", trellis::ir::render(d, loaded.source).c_str());
  if (!loaded.ok()) return std::nullopt;
  return loaded;
}

// Monday 2026-03-02, 09:00 UTC: where the virtual clock starts.
TimeMs start_time() {
  TimeMs t = 0;
  trellis::runtime::parse_rfc3339("2026-03-02T09:00:00Z", &t);
  return t;
}

Event event(std::string id, std::string type, std::string user, std::string properties) {
  Event e;
  e.id = std::move(id);
  e.type = std::move(type);
  e.user_id = std::move(user);
  e.properties_json = std::move(properties);
  return e;
}

void print_journeys(const Engine& engine, const std::string& user) {
  for (const auto& j : engine.journeys_of_user(user)) {
    std::printf("journey %lld of %s in %s v%d: %s at %s\n", static_cast<long long>(j.id),
                user.c_str(), j.flow.c_str(), j.version,
                std::string(trellis::runtime::lifecycle_name(j.state)).c_str(), j.node.c_str());
    if (auto detail = engine.journey(j.id))
      for (const auto& step : detail->steps)
        std::printf("  %s  %-12s %-18s %s\n", trellis::runtime::format_rfc3339(step.at).c_str(),
                    step.node.c_str(), step.input.c_str(), step.reason.c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: embed_engine FLOW_FILE\n");
    return 2;
  }
  auto loaded = load_checked(argv[1]);
  if (!loaded) return 1;

  // A fresh database in a temporary folder; a real program keeps its file.
  const fs::path dir = fs::temp_directory_path() / ("trellis-embed-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  VirtualClock clock(start_time());
  EngineOptions options;
  options.store = trellis::runtime::store_factory((dir / "trellis.db").string()).value();
  options.clock = &clock;
  options.adapter = "none";  // keep messages in the outbox; no provider
  // The engine stores each deployed version's text and parses it again on open.
  const FlowSyntax syntax = trellis::dsl::syntax_for_path(argv[1]).value_or(FlowSyntax::kYaml);
  options.parse_flow = [syntax](const std::string& name,
                                const std::string& source) -> Result<trellis::ir::Flow> {
    trellis::dsl::LoadResult again = trellis::dsl::load_flow_text(source, name, syntax);
    if (!again.ok()) return trellis::Error{"stored flow does not parse"};
    return *again.flow;
  };

  Result<std::unique_ptr<Engine>> opened = Engine::open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "engine: %s\n", opened.error().message.c_str());
    return 1;
  }
  Engine& engine = **opened;

  Result<int> version = engine.deploy(*loaded->flow, loaded->source);
  if (!version.ok()) {
    std::fprintf(stderr, "deploy: %s\n", version.error().message.c_str());
    return 1;
  }
  std::printf("deployed %s version %d\n", loaded->flow->name.value.c_str(), version.value());

  (void)engine.put_profile("ana", R"({"age": 34, "interests": ["education"], "paid": false,
                                      "email": "ana@example.com", "first_name": "Ana"})");
  (void)engine.put_profile("ben", R"({"age": 22, "phone": "+4700000002"})");
  (void)engine.load_coupons("SPRING20", {"SPRING-001", "SPRING-002"});

  // Both add to their carts; Ben pays an hour later, Ana never does.
  auto sent =
      engine.ingest({event("e1", "add_to_cart", "ana", R"({"cart_id": "k1", "value": 59})"),
                     event("e2", "add_to_cart", "ben", R"({"cart_id": "k2", "value": 25})")});
  if (!sent.ok()) return 1;
  std::printf("ingested: %zu accepted, %zu journeys started\n", sent->accepted,
              sent->journeys_started);
  clock.advance_ms(1 * kHour);
  (void)engine.ingest({event("e3", "order_paid", "ben", R"({"cart_id": "k2"})")});

  // Move the clock four days on, stopping at each timer's due time so it fires on
  // time (`serve` has a background loop for this; `trellis test` does the same).
  const TimeMs end = clock.now_ms() + 96 * kHour;
  size_t fired = 0;
  for (auto due = engine.next_timer_due(); due && *due <= end; due = engine.next_timer_due()) {
    clock.set_ms(*due);
    Result<size_t> n = engine.fire_due_timers();
    if (!n.ok()) return 1;
    fired += n.value();
  }
  clock.set_ms(end);
  std::printf("four days later: %zu timer(s) fired\n\n", fired);

  print_journeys(engine, "ana");
  print_journeys(engine, "ben");

  std::printf("\noutbox:\n");
  for (const auto& d : engine.deliveries("", "")) {
    std::printf("  %-6s to %-16s %s%s%s\n", d.channel.c_str(), d.to.c_str(), d.subject.c_str(),
                d.subject.empty() ? "" : " | ", d.body.c_str());
  }
  engine.stop();
  opened->reset();
  fs::remove_all(dir);
  return 0;
}

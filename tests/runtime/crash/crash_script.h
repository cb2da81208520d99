// The crash test's workload, shared by the child process (crash_child.cpp) and
// the in-process reference run: a deterministic script of ticks on a virtual
// clock, each firing due timers, ingesting a batch of events and dispatching
// deliveries to a JSON-lines file.
//
// A restarted child replays the script from the start: events it already
// applied are duplicates by id (no effect), timers that fired are gone, so it
// resumes exactly where the killed run's last commit left off.
#pragma once

#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

namespace trellis::crash {

constexpr runtime::TimeMs kStart = 1767225600000LL;  // 2026-01-01T00:00:00Z
constexpr int kTicks = 60;                           // one per virtual minute
constexpr int kUsers = 150;
constexpr int kEventsPerTick = 25;

struct Tick {
  runtime::TimeMs at = 0;
  std::vector<runtime::Event> events;
};

inline std::vector<Tick> make_script() {
  std::mt19937 rng(20261123);
  std::vector<Tick> ticks;
  int next_id = 0;
  for (int t = 0; t <= kTicks; ++t) {
    Tick tick;
    tick.at = kStart + static_cast<runtime::TimeMs>(t) * 60'000;
    // The last tick only lets the remaining timers fire.
    const int count = t == kTicks ? 0 : kEventsPerTick;
    for (int i = 0; i < count; ++i) {
      runtime::Event e;
      e.id = "ev-" + std::to_string(next_id++);
      e.user_id = "u" + std::to_string(rng() % kUsers);
      const unsigned roll = rng() % 100;
      e.type = roll < 70 ? "add_to_cart" : roll < 92 ? "order_paid" : "unsubscribe";
      e.properties_json = "{\"value\":" + std::to_string(rng() % 60) + "}";
      tick.events.push_back(std::move(e));
    }
    ticks.push_back(std::move(tick));
  }
  // The very end: an hour later, every timer is due; another hour later,
  // every message those timers produced and the caps held is released.
  ticks.push_back(Tick{kStart + (kTicks + 60) * 60'000LL, {}});
  ticks.push_back(Tick{kStart + (kTicks + 120) * 60'000LL, {}});
  return ticks;
}

// Governed delivery in the workload: caps and a short quiet window inside the
// script's hour, so that many messages are deferred and released while the
// child is being killed. `spread` false releases quiet-hours messages all at
// the window's end: the spread is derived from the delivery key, which holds
// the journey id, and PostgreSQL ids are not the same in a run restarted 25
// times (each restart takes a new block of ids) as in the reference run.
inline std::shared_ptr<const runtime::delivery::DeliveryConfig> delivery_config(
    bool spread = true) {
  auto config = std::make_shared<runtime::delivery::DeliveryConfig>();
  config->caps.push_back({"sms", 1, 10 * 60'000, "sms 1/10m", {}});
  config->caps.push_back({"", 2, 20 * 60'000, "any 2/20m", {}});
  runtime::delivery::QuietHours quiet;
  quiet.start_minute = 30;  // 00:30-00:45 UTC, released over 5 minutes
  quiet.end_minute = 45;
  quiet.spread_ms = spread ? 5 * 60'000 : 0;
  quiet.text = "00:30-00:45";
  runtime::delivery::ChannelConfig email;
  email.name = "email";
  email.quiet_hours = quiet;
  config->channels["email"] = email;
  return config;
}

inline Result<ir::Flow> parse_flow(const std::string& name, const std::string& source) {
  dsl::LoadResult r = dsl::load_flow_text(source, name + ".yaml", dsl::FlowSyntax::kYaml);
  if (!r.ok()) return Error{"flow does not load"};
  return std::move(*r.flow);
}

// Runs the script against `db` (delivering to `deliveries`). When `acked` is
// given, every event id is appended to it once ingest() has returned (durable).
// Returns 0 on success.
inline int run_script(const std::string& flow_file, const std::string& db,
                      const std::string& deliveries, const std::string& acked) {
  runtime::VirtualClock clock(kStart);
  runtime::EngineOptions options;
  options.store = trellis::runtime::store_factory(db).value();
  options.clock = &clock;
  options.parse_flow = parse_flow;
  options.adapter = "file";
  options.deliveries_path = deliveries;
  options.delivery = delivery_config(/*spread=*/db.rfind("postgres", 0) != 0);
  auto engine = runtime::Engine::open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.error().message.c_str());
    return 2;
  }
  runtime::Engine& e = *engine.value();
  dsl::LoadResult flow = dsl::load_flow_file(flow_file);
  if (!flow.ok()) return 3;
  if (!e.deploy(*flow.flow, flow.source).ok()) return 4;
  // Setup is idempotent too: profile merges and coupon loads repeat harmlessly.
  for (int u = 0; u < kUsers; ++u) {
    const std::string traits = "{\"age\":" + std::to_string(20 + u % 30) + ",\"first_name\":\"N" +
                               std::to_string(u) + "\",\"email\":\"u" + std::to_string(u) +
                               "@example.com\",\"phone\":\"+47" + std::to_string(u) + "\"}";
    if (!e.put_profile("u" + std::to_string(u), traits)) return 5;
  }
  std::vector<std::string> codes;
  for (int c = 0; c < 120; ++c) codes.push_back("C-" + std::to_string(c));
  if (!e.load_coupons("CRASH", codes).ok()) return 6;

  std::FILE* ack = acked.empty() ? nullptr : std::fopen(acked.c_str(), "a");
  for (const Tick& tick : make_script()) {
    clock.set_ms(tick.at);
    if (!e.fire_due_timers().ok()) return 7;
    if (!tick.events.empty()) {
      // Two halves per tick, so group commits and acks interleave with kills.
      const size_t half = tick.events.size() / 2;
      for (int part = 0; part < 2; ++part) {
        std::vector<runtime::Event> batch(tick.events.begin() + (part ? half : 0),
                                          part ? tick.events.end() : tick.events.begin() + half);
        auto r = e.ingest(batch);
        if (!r.ok()) return 8;
        if (ack) {
          for (const auto& ev : batch) std::fprintf(ack, "%s\n", ev.id.c_str());
          std::fflush(ack);
        }
      }
    }
    e.dispatch_deliveries();
  }
  if (ack) std::fclose(ack);
  return 0;
}

}  // namespace trellis::crash

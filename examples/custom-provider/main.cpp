// A delivery provider of your own: implement trellis::runtime::delivery::Provider
// (runtime/delivery/provider.h), register it under a name, and name it as a
// channel's `provider` in the delivery configuration. The engine then hands that
// channel's messages to it, on the channel's own worker threads under `serve`, or
// on the caller's thread with Engine::dispatch_deliveries() as here.
//
//   custom_provider FLOW_FILE CONFIG_FILE
//
// This "console" provider prints each SMS and refuses numbers it cannot reach,
// which the engine records as a dead letter without retrying.
#include <cstdio>
#include <filesystem>
#include <string>

#include <unistd.h>

#include "dsl/load.h"
#include "runtime/clock.h"
#include "runtime/delivery/provider.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"

namespace fs = std::filesystem;
namespace delivery = trellis::runtime::delivery;
using trellis::Result;
using trellis::runtime::DeliveryRecord;
using trellis::runtime::Engine;
using trellis::runtime::Event;

namespace {

// One instance per worker thread; a real provider would keep its connection here.
class ConsoleProvider final : public delivery::Provider {
 public:
  explicit ConsoleProvider(std::string sender) : sender_(std::move(sender)) {}

  delivery::SendOutcome send(const DeliveryRecord& d) override {
    // A provider's verdict is a value: ok, retry (maybe after a time it names), or
    // permanent (a dead letter at once).
    if (d.to.rfind("+000", 0) == 0) return delivery::SendOutcome::permanent("unreachable number");
    std::printf("console provider: SMS from %s to %s (key %s): %s\n", sender_.c_str(), d.to.c_str(),
                d.key.c_str(), d.body.c_str());
    std::fflush(stdout);
    return delivery::SendOutcome::ok();
  }

 private:
  std::string sender_;
};

// Called once per channel that names the provider, when the engine opens; it can
// check the channel's settings and refuse them with a message.
Result<delivery::ProviderFactory> open_console(const delivery::ChannelConfig& channel,
                                               delivery::ProviderContext&) {
  if (channel.from.empty())
    return trellis::Error{"channel " + channel.name + ": console needs 'from'"};
  const std::string sender = channel.from;
  return delivery::ProviderFactory([sender] { return std::make_unique<ConsoleProvider>(sender); });
}

Event signup(const std::string& user) {
  Event e;
  e.id = "signup-" + user;
  e.type = "signup";
  e.user_id = user;
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: custom_provider FLOW_FILE CONFIG_FILE\n");
    return 2;
  }
  // Register before the configuration is read: it must know the name.
  delivery::register_provider("console", open_console);

  delivery::LoadedConfig config = delivery::load_delivery_config(argv[2]);
  for (const auto& d : config.diagnostics.items())
    std::fprintf(stderr, "%s\n", trellis::ir::render(d, config.masked_source).c_str());
  trellis::dsl::LoadResult flow = trellis::dsl::check_flow_file(argv[1]);
  for (const auto& d : flow.diagnostics.items())
    std::fprintf(stderr, "%s\n", trellis::ir::render(d, flow.source).c_str());
  if (!config.ok() || !flow.ok()) return 1;

  const fs::path dir =
      fs::temp_directory_path() / ("trellis-provider-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  trellis::runtime::VirtualClock clock(0);
  trellis::runtime::EngineOptions options;
  options.store = trellis::runtime::store_factory((dir / "trellis.db").string()).value();
  options.clock = &clock;
  options.delivery = std::make_shared<const delivery::DeliveryConfig>(config.config);
  options.deliveries_path = (dir / "deliveries.jsonl").string();  // channels not configured
  options.parse_flow = [](const std::string& name,
                          const std::string& source) -> Result<trellis::ir::Flow> {
    auto again = trellis::dsl::load_flow_text(source, name, trellis::dsl::FlowSyntax::kYaml);
    if (!again.ok()) return trellis::Error{"stored flow does not parse"};
    return *again.flow;
  };
  Result<std::unique_ptr<Engine>> opened = Engine::open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "engine: %s\n", opened.error().message.c_str());
    return 1;
  }
  Engine& engine = **opened;
  if (!engine.deploy(*flow.flow, flow.source).ok()) return 1;

  (void)engine.put_profile("ana", R"({"first_name": "Ana", "phone": "+4700000001"})");
  (void)engine.put_profile("zed", R"({"phone": "+0000000000"})");
  if (!engine.ingest({signup("ana"), signup("zed")}).ok()) return 1;

  // The steps committed two SMS to the outbox; now hand them to the provider.
  const size_t sent = engine.dispatch_deliveries();
  std::printf("dispatched: %zu sent\n", sent);
  for (const DeliveryRecord& d : engine.deliveries("", "")) {
    std::printf("delivery %lld to %s: %s%s%s\n", static_cast<long long>(d.id), d.to.c_str(),
                trellis::runtime::delivery_status_name(d.status), d.last_error.empty() ? "" : " — ",
                d.last_error.c_str());
  }
  opened->reset();
  fs::remove_all(dir);
  return 0;
}

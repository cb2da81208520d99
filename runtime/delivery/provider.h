// Channel providers: where a channel's deliveries go (docs/delivery.md). A
// provider call returns a value, never throws: ok, retry (maybe not before a
// time the provider named) or permanent (a dead letter at once).
//
// A crash can fall between a send and the record of its outcome, so every
// provider tolerates a repeated send of the same key: the file provider skips
// keys already in its file, the http provider sends `Idempotency-Key: <key>`,
// the smtp provider derives the Message-ID from the key.
//
// Thread-safety: one Provider per worker thread (each keeps its own
// connection); a ProviderFactory may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "dsl/ir/result.h"
#include "runtime/delivery/config.h"
#include "runtime/store.h"

namespace trellis::runtime::delivery {

struct SendOutcome {
  enum class Kind { kOk, kRetry, kPermanent };
  Kind kind = Kind::kOk;
  std::string error;                     // why not ok; never holds a secret
  std::optional<Millis> retry_after_ms;  // retry: the provider's own wait (Retry-After)

  static SendOutcome ok() { return {}; }
  static SendOutcome retry(std::string error, std::optional<Millis> after = std::nullopt) {
    return {Kind::kRetry, std::move(error), after};
  }
  static SendOutcome permanent(std::string error) {
    return {Kind::kPermanent, std::move(error), std::nullopt};
  }
  bool is_ok() const { return kind == Kind::kOk; }
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual SendOutcome send(const DeliveryRecord& delivery) = 0;
  // Makes what was sent durable (the file provider fsyncs); called before the
  // deliveries are recorded as sent. An error turns them into retries.
  virtual Status flush() { return Status(); }
  // How many deliveries a worker sends between flushes: the file provider
  // batches its fsyncs, network providers flush nothing.
  virtual size_t batch_size() const { return 1; }
};

using ProviderFactory = std::function<std::unique_ptr<Provider>()>;

class FileWriter;

// What providers of several channels share: one writer per file path, the
// default file of channels that name none, and a flag that cuts calls in
// progress short when the dispatcher stops.
class ProviderContext {
 public:
  explicit ProviderContext(std::string default_path) : default_path_(std::move(default_path)) {}
  ~ProviderContext();
  // The one writer of `path` (opened on first use): repairs a torn last line.
  Result<std::shared_ptr<FileWriter>> file_writer(const std::string& path);
  const std::string& default_path() const { return default_path_; }
  std::atomic<bool>& cancel() { return cancel_; }

 private:
  std::string default_path_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<FileWriter>> writers_;
  std::atomic<bool> cancel_{false};
};

// Checks a channel's provider settings and resolves its secrets (environment
// variables) now, so a missing variable stops `serve` at start. The factory
// opens one provider per call. Errors name variables, never values.
Result<ProviderFactory> open_provider(const ChannelConfig& channel, ProviderContext& context);

// Providers a program adds to the built-in ones (file; smtp and http when it
// links trellis_delivery_network, network.h), for
// programs that embed the engine: once `name` is registered, a channel whose
// `provider` is `name` (in code, or in a configuration file the program loads)
// is opened by `open`, once per channel when the engine opens. Register before
// Engine::open and load_delivery_config. `trellis` itself registers no others, so
// its `check` and `serve` refuse such a configuration.
// examples/custom-provider shows one.
using ProviderOpener =
    std::function<Result<ProviderFactory>(const ChannelConfig& channel, ProviderContext& context)>;
void register_provider(const std::string& name, ProviderOpener open);
bool is_registered_provider(const std::string& name);

// The delivery record (docs/delivery.md#providers) as one JSON line: {id, key, channel, user_id, flow,
// flow_version, node, at, to, subject?, body}.
std::string delivery_json(const DeliveryRecord& delivery);

}  // namespace trellis::runtime::delivery

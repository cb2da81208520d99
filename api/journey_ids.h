// Public journey ids that cannot be enumerated (docs/security.md). The store
// numbers journeys 1, 2, 3, ...; the API shows `<number>-<mac>`, where mac is
// the first 64 bits of HMAC-SHA256(key, number) in hex, and accepts only ids
// whose mac matches, so knowing one id tells nothing about its neighbours.
// The key is 32 random bytes kept in the database's `meta` table, so ids stay
// valid across restarts and change only with the database.
//
// Thread-safety: immutable after open(); encode/decode from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "dsl/ir/result.h"
#include "runtime/engine.h"

namespace trellis::api {

class JourneyIds {
 public:
  // Reads the key from the engine's store, creating it on first use.
  static Result<JourneyIds> open(runtime::Engine& engine);
  explicit JourneyIds(std::string key) : key_(std::move(key)) {}

  std::string encode(int64_t id) const;
  // The store's id, or nullopt when `text` is not an id this key made.
  std::optional<int64_t> decode(const std::string& text) const;

 private:
  std::string mac(int64_t id) const;
  std::string key_;
};

}  // namespace trellis::api

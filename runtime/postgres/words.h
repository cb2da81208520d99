// The step dictionary (table step_words) that the compact step history
// (runtime/step_codec.h) refers to, shared by every node. Words are immutable
// once written, so each process caches those it has seen; a new word is
// committed at once on a connection of its own (it is harmless if the step
// that wanted it rolls back), so it never waits on another node's transaction
// longer than that one INSERT.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "runtime/postgres/connection.h"
#include "runtime/step_codec.h"

namespace trellis::runtime::postgres {

class Words final : public step_codec::Words {
 public:
  // `lookup` reads words by id; `adder` (null: a read-only view) adds new ones.
  Words(Connection& lookup, Connection* adder) : lookup_(lookup), adder_(adder) {}
  std::optional<int64_t> id_of(const std::string& text) override;
  const std::string* text_of(int64_t id) override;
  // Erasure: the word of `id` became `replacement` in the table.
  void forget(int64_t id, const std::string& replacement);

 private:
  // The dictionary stops growing here: a text it lacks is stored in the step
  // itself, as in SQLite.
  static constexpr size_t kMaxWords = 65536;
  Connection& lookup_;
  Connection* adder_;
  std::unordered_map<std::string, int64_t> ids_;
  std::unordered_map<int64_t, std::string> texts_;
};

}  // namespace trellis::runtime::postgres

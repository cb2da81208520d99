// The step dictionary (table step_words) that the compact step history
// (runtime/step_codec.h) refers to, as a reader and as the writer keep it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runtime/sqlite/statement.h"
#include "runtime/step_codec.h"

namespace trellis::runtime::sqlite {

// The dictionary of step words stops growing here; a text it lacks is then
// stored in the step itself. It bounds the memory the writer keeps for it
// (reason shapes vary with what flows print, not with journeys).
constexpr size_t kMaxStepWords = 65536;

// The step dictionary as a reader sees it: words are never changed once
// committed, so each is read once and kept (at most kMaxStepWords of them).
class ReaderWords final : public step_codec::Words {
 public:
  explicit ReaderWords(sqlite3* db) : word_(db, "SELECT text FROM step_words WHERE id = ?") {}
  std::optional<int64_t> id_of(const std::string&) override { return std::nullopt; }
  const std::string* text_of(int64_t id) override;

 private:
  Stmt word_;
  std::unordered_map<int64_t, std::string> texts_;
};

// The step dictionary as the writer keeps it: every word, both ways, loaded
// when the store opens (at most kMaxStepWords). A word added inside a
// transaction that rolls back is forgotten with it.
class WriterWords final : public step_codec::Words {
 public:
  explicit WriterWords(sqlite3* db);
  std::optional<int64_t> id_of(const std::string& text) override;
  const std::string* text_of(int64_t id) override;
  void committed() {
    added_.clear();
    forgotten_.clear();
  }
  void rolled_back();
  // Erasure: the word of `id`, which no history uses any more, becomes
  // `replacement` (the caller rewrites the row). The id is never handed out
  // again; the text, if it comes back, gets a new id.
  void forget(int64_t id, const std::string& replacement);
  // Forgets every word and reads the table again (another process added some).
  void reload();

 private:
  void remember(int64_t id, const std::string& text);
  void rename(int64_t id, const std::string& text);

  sqlite3* db_;
  Stmt insert_;
  std::unordered_map<std::string, int64_t> ids_;
  std::vector<const std::string*> texts_;                   // by id; [0] unused
  std::vector<int64_t> added_;                              // in the open transaction
  std::vector<std::pair<int64_t, std::string>> forgotten_;  // (id, text) erased in it
};

}  // namespace trellis::runtime::sqlite

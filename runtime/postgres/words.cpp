#include "runtime/postgres/words.h"

namespace trellis::runtime::postgres {

std::optional<int64_t> Words::id_of(const std::string& text) {
  auto it = ids_.find(text);
  if (it != ids_.end()) return it->second;
  if (adder_ == nullptr || ids_.size() >= kMaxWords) return std::nullopt;
  // Another node may add the same word at the same moment: the INSERT then
  // does nothing and the SELECT of a later try finds its id.
  for (int attempt = 0; attempt < 3; ++attempt) {
    Result<Rows> r = adder_->run(
        "word_add",
        "WITH added AS (INSERT INTO step_words(text) VALUES($1) ON CONFLICT(text) DO NOTHING "
        "RETURNING id) SELECT id FROM added UNION ALL SELECT id FROM step_words WHERE text = $1",
        Params().bytes(text));
    if (!r.ok()) return std::nullopt;  // stored literally instead
    if (!r.value().empty()) {
      const int64_t id = r.value().i64(0, 0);
      ids_.emplace(text, id);
      texts_.emplace(id, text);
      return id;
    }
  }
  return std::nullopt;
}

const std::string* Words::text_of(int64_t id) {
  auto it = texts_.find(id);
  if (it != texts_.end()) return &it->second;
  Result<Rows> r =
      lookup_.run("word_text", "SELECT text FROM step_words WHERE id = $1", Params().add(id));
  if (!r.ok() || r.value().empty()) return nullptr;
  const std::string text = r.value().bytes(0, 0);
  ids_.emplace(text, id);
  return &texts_.emplace(id, text).first->second;
}

void Words::forget(int64_t id, const std::string& replacement) {
  auto it = texts_.find(id);
  if (it != texts_.end()) {
    ids_.erase(it->second);
    texts_.erase(it);
  }
  ids_.emplace(replacement, id);
  texts_.emplace(id, replacement);
}

}  // namespace trellis::runtime::postgres

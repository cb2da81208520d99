#include "runtime/sqlite/step_words.h"

#include <algorithm>

namespace trellis::runtime::sqlite {

const std::string* ReaderWords::text_of(int64_t id) {
  auto it = texts_.find(id);
  if (it != texts_.end()) return &it->second;
  Use u(word_);
  u->bind(1, id);
  if (!u->step()) return nullptr;
  return &texts_.emplace(id, u->bytes(0)).first->second;
}

WriterWords::WriterWords(sqlite3* db)
    : db_(db), insert_(db, "INSERT INTO step_words(id, text) VALUES(?, ?)") {
  reload();
}

void WriterWords::reload() {
  ids_.clear();
  texts_.clear();
  added_.clear();
  Stmt all(db_, "SELECT id, text FROM step_words");
  while (all.step()) remember(all.i64(0), all.bytes(1));
}

std::optional<int64_t> WriterWords::id_of(const std::string& text) {
  auto it = ids_.find(text);
  if (it != ids_.end()) return it->second;
  if (ids_.size() >= kMaxStepWords) return std::nullopt;
  const int64_t id = static_cast<int64_t>(std::max<size_t>(texts_.size(), 1));
  Use u(insert_);
  u->bind(1, id).bind_blob(2, text);
  std::string error;
  u->step(&error);
  if (!error.empty()) return std::nullopt;  // stored literally instead
  remember(id, text);
  added_.push_back(id);
  return id;
}

const std::string* WriterWords::text_of(int64_t id) {
  return id > 0 && static_cast<size_t>(id) < texts_.size() ? texts_[static_cast<size_t>(id)]
                                                           : nullptr;
}

void WriterWords::rolled_back() {
  // Erased words come back as they were, newest change first.
  for (auto it = forgotten_.rbegin(); it != forgotten_.rend(); ++it) rename(it->first, it->second);
  forgotten_.clear();
  // Newest first, so that the ids handed out next are the same again.
  for (auto it = added_.rbegin(); it != added_.rend(); ++it) {
    ids_.erase(*texts_[static_cast<size_t>(*it)]);
    texts_.pop_back();
  }
  added_.clear();
}

void WriterWords::forget(int64_t id, const std::string& replacement) {
  const std::string* text = text_of(id);
  if (text == nullptr) return;
  forgotten_.emplace_back(id, *text);
  rename(id, replacement);
}

void WriterWords::rename(int64_t id, const std::string& text) {
  ids_.erase(*texts_[static_cast<size_t>(id)]);
  remember(id, text);
}

void WriterWords::remember(int64_t id, const std::string& text) {
  if (id <= 0) return;
  const std::string* key = &ids_.emplace(text, id).first->first;  // node-based: stable
  if (texts_.size() <= static_cast<size_t>(id)) texts_.resize(static_cast<size_t>(id) + 1);
  texts_[static_cast<size_t>(id)] = key;
}

}  // namespace trellis::runtime::sqlite

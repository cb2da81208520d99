// The SQLite store's identity and erasure writes (docs/events.md#identity,
// docs/security.md#erasure-and-export): merging an anonymous id into a user,
// and erasing a user while the counts stay. A user's behavioural counters
// follow a merge and go with an erasure. Rare and whole-user, so their
// statements are prepared when used. They change no column journey_counts
// counts by (flow, node, state, converted_at, timer_due): journey state goes
// through update_journey (SCHEMA.md, journey_counts).
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/sqlite/writer.h"

namespace trellis::runtime::sqlite {

void SqliteStore::rebuild_merged_filter(size_t capacity) {
  std::vector<std::string> ids;
  Stmt all(db_, "SELECT anonymous_id FROM merged_ids");
  while (all.step(&error_)) ids.push_back(all.text(0));
  merged_filter_ = JourneyFilter(std::max(capacity, 2 * ids.size()));
  for (const std::string& id : ids) merged_filter_.add(id, "");
}

std::optional<std::string> SqliteStore::merged_into(const std::string& id) {
  if (!merged_filter_.may_contain(id, "")) return std::nullopt;
  return reader_.merged_into(id);
}

Status SqliteStore::run_once(Stmt& statement) {
  std::string error;
  statement.step(&error);
  statement.reset();
  if (!error.empty()) return Error{error_ = error};
  return Status();
}

// Deliveries are found by their key, "<journey id>:<node>:<visit>" (UNIQUE,
// so indexed): the user's journeys name them without an index on user_id.
Status SqliteStore::merge_user(const std::string& from, const std::string& to, TimeMs at) {
  flush_journeys();
  std::vector<int64_t> journeys;
  std::vector<std::string> flows;
  {
    Stmt ids(db_, "SELECT id, flow FROM journeys WHERE user_id = ?");
    ids.bind(1, from);
    while (ids.step(&error_)) {
      journeys.push_back(ids.i64(0));
      flows.push_back(ids.text(1));
    }
  }
  Stmt deliveries(db_,
                  "UPDATE deliveries SET user_id = ?3 WHERE key >= ?1 || ':' AND key < ?1 || ';' "
                  "AND user_id = ?2");
  for (int64_t id : journeys) {
    const std::string prefix = std::to_string(id);  // bound, not copied: outlives step()
    deliveries.bind(1, prefix).bind(2, from).bind(3, to);
    if (Status s = run_once(deliveries); !s) return s;
  }
  const char* statements[] = {
      "UPDATE journeys SET user_id = ?2 WHERE user_id = ?1",
      "INSERT OR IGNORE INTO consent(user_id, channel, subscribed, at, reason) "
      "SELECT ?2, channel, subscribed, at, reason FROM consent WHERE user_id = ?1",
      "DELETE FROM consent WHERE user_id = ?1",
      "DELETE FROM profiles WHERE user_id = ?1",
      "UPDATE merged_ids SET user_id = ?2 WHERE user_id = ?1",
      "UPDATE retained_events SET user_id = ?2 WHERE user_id = ?1",
      // Behavioural counters add up; last_seen keeps the later time.
      "INSERT INTO behaviour_counts(user_id, key, day, count) SELECT ?2, key, day, count "
      "FROM behaviour_counts WHERE user_id = ?1 ON CONFLICT DO UPDATE SET "
      "count = count + excluded.count",
      "DELETE FROM behaviour_counts WHERE user_id = ?1",
      "INSERT INTO behaviour_seen(user_id, event_type, at) SELECT ?2, event_type, at "
      "FROM behaviour_seen WHERE user_id = ?1 ON CONFLICT DO UPDATE SET "
      "at = max(at, excluded.at)",
      "DELETE FROM behaviour_seen WHERE user_id = ?1",
      "INSERT OR REPLACE INTO merged_ids(anonymous_id, user_id, at) VALUES(?1, ?2, ?3)",
  };
  for (const char* text : statements) {
    Stmt statement(db_, text);
    statement.bind(1, from).bind(2, to);
    if (std::string(text).find("?3") != std::string::npos) statement.bind(3, at);
    if (Status s = run_once(statement); !s) return s;
  }
  // Kept even if the transaction rolls back: false positives only cost a lookup.
  for (const std::string& flow : flows) {
    if (journey_filter_.size() >= journey_filter_.capacity())
      rebuild_filter(2 * journey_filter_.capacity());
    journey_filter_.add(to, flow);
  }
  if (merged_filter_.size() >= merged_filter_.capacity())
    rebuild_merged_filter(2 * merged_filter_.capacity());
  merged_filter_.add(from, "");
  return Status();
}

// A journey's whole history is rewritten into its row with empty reasons
// (older step rows deleted), since reasons quote traits and events.
Result<int64_t> SqliteStore::erase_user(const std::string& user_id,
                                        const std::string& replacement) {
  static const std::string kNoHistory = "[]";
  flush_journeys();
  // Freed space is zeroed, so the erased bytes leave the file once the pages
  // are checkpointed; only for this erasure's writes.
  (void)exec(db_, "PRAGMA secure_delete=ON");
  struct SecureDeleteOff {
    sqlite3* db;
    ~SecureDeleteOff() { (void)exec(db, "PRAGMA secure_delete=OFF"); }
  } secure_delete_off{db_};
  std::vector<int64_t> journeys;
  {
    Stmt ids(db_, "SELECT id FROM journeys WHERE user_id = ?");
    ids.bind(1, user_id);
    while (ids.step(&error_)) journeys.push_back(ids.i64(0));
  }
  int64_t deliveries = 0;
  std::set<int64_t> used;  // step words the user's histories used
  // In SET, every expression reads the row as it was.
  Stmt erase_deliveries(
      db_,
      "UPDATE deliveries SET user_id = ?2, to_addr = '', subject = '', body = '', "
      "status = CASE WHEN status IN (0, 3) THEN 4 ELSE status END, "
      "release_at = CASE WHEN status IN (0, 3) THEN NULL ELSE release_at END, "
      "last_error = CASE WHEN status IN (0, 3) THEN 'erased' ELSE '' END "
      "WHERE key >= ?1 || ':' AND key < ?1 || ';'");
  Stmt erase_attempts(db_,
                      "UPDATE delivery_attempts SET error = '' WHERE delivery_id IN (SELECT id "
                      "FROM deliveries WHERE key >= ?1 || ':' AND key < ?1 || ';')");
  Stmt rewrite(db_,
               "UPDATE journeys SET user_id = ?2, trigger_event = '{}', last_event = '{}', "
               "history = ?3, history_seq = 0 WHERE id = ?1");
  Stmt drop_groups(db_, "DELETE FROM step_groups WHERE journey_id = ?");
  Stmt drop_steps(db_, "DELETE FROM steps WHERE journey_id = ?");
  for (int64_t id : journeys) {
    const std::string prefix = std::to_string(id);  // bound, not copied: outlives step()
    erase_attempts.bind(1, prefix);
    if (Status s = run_once(erase_attempts); !s) return Error{s.message()};
    erase_deliveries.bind(1, prefix).bind(2, replacement);
    if (Status s = run_once(erase_deliveries); !s) return Error{s.message()};
    deliveries += sqlite3_changes(db_);
    // The words this history uses (reason shapes quote what nodes printed).
    step_codec::NotingWords noting(words_, [&used](int64_t word) { used.insert(word); });
    reader_.use_words(&noting);
    std::vector<StepRecord> steps = reader_.steps(id);
    reader_.use_words(&words_);
    for (StepRecord& step : steps) step.reason.clear();
    std::string history;
    step_codec::append(history, steps, replacement, words_);
    rewrite.bind(1, id).bind(2, replacement);
    if (step_codec::is_encoded(history))
      rewrite.bind_blob(3, history);
    else
      rewrite.bind(3, kNoHistory);
    if (Status s = run_once(rewrite); !s) return Error{s.message()};
    drop_groups.bind(1, id);
    if (Status s = run_once(drop_groups); !s) return Error{s.message()};
    drop_steps.bind(1, id);
    if (Status s = run_once(drop_steps); !s) return Error{s.message()};
  }
  for (const char* text :
       {"DELETE FROM profiles WHERE user_id = ?1", "DELETE FROM consent WHERE user_id = ?1",
        "DELETE FROM merged_ids WHERE user_id = ?1 OR anonymous_id = ?1",
        "DELETE FROM retained_events WHERE user_id = ?1",
        "DELETE FROM behaviour_counts WHERE user_id = ?1",
        "DELETE FROM behaviour_seen WHERE user_id = ?1"}) {
    Stmt statement(db_, text);
    statement.bind(1, user_id);
    if (Status s = run_once(statement); !s) return Error{s.message()};
  }
  if (Status s = erase_unused_words(std::move(used)); !s) return Error{s.message()};
  return deliveries;
}

// Reads every compact history once (as a stats read of every flow does) until
// each candidate is found in use; what is left was used only by erased
// histories and is overwritten. Histories written before schema 6 keep their
// reasons inline (and erase_user rewrote the user's).
Status SqliteStore::erase_unused_words(std::set<int64_t> candidates) {
  step_codec::NotingWords noting(words_, [&candidates](int64_t word) { candidates.erase(word); });
  const char* sources[] = {"SELECT history FROM journeys WHERE typeof(history) = 'blob'",
                           "SELECT steps FROM step_groups WHERE typeof(steps) = 'blob'"};
  for (const char* text : sources) {
    Stmt rows(db_, text);
    while (!candidates.empty() && rows.step(&error_))
      step_codec::decode(rows.bytes(0), "", noting, /*render_reason=*/false,
                         [](const step_codec::DecodedStep&) {});
  }
  if (!error_.empty()) return Error{error_};
  Stmt overwrite(db_, "UPDATE step_words SET text = ?2 WHERE id = ?1");
  for (int64_t id : candidates) {
    // Byte 2 starts no text a node prints: never taken for a real word.
    const std::string replacement = std::string(1, '\x02') + "erased word " + std::to_string(id);
    overwrite.bind(1, id).bind_blob(2, replacement);
    if (Status s = run_once(overwrite); !s) return s;
    words_.forget(id, replacement);
  }
  return Status();
}

}  // namespace trellis::runtime::sqlite

// The PostgreSQL store's identity and erasure writes (docs/events.md#identity,
// docs/security.md#erasure-and-export), as in SQLite (runtime/sqlite/identity.cpp):
// merging an anonymous id into a user, and erasing a user while the counts
// stay, and the behavioural counters of count() and last_seen(), which follow
// a merge and go with an erasure. Rare and whole-user (but the counting); the
// caller holds the users' locks (lock_user).
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "runtime/postgres/rows.h"
#include "runtime/postgres/writer.h"

namespace trellis::runtime::postgres {

// As in SQLite (runtime/sqlite/behaviour.cpp): a counter's buckets before its
// window are deleted when one of its days gets its first event.
Status Writer::record_behaviour(const std::string& user_id, const BehaviourHit& hit) {
  for (const BehaviourHit::Counter& counter : hit.counters) {
    Result<Rows> counted = run("behaviour_count",
                               "INSERT INTO behaviour_counts VALUES($1, $2, $3, 1) "
                               "ON CONFLICT(user_id, key, day) DO UPDATE SET "
                               "count = behaviour_counts.count + 1 RETURNING count",
                               Params().add(user_id).add(counter.key).add(hit.day));
    if (!counted.ok()) return counted.error();
    if (counted.value().empty() || counted.value().i64(0, 0) != 1) continue;
    if (Status s = done("behaviour_prune",
                        "DELETE FROM behaviour_counts WHERE user_id = $1 AND key = $2 AND day < $3",
                        Params().add(user_id).add(counter.key).add(counter.oldest_day));
        !s)
      return s;
  }
  if (!hit.last_seen) return Status();
  return done("behaviour_note_seen",
              "INSERT INTO behaviour_seen VALUES($1, $2, $3) ON CONFLICT(user_id, event_type) "
              "DO UPDATE SET at = greatest(behaviour_seen.at, excluded.at)",
              Params().add(user_id).add(hit.event_type).add(hit.at));
}

Status Writer::merge_user(const std::string& from, const std::string& to, TimeMs at) {
  const Params both = Params().add(from).add(to);
  const Params one = Params().add(from);
  // Deliveries first: they follow the journeys of `from`, found by user_id.
  const std::pair<const char*, const char*> moves[] = {
      {"merge_deliveries",
       "UPDATE deliveries SET user_id = $2 WHERE user_id = $1 AND journey_id IN "
       "(SELECT id FROM journeys WHERE user_id = $1)"},
      {"merge_journeys", "UPDATE journeys SET user_id = $2 WHERE user_id = $1"},
      {"merge_consent",
       "INSERT INTO consent(user_id, channel, subscribed, at, reason) "
       "SELECT $2, channel, subscribed, at, reason FROM consent WHERE user_id = $1 "
       "ON CONFLICT DO NOTHING"},
      {"merge_repoint_ids", "UPDATE merged_ids SET user_id = $2 WHERE user_id = $1"},
      {"merge_retained", "UPDATE retained_events SET user_id = $2 WHERE user_id = $1"},
      // Behavioural counters add up; last_seen keeps the later time.
      {"merge_counts",
       "INSERT INTO behaviour_counts(user_id, key, day, count) "
       "SELECT $2, key, day, count FROM behaviour_counts WHERE user_id = $1 "
       "ON CONFLICT(user_id, key, day) DO UPDATE SET "
       "count = behaviour_counts.count + excluded.count"},
      {"merge_seen",
       "INSERT INTO behaviour_seen(user_id, event_type, at) "
       "SELECT $2, event_type, at FROM behaviour_seen WHERE user_id = $1 "
       "ON CONFLICT(user_id, event_type) DO UPDATE SET "
       "at = greatest(behaviour_seen.at, excluded.at)"},
  };
  for (const auto& [name, sql] : moves)
    if (Status s = done(name, sql, both); !s) return s;
  if (Status s = done("merge_drop_consent", "DELETE FROM consent WHERE user_id = $1", one); !s)
    return s;
  if (Status s = done("merge_drop_profile", "DELETE FROM profiles WHERE user_id = $1", one); !s)
    return s;
  if (Status s = done("merge_drop_counts", "DELETE FROM behaviour_counts WHERE user_id = $1", one);
      !s)
    return s;
  if (Status s = done("merge_drop_seen", "DELETE FROM behaviour_seen WHERE user_id = $1", one); !s)
    return s;
  return done(
      "merge_record",
      "INSERT INTO merged_ids(anonymous_id, user_id, at) VALUES($1, $2, $3) "
      "ON CONFLICT(anonymous_id) DO UPDATE SET user_id = excluded.user_id, at = excluded.at",
      Params().add(from).add(to).add(at));
}

// Each journey's history is rewritten into its row with empty reasons (its
// step_groups deleted), since reasons quote traits and events. Step words
// that only the erased histories used are overwritten too. Two limits of a
// shared dictionary: another node's cache keeps such a word's old text until
// it restarts, and a word another node starts using between the scan and the
// commit reads back as "erased word N" (docs/security.md#erasure-and-export).
// PostgreSQL keeps the old row versions until VACUUM reclaims them.
Result<int64_t> Writer::erase_user(const std::string& user_id, const std::string& replacement) {
  Result<Rows> rows = run("erase_journeys",
                          "SELECT id, history, history_seq FROM journeys WHERE user_id = $1 "
                          "ORDER BY id",
                          Params().add(user_id));
  if (!rows.ok()) return rows.error();
  Result<int64_t> erased =
      updated_deliveries("erase_deliveries",
                         "user_id = $2, to_addr = '', subject = '', body = '', "
                         "status = CASE WHEN status IN (0, 3) THEN 4 ELSE status END, "
                         "release_at = CASE WHEN status IN (0, 3) THEN NULL ELSE release_at END, "
                         "last_error = CASE WHEN status IN (0, 3) THEN 'erased' ELSE '' END",
                         "journey_id IN (SELECT id FROM journeys WHERE user_id = $1)",
                         Params().add(user_id).add(replacement));
  if (!erased.ok()) return erased.error();
  if (Status s = done("erase_attempts",
                      "UPDATE delivery_attempts SET error = '' WHERE delivery_id IN (SELECT id "
                      "FROM deliveries WHERE user_id = $1)",
                      Params().add(replacement));
      !s)
    return s.error();

  std::set<int64_t> used;  // step words the user's histories used
  step_codec::NotingWords noting(words_, [&used](int64_t word) { used.insert(word); });
  for (int i = 0; i < rows.value().size(); ++i) {
    const int64_t id = rows.value().i64(i, 0);
    std::vector<StepRecord> steps;
    auto add = [&](const std::string& history) {
      step_codec::decode(history, user_id, noting, /*render_reason=*/true,
                         [&](const step_codec::DecodedStep& d) {
                           steps.push_back({id, "", 0, d.node, d.input, d.at, ""});
                         });
    };
    Result<Rows> groups =
        run("erase_groups_of", "SELECT steps FROM step_groups WHERE journey_id = $1 ORDER BY seq",
            Params().add(id));
    if (!groups.ok()) return groups.error();
    for (int g = 0; g < groups.value().size(); ++g) add(groups.value().bytes(g, 0));
    add(rows.value().bytes(i, 1));
    for (size_t n = 0; n < steps.size(); ++n) steps[n].seq = static_cast<int>(n);
    std::string history;
    step_codec::append(history, steps, replacement, words_);
    Params p = Params().add(id).add(replacement).bytes("{}");
    if (step_codec::is_encoded(history))
      p.bytes(history);
    else
      p.bytes("[]");
    if (Status s = done("erase_rewrite",
                        "UPDATE journeys SET user_id = $2, trigger_event = $3, last_event = $3, "
                        "history = $4, history_seq = 0 WHERE id = $1",
                        p);
        !s)
      return s.error();
    if (Status s = done("erase_drop_groups", "DELETE FROM step_groups WHERE journey_id = $1",
                        Params().add(id));
        !s)
      return s.error();
  }
  for (const auto& [name, sql] :
       {std::pair<const char*, const char*>{"erase_profile",
                                            "DELETE FROM profiles WHERE user_id = $1"},
        {"erase_consent", "DELETE FROM consent WHERE user_id = $1"},
        {"erase_merged", "DELETE FROM merged_ids WHERE user_id = $1 OR anonymous_id = $1"},
        {"erase_retained", "DELETE FROM retained_events WHERE user_id = $1"},
        {"erase_counts", "DELETE FROM behaviour_counts WHERE user_id = $1"},
        {"erase_seen", "DELETE FROM behaviour_seen WHERE user_id = $1"}})
    if (Status s = done(name, sql, Params().add(user_id)); !s) return s.error();
  if (Status s = erase_unused_words(std::move(used)); !s) return s.error();
  return erased.value();
}

// Reads every history once until each candidate is found in use; what is
// left was used only by erased histories and is overwritten.
Status Writer::erase_unused_words(std::set<int64_t> candidates) {
  step_codec::NotingWords noting(words_, [&candidates](int64_t word) { candidates.erase(word); });
  for (const auto& [name, sql] :
       {std::pair<const char*, const char*>{"erase_scan_inline", "SELECT history FROM journeys"},
        {"erase_scan_groups", "SELECT steps FROM step_groups"}}) {
    if (candidates.empty()) break;
    Result<Rows> rows = run(name, sql);
    if (!rows.ok()) return rows.error();
    for (int i = 0; i < rows.value().size() && !candidates.empty(); ++i)
      step_codec::decode(rows.value().bytes(i, 0), "", noting, /*render_reason=*/false,
                         [](const step_codec::DecodedStep&) {});
  }
  for (int64_t id : candidates) {
    // Byte 2 starts no text a node prints: never taken for a real word.
    const std::string replacement = std::string(1, '\x02') + "erased word " + std::to_string(id);
    if (Status s = done("erase_word", "UPDATE step_words SET text = $2 WHERE id = $1",
                        Params().add(id).bytes(replacement));
        !s)
      return s;
    words_.forget(id, replacement);
  }
  return Status();
}

}  // namespace trellis::runtime::postgres

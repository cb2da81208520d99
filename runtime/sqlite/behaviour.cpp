// The SQLite store's behavioural counters (SCHEMA.md "behaviour_counts"):
// one row per (user, counter, UTC day) and one per (user, event type) for
// last_seen, written in the transaction of the event's steps.
#include "runtime/sqlite/writer.h"

namespace trellis::runtime::sqlite {

// A counter's buckets are pruned when one of its days gets its first event:
// at most once per user, counter and day, so the rows of a user stay within
// the longest window read without a DELETE per event.
Status SqliteStore::record_behaviour(const std::string& user_id, const BehaviourHit& hit) {
  for (const BehaviourHit::Counter& counter : hit.counters) {
    int64_t count = 0;
    {
      Use u(count_behaviour_);
      u->bind(1, user_id).bind(2, counter.key).bind(3, hit.day);
      std::string error;
      if (u->step(&error)) count = u->i64(0);
      if (!error.empty()) {
        if (error_.empty()) error_ = error;
        return Error{error};
      }
    }
    if (count != 1) continue;
    Use u(drop_buckets_);
    u->bind(1, user_id).bind(2, counter.key).bind(3, counter.oldest_day);
    if (Status s = done(u); !s) return s;
  }
  if (!hit.last_seen) return Status();
  Use u(note_seen_);
  u->bind(1, user_id).bind(2, hit.event_type).bind(3, hit.at);
  return done(u);
}

}  // namespace trellis::runtime::sqlite

// The SQLite store's event retention (docs/operations.md#event-retention):
// applied events kept in `retained_events` for replay, one row each, pruned
// in bounded deletes by age and by count.
#include "runtime/sqlite/writer.h"

namespace trellis::runtime::sqlite {

Status SqliteStore::retain_event(const RetainedEvent& e) {
  Use u(retain_);
  u->bind(1, e.at).bind(2, e.user_id).bind(3, e.type).bind(4, e.id);
  u->bind(5, static_cast<int64_t>(e.identify)).bind(6, e.properties);
  return done(u);
}

Result<int64_t> SqliteStore::prune_retained_events(TimeMs before, int64_t keep_most, size_t limit) {
  int64_t deleted = 0;
  {
    Use u(prune_retained_old_);
    u->bind(1, before).bind(2, static_cast<int64_t>(limit));
    if (Status s = done(u); !s) return s.error();
    deleted += sqlite3_changes(db_);
  }
  if (deleted >= static_cast<int64_t>(limit)) return deleted;
  Use u(prune_retained_over_);
  u->bind(1, keep_most).bind(2, static_cast<int64_t>(limit) - deleted);
  if (Status s = done(u); !s) return s.error();
  return deleted + sqlite3_changes(db_);
}

}  // namespace trellis::runtime::sqlite

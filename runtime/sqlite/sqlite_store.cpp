#include "runtime/sqlite/sqlite_store.h"

#include <algorithm>

#include "runtime/sqlite/schema.h"
#include "runtime/sqlite/statement.h"
#include "runtime/sqlite/writer.h"

namespace trellis::runtime {

using sqlite::exec;
using sqlite::migrate;
using sqlite::open_db;

Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options) {
  Result<sqlite3*> opened = open_db(options.path, /*read_only=*/false);
  if (!opened.ok()) return opened.error();
  sqlite3* db = opened.value();
  auto fail = [db](const std::string& what, const Status& s) -> Result<std::unique_ptr<Store>> {
    sqlite3_close_v2(db);
    return Error{what + ": " + s.message()};
  };
  // 4 KiB pages for a new file (an existing one keeps its own). 8 KiB pages
  // suited the 1 KiB rows of schema 5; with compact rows (about 230 bytes on
  // disk) 4 KiB pages write a sixth fewer bytes per event and fewer per fired
  // timer at the same rates (docs/benchmarks.md).
  (void)exec(db, "PRAGMA page_size=4096");
  if (Status s = exec(db, "PRAGMA journal_mode=WAL"); !s) return fail("WAL mode", s);
  const std::string sync =
      "PRAGMA synchronous=" +
      (options.synchronous == "FULL" ? std::string("FULL") : std::string("NORMAL"));
  if (Status s = exec(db, sync.c_str()); !s) return fail("synchronous", s);
  // A larger page cache keeps the journeys_by_user and timers_by_due indexes hot
  // at a million journeys; it is a bound, not an allocation (64 MiB).
  (void)exec(db, "PRAGMA cache_size=-65536");
  (void)exec(db, "PRAGMA temp_store=MEMORY");
  // A WAL that grew under a sustained burst (a writer that never pauses never
  // lets a checkpoint finish) is cut back to 64 MiB once it starts over.
  (void)exec(db, "PRAGMA journal_size_limit=67108864");
  if (Status s = migrate(db, sqlite::latest_schema_version()); !s) return fail(options.path, s);
  auto store = std::make_unique<sqlite::SqliteStore>(db, options.path);
  if (Status s = store->backfill_rollups(); !s)
    return Error{options.path + ": rollups backfill: " + s.message()};
  store->start_checkpointer();
  return std::unique_ptr<Store>(std::move(store));
}

Status create_sqlite_file_at_version(const std::string& path, int version) {
  Result<sqlite3*> opened = open_db(path, /*read_only=*/false);
  if (!opened.ok()) return opened.error();
  Status s = exec(opened.value(), "PRAGMA journal_mode=WAL");
  if (s) s = migrate(opened.value(), std::min(version, sqlite::latest_schema_version()));
  sqlite3_close_v2(opened.value());
  return s;
}

int sqlite_schema_version() { return sqlite::latest_schema_version(); }

}  // namespace trellis::runtime

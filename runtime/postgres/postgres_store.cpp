#include "runtime/postgres/postgres_store.h"

#include "runtime/postgres/connection.h"
#include "runtime/postgres/schema.h"
#include "runtime/postgres/writer.h"

namespace trellis::runtime {

Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options) {
  Result<std::unique_ptr<postgres::Connection>> conn = postgres::Connection::open(options.conninfo);
  if (!conn.ok()) return conn.error();
  if (Status s = postgres::migrate(*conn.value()); !s)
    return Error{postgres::redact_conninfo(options.conninfo) + ": " + s.message()};
  Result<std::unique_ptr<postgres::Connection>> words =
      postgres::Connection::open(options.conninfo);
  if (!words.ok()) return words.error();
  auto store = std::make_unique<postgres::Writer>(std::move(conn.value()), std::move(words.value()),
                                                  options.conninfo);
  if (Status s = store->backfill_rollups(); !s)
    return Error{postgres::redact_conninfo(options.conninfo) +
                 ": rollups backfill: " + s.message()};
  return std::unique_ptr<Store>(std::move(store));
}

int postgres_schema_version() { return postgres::latest_schema_version(); }

}  // namespace trellis::runtime

// Which store `--db` (and TRELLIS_DB) names: a SQLite file or a PostgreSQL
// database (docs/configuration.md#choosing-a-store).
//
//   trellis.db, ./data/t.db, sqlite:PATH      a SQLite file (the default)
//   postgresql://USER@HOST:PORT/DB?...         PostgreSQL (libpq conninfo URL;
//   postgres://...                            the password from PGPASSWORD or
//                                             ~/.pgpass, never printed)
#pragma once

#include <string>

#include "dsl/ir/result.h"
#include "runtime/store.h"

namespace trellis::runtime {

struct StoreSettings {
  // SQLite `PRAGMA synchronous`: "NORMAL" (default; runtime/sqlite/SCHEMA.md) or "FULL".
  std::string sqlite_synchronous = "NORMAL";
};

enum class StoreKind { kSqlite, kPostgres };

struct StoreUrl {
  StoreKind kind = StoreKind::kSqlite;
  std::string target;  // the SQLite file, or the PostgreSQL conninfo URL
};

// Errors: an empty text, or a scheme that is neither (mysql://...).
Result<StoreUrl> parse_store_url(const std::string& text);

// Opens the store `text` names when called (EngineOptions::store).
Result<StoreFactory> store_factory(const std::string& text, const StoreSettings& settings = {});

// The URL as logs and /v1/status may show it: a password replaced by "***".
std::string printable_store_url(const std::string& text);

}  // namespace trellis::runtime

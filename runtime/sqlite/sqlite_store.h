// SQLite implementation of Store: one database file in WAL mode. The schema
// and its rationale are described in runtime/sqlite/SCHEMA.md.
#pragma once

#include <memory>
#include <string>

#include "dsl/ir/result.h"
#include "runtime/store.h"

namespace trellis::runtime {

struct SqliteOptions {
  std::string path;                    // database file; created when missing
  std::string synchronous = "NORMAL";  // PRAGMA synchronous
};

// Opens or creates the database and its schema. Errors: the file cannot be
// opened or is not a Trellis database of a known schema version.
Result<std::unique_ptr<Store>> open_sqlite_store(const SqliteOptions& options);

// The schema version this build writes (meta.schema_version; SCHEMA.md).
int sqlite_schema_version();
// Creates a database file at an older schema `version`, for migration tests.
Status create_sqlite_file_at_version(const std::string& path, int version);

}  // namespace trellis::runtime

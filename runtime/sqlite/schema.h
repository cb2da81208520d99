// The SQLite schema as its history of migrations (schema.cpp, SCHEMA.md).
#pragma once

#include <sqlite3.h>

#include "dsl/ir/result.h"

namespace trellis::runtime::sqlite {

// The schema version this build writes: the number of migrations.
int latest_schema_version();

// The schema version a file records: 0 for a new file.
Result<int> schema_version(sqlite3* db);

// Runs the migrations a file lacks, each in its own transaction, up to `target`.
Status migrate(sqlite3* db, int target);

}  // namespace trellis::runtime::sqlite

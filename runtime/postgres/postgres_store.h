// PostgreSQL implementation of Store: one database that several `trellis serve`
// nodes share (docs/operations.md#running-several-nodes). Same records and
// encodings as the SQLite store; the schema is in schema.cpp.
#pragma once

#include <memory>
#include <string>

#include "dsl/ir/result.h"
#include "runtime/store.h"

namespace trellis::runtime {

struct PostgresOptions {
  std::string conninfo;  // libpq conninfo string or postgresql:// URL
};

// Connects, and creates or migrates the schema. Errors: the server cannot be
// reached, refuses the login, or holds a schema newer than this build knows.
Result<std::unique_ptr<Store>> open_postgres_store(const PostgresOptions& options);

// The schema version this build writes (meta.schema_version).
int postgres_schema_version();

}  // namespace trellis::runtime

// The PostgreSQL schema as its history of migrations (schema.cpp;
// docs/postgresql.md explains the tables and how they differ from SQLite's).
#pragma once

#include "dsl/ir/result.h"
#include "runtime/postgres/connection.h"

namespace trellis::runtime::postgres {

// The schema version this build writes: the number of migrations.
int latest_schema_version();

// Runs the migrations the database lacks, each in its own transaction, under
// an advisory lock so that several nodes starting at once migrate it once.
// Errors: the database is of a newer schema than this build knows.
Status migrate(Connection& conn);

}  // namespace trellis::runtime::postgres

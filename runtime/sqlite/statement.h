// The SQLite store's statement wrapper: a prepared statement reset after each
// use, a scope guard that resets it, and the two calls that open a connection
// and run a script.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "dsl/ir/result.h"
#include "runtime/step_codec.h"

namespace trellis::runtime::sqlite {

// A prepared statement, reset after each use. Preparation failures are
// programming errors in the store's SQL, so they abort with the message.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
      std::fprintf(stderr, "trellis: bad SQL (%s): %s\n", sqlite3_errmsg(db), sql);
      std::abort();
    }
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, int v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Stmt& bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  Stmt& bind_blob(int i, const std::string& v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
    return *this;
  }
  // A compact form (step_codec) as a BLOB, copied (it is a temporary); any
  // other text as TEXT, borrowed.
  Stmt& bind_compact(int i, const std::string& original, std::string compact) {
    if (!step_codec::is_encoded(compact)) return bind(i, original);
    sqlite3_bind_blob(stmt_, i, compact.data(), static_cast<int>(compact.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind(int i, const std::optional<int64_t>& v) {
    if (v)
      sqlite3_bind_int64(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Stmt& bind(int i, const std::optional<double>& v) {
    if (v)
      sqlite3_bind_double(stmt_, i, *v);
    else
      sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // True while rows come; false when done. Errors set `error` (if given).
  bool step(std::string* error = nullptr) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE && error && error->empty()) *error = sqlite3_errmsg(db_);
    return false;
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t i64(int c) const { return sqlite3_column_int64(stmt_, c); }
  std::optional<int64_t> opt_i64(int c) const {
    if (sqlite3_column_type(stmt_, c) == SQLITE_NULL) return std::nullopt;
    return i64(c);
  }
  std::optional<double> opt_double(int c) const {
    if (sqlite3_column_type(stmt_, c) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_double(stmt_, c);
  }
  std::string text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, c));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, c)) : std::string();
  }
  // A TEXT or BLOB column's bytes as they are.
  std::string bytes(int c) const {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, c));
    return p ? std::string(p, sqlite3_column_bytes(stmt_, c)) : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets the statement when a scope ends, so early returns cannot leak a
// statement that holds a read snapshot open.
struct Use {
  explicit Use(Stmt& s) : stmt(s) {}
  ~Use() { stmt.reset(); }
  Stmt& stmt;
  Stmt* operator->() { return &stmt; }
};

// Runs a script of statements (no results); the first error as its message.
Status exec(sqlite3* db, const char* sql);

// Opens a connection in the mode the store uses (no mutex: one thread at a time).
Result<sqlite3*> open_db(const std::string& path, bool read_only);

}  // namespace trellis::runtime::sqlite

#include "runtime/sqlite/statement.h"

namespace trellis::runtime::sqlite {

Status exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown SQLite error";
    sqlite3_free(message);
    return Error{text};
  }
  return Status();
}

Result<sqlite3*> open_db(const std::string& path, bool read_only) {
  // Memory statistics take a global mutex on every allocation; we never read them.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error{"cannot open " + path + ": " + message};
  }
  // Readers and the writer never wait long on each other in WAL mode; the
  // timeout covers checkpoints.
  sqlite3_busy_timeout(db, 5000);
  return db;
}

}  // namespace trellis::runtime::sqlite

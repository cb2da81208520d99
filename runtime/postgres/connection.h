// The PostgreSQL store's connection: libpq, statements prepared once per
// connection by name, parameters as text (bytea in binary), results read by
// row and column. Errors are values: a failed statement is an Error with the
// server's message, never an exception.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "dsl/ir/result.h"

namespace trellis::runtime::postgres {

// Positional parameters ($1, $2, ...) of one statement.
class Params {
 public:
  Params& add(int64_t v) { return text(std::to_string(v)); }
  Params& add(int v) { return text(std::to_string(v)); }
  Params& add(const std::string& v) { return text(v); }
  Params& add(const char* v) { return text(v); }
  Params& add(const std::optional<int64_t>& v) {
    if (!v) return null();
    return add(*v);
  }
  Params& add(bool v) { return text(v ? "true" : "false"); }
  // Shortest text that reads back as the same double.
  Params& add(double v);
  Params& add(const std::optional<double>& v) {
    if (!v) return null();
    return add(*v);
  }
  // Raw bytes for a bytea parameter (sent in binary, no escaping).
  Params& bytes(const std::string& v);
  Params& null();

  int size() const { return static_cast<int>(values_.size()); }
  std::vector<const char*> values() const;
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& text(std::string v);
  std::vector<std::optional<std::string>> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// A statement's result; rows and columns read as text (bytea decoded).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result, &PQclear) {}
  int size() const { return PQntuples(result_.get()); }
  bool empty() const { return size() == 0; }
  bool null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }
  std::string text(int row, int col) const;
  int64_t i64(int row, int col) const;
  std::optional<int64_t> opt_i64(int row, int col) const;
  double real(int row, int col) const;
  std::optional<double> opt_real(int row, int col) const;
  // A bytea column (hex output format) as its bytes.
  std::string bytes(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  int64_t changed() const;

 private:
  std::unique_ptr<PGresult, void (*)(PGresult*)> result_;
};

class Connection {
 public:
  // Connects with a libpq conninfo string or URL; the password comes from it
  // or from the environment (PGPASSWORD, ~/.pgpass) as libpq reads it.
  static Result<std::unique_ptr<Connection>> open(const std::string& conninfo);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs a script of statements without parameters (schema, BEGIN, COMMIT).
  Status exec(const std::string& sql);
  // The same, with the rows of the script's last statement (one round trip).
  Result<Rows> exec_rows(const std::string& sql);
  // Runs `sql`, prepared once on this connection under `name`.
  Result<Rows> run(const char* name, const char* sql, const Params& params = Params());
  // Runs `sql` unprepared (statements built at run time).
  Result<Rows> run_once(const std::string& sql, const Params& params = Params());

  // Whether the server connection is still usable (false after it was lost).
  bool ok() const { return PQstatus(conn_) == CONNECTION_OK; }
  // Connects again when the connection was lost (a restarted server). Never
  // called inside a transaction: statements after a silent reconnect would
  // run outside it.
  void reconnect_if_lost();
  PGconn* raw() { return conn_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Result<Rows> check(PGresult* result);
  PGconn* conn_;
  std::unordered_set<std::string> prepared_;
};

// The conninfo URL with its password (if any) replaced by "***", for logs and
// error messages: a password is never printed.
std::string redact_conninfo(std::string_view conninfo);

}  // namespace trellis::runtime::postgres

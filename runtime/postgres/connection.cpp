#include "runtime/postgres/connection.h"

#include <charconv>
#include <cstdlib>
#include <regex>
#include <system_error>

namespace trellis::runtime::postgres {

Params& Params::text(std::string v) {
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(0);
  values_.push_back(std::move(v));
  return *this;
}

Params& Params::bytes(const std::string& v) {
  lengths_.push_back(static_cast<int>(v.size()));
  formats_.push_back(1);
  values_.push_back(v);
  return *this;
}

Params& Params::add(double v) {
  char buffer[32];
  const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
  return text(ec == std::errc() ? std::string(buffer, end) : std::to_string(v));
}

Params& Params::null() {
  lengths_.push_back(0);
  formats_.push_back(0);
  values_.push_back(std::nullopt);
  return *this;
}

std::vector<const char*> Params::values() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (const auto& v : values_) out.push_back(v ? v->data() : nullptr);
  return out;
}

std::string Rows::text(int row, int col) const {
  const char* v = PQgetvalue(result_.get(), row, col);
  return std::string(v, static_cast<size_t>(PQgetlength(result_.get(), row, col)));
}

int64_t Rows::i64(int row, int col) const {
  return std::strtoll(PQgetvalue(result_.get(), row, col), nullptr, 10);
}

std::optional<int64_t> Rows::opt_i64(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return i64(row, col);
}

double Rows::real(int row, int col) const {
  return std::strtod(PQgetvalue(result_.get(), row, col), nullptr);
}

std::optional<double> Rows::opt_real(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return real(row, col);
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 0;
}
}  // namespace

std::string Rows::bytes(int row, int col) const {
  const char* v = PQgetvalue(result_.get(), row, col);
  const size_t n = static_cast<size_t>(PQgetlength(result_.get(), row, col));
  if (n < 2 || v[0] != '\\' || v[1] != 'x') return std::string(v, n);  // not bytea: text
  std::string out;
  out.reserve((n - 2) / 2);
  for (size_t i = 2; i + 1 < n; i += 2)
    out.push_back(static_cast<char>(hex_value(v[i]) * 16 + hex_value(v[i + 1])));
  return out;
}

int64_t Rows::changed() const {
  const char* n = PQcmdTuples(result_.get());
  return n && *n ? std::strtoll(n, nullptr, 10) : 0;
}

Result<std::unique_ptr<Connection>> Connection::open(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (conn == nullptr) return Error::unavailable("cannot connect to PostgreSQL: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    PQfinish(conn);
    return Error::unavailable("cannot connect to " + redact_conninfo(conninfo) + ": " + message);
  }
  // Notices (such as "relation already exists, skipping") are not errors.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Connection>(new Connection(conn));
}

Connection::~Connection() { PQfinish(conn_); }

void Connection::reconnect_if_lost() {
  if (PQstatus(conn_) == CONNECTION_OK) return;
  PQreset(conn_);
  prepared_.clear();  // prepared statements live in the server session
}

namespace {

// The kind of a failed statement, from its SQLSTATE class
// (https://www.postgresql.org/docs/current/errcodes-appendix.html) or from
// the connection when there is no result.
ErrorCode code_of(PGconn* conn, PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  if (state == nullptr)
    return PQstatus(conn) == CONNECTION_OK ? ErrorCode::kInternal : ErrorCode::kUnavailable;
  const std::string_view s(state);
  // 08 connection, 53 insufficient resources, 57 operator intervention
  // (shutdown, cancel), 40 transaction rollback (deadlock, serialization).
  if (s.rfind("08", 0) == 0 || s.rfind("53", 0) == 0 || s.rfind("57", 0) == 0)
    return ErrorCode::kUnavailable;
  if (s.rfind("40", 0) == 0 || s.rfind("23", 0) == 0) return ErrorCode::kConflict;
  if (s.rfind("22", 0) == 0) return ErrorCode::kInvalid;
  if (s.rfind("XX", 0) == 0) return ErrorCode::kCorrupt;
  return ErrorCode::kInternal;
}

}  // namespace

Result<Rows> Connection::check(PGresult* result) {
  const ExecStatusType status = PQresultStatus(result);
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Rows(result);
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn_);
  if (message.empty()) message = PQerrorMessage(conn_);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  const ErrorCode code = code_of(conn_, result);
  PQclear(result);
  return Error{message.empty() ? std::string("PostgreSQL call failed") : message, code};
}

Status Connection::exec(const std::string& sql) {
  Result<Rows> r = exec_rows(sql);
  if (!r.ok()) return r.error();
  return Status();
}

Result<Rows> Connection::exec_rows(const std::string& sql) {
  return check(PQexec(conn_, sql.c_str()));
}

Result<Rows> Connection::run(const char* name, const char* sql, const Params& params) {
  if (prepared_.count(name) == 0) {
    Result<Rows> prepared = check(PQprepare(conn_, name, sql, 0, nullptr));
    if (!prepared.ok()) return prepared.error();
    prepared_.insert(name);
  }
  const std::vector<const char*> values = params.values();
  return check(PQexecPrepared(conn_, name, params.size(), values.data(), params.lengths(),
                              params.formats(), 0));
}

Result<Rows> Connection::run_once(const std::string& sql, const Params& params) {
  const std::vector<const char*> values = params.values();
  return check(PQexecParams(conn_, sql.c_str(), params.size(), nullptr, values.data(),
                            params.lengths(), params.formats(), 0));
}

std::string redact_conninfo(std::string_view conninfo) {
  std::string text(conninfo);
  // URL form: scheme://user:password@host
  static const std::regex url_password(R"(^(postgres(?:ql)?://[^:/@]*):[^@]*@)");
  text = std::regex_replace(text, url_password, "$1:***@");
  // URL parameter or key=value form: password=...
  static const std::regex key_password(R"((password=)[^&\s]*)");
  return std::regex_replace(text, key_password, "$1***");
}

}  // namespace trellis::runtime::postgres

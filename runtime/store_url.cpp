#include "runtime/store_url.h"

#include "runtime/postgres/connection.h"
#include "runtime/postgres/postgres_store.h"
#include "runtime/sqlite/sqlite_store.h"

namespace trellis::runtime {

namespace {
bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }
}  // namespace

Result<StoreUrl> parse_store_url(const std::string& text) {
  if (text.empty()) return Error{"--db is empty: give a SQLite file or a postgresql:// URL"};
  if (starts_with(text, "postgresql://") || starts_with(text, "postgres://"))
    return StoreUrl{StoreKind::kPostgres, text};
  if (starts_with(text, "sqlite:")) {
    std::string path = text.substr(7);
    if (starts_with(path, "//")) path = path.substr(2);  // sqlite://PATH
    if (path.empty()) return Error{"sqlite: needs a file path (sqlite:trellis.db)"};
    return StoreUrl{StoreKind::kSqlite, path};
  }
  const size_t scheme = text.find("://");
  if (scheme != std::string::npos)
    return Error{"unknown store '" + text.substr(0, scheme) +
                 "://': use a SQLite file (sqlite:PATH) or postgresql://"};
  return StoreUrl{StoreKind::kSqlite, text};
}

Result<StoreFactory> store_factory(const std::string& text, const StoreSettings& settings) {
  Result<StoreUrl> url = parse_store_url(text);
  if (!url.ok()) return url.error();
  const StoreUrl parsed = url.value();
  if (parsed.kind == StoreKind::kPostgres) {
    return StoreFactory([parsed]() -> Result<std::unique_ptr<Store>> {
      return open_postgres_store({parsed.target});
    });
  }
  return StoreFactory([parsed, settings]() -> Result<std::unique_ptr<Store>> {
    return open_sqlite_store({parsed.target, settings.sqlite_synchronous});
  });
}

std::string printable_store_url(const std::string& text) { return postgres::redact_conninfo(text); }

}  // namespace trellis::runtime

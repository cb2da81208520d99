#include "api/journey_ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include <charconv>

namespace trellis::api {
namespace {

constexpr const char* kMetaKey = "journey_id_key";

std::string to_hex(const unsigned char* data, size_t size) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 15];
  }
  return out;
}

// INSERT OR IGNORE then SELECT: two servers opening one new database agree on one key.
Result<std::string> read_or_create_key(sqlite3* db) {
  unsigned char fresh[32];
  if (RAND_bytes(fresh, sizeof fresh) != 1) return Error{"no random bytes for the journey id key"};
  const std::string sql = std::string("CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;") +
                          "INSERT OR IGNORE INTO meta(k, v) VALUES('" + kMetaKey + "', '" +
                          to_hex(fresh, sizeof fresh) + "');";
  char* message = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    return Error::io("cannot store the journey id key: " + text);
  }
  sqlite3_stmt* stmt = nullptr;
  std::string key;
  if (sqlite3_prepare_v2(db, "SELECT v FROM meta WHERE k = ?", -1, &stmt, nullptr) == SQLITE_OK) {
    sqlite3_bind_text(stmt, 1, kMetaKey, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
      key = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  if (key.size() < 32)
    return Error::corrupt("the journey id key in the database is missing or short");
  return key;
}

}  // namespace

Result<JourneyIds> JourneyIds::open(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open(db_path.c_str(), &db) != SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Error::io("cannot open " + db_path + " for the journey id key: " + message);
  }
  sqlite3_busy_timeout(db, 5000);  // the engine may hold the write lock a moment
  auto key = read_or_create_key(db);
  sqlite3_close(db);
  if (!key.ok()) return key.error();
  return JourneyIds(*key);
}

std::string JourneyIds::mac(int64_t id) const {
  const std::string text = std::to_string(id);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &size);
  return to_hex(digest, 8);
}

std::string JourneyIds::encode(int64_t id) const { return std::to_string(id) + "-" + mac(id); }

std::optional<int64_t> JourneyIds::decode(const std::string& text) const {
  size_t dash = text.find('-');
  if (dash == std::string::npos || dash == 0 || text.size() - dash - 1 != 16) return std::nullopt;
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + dash, id);
  if (ec != std::errc() || end != text.data() + dash || id <= 0) return std::nullopt;
  const std::string expected = mac(id);
  if (CRYPTO_memcmp(expected.data(), text.data() + dash + 1, expected.size()) != 0)
    return std::nullopt;
  return id;
}

}  // namespace trellis::api

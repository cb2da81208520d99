#include "api/journey_ids.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

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

}  // namespace

// Stored once per database (Store::meta_value): every node that shares it,
// and every restart, agree on one key.
Result<JourneyIds> JourneyIds::open(runtime::Engine& engine) {
  unsigned char fresh[32];
  if (RAND_bytes(fresh, sizeof fresh) != 1) return Error{"no random bytes for the journey id key"};
  Result<std::string> key = engine.stored_value(kMetaKey, to_hex(fresh, sizeof fresh));
  if (!key.ok()) return key.error().prefixed("cannot store the journey id key: ");
  if (key.value().size() < 32)
    return Error::corrupt("the journey id key in the database is missing or short");
  return JourneyIds(key.value());
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

#include "api/access.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace trellis::api {
namespace {

thread_local Caller t_caller;

// Compares digests rather than the texts, so neither the position of the
// first wrong byte nor the secret's length shows in the time taken.
bool constant_time_equal(const std::string& a, const std::string& b) {
  unsigned char da[SHA256_DIGEST_LENGTH], db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, sizeof da) == 0;
}

std::optional<std::string> base64_decode(const std::string& text) {
  if (text.empty() || text.size() % 4 != 0) return std::nullopt;
  std::string out(text.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = text.size() - text.find_last_not_of('=') - 1;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(padding, 2));
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

bool valid_token_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
      return false;
  return true;
}

}  // namespace

const char* access_name(Access access) {
  switch (access) {
    case Access::kOpen:
      return "open";
    case Access::kRead:
      return "read";
    case Access::kWrite:
      return "write";
    case Access::kAdmin:
      return "admin";
  }
  return "admin";
}

bool Caller::allows(Access access) const {
  if (scopes & kScopeAdmin) return true;
  switch (access) {
    case Access::kOpen:
      return true;
    case Access::kRead:
      return (scopes & kScopeRead) != 0;
    case Access::kWrite:
      return (scopes & kScopeWrite) != 0;
    case Access::kAdmin:
      return false;
  }
  return false;
}

std::optional<Caller> TokenSet::find(const std::string& secret) const {
  std::optional<Caller> found;
  for (const Token& t : tokens_)  // no early exit: every secret costs the same
    if (constant_time_equal(secret, t.secret) && !found) found = Caller{t.name, t.scopes};
  return found;
}

Authentication TokenSet::authenticate(const httplib::Request& req) const {
  const std::string auth = req.get_header_value("Authorization");
  std::string secret;
  if (auth.rfind("Bearer ", 0) == 0) {
    secret = trim(auth.substr(7));
  } else if (auth.rfind("Basic ", 0) == 0) {
    auto decoded = base64_decode(trim(auth.substr(6)));
    if (!decoded) return {AuthOutcome::kUnknownToken, {}};
    secret = decoded->substr(0, decoded->find(':'));
  } else {
    return {AuthOutcome::kNoCredentials, {}};
  }
  auto caller = find(secret);
  if (!caller) return {AuthOutcome::kUnknownToken, {}};
  return {AuthOutcome::kAuthenticated, *caller};
}

Result<unsigned> parse_scopes(const std::string& text) {
  unsigned scopes = 0;
  std::stringstream words(text);
  std::string word;
  while (std::getline(words, word, ',')) {
    word = trim(word);
    if (word == "read")
      scopes |= kScopeRead;
    else if (word == "write")
      scopes |= kScopeWrite;
    else if (word == "admin")
      scopes |= kScopeAdmin;
    else
      return Error::invalid("unknown scope '" + word + "' (read, write, admin)");
  }
  if (!scopes) return Error::invalid("no scope given (read, write, admin)");
  return scopes;
}

Result<std::vector<Token>> load_tokens_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error::io("cannot read the tokens file " + path);
  std::vector<Token> tokens;
  std::set<std::string> names;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = path + ":" + std::to_string(number) + ": ";
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    std::stringstream fields(line);
    Token token;
    std::string scopes, extra;
    if (!(fields >> token.name >> scopes >> token.secret) || (fields >> extra))
      return Error::invalid(where + "expected `name scopes secret`");
    if (!valid_token_name(token.name))
      return Error::invalid(where + "token names use letters, digits, '_', '-' and '.'");
    if (!names.insert(token.name).second)
      return Error::invalid(where + "a second token named " + token.name);
    auto parsed = parse_scopes(scopes);
    if (!parsed.ok()) return Error::invalid(where + parsed.error().message);
    token.scopes = *parsed;
    if (token.secret.rfind("env:", 0) == 0) {
      const char* value = std::getenv(token.secret.substr(4).c_str());
      if (!value || !*value)
        return Error::invalid(where + "the environment variable " + token.secret.substr(4) +
                              " is not set");
      token.secret = value;
    }
    if (token.secret.size() < 16)
      return Error::invalid(where + "the secret of " + token.name +
                            " is shorter than 16 characters");
    tokens.push_back(std::move(token));
  }
  return tokens;
}

const Caller& current_caller() { return t_caller; }
void set_current_caller(Caller caller) { t_caller = std::move(caller); }

bool is_loopback_host(const std::string& host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

}  // namespace trellis::api

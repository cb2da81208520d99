// Who may call what on `trellis serve`: named tokens with scopes
// (docs/security.md). A token is `name scopes secret`; the scopes are
//   read  — every GET of personal data, flows, journeys, deliveries, stats, /metrics
//   write — events, profiles, consent, coupon codes
//   admin — saving and deploying flows, erasing, configuration; implies read and write.
// A server without tokens is open (and refuses to listen beyond loopback
// unless told to, see app/cmd_serve.cpp).
//
// Thread-safety: a TokenSet is immutable once built; current_caller() is per thread.
#pragma once

#include <httplib.h>

#include <optional>
#include <string>
#include <vector>

#include "dsl/ir/result.h"

namespace trellis::api {

enum Scope : unsigned { kScopeRead = 1, kScopeWrite = 2, kScopeAdmin = 4 };

// What a route needs from its caller.
enum class Access { kOpen, kRead, kWrite, kAdmin };
const char* access_name(Access access);  // "open", "read", "write", "admin"

struct Token {
  std::string name;
  unsigned scopes = 0;  // Scope bits
  std::string secret;
};

// The caller of a request: the token's name and scopes. Empty name: the
// server has no tokens, or the route is open and no credentials came.
struct Caller {
  std::string name;
  unsigned scopes = 0;
  bool allows(Access access) const;
};

enum class AuthOutcome { kNoCredentials, kUnknownToken, kAuthenticated };
struct Authentication {
  AuthOutcome outcome = AuthOutcome::kNoCredentials;
  Caller caller;
};

class TokenSet {
 public:
  TokenSet() = default;
  explicit TokenSet(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}
  bool empty() const { return tokens_.empty(); }
  const std::vector<Token>& tokens() const { return tokens_; }

  // The token whose secret this is. Every secret is compared, each in
  // constant time, so the answer's timing says nothing about which matched.
  std::optional<Caller> find(const std::string& secret) const;

  // Reads `Authorization: Bearer <secret>`, or `Basic base64(<secret>:<any>)`
  // (Segment's write key arrives as the Basic user name).
  Authentication authenticate(const httplib::Request& req) const;

 private:
  std::vector<Token> tokens_;
};

// "read", "write,read", "admin" → Scope bits; error naming the unknown word.
Result<unsigned> parse_scopes(const std::string& text);

// Reads a tokens file: one token a line, `name scopes secret`; blank lines and
// `#` comments skipped. A secret written `env:VAR` is read from the environment
// variable VAR. Names are unique, secrets at least 16 characters.
Result<std::vector<Token>> load_tokens_file(const std::string& path);

// The caller of the request the current worker thread is serving.
const Caller& current_caller();
void set_current_caller(Caller caller);

// True for 127.0.0.0/8, ::1 and "localhost": addresses only this machine reaches.
bool is_loopback_host(const std::string& host);

}  // namespace trellis::api

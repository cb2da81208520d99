// Internal to trellis_delivery (and its tests): the providers behind
// open_provider(), with their settings already checked and secrets resolved.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/delivery/provider.h"

namespace trellis::runtime::delivery {

struct HttpSettings {
  std::string url;                   // empty: only a webhook node's own url
  std::vector<Header> headers;       // values resolved (may hold secrets: never log them)
  std::string ca_file;               // empty: the system's certificate store
  std::vector<std::string> secrets;  // the environment values in `headers`: kept out of errors
  Millis timeout_ms = 10000;
  Millis connect_timeout_ms = 5000;
  // Hosts a webhook node's own url may name although they are internal
  // (loopback, private, link-local, metadata; nodes/webhook_target.h); every other
  // internal target is refused, checked on the address each connection uses.
  std::vector<std::string> webhook_allow_hosts;
};

struct SmtpSettings {
  std::string url;  // smtp://host:port or smtps://host:port
  std::string from;
  std::string username, password;  // resolved from the environment; empty: no AUTH
  bool starttls = true;
  std::string ca_file;
  Millis timeout_ms = 10000;
  Millis connect_timeout_ms = 5000;
};

// `cancel` (may be null) aborts a call in progress when it becomes true.
std::unique_ptr<Provider> make_http_provider(const HttpSettings& settings,
                                             const std::atomic<bool>* cancel);
std::unique_ptr<Provider> make_smtp_provider(const SmtpSettings& settings,
                                             const std::atomic<bool>* cancel);

// `text` with every occurrence of each secret replaced by "[redacted]": a
// provider may echo a credential back in its answer.
std::string redact(std::string text, const std::vector<std::string>& secrets);

// A Retry-After value, seconds ("2") or an HTTP date, as a wait from now.
std::optional<Millis> parse_retry_after(const std::string& value);

}  // namespace trellis::runtime::delivery

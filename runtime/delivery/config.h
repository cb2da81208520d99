// The delivery configuration (`trellis.yaml` beside the flows; `serve
// --config`, env TRELLIS_CONFIG): channels and their providers, consent
// events, frequency caps and quiet hours. docs/delivery.md is the reference.
//
// Plain structs, filled by load_delivery_config(), read by the dispatcher
// (channels), the governance rules (caps, quiet hours, consent) and the
// processor. Secrets are never stored here: a header value or credential
// names an environment variable (`${SMS_TOKEN}`, `password_env: SMTP_PASSWORD`)
// that is read when the provider is opened, and never logged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "dsl/ir/diagnostic.h"
#include "dsl/ir/source_span.h"

namespace trellis::runtime::delivery {

using Millis = int64_t;

// The configuration's file name inside the flows folder, where `serve` looks
// for it by default and which the flow catalog skips.
inline constexpr const char* kDeliveryConfigFile = "trellis.yaml";

struct RetryPolicy {
  int max_attempts = 8;      // then the delivery is a dead letter
  Millis backoff_ms = 1000;  // base * 2^(attempt-1), full jitter, capped below
  Millis max_backoff_ms = 3600000;
};

// Stop calling a provider that fails every call; probe again after `open_ms`.
struct CircuitBreaker {
  int failures = 5;        // consecutive failed calls that open the circuit
  Millis open_ms = 30000;  // how long it stays open before one probe call
};

struct QuietHours {
  int start_minute = 0;  // local time of day the quiet window starts (21:00 -> 1260)
  int end_minute = 0;    // ... and ends (09:00 -> 540); may wrap midnight
  // Messages released at the end of the window are spread deterministically
  // (by delivery key) over this long, so a million do not leave in one second.
  Millis spread_ms = 30 * 60 * 1000;
  std::string text;  // "21:00-09:00", for traces
};

struct Header {
  std::string name;
  std::string value;  // may hold ${ENV_NAME} references, resolved at open
};

struct ChannelConfig {
  std::string name;             // the channel: sms, email, push, webhook (a node's channel)
  std::string provider;         // "smtp", "http" or "file"
  std::string url;              // smtp://, smtps://, http://, https://; file: a path
  std::string from;             // sender: email From (may be "Name <addr>"), SMS sender id
  std::vector<Header> headers;  // http
  std::string username_env;     // smtp AUTH user, from this environment variable
  std::string password_env;     // smtp AUTH password, likewise
  bool starttls = true;         // smtp:// upgrades with STARTTLS when offered (required when true)
  std::string ca_file;          // PEM of the CA of the server's certificate; empty: the system's
  double rate = 0;              // messages per second, 0 = unlimited
  int concurrency = 1;          // calls in flight at once
  Millis timeout_ms = 10000;    // whole call
  Millis connect_timeout_ms = 5000;
  RetryPolicy retry;
  CircuitBreaker circuit;
  std::optional<QuietHours> quiet_hours;
  // DeliveryConfig::webhook_allow_hosts, copied by the dispatcher for the http provider.
  std::vector<std::string> webhook_allow_hosts;
  ir::SourceSpan span;  // the channel's key in the file
};

// At most `max` messages per user in any rolling `window_ms`, of one channel
// or (channel empty) of any channel. Transactional flows are neither checked
// nor counted.
struct CapRule {
  std::string channel;  // empty: every channel
  int max = 0;
  Millis window_ms = 0;
  std::string text;  // "sms 2/1d", "any 6/7d": what traces show
  ir::SourceSpan span;
};

// An event that changes consent. The channel comes from
// `properties.channel` when present, else it applies to every channel.
struct ConsentEvent {
  std::string event;       // event type, e.g. "unsubscribe"
  bool subscribe = false;  // false: unsubscribes; true: subscribes again
};

// `retention: {events: 7d, max_events: 1000000}`: applied events kept for
// replay (docs/operations.md#event-retention), at most `events` old and at
// most `max_events` of them. `events: 0` (the default) keeps none.
struct EventRetention {
  Millis events_ms = 0;
  int max_events = 1'000'000;
  bool on() const { return events_ms > 0 && max_events > 0; }
};

struct DeliveryConfig {
  std::string file;                               // where it was read from; empty for defaults
  std::string default_timezone = "UTC";           // users without a valid `timezone` trait
  std::map<std::string, ChannelConfig> channels;  // by channel name
  std::vector<CapRule> caps;
  Millis max_defer_ms = 3LL * 24 * 3600 * 1000;  // a deferred message older than this is dropped
  // Default: `unsubscribe` unsubscribes, `subscribe` subscribes.
  std::vector<ConsentEvent> consent_events = {{"unsubscribe", false}, {"subscribe", true}};
  // `webhooks: {allow_hosts: [...]}`: the internal hosts (loopback, private,
  // link-local, metadata) a webhook node may send to; every other internal
  // target is refused (nodes/webhook_target.h).
  std::vector<std::string> webhook_allow_hosts;
  // `costs: {sms: 0.0075}`: the cost of one message released to a provider,
  // by channel, for cost and ROI in flow results (docs/results.md#costs).
  std::map<std::string, double> costs;
  // `holdout: {percent: 5}`: the share of users (by a stable hash of the user
  // id) who enter no marketing flow (docs/results.md#global-holdout).
  double holdout_percent = 0;
  EventRetention retention;
  // `traits: [first_name, tier]`: the profile traits flows may name, beside those of
  // stored profiles (dsl/known_names.h; docs/delivery.md#traits).
  std::vector<std::string> traits;

  const ChannelConfig* channel(const std::string& name) const {
    auto it = channels.find(name);
    return it == channels.end() ? nullptr : &it->second;
  }
};

struct LoadedConfig {
  DeliveryConfig config;
  ir::Diagnostics diagnostics;  // file:line:col errors and warnings
  // The text with every literal secret the checker found replaced by '*'
  // (same length, so columns hold): render diagnostics with this, never the text.
  std::string masked_source;
  bool ok() const { return !diagnostics.has_errors(); }
};

// Reads and checks a configuration file. Never throws: a missing file, bad
// YAML, an unknown key, a bad value or a literal secret is a diagnostic.
LoadedConfig load_delivery_config(const std::string& path);
// The same for text already read (`file` names it in diagnostics).
LoadedConfig parse_delivery_config(const std::string& text, const std::string& file);

// Whether a file looks like a delivery configuration rather than a flow
// (`trellis check` routes it): a YAML mapping with `channels:` and no `flow:`.
bool looks_like_delivery_config(const std::string& text);

// "500ms", "30s", "15m", "2h", "1d", "1w" -> milliseconds; nullopt otherwise.
std::optional<Millis> parse_duration_ms(const std::string& text);
// The reverse, in the largest whole unit: 86400000 -> "1d", 1500 -> "1500ms".
std::string duration_text(Millis ms);

}  // namespace trellis::runtime::delivery

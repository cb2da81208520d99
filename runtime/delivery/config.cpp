// Reading `trellis.yaml`: yaml-cpp for the syntax, then one checker per
// section that turns every mistake into a diagnostic with a file:line:col
// span. docs/delivery.md documents the keys; keep the two in step.
#include "runtime/delivery/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "dsl/ir/suggest.h"
#include "nodes/local_time.h"
#include "runtime/delivery/provider.h"
#include "runtime/delivery/secrets.h"

namespace trellis::runtime::delivery {

namespace {

constexpr Millis kSecond = 1000;
constexpr Millis kMinute = 60 * kSecond;
constexpr Millis kHour = 60 * kMinute;
constexpr Millis kDay = 24 * kHour;

// Channels a flow node can produce; a cap or channel with another name is a
// likely typo, so it gets a warning with a suggestion.
const std::vector<std::string> kKnownChannels = {"sms", "email", "webhook", "coupon", "push"};
const std::vector<std::string> kProviders = {"smtp", "http", "file"};

// Header names whose value is a credential: a literal value there is refused.
const std::vector<std::string> kSecretHeaders = {
    "authorization", "proxy-authorization", "x-api-key", "api-key", "x-auth-token", "cookie"};
// Keys people write for credentials; each is refused with the `_env` way instead.
const std::vector<std::string> kLiteralSecretKeys = {"password", "username", "user", "token",
                                                     "api_key",  "secret",   "auth"};

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// ": did you mean 'x'?" when a candidate is a likely slip, else the list.
std::string suggestion(const std::string& word, const std::vector<std::string>& candidates) {
  if (std::optional<std::string> best = ir::closest_name(word, candidates))
    return ": did you mean '" + *best + "'?";
  std::string list;
  for (const std::string& c : candidates) list += (list.empty() ? "" : ", ") + c;
  return " (expected one of: " + list + ")";
}

bool contains(const std::vector<std::string>& list, const std::string& word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Reads one configuration text; every check adds to `diagnostics`.
class ConfigReader {
 public:
  ConfigReader(const std::string& text, std::string file) : text_(text), file_(std::move(file)) {}

  LoadedConfig read() {
    LoadedConfig out = read_text();
    out.masked_source = text_;
    for (const ir::SourceSpan& span : secret_spans_)
      for (size_t i = span.offset; i < span.offset + span.length && i < text_.size(); ++i)
        if (text_[i] != '"' && text_[i] != '\'') out.masked_source[i] = '*';
    return out;
  }

 private:
  LoadedConfig read_text() {
    LoadedConfig out;
    out.config.file = file_;
    YAML::Node root;
    try {
      root = YAML::Load(text_);
    } catch (const YAML::Exception& e) {
      error(point(e.mark), "YAML syntax: " + e.msg);
      out.diagnostics = std::move(diagnostics_);
      return out;
    }
    if (root.IsNull()) {
      out.diagnostics = std::move(diagnostics_);
      return out;  // an empty file: every default
    }
    if (!root.IsMap()) {
      error(span(root),
            "the delivery configuration must be a mapping of keys (timezone, "
            "channels, caps, max_defer, consent_events)");
    } else {
      read_root(root, out.config);
    }
    out.diagnostics = std::move(diagnostics_);
    out.diagnostics.sort();
    return out;
  }

  using KeyReader = std::function<void(const std::string& key, const YAML::Node& key_node,
                                       const YAML::Node& value)>;

  void read_root(const YAML::Node& root, DeliveryConfig& config) {
    for_each_key(root, "the configuration",
                 {"timezone", "channels", "caps", "max_defer", "consent_events", "webhooks",
                  "costs", "holdout", "retention", "traits"},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& value) {
                   if (key == "traits") read_traits(value, config);
                   if (key == "costs") read_costs(value, config);
                   if (key == "holdout") read_holdout(value, config);
                   if (key == "webhooks") read_webhooks(value, config);
                   if (key == "timezone") read_timezone(value, config);
                   if (key == "channels") read_channels(value, config);
                   if (key == "caps") read_caps(value, config);
                   if (key == "max_defer")
                     read_duration(value, "max_defer", kMinute, 30 * kDay, config.max_defer_ms);
                   if (key == "consent_events") read_consent_events(value, config);
                   if (key == "retention") read_retention(value, config.retention);
                 });
  }

  // `retention: {events: 7d, max_events: 1000000}` (docs/operations.md#event-retention).
  void read_retention(const YAML::Node& value, EventRetention& retention) {
    if (!value.IsMap()) {
      error(span(value),
            "'retention' must be a mapping such as {events: 7d, max_events: "
            "1000000}, not " +
                shape(value));
      return;
    }
    for_each_key(value, "retention", {"events", "max_events"},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   if (key == "events") {
                     if (v.IsScalar() && (v.Scalar() == "0" || v.Scalar() == "off"))
                       retention.events_ms = 0;
                     else
                       read_duration(v, "events", kMinute, 400 * kDay, retention.events_ms);
                   }
                   if (key == "max_events")
                     read_int(v, "max_events", 0, 100'000'000, retention.max_events);
                 });
  }

  // `webhooks: {allow_hosts: [hooks.internal, 127.0.0.1]}`: internal hosts a
  // webhook node may send to (docs/delivery.md, "Webhook targets").
  // `traits: [first_name, tier]`: the profile traits flows may name; the checker
  // warns of a `user.` path that is neither declared nor in a stored profile.
  void read_traits(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsSequence()) {
      error(span(value), "'traits' must be a list of trait names such as [first_name, tier], not " +
                             shape(value));
      return;
    }
    for (const YAML::Node& item : value) {
      auto name = text(item, "traits", "a trait name");
      if (!name) continue;
      const bool word = !name->empty() && std::all_of(name->begin(), name->end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
      });
      if (!word) {
        error(span(item), "'" + *name +
                              "' is not a trait name: letters, digits and _ only, the top-level "
                              "name as in user.first_name");
        continue;
      }
      if (std::find(config.traits.begin(), config.traits.end(), *name) != config.traits.end()) {
        warning(span(item), "trait '" + *name + "' is declared twice");
        continue;
      }
      config.traits.push_back(*name);
    }
  }

  void read_webhooks(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsMap()) {
      error(span(value),
            "'webhooks' must be a mapping such as {allow_hosts: [hooks.internal]}, not " +
                shape(value));
      return;
    }
    for_each_key(value, "webhooks", {"allow_hosts"},
                 [&](const std::string&, const YAML::Node&, const YAML::Node& hosts) {
                   if (!hosts.IsSequence()) {
                     error(span(hosts),
                           "'allow_hosts' must be a list of host names or "
                           "addresses such as [hooks.internal, 10.0.0.7], not " +
                               shape(hosts));
                     return;
                   }
                   for (const YAML::Node& host : hosts) {
                     auto name = text(host, "allow_hosts", "a host name or address");
                     if (!name) continue;
                     if (name->find_first_of("/:@ ") != std::string::npos &&
                         name->find('[') == std::string::npos &&
                         std::count(name->begin(), name->end(), ':') < 2) {
                       error(span(host), "'" + *name +
                                             "' must be a host alone (hooks.internal, 10.0.0.7, "
                                             "::1), without scheme, port or path");
                       continue;
                     }
                     config.webhook_allow_hosts.push_back(*name);
                   }
                 });
  }

  // `costs: {sms: 0.0075, email: 0.0004}`: what one message released to the
  // provider costs, per channel (docs/results.md#costs).
  void read_costs(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsMap()) {
      error(span(value),
            "'costs' must be a mapping of channel to the cost of one message, such "
            "as {sms: 0.0075}, not " +
                shape(value));
      return;
    }
    for_each_key(value, "costs", {},
                 [&](const std::string& channel, const YAML::Node& key, const YAML::Node& cost) {
                   if (!contains(kKnownChannels, channel))
                     warning(span(key), "channel '" + channel +
                                            "' is not one a flow node produces" +
                                            suggestion(channel, kKnownChannels));
                   double v = 0;
                   if (read_number(cost, "costs." + channel, 0, 1e6, v)) config.costs[channel] = v;
                 });
  }

  // `holdout: {percent: 5}`: users kept out of every marketing flow
  // (docs/results.md#global-holdout).
  void read_holdout(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsMap()) {
      error(span(value), "'holdout' must be a mapping such as {percent: 5}, not " + shape(value));
      return;
    }
    for_each_key(value, "holdout", {"percent"},
                 [&](const std::string&, const YAML::Node&, const YAML::Node& percent) {
                   read_number(percent, "holdout.percent", 0, 50, config.holdout_percent);
                 });
  }

  void read_timezone(const YAML::Node& value, DeliveryConfig& config) {
    auto zone = text(value, "timezone", "an IANA time zone name such as Europe/Berlin");
    if (!zone) return;
    if (!nodes::is_known_zone(*zone)) {
      error(span(value),
            "unknown time zone '" + *zone + "' (an IANA name such as Europe/Berlin or UTC)");
      return;
    }
    config.default_timezone = *zone;
  }

  void read_channels(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsMap()) {
      error(span(value),
            "'channels' must be a mapping of channel name to settings, not " + shape(value));
      return;
    }
    for_each_key(value, "channels", {},
                 [&](const std::string& name, const YAML::Node& key, const YAML::Node& settings) {
                   if (!contains(kKnownChannels, name))
                     warning(span(key), "channel '" + name + "' is not one a flow node produces" +
                                            suggestion(name, kKnownChannels));
                   ChannelConfig channel;
                   channel.name = name;
                   channel.span = span(key);
                   if (read_channel(settings, channel)) config.channels[name] = std::move(channel);
                 });
  }

  bool read_channel(const YAML::Node& value, ChannelConfig& channel) {
    const std::string owner = "channel '" + channel.name + "'";
    if (!value.IsMap()) {
      error(span(value),
            owner + " must be a mapping such as {provider: http, url: ...}, not " + shape(value));
      return false;
    }
    const size_t errors_before = diagnostics_.error_count();
    url_span_ = channel.span;
    url_key_.clear();
    const std::vector<std::string> keys = {
        "provider",        "url",      "path",    "from",       "headers",     "username_env",
        "password_env",    "starttls", "ca_file", "rate",       "concurrency", "timeout",
        "connect_timeout", "retry",    "circuit", "quiet_hours"};
    bool has_provider = false;
    for_each_key(value, owner, keys,
                 [&](const std::string& key, const YAML::Node& key_node, const YAML::Node& v) {
                   const std::string field = channel.name + "." + key;
                   if (key == "provider") {
                     has_provider = true;
                     if (auto p = text(v, field, "smtp, http or file")) {
                       if (contains(kProviders, *p) || is_registered_provider(*p))
                         channel.provider = *p;
                       else
                         error(span(v),
                               "unknown provider '" + *p + "'" + suggestion(*p, kProviders));
                     }
                   }
                   if (key == "url" || key == "path") {
                     if (auto u = text(v, field, key == "url" ? "a URL" : "a file path")) {
                       channel.url = *u;
                       url_span_ = span(v);
                       url_key_ = key;
                     }
                   }
                   if (key == "from") {
                     if (auto f = text(v, field, "a sender such as \"Shop <shop@example.com>\""))
                       channel.from = *f;
                   }
                   if (key == "headers") read_headers(v, channel);
                   if (key == "username_env") read_env_name(v, field, channel.username_env);
                   if (key == "password_env") read_env_name(v, field, channel.password_env);
                   if (key == "starttls") read_bool(v, field, channel.starttls);
                   if (key == "ca_file") {
                     if (auto f = text(v, field, "a PEM file path")) channel.ca_file = *f;
                   }
                   if (key == "rate") read_number(v, field, 0, 100000, channel.rate);
                   if (key == "concurrency") read_int(v, field, 1, 256, channel.concurrency);
                   if (key == "timeout")
                     read_duration(v, field, 100, 10 * kMinute, channel.timeout_ms);
                   if (key == "connect_timeout")
                     read_duration(v, field, 100, 5 * kMinute, channel.connect_timeout_ms);
                   if (key == "retry") read_retry(v, field, channel.retry);
                   if (key == "circuit") read_circuit(v, field, channel.circuit);
                   if (key == "quiet_hours") read_quiet_hours(v, field, channel);
                   (void)key_node;
                 });
    if (!has_provider) {
      error(channel.span, owner + " has no 'provider' (smtp, http or file)");
    } else if (!channel.provider.empty()) {
      check_provider_settings(channel);
    }
    return diagnostics_.error_count() == errors_before;
  }

  // What each provider needs: a URL of its own scheme, a sender for email.
  void check_provider_settings(const ChannelConfig& channel) {
    const std::string owner = "channel '" + channel.name + "'";
    const ir::SourceSpan where = channel.url.empty() ? channel.span : url_span_;
    if (channel.provider == "file") {
      if (!channel.url.empty() && url_key_ == "url")
        error(where, owner + ": the file provider takes 'path', not 'url'");
    } else if (url_key_ == "path" && !channel.url.empty()) {
      error(where, owner + ": the " + channel.provider + " provider takes 'url', not 'path'");
    } else if (channel.provider == "smtp") {
      if (channel.url.rfind("smtp://", 0) != 0 && channel.url.rfind("smtps://", 0) != 0)
        error(where, owner + ": the smtp provider needs an smtp:// or smtps:// url" +
                         (channel.url.empty() ? "" : ", not '" + channel.url + "'"));
      if (channel.from.empty()) error(channel.span, owner + ": the smtp provider needs 'from'");
      if (channel.username_env.empty() != channel.password_env.empty())
        error(channel.span, owner + ": give both username_env and password_env, or neither");
    } else if (channel.provider == "http") {
      if (channel.url.empty() && channel.name != "webhook")
        error(where, owner +
                         ": the http provider needs a url (only the webhook channel may "
                         "leave it out: a webhook node posts to its own url)");
      else if (!channel.url.empty() && channel.url.rfind("http://", 0) != 0 &&
               channel.url.rfind("https://", 0) != 0)
        error(where, owner + ": the http provider needs an http:// or https:// url, not '" +
                         channel.url + "'");
    }
    if (has_userinfo_password(channel.url)) {
      secret_spans_.push_back(where);
      error(where, owner +
                       ": the url holds a password; give it through username_env and "
                       "password_env (environment variables) instead");
    }
  }

  static bool has_userinfo_password(const std::string& url) {
    const size_t scheme = url.find("://");
    if (scheme == std::string::npos) return false;
    const size_t end = url.find('/', scheme + 3);
    const std::string authority =
        url.substr(scheme + 3, end == std::string::npos ? std::string::npos : end - scheme - 3);
    const size_t at = authority.find('@');
    return at != std::string::npos && authority.substr(0, at).find(':') != std::string::npos;
  }

  void read_headers(const YAML::Node& value, ChannelConfig& channel) {
    if (!value.IsMap()) {
      error(span(value),
            "'headers' must be a mapping of header name to value, not " + shape(value));
      return;
    }
    for_each_key(value, "headers", {},
                 [&](const std::string& name, const YAML::Node& key, const YAML::Node& v) {
                   if (name.empty() || name.find_first_of(" :\t\r\n") != std::string::npos) {
                     error(span(key), "'" + name + "' is not a header name");
                     return;
                   }
                   auto header_value = text(v, "headers." + name, "text");
                   if (!header_value) return;
                   if (std::string problem = check_references(*header_value); !problem.empty()) {
                     error(span(v), "header '" + name + "': " + problem);
                     return;
                   }
                   if (looks_secret(name) && header_value->find("${") == std::string::npos) {
                     // Never repeat the value: it is likely a real credential.
                     secret_spans_.push_back(span(v));
                     error(span(v),
                           "header '" + name +
                               "' holds a literal secret; put it in an environment "
                               "variable and write \"${NAME}\" (e.g. \"Bearer ${SMS_TOKEN}\")");
                     return;
                   }
                   channel.headers.push_back({name, *header_value});
                 });
  }

  static bool looks_secret(const std::string& header) {
    const std::string name = lower(header);
    if (contains(kSecretHeaders, name)) return true;
    for (const char* word : {"token", "secret", "password", "api-key", "apikey"})
      if (name.find(word) != std::string::npos) return true;
    return false;
  }

  void read_env_name(const YAML::Node& value, const std::string& field, std::string& out) {
    auto name = text(value, field, "the name of an environment variable");
    if (!name) return;
    if (!is_env_name(*name)) {
      error(span(value), "'" + field +
                             "' names an environment variable (letters, digits and "
                             "_, such as SMTP_PASSWORD), not a value");
      return;
    }
    out = *name;
  }

  void read_retry(const YAML::Node& value, const std::string& field, RetryPolicy& retry) {
    if (!value.IsMap()) {
      error(span(value), "'" + field +
                             "' must be a mapping such as {max_attempts: 8, backoff: "
                             "1s, max_backoff: 1h}, not " +
                             shape(value));
      return;
    }
    for_each_key(value, field, {"max_attempts", "backoff", "max_backoff"},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   const std::string name = field + "." + key;
                   if (key == "max_attempts") read_int(v, name, 1, 100, retry.max_attempts);
                   if (key == "backoff") read_duration(v, name, 10, kDay, retry.backoff_ms);
                   if (key == "max_backoff")
                     read_duration(v, name, 10, 7 * kDay, retry.max_backoff_ms);
                 });
    if (retry.max_backoff_ms < retry.backoff_ms)
      error(span(value), "'" + field + "': max_backoff is shorter than backoff");
  }

  void read_circuit(const YAML::Node& value, const std::string& field, CircuitBreaker& circuit) {
    if (!value.IsMap()) {
      error(span(value), "'" + field +
                             "' must be a mapping such as {failures: 5, open: 30s}, "
                             "not " +
                             shape(value));
      return;
    }
    for_each_key(value, field, {"failures", "open"},
                 [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                   const std::string name = field + "." + key;
                   if (key == "failures") read_int(v, name, 1, 1000, circuit.failures);
                   if (key == "open") read_duration(v, name, 100, kDay, circuit.open_ms);
                 });
  }

  // "21:00-09:00" or {from: "21:00", to: "09:00", spread: 30m}.
  void read_quiet_hours(const YAML::Node& value, const std::string& field, ChannelConfig& channel) {
    QuietHours quiet;
    std::optional<int> start, end;
    const size_t errors_before = diagnostics_.error_count();
    if (value.IsScalar()) {
      const std::string& t = value.Scalar();
      const size_t dash = t.find('-');
      if (dash != std::string::npos) {
        start = nodes::parse_time_of_day(t.substr(0, dash));
        end = nodes::parse_time_of_day(t.substr(dash + 1));
      }
      if (!start || !end) {
        error(span(value), "'" + field +
                               "' must be a local time window such as \"21:00-09:00\""
                               " (HH:MM-HH:MM)");
        return;
      }
    } else if (value.IsMap()) {
      for_each_key(value, field, {"from", "to", "spread"},
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                     if (key == "spread") {
                       read_duration(v, field + ".spread", 0, 12 * kHour, quiet.spread_ms);
                       return;
                     }
                     auto t = text(v, field + "." + key, "a time of day such as 21:00");
                     if (!t) return;
                     auto minute = nodes::parse_time_of_day(*t);
                     if (!minute) {
                       error(span(v), "'" + field + "." + key + "': '" + *t +
                                          "' is not a time of day (HH:MM, 00:00 to 23:59)");
                       return;
                     }
                     (key == "from" ? start : end) = minute;
                   });
      if (!start || !end) {
        if (diagnostics_.error_count() == errors_before)
          error(span(value), "'" + field + "' needs both 'from' and 'to'");
        return;
      }
    } else {
      error(span(value),
            "'" + field + "' must be \"HH:MM-HH:MM\" or {from, to}, not " + shape(value));
      return;
    }
    if (*start == *end) {
      error(span(value), "'" + field + "' starts and ends at the same time: no quiet hours");
      return;
    }
    quiet.start_minute = *start;
    quiet.end_minute = *end;
    quiet.text = minute_text(*start) + "-" + minute_text(*end);
    channel.quiet_hours = quiet;
  }

  static std::string minute_text(int minute) {  // 0..1439 -> "HH:MM"
    const std::string hours = std::to_string(minute / 60), minutes = std::to_string(minute % 60);
    return (hours.size() < 2 ? "0" : "") + hours + ":" + (minutes.size() < 2 ? "0" : "") + minutes;
  }

  void read_caps(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsSequence()) {
      error(span(value),
            "'caps' must be a list such as [{channel: sms, max: 2, per: 1d}], not " + shape(value));
      return;
    }
    for (const YAML::Node& item : value) {
      if (!item.IsMap()) {
        error(span(item), "a cap must be a mapping such as {channel: sms, max: 2, per: 1d}, not " +
                              shape(item));
        continue;
      }
      CapRule cap;
      cap.span = span(item);
      bool has_channel = false, has_max = false, has_per = false;
      const size_t errors_before = diagnostics_.error_count();
      for_each_key(item, "a cap", {"channel", "max", "per"},
                   [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                     if (key == "channel") {
                       has_channel = true;
                       read_cap_channel(v, config, cap);
                     }
                     if (key == "max") has_max = read_int(v, "max", 1, 100000, cap.max);
                     if (key == "per")
                       has_per = read_duration(v, "per", kMinute, 366 * kDay, cap.window_ms);
                   });
      if (!has_channel || !has_max || !has_per) {
        if (diagnostics_.error_count() == errors_before)
          error(cap.span,
                "a cap needs channel, max and per (e.g. {channel: sms, max: 2, per: 1d})");
        continue;
      }
      if (diagnostics_.error_count() != errors_before) continue;
      cap.text = (cap.channel.empty() ? "any" : cap.channel) + " " + std::to_string(cap.max) + "/" +
                 duration_text(cap.window_ms);
      config.caps.push_back(cap);
    }
  }

  void read_cap_channel(const YAML::Node& v, const DeliveryConfig& config, CapRule& cap) {
    auto channel = text(v, "channel", "a channel name or any");
    if (!channel) return;
    if (*channel == "any") return;  // empty: every channel
    if (!contains(kKnownChannels, *channel) && !config.channel(*channel)) {
      std::vector<std::string> names = kKnownChannels;
      names.push_back("any");
      warning(span(v),
              "no flow node sends on channel '" + *channel + "'" + suggestion(*channel, names));
    }
    cap.channel = *channel;
  }

  void read_consent_events(const YAML::Node& value, DeliveryConfig& config) {
    if (!value.IsSequence()) {
      error(span(value),
            "'consent_events' must be a list such as [{event: unsubscribe}, "
            "{event: subscribe, subscribe: true}], not " +
                shape(value));
      return;
    }
    std::vector<ConsentEvent> events;
    for (const YAML::Node& item : value) {
      ConsentEvent consent;
      if (item.IsScalar()) {  // `- unsubscribe`
        consent.event = item.Scalar();
      } else if (item.IsMap()) {
        for_each_key(item, "a consent event", {"event", "subscribe"},
                     [&](const std::string& key, const YAML::Node&, const YAML::Node& v) {
                       if (key == "event") {
                         if (auto e = text(v, "event", "an event type")) consent.event = *e;
                       }
                       if (key == "subscribe") read_bool(v, "subscribe", consent.subscribe);
                     });
      } else {
        error(span(item),
              "a consent event must be {event: TYPE, subscribe: true|false}, not " + shape(item));
        continue;
      }
      if (consent.event.empty()) {
        error(span(item), "a consent event needs 'event' (the event type)");
        continue;
      }
      events.push_back(consent);
    }
    config.consent_events = std::move(events);
  }

  // ----- scalars --------------------------------------------------------------

  std::optional<std::string> text(const YAML::Node& value, const std::string& field,
                                  const std::string& what) {
    if (value.IsScalar() && !value.Scalar().empty()) return value.Scalar();
    error(span(value),
          "'" + field + "' must be " + what +
              (value.IsScalar() || value.IsNull() ? " (it is empty)" : ", not " + shape(value)));
    return std::nullopt;
  }

  bool read_number(const YAML::Node& value, const std::string& field, double min, double max,
                   double& out) {
    if (value.IsScalar()) {
      const std::string& t = value.Scalar();
      char* end = nullptr;
      const double v = std::strtod(t.c_str(), &end);
      if (!t.empty() && end == t.c_str() + t.size() && std::isfinite(v)) {
        if (v < min || v > max) {
          error(span(value), "'" + field + "' is " + t + "; it must be from " + number_text(min) +
                                 " to " + number_text(max));
          return false;
        }
        out = v;
        return true;
      }
    }
    error(span(value), "'" + field + "' must be a number, not " + shape(value));
    return false;
  }

  bool read_int(const YAML::Node& value, const std::string& field, int min, int max, int& out) {
    double v = 0;
    if (!read_number(value, field, min, max, v)) return false;
    if (v != std::floor(v)) {
      error(span(value), "'" + field + "' must be a whole number");
      return false;
    }
    out = static_cast<int>(v);
    return true;
  }

  void read_bool(const YAML::Node& value, const std::string& field, bool& out) {
    if (value.IsScalar() && (value.Scalar() == "true" || value.Scalar() == "false")) {
      out = value.Scalar() == "true";
      return;
    }
    error(span(value), "'" + field + "' must be true or false");
  }

  bool read_duration(const YAML::Node& value, const std::string& field, Millis min, Millis max,
                     Millis& out) {
    if (!value.IsScalar()) {
      error(span(value), "'" + field + "' must be a duration such as 30s, not " + shape(value));
      return false;
    }
    auto ms = parse_duration_ms(value.Scalar());
    if (!ms) {
      error(span(value), "'" + field + "': '" + value.Scalar() +
                             "' is not a duration (a number and a unit: 500ms, 30s, 15m, 2h, "
                             "1d, 1w)");
      return false;
    }
    if (*ms < min || *ms > max) {
      error(span(value), "'" + field + "' is " + value.Scalar() + "; it must be from " +
                             duration_text(min) + " to " + duration_text(max));
      return false;
    }
    out = *ms;
    return true;
  }

  static std::string number_text(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  // ----- structure ------------------------------------------------------------

  // Calls `read` for each key of `map`, after refusing non-scalar, duplicate,
  // literal-secret and (when `allowed` is not empty) unknown keys.
  void for_each_key(const YAML::Node& map, const std::string& owner,
                    const std::vector<std::string>& allowed, const KeyReader& read) {
    std::set<std::string> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` is a temporary proxy
      if (!key.IsScalar()) {
        error(span(key), "keys must be plain names, not " + shape(key));
        continue;
      }
      const std::string& name = key.Scalar();
      if (!seen.insert(name).second) {
        error(span(key), "duplicate key '" + name + "' in " + owner);
        continue;
      }
      if (!allowed.empty() && !contains(allowed, name)) {
        if (contains(kLiteralSecretKeys, lower(name))) {
          secret_spans_.push_back(span(it->second));
          error(span(key), "'" + name +
                               "' would put a secret in this file; name an "
                               "environment variable instead (username_env: SMTP_USER, "
                               "password_env: SMTP_PASSWORD, or \"${NAME}\" in a header)");
        } else {
          error(span(key), "unknown key '" + name + "' in " + owner + suggestion(name, allowed));
        }
        continue;
      }
      read(name, key, it->second);
    }
  }

  // 0-based yaml-cpp marks to a 1-based span covering the token.
  ir::SourceSpan span(const YAML::Node& node) const {
    const YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.pos < 0) return {};
    uint32_t length = 1;
    if (node.IsScalar()) {
      length = static_cast<uint32_t>(std::max<size_t>(1, node.Scalar().size()));
      const size_t pos = static_cast<size_t>(mark.pos);
      if (pos < text_.size() && (text_[pos] == '"' || text_[pos] == '\'')) length += 2;
    }
    return {static_cast<uint32_t>(mark.line + 1), static_cast<uint32_t>(mark.column + 1),
            static_cast<uint32_t>(mark.pos), length};
  }

  ir::SourceSpan point(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.pos < 0) return {};
    return {static_cast<uint32_t>(mark.line + 1), static_cast<uint32_t>(mark.column + 1),
            static_cast<uint32_t>(mark.pos), 1};
  }

  static std::string shape(const YAML::Node& node) {
    if (node.IsMap()) return "a mapping";
    if (node.IsSequence()) return "a list";
    if (node.IsNull()) return "nothing";
    return "'" + node.Scalar() + "'";
  }

  void error(ir::SourceSpan where, std::string message) {
    diagnostics_.error(file_, where, std::move(message));
  }
  void warning(ir::SourceSpan where, std::string message) {
    diagnostics_.warning(file_, where, std::move(message));
  }

  const std::string& text_;
  std::string file_;
  ir::Diagnostics diagnostics_;
  std::vector<ir::SourceSpan> secret_spans_;  // literal secrets: masked when rendering
  ir::SourceSpan url_span_;                   // of the channel being read
  std::string url_key_;                       // "url" or "path", as written
};

}  // namespace

std::optional<Millis> parse_duration_ms(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const Millis amount = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  if (unit == "ms") return amount;
  if (unit == "s") return amount * kSecond;
  if (unit == "m") return amount * kMinute;
  if (unit == "h") return amount * kHour;
  if (unit == "d") return amount * kDay;
  if (unit == "w") return amount * 7 * kDay;
  return std::nullopt;
}

std::string duration_text(Millis ms) {
  struct Unit {
    Millis size;
    const char* name;
  };
  for (Unit unit : {Unit{7 * kDay, "w"}, Unit{kDay, "d"}, Unit{kHour, "h"}, Unit{kMinute, "m"},
                    Unit{kSecond, "s"}})
    if (ms >= unit.size && ms % unit.size == 0) return std::to_string(ms / unit.size) + unit.name;
  return std::to_string(ms) + "ms";
}

LoadedConfig parse_delivery_config(const std::string& text, const std::string& file) {
  return ConfigReader(text, file).read();
}

LoadedConfig load_delivery_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadedConfig out;
    out.config.file = path;
    out.diagnostics.error(path, {}, "cannot read the delivery configuration " + path);
    return out;
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_delivery_config(text.str(), path);
}

bool looks_like_delivery_config(const std::string& text) {
  try {
    YAML::Node root = YAML::Load(text);
    if (!root.IsMap() || root["flow"]) return false;
    for (const char* key : {"channels", "caps", "consent_events", "max_defer", "webhooks",
                            "retention", "costs", "holdout", "traits"})
      if (root[key]) return true;
    return false;
  } catch (const YAML::Exception&) {
    return false;
  }
}

}  // namespace trellis::runtime::delivery

// `trellis serve`: flags and environment into api::ServiceOptions, signals
// into a graceful shutdown. Every flag has an environment variable; a flag
// given on the command line wins over its variable, which wins over the default.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <thread>

#include "api/service.h"
#include "app/command.h"
#include "runtime/store_url.h"

namespace trellis::app {
namespace {

struct Flag {
  std::string name;  // "--db"
  std::string env;   // "TRELLIS_DB"
  std::string placeholder;
  std::string help;
  std::string fallback;  // shown in --help; applied when neither flag nor variable is set
  std::function<bool(api::ServiceOptions&, const std::string&)> apply;  // false: bad value
};

bool to_int(const std::string& text, int min, int max, int* out) {
  try {
    size_t used = 0;
    long v = std::stol(text, &used);
    if (used != text.size() || v < min || v > max) return false;
    *out = static_cast<int>(v);
    return true;
  } catch (...) {
    return false;
  }
}

bool to_size(const std::string& text, int min, int max, size_t* out) {
  int n = 0;
  if (!to_int(text, min, max, &n)) return false;
  *out = static_cast<size_t>(n);
  return true;
}

api::RedisOptions& redis(api::ServiceOptions& o) {
  if (!o.redis) o.redis = api::RedisOptions{};
  return *o.redis;
}

std::string default_consumer() {
  char host[256] = "trellis";
  gethostname(host, sizeof host - 1);
  return std::string(host);
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> kFlags = {
      {"--db", "TRELLIS_DB", "URL",
       "the store: a SQLite file (created when missing), sqlite:PATH, or postgresql://USER@HOST/DB "
       "(password from PGPASSWORD)",
       "trellis.db",
       [](auto& o, auto& v) {
         o.db = v;
         return runtime::parse_store_url(v).ok();
       }},
      {"--flows", "TRELLIS_FLOWS", "DIR",
       "folder of .yaml/.flow files, deployed on start; PUT saves here", "flows",
       [](auto& o, auto& v) {
         o.flows_dir = v;
         return true;
       }},
      {"--host", "TRELLIS_HOST", "ADDR", "address to listen on", "127.0.0.1",
       [](auto& o, auto& v) {
         o.http.host = v;
         return !v.empty();
       }},
      {"--port", "TRELLIS_PORT", "N", "HTTP port (0 picks a free one)", "8080",
       [](auto& o, auto& v) { return to_int(v, 0, 65535, &o.http.port); }},
      {"--token", "TRELLIS_TOKEN", "TOKEN",
       "one admin token named default: `Authorization: Bearer TOKEN` on every API call", "",
       [](auto& o, auto& v) {
         o.http.token = v;
         return true;
       }},
      {"--tokens-file", "TRELLIS_TOKENS_FILE", "PATH",
       "named tokens, one `name read|write|admin secret` a line (docs/security.md)", "",
       [](auto& o, auto& v) {
         if (v.empty()) return true;
         auto tokens = api::load_tokens_file(v);
         if (!tokens.ok()) {
           std::cerr << "trellis serve: " << tokens.error().message << "\n";
           return false;
         }
         o.http.tokens = std::move(*tokens);
         return true;
       }},
      {"--allow-open", "TRELLIS_ALLOW_OPEN", "yes|no",
       "listen beyond loopback without any token (everyone may read and write)", "no",
       [](auto& o, auto& v) {
         o.allow_open = v == "yes";
         return v == "yes" || v == "no";
       }},
      {"--open-metrics", "TRELLIS_OPEN_METRICS", "yes|no",
       "serve /metrics without a token (it names flows and counts, no personal data)", "no",
       [](auto& o, auto& v) {
         o.http.open_metrics = v == "yes";
         return v == "yes" || v == "no";
       }},
      {"--editor-dir", "TRELLIS_EDITOR_DIR", "DIR", "built editor files served at /",
       "editor-web/dist",
       [](auto& o, auto& v) {
         o.http.editor_dir = v;
         return true;
       }},
      {"--redis", "TRELLIS_REDIS", "URL",
       "consume events from Redis Streams (redis://host:port/db)", "",
       [](auto& o, auto& v) {
         if (!v.empty()) redis(o).url = v;
         return true;
       }},
      {"--stream", "TRELLIS_STREAM", "NAME", "Redis stream to read events from", "trellis:events",
       [](auto& o, auto& v) {
         if (o.redis) o.redis->stream = v;
         return !v.empty();
       }},
      {"--group", "TRELLIS_GROUP", "NAME", "Redis consumer group", "trellis",
       [](auto& o, auto& v) {
         if (o.redis) o.redis->group = v;
         return !v.empty();
       }},
      {"--consumer", "TRELLIS_CONSUMER", "NAME",
       "consumer name in the group (stable across restarts)", "the host name",
       [](auto& o, auto& v) {
         if (o.redis) o.redis->consumer = v;
         return !v.empty();
       }},
      {"--dead-letter-stream", "TRELLIS_DEAD_LETTER_STREAM", "NAME",
       "stream for messages that cannot be applied", "<stream>:dead",
       [](auto& o, auto& v) {
         if (o.redis) o.redis->dead_letter_stream = v;
         return true;
       }},
      {"--claim-idle-ms", "TRELLIS_CLAIM_IDLE_MS", "MS",
       "claim other consumers' entries pending this long (XAUTOCLAIM)", "30000",
       [](auto& o, auto& v) {
         int ms = 0;
         if (!to_int(v, 0, 86400000, &ms)) return false;
         if (o.redis) o.redis->claim_idle_ms = ms;
         return true;
       }},
      {"--adapter", "TRELLIS_ADAPTER", "KIND", "delivery adapter: file, webhook or none", "file",
       [](auto& o, auto& v) {
         o.adapter = v;
         return v == "file" || v == "webhook" || v == "none";
       }},
      {"--deliveries", "TRELLIS_DELIVERIES", "PATH", "JSON-lines file of the file adapter",
       "deliveries.jsonl beside --db",
       [](auto& o, auto& v) {
         o.deliveries_path = v;
         return true;
       }},
      {"--webhook-url", "TRELLIS_WEBHOOK_URL", "URL", "provider URL of the webhook adapter", "",
       [](auto& o, auto& v) {
         o.webhook_url = v;
         return true;
       }},
      {"--config", "TRELLIS_CONFIG", "PATH",
       "delivery configuration: channels, providers, caps (docs/delivery.md)",
       "trellis.yaml in --flows when present",
       [](auto& o, auto& v) {
         o.config_path = v;
         return true;
       }},
      {"--delivery-lease-ms", "TRELLIS_DELIVERY_LEASE_MS", "MS",
       "several nodes: how long deliveries a node took stay its own (then another may send them)",
       "120000",
       [](auto& o, auto& v) {
         int ms = 0;
         if (!to_int(v, 100, 86400000, &ms)) return false;
         o.delivery_lease_ms = ms;
         return true;
       }},
      {"--synchronous", "TRELLIS_SYNCHRONOUS", "MODE",
       "SQLite synchronous: NORMAL or FULL (SQLite only)", "NORMAL",
       [](auto& o, auto& v) {
         o.synchronous = v;
         return v == "NORMAL" || v == "FULL";
       }},
      {"--broadcast-rate", "TRELLIS_BROADCAST_RATE", "N",
       "users entered per second by scheduled flows (docs/flows.md#broadcasts); 0: no limit",
       "1000", [](auto& o, auto& v) { return to_int(v, 0, 10000000, &o.broadcast_rate); }},
      {"--max-body", "TRELLIS_MAX_BODY", "BYTES", "largest request body (larger: 413)", "16777216",
       [](auto& o, auto& v) {
         int n = 0;
         if (!to_int(v, 1, 1 << 30, &n)) return false;
         o.http.max_body_bytes = static_cast<size_t>(n);
         return true;
       }},
      {"--max-json-depth", "TRELLIS_MAX_JSON_DEPTH", "N", "deepest JSON nesting accepted", "32",
       [](auto& o, auto& v) { return to_int(v, 1, 1000, &o.http.max_json_depth); }},
      {"--max-type-bytes", "TRELLIS_MAX_TYPE_BYTES", "BYTES", "longest event type", "200",
       [](auto& o, auto& v) { return to_size(v, 1, 1 << 16, &o.limits.max_type_bytes); }},
      {"--max-id-bytes", "TRELLIS_MAX_ID_BYTES", "BYTES",
       "longest user id, event id or coupon pool name", "256",
       [](auto& o, auto& v) { return to_size(v, 1, 1 << 16, &o.limits.max_id_bytes); }},
      {"--max-properties-bytes", "TRELLIS_MAX_PROPERTIES_BYTES", "BYTES",
       "largest properties (or traits) of one event, as JSON", "1048576",
       [](auto& o, auto& v) { return to_size(v, 2, 1 << 30, &o.limits.max_properties_bytes); }},
      {"--threads", "TRELLIS_THREADS", "N",
       "HTTP worker threads (idle connections hold none; one more serves /healthz, /metrics)", "16",
       [](auto& o, auto& v) { return to_int(v, 1, 1024, &o.http.threads); }},
      {"--queue-limit", "TRELLIS_QUEUE_LIMIT", "N",
       "requests waiting for a worker; more are refused with 503", "256",
       [](auto& o, auto& v) { return to_int(v, 1, 100000, &o.http.queue_limit); }},
      {"--max-connections", "TRELLIS_MAX_CONNECTIONS", "N",
       "open HTTP connections; more are refused with 503", "512",
       [](auto& o, auto& v) { return to_int(v, 1, 900, &o.http.max_connections); }},
      {"--header-timeout", "TRELLIS_HEADER_TIMEOUT", "SECONDS",
       "a request's headers must arrive within this (else 408 and close)", "10",
       [](auto& o, auto& v) {
         int s = 0;
         if (!to_int(v, 1, 3600, &s)) return false;
         o.http.header_timeout_ms = s * 1000;
         return true;
       }},
      {"--body-timeout", "TRELLIS_BODY_TIMEOUT", "SECONDS",
       "a request's body must arrive within this after its headers (else 408)", "30",
       [](auto& o, auto& v) {
         int s = 0;
         if (!to_int(v, 1, 3600, &s)) return false;
         o.http.body_timeout_ms = s * 1000;
         return true;
       }},
      {"--log-requests", "TRELLIS_LOG_REQUESTS", "on|off",
       "one JSON log line per request on stderr", "on",
       [](auto& o, auto& v) {
         o.log_requests = v != "off";
         return v == "on" || v == "off";
       }},
  };
  return kFlags;
}

std::string usage() {
  std::string out =
      "usage: trellis serve [options]\n\n"
      "Runs the engine on SQLite, the HTTP API (/v1/..., /metrics, /healthz), the editor at /,\n"
      "the timer loop and the delivery dispatcher; optionally consumes Redis Streams.\n"
      "SIGTERM or SIGINT stops gracefully. Logs are JSON lines on stderr.\n\n"
      "options (each also read from its environment variable; the flag wins):\n";
  for (const auto& f : flags()) {
    std::string left = "  " + f.name + " " + f.placeholder;
    left.resize(std::max<size_t>(left.size() + 1, 30), ' ');
    out += left + f.help + "\n" + std::string(30, ' ') + "env " + f.env +
           (f.fallback.empty() ? "" : "; default " + f.fallback) + "\n";
  }
  out += "  -h, --help                  this text\n";
  return out;
}

// Applies defaults, then variables, then flags; the Redis options exist only
// with --redis, so stream/group/consumer settings are applied after it.
bool parse(const std::vector<std::string>& args, api::ServiceOptions* o, std::string* error) {
  std::map<std::string, std::string> values;
  for (const auto& f : flags())
    if (const char* env = std::getenv(f.env.c_str())) values[f.name] = env;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i], value;
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      *error = "missing value for " + arg;
      return false;
    }
    bool known = false;
    for (const auto& f : flags()) known |= f.name == arg;
    if (!known) {
      *error = "unknown option " + arg;
      return false;
    }
    values[arg] = value;
  }
  o->http.editor_dir = "editor-web/dist";
  if (values.count("--redis") && !values["--redis"].empty())
    redis(*o).consumer = default_consumer();
  for (const auto& f : flags()) {  // table order: --redis precedes its settings
    auto it = values.find(f.name);
    if (it == values.end()) continue;
    if (!f.apply(*o, it->second)) {
      *error = "bad value for " + f.name + ": '" + it->second + "'";
      return false;
    }
  }
  return true;
}

// Reads the delivery configuration into `options`, printing its diagnostics
// as `trellis check` does. False when it has errors: serve does not start.
bool load_delivery_config(api::ServiceOptions& options) {
  const std::string path = api::delivery_config_path(options);
  if (path.empty()) return true;
  auto loaded = runtime::delivery::load_delivery_config(path);
  for (const ir::Diagnostic& diagnostic : loaded.diagnostics.items())
    std::cerr << ir::render(diagnostic, loaded.masked_source);
  if (!loaded.ok()) {
    std::cerr << "trellis serve: the delivery configuration " << path
              << " has errors; not starting\n";
    return false;
  }
  options.delivery =
      std::make_shared<const runtime::delivery::DeliveryConfig>(std::move(loaded.config));
  return true;
}

int run_serve(const std::vector<std::string>& args) {
  api::ServiceOptions options;
  std::string error;
  if (!parse(args, &options, &error)) {
    std::cerr << "trellis serve: " << error << "\n" << usage();
    return 2;
  }
  // Block the stop signals in every thread; one thread waits for them, so no
  // handler ever runs inside the server's locks.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  if (!load_delivery_config(options)) return 1;
  api::JsonLog log(std::cerr);
  auto service = api::Service::open(options, log);
  if (!service.ok()) {
    log.error({{"msg", "cannot start"}, {"error", service.error().message}});
    return 1;
  }
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    timespec tick{0, 200 * 1000 * 1000};
    while (!done) {
      int sig = sigtimedwait(&stop_signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        log.info({{"msg", "signal received"}, {"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
        (*service)->shutdown();
        return;
      }
    }
  });
  (*service)->run();
  (*service)->shutdown();  // no-op after a signal; stops the rest otherwise
  done = true;
  waiter.join();
  return 0;
}

}  // namespace

Command serve_command() {
  return {"serve", "run the engine, the HTTP API and the editor", usage(), run_serve};
}

}  // namespace trellis::app

// `trellis serve` as an object: the engine on its SQLite file, the flows
// folder deployed, the HTTP API, the engine's timer and delivery loop, and
// the Redis Streams consumer when configured. The command line (app/
// cmd_serve.cpp) fills ServiceOptions from flags and environment; tests run a
// Service in-process on a free port.
//
// Shutdown (SIGTERM in `serve`): stop accepting connections and let in-flight
// requests finish (their commits included), let the consumer commit and ack
// the batch in hand, then stop the engine's timer loop and delivery workers
// (outcomes in hand are recorded). Nothing acknowledged is lost at any step:
// each ack follows a commit.
//
// Thread-safety: run() on one thread; shutdown() from any thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "api/flow_catalog.h"
#include "api/http_server.h"
#include "api/ingest.h"
#include "api/json_log.h"
#include "api/metrics.h"
#include "api/redis_consumer.h"
#include "api/routes.h"
#include "runtime/engine.h"

namespace trellis::api {

struct ServiceOptions {
  ServerOptions http;
  // The store (runtime/store_url.h): a SQLite file, sqlite:PATH or a
  // postgresql:// URL.
  std::string db = "trellis.db";
  std::string flows_dir = "flows";  // empty: no folder
  std::string adapter = "file";     // file | webhook | none
  std::string deliveries_path;      // empty: deliveries.jsonl beside the database
  std::string webhook_url;
  // The delivery configuration file (docs/delivery.md) when `delivery` is
  // null; empty: `trellis.yaml` in flows_dir when it exists, else none (every
  // channel on `adapter`).
  std::string config_path;
  std::string synchronous = "NORMAL";  // SQLite PRAGMA synchronous (SQLite stores only)
  int broadcast_rate = 1000;           // users entered per second by scheduled flows; 0: no limit
  std::optional<RedisOptions> redis;   // set: consume this stream
  runtime::TimeMs delivery_lease_ms = 120'000;  // shared store: runtime::EngineOptions
  // What one event may hold, on HTTP and Redis alike (docs/limits.md). The
  // body size and JSON depth are taken from `http` (--max-body,
  // --max-json-depth), so both paths refuse the same inputs.
  runtime::IngestLimits limits;
  bool log_requests = true;
  // Listen beyond loopback without any token (everyone reaching the port may
  // read and change everything); without it, open() refuses such a --host.
  bool allow_open = false;
  // The delivery configuration (`serve --config`, loaded and checked there to
  // print its diagnostics); null: Service::open reads config_path. The engine
  // delivers under it, consent routes accept its channels, and simulations
  // run under the same rules.
  std::shared_ptr<const runtime::delivery::DeliveryConfig> delivery;
};

class Service {
 public:
  // Opens the engine, deploys the flows folder, registers the routes and binds
  // the port. `log` is borrowed. Errors: store, bind, Redis unreachable.
  static Result<std::unique_ptr<Service>> open(ServiceOptions options, JsonLog& log);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  int port() const { return server_->port(); }
  // Runs the engine loop, the consumer and the HTTP server; returns after shutdown().
  void run();
  // run() on a background thread; returns once the server accepts.
  Status start();
  // Graceful stop (see above); idempotent. Joins the background thread.
  void shutdown();

  runtime::Engine& engine() { return *engine_; }
  MetricsRegistry& metrics() { return metrics_; }
  // What the routes share (tests lower its replay limits or hold its replay slot).
  ApiContext& context() { return *context_; }

 private:
  Service(ServiceOptions options, JsonLog& log);
  void install_collectors();
  void count_delivery(const runtime::DeliveryRecord& d, const std::string& outcome);
  void log_delivery_failure(const runtime::DeliveryRecord& d, const std::string& outcome,
                            const std::string& error);

  ServiceOptions options_;
  JsonLog& log_;
  MetricsRegistry metrics_;
  std::unique_ptr<runtime::Engine> engine_;
  std::unique_ptr<FlowCatalog> flows_;
  std::unique_ptr<Ingest> ingest_;
  std::unique_ptr<JourneyIds> journey_ids_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<RedisConsumer> consumer_;
  std::thread consumer_thread_;
  std::thread run_thread_;
  std::atomic<bool> shut_down_{false};
};

// The delivery configuration file `options` name: config_path, else
// `trellis.yaml` in the flows folder when present, else "" (none).
std::string delivery_config_path(const ServiceOptions& options);

// Parses stored flow text back into IR for the engine (YAML or DSL, detected).
Result<ir::Flow> parse_stored_flow(const std::string& name, const std::string& source);

}  // namespace trellis::api

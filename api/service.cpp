#include "api/service.h"

#include <filesystem>

#include "runtime/store_url.h"

namespace trellis::api {

Result<ir::Flow> parse_stored_flow(const std::string& name, const std::string& source) {
  ParsedFlow parsed = parse_flow_source(source, name);
  if (!parsed.ok()) {
    std::string message = "stored flow " + name + " no longer checks:";
    for (const auto& d : parsed.diagnostics.items())
      if (d.severity == ir::Severity::kError) message += "\n" + ir::render(d, source);
    return Error{message};
  }
  return std::move(*parsed.flow);
}

std::string delivery_config_path(const ServiceOptions& options) {
  if (!options.config_path.empty()) return options.config_path;
  if (options.flows_dir.empty()) return "";
  const auto in_flows =
      std::filesystem::path(options.flows_dir) / runtime::delivery::kDeliveryConfigFile;
  std::error_code ec;
  return std::filesystem::is_regular_file(in_flows, ec) ? in_flows.string() : "";
}

namespace {

// The configuration `o` names, read and checked; null when there is none.
Result<std::shared_ptr<const runtime::delivery::DeliveryConfig>> load_config(
    const ServiceOptions& o) {
  if (o.delivery) return o.delivery;
  const std::string path = delivery_config_path(o);
  if (path.empty()) return std::shared_ptr<const runtime::delivery::DeliveryConfig>();
  runtime::delivery::LoadedConfig loaded = runtime::delivery::load_delivery_config(path);
  if (!loaded.ok()) {
    std::string message = "the delivery configuration " + path + " has errors:";
    for (const ir::Diagnostic& d : loaded.diagnostics.items())
      if (d.severity == ir::Severity::kError) message += "\n" + ir::render(d);
    return Error{message};
  }
  return std::make_shared<const runtime::delivery::DeliveryConfig>(std::move(loaded.config));
}

}  // namespace

Service::Service(ServiceOptions options, JsonLog& log) : options_(std::move(options)), log_(log) {}

Service::~Service() { shutdown(); }

Result<std::unique_ptr<Service>> Service::open(ServiceOptions options, JsonLog& log) {
  if (!is_loopback_host(options.http.host) && options.http.token.empty() &&
      options.http.tokens.empty() && !options.allow_open)
    return Error{"refusing to listen on " + options.http.host +
                 " without a token: anyone who reaches the port could read profiles and "
                 "change flows. Give --token or --tokens-file, or --allow-open yes to accept "
                 "that (docs/security.md)"};
  std::unique_ptr<Service> s(new Service(std::move(options), log));
  const ServiceOptions& o = s->options_;
  log.set_request_lines(o.log_requests);

  runtime::EngineOptions engine_options;
  Result<runtime::StoreFactory> store =
      runtime::store_factory(o.db, runtime::StoreSettings{o.synchronous});
  if (!store.ok()) return store.error();
  engine_options.store = store.value();
  engine_options.parse_flow = parse_stored_flow;
  engine_options.adapter = o.adapter;
  engine_options.deliveries_path = o.deliveries_path;
  if (engine_options.deliveries_path.empty()) {
    // Beside a SQLite file; in the working directory for a server database.
    Result<runtime::StoreUrl> url = runtime::parse_store_url(o.db);
    auto dir = url.ok() && url.value().kind == runtime::StoreKind::kSqlite
                   ? std::filesystem::path(url.value().target).parent_path()
                   : std::filesystem::path();
    engine_options.deliveries_path = (dir / "deliveries.jsonl").string();
  }
  engine_options.webhook_url = o.webhook_url;
  engine_options.delivery_lease_ms = o.delivery_lease_ms;
  auto config = load_config(o);
  if (!config.ok()) return config.error();
  s->options_.delivery = config.value();  // the routes see what the engine runs under
  engine_options.broadcast_entries_per_second = o.broadcast_rate;
  engine_options.delivery = o.delivery;
  Service* self = s.get();  // the engine dies before the metrics and log it reports to
  engine_options.on_delivery = [self](const runtime::DeliveryRecord& d, const std::string& outcome,
                                      const std::string& error) {
    self->count_delivery(d, outcome);
    if (outcome == "retry" || outcome == "dead") self->log_delivery_failure(d, outcome, error);
  };
  engine_options.on_timer_fired = [self](runtime::TimeMs lateness_ms) {
    static const std::vector<double> kBuckets = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                 0.5,   1,     2.5,  5,     10,   30,  60};
    self->metrics_
        .histogram("trellis_timer_lateness_seconds", "How late fired timers fired", {}, kBuckets)
        .observe(static_cast<double>(lateness_ms) / 1000.0);
  };
  auto engine = runtime::Engine::open(engine_options);
  if (!engine.ok()) return Error{"cannot open the engine: " + engine.error().message};
  s->engine_ = std::move(*engine);

  s->flows_ = std::make_unique<FlowCatalog>(o.flows_dir, *s->engine_, log);
  s->flows_->deploy_folder();
  runtime::IngestLimits limits = o.limits;
  limits.max_body_bytes = o.http.max_body_bytes;
  limits.max_json_depth = o.http.max_json_depth;
  s->ingest_ = std::make_unique<Ingest>(*s->engine_, s->metrics_, limits);
  auto journey_ids = JourneyIds::open(*s->engine_);
  if (!journey_ids.ok()) return journey_ids.error();
  s->journey_ids_ = std::make_unique<JourneyIds>(std::move(*journey_ids));
  s->context_ = std::make_unique<ApiContext>(
      ApiContext{*s->engine_, *s->flows_, *s->ingest_, o.delivery, s->journey_ids_.get()});
  s->server_ = std::make_unique<HttpServer>(o.http, s->metrics_, log);
  add_routes(*s->server_, *s->context_);
  s->install_collectors();

  if (o.redis) {
    s->consumer_ = std::make_unique<RedisConsumer>(*o.redis, *s->ingest_, s->metrics_, log);
    Status connected = s->consumer_->connect();
    if (!connected.ok()) return Error{connected.message()};
  }
  Status bound = s->server_->bind();
  if (!bound.ok()) return Error{bound.message()};
  log.info({{"msg", "listening"},
            {"host", o.http.host},
            {"port", s->server_->port()},
            {"db", runtime::printable_store_url(o.db)},
            {"flows", o.flows_dir},
            {"auth", s->server_->has_tokens()},
            {"delivery_config", o.delivery ? o.delivery->file : ""},
            {"redis", o.redis ? o.redis->url : ""}});
  return s;
}

// Every outcome the engine reports is counted by name (sent, retry, dead
// today), so an outcome it adds later shows up in /metrics without a change here.
void Service::count_delivery(const runtime::DeliveryRecord& d, const std::string& outcome) {
  metrics_
      .counter("trellis_deliveries_total", "Delivery outcomes by channel",
               {{"channel", d.channel}, {"outcome", outcome}})
      .inc();
}

// Only failures are logged: deferring or suppressing a message is the rules
// working, and at the end of a quiet window it happens to thousands at once.
void Service::log_delivery_failure(const runtime::DeliveryRecord& d, const std::string& outcome,
                                   const std::string& error) {
  log_.log(outcome == "dead" ? "error" : "warn", {{"msg", "delivery failed"},
                                                  {"outcome", outcome},
                                                  {"delivery_id", d.id},
                                                  {"key", d.key},
                                                  {"channel", d.channel},
                                                  {"user_id", d.user_id},
                                                  {"flow", d.flow},
                                                  {"node", d.node},
                                                  {"attempt", d.attempts + 1},
                                                  {"error", error}});
}

void Service::install_collectors() {
  runtime::Engine* engine = engine_.get();
  metrics_.add_text_source([engine] { return engine->prometheus_metrics(); });
  // Journeys by flow and state, read from the store at scrape time rather than
  // kept current on every step.
  metrics_.add_collector([engine](MetricsRegistry& m) {
    const char* kName = "trellis_journeys";
    const char* kHelp = "Journeys by flow and state (waiting, active, ended)";
    m.clear_gauge_family(kName);
    m.clear_gauge_family("trellis_flow_conversions");
    for (const auto& flow : engine->flows()) {
      const runtime::FlowTotals totals = engine->totals(flow.name);
      m.gauge(kName, kHelp, {{"flow", flow.name}, {"state", "waiting"}})
          .set(static_cast<double>(totals.waiting));
      m.gauge(kName, kHelp, {{"flow", flow.name}, {"state", "active"}})
          .set(static_cast<double>(totals.live - totals.waiting));
      m.gauge(kName, kHelp, {{"flow", flow.name}, {"state", "ended"}})
          .set(static_cast<double>(totals.journeys - totals.live));
      m.gauge("trellis_flow_conversions", "Journeys that reached the flow's goal",
              {{"flow", flow.name}})
          .set(static_cast<double>(totals.conversions));
    }
  });
}

void Service::run() {
  engine_->start();
  if (consumer_) consumer_thread_ = std::thread([this] { consumer_->run(); });
  server_->serve();
}

Status Service::start() {
  run_thread_ = std::thread([this] { run(); });
  for (int i = 0; i < 2000 && !server_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  if (!server_->is_running()) return Error{"server did not start"};
  return {};
}

void Service::shutdown() {
  if (shut_down_.exchange(true)) return;
  log_.info({{"msg", "shutting down"}});
  // 1. Stop accepting; in-flight requests (and their commits) finish first.
  if (server_) server_->stop();
  if (run_thread_.joinable()) run_thread_.join();
  // 2. The consumer commits and acks the batch in hand, then returns.
  if (consumer_) consumer_->stop();
  if (consumer_thread_.joinable()) consumer_thread_.join();
  // 3. The timer loop and the delivery workers stop; outcomes in hand are recorded.
  if (engine_) engine_->stop();
  log_.info({{"msg", "stopped"}});
}

}  // namespace trellis::api

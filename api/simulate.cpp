#include "api/simulate.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "api/consent.h"
#include "api/flow_catalog.h"
#include "api/routes.h"
#include "dsl/checker.h"
#include "dsl/duration_text.h"
#include "dsl/format_yaml.h"
#include "dsl/json_format.h"
#include "runtime/engine.h"

namespace trellis::api {
namespace {

using nlohmann::json;

// A fixed, readable epoch for the virtual clock: offsets are what users read.
constexpr int64_t kStartMs = 1798761600000;  // 2027-01-01T00:00:00Z
constexpr int kMaxTimerRounds = 100000;

struct BadRequest {
  std::string detail;
};

int64_t offset_seconds(const json& at, const std::string& where) {
  if (at.is_null()) return 0;
  if (at.is_number()) return static_cast<int64_t>(at.get<double>());
  if (!at.is_string()) throw BadRequest{where + ": `at` is a duration such as \"72h\""};
  std::string error;
  auto seconds = dsl::duration_seconds(at.get<std::string>(), error);
  if (!seconds) throw BadRequest{where + ": " + error};
  return *seconds;
}

// A removable temporary folder for the throwaway store.
struct TempFolder {
  TempFolder() {
    char tmpl[] = "/tmp/trellis_simulate_XXXXXX";
    if (mkdtemp(tmpl)) path = tmpl;
  }
  ~TempFolder() {
    std::error_code ec;
    if (!path.empty()) std::filesystem::remove_all(path, ec);
  }
  std::string path;
};

ParsedFlow read_flow(const json& spec,
                     const std::function<std::optional<std::string>(const std::string&)>& deployed,
                     std::string* source) {
  if (spec.is_object()) {
    ParsedFlow out;
    out.flow = dsl::flow_from_json(spec, "simulate", out.diagnostics);
    dsl::CheckOptions options;
    options.graph_warnings = !out.diagnostics.has_errors();
    out.diagnostics.append(dsl::check_flow(*out.flow, options));
    out.diagnostics.sort();
    if (out.ok()) *source = dsl::format_yaml(*out.flow);
    return out;
  }
  if (!spec.is_string()) throw BadRequest{"`flow` is IR JSON, flow text or a deployed flow's name"};
  std::string text = spec.get<std::string>();
  if (valid_flow_name(text)) {
    auto stored = deployed(text);
    if (!stored) throw BadRequest{"no deployed flow named " + text};
    text = *stored;
  }
  *source = text;
  return parse_flow_source(text, "simulate");
}

std::vector<runtime::Event> read_events(const json& list) {
  std::vector<runtime::Event> events;
  if (list.is_null()) return events;
  if (!list.is_array()) throw BadRequest{"`events` is an array"};
  for (size_t i = 0; i < list.size(); ++i) {
    const json& e = list[i];
    std::string where = "event " + std::to_string(i);
    if (!e.is_object()) throw BadRequest{where + " is not an object"};
    if (!e.contains("type") || !e["type"].is_string())
      throw BadRequest{where + ": `type` is required"};
    runtime::Event event;
    event.type = e["type"];
    // Provider feedback names its delivery; the engine finds the user from it.
    bool user_optional = runtime::is_delivery_feedback(event.type) && !e.contains("user");
    if (!user_optional && (!e.contains("user") || !e["user"].is_string()))
      throw BadRequest{where + ": `user` is required"};
    if (!user_optional) event.user_id = e["user"];
    if (e.contains("id"))
      event.id = e["id"].is_string() ? e["id"].get<std::string>() : e["id"].dump();
    event.time = kStartMs + offset_seconds(e.value("at", json()), where) * 1000;
    json props = json::object();
    for (auto& [k, v] : e.items())
      if (k != "at" && k != "type" && k != "user" && k != "id") props[k] = v;
    event.properties_json = props.dump();
    if (event.type == "identify") event.form = runtime::EventForm::kSegmentIdentify;
    events.push_back(std::move(event));
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return *a.time < *b.time; });
  return events;
}

// Fires every timer due before `limit_ms` (or at it, when `inclusive`), the
// clock set to each due time in turn.
Status fire_until(runtime::Engine& engine, runtime::VirtualClock& clock, int64_t limit_ms,
                  bool inclusive) {
  for (int round = 0; round < kMaxTimerRounds; ++round) {
    auto due = engine.next_timer_due();
    if (!due || *due > limit_ms || (!inclusive && *due == limit_ms)) return {};
    clock.set_ms(*due);
    auto fired = engine.fire_due_timers();
    if (!fired.ok()) return Error{fired.error().message};
  }
  return Error{"more than " + std::to_string(kMaxTimerRounds) + " timer rounds"};
}

// Records each user's consent as PUT /v1/users/{id}/consent would.
void set_consent(runtime::Engine& engine, const json& consent,
                 const runtime::delivery::DeliveryConfig* delivery) {
  if (!consent.is_object()) throw BadRequest{"`consent` maps user ids to consent bodies"};
  const auto known = consent_channels(delivery);
  for (auto& [user, body] : consent.items()) {
    auto read = read_consent_body(body, known);
    if (const auto* bad = std::get_if<ConsentBodyError>(&read)) {
      std::string field = "consent." + user + (bad->field.empty() ? "" : "." + bad->field);
      throw BadRequest{field + ": " + bad->message};
    }
    const ConsentChange& change = std::get<ConsentChange>(read);
    Status set = engine.set_consent(user, change.channels, change.reason);
    if (!set.ok()) throw std::runtime_error(set.message());
  }
}

// A delivery as the simulation reports it: when, relative to the start, and
// what became of it. Nothing is handed to a provider here, so `pending` reads
// "would be sent at release_at"; attempts mean nothing.
json simulated_delivery_json(const runtime::DeliveryRecord& d) {
  json j = delivery_to_json(d);
  j.erase("attempts");
  j["offset"] = format_offset((d.at - kStartMs) / 1000);
  if (d.release_at) j["release_offset"] = format_offset((d.release_at - kStartMs) / 1000);
  return j;
}

json run(const ir::Flow& flow, const std::string& source, const json& request,
         const SimulateContext& context) {
  TempFolder dir;
  if (dir.path.empty()) throw std::runtime_error("cannot create a temporary folder");
  runtime::VirtualClock clock(kStartMs);
  runtime::EngineOptions options;
  options.db_path = dir.path + "/simulate.db";
  options.clock = &clock;
  options.adapter = "none";
  options.delivery = context.delivery;
  options.parse_flow = [&flow](const std::string&, const std::string&) -> Result<ir::Flow> {
    return flow;
  };
  auto engine = runtime::Engine::open(options);
  if (!engine.ok()) throw std::runtime_error(engine.error().message);
  runtime::Engine& e = **engine;
  auto deployed = e.deploy(flow, source);
  if (!deployed.ok()) throw std::runtime_error(deployed.error().message);

  std::set<std::string> users;
  const json& user_specs = request.value("users", json::object());
  if (!user_specs.is_object()) throw BadRequest{"`users` maps user ids to traits"};
  for (auto& [id, traits] : user_specs.items()) {
    if (!traits.is_object()) throw BadRequest{"traits of " + id + " are not an object"};
    users.insert(id);
    Status put = e.put_profile(id, traits.dump());
    if (!put.ok()) throw std::runtime_error(put.message());
  }
  const json& pools = request.value("coupons", json::object());
  if (!pools.is_object()) throw BadRequest{"`coupons` maps pools to code lists"};
  for (auto& [pool, codes] : pools.items()) {
    if (!codes.is_array()) throw BadRequest{"codes of pool " + pool + " are not an array"};
    std::vector<std::string> list;
    for (const auto& c : codes) list.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    auto loaded = e.load_coupons(pool, list);
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
  }
  if (request.contains("consent")) set_consent(e, request["consent"], context.delivery.get());
  auto events = read_events(request.value("events", json::array()));
  int64_t horizon_s = 400LL * 24 * 3600;
  if (request.contains("horizon")) horizon_s = offset_seconds(request["horizon"], "horizon");

  int64_t last = kStartMs;
  for (auto& event : events) {
    if (!event.user_id.empty()) users.insert(event.user_id);
    Status fired = fire_until(e, clock, *event.time, false);
    if (!fired.ok()) throw std::runtime_error(fired.message());
    clock.set_ms(*event.time);
    last = *event.time;
    // Feedback naming no delivery the run has made is the request's mistake.
    if (Status valid = e.validate_event(event); !valid.ok())
      throw BadRequest{"event at " + format_offset((*event.time - kStartMs) / 1000) + ": " +
                       valid.message()};
    auto ingested = e.ingest({event});
    if (!ingested.ok()) throw std::runtime_error(ingested.error().message);
  }
  Status fired = fire_until(e, clock, last + horizon_s * 1000, true);
  if (!fired.ok()) throw std::runtime_error(fired.message());

  json deliveries = json::array();
  for (const auto& d : e.deliveries("", "", 10000))
    deliveries.push_back(simulated_delivery_json(d));
  json journeys = json::array();
  for (const auto& user : users) {
    for (const auto& j : e.journeys_of_user(user)) {
      auto detail = e.journey(j.id);
      if (!detail) continue;
      json out = journey_to_json(detail->journey);
      json steps = json::array();
      for (const auto& s : detail->steps) {
        json step = step_to_json(s);
        step["offset"] = format_offset((s.at - kStartMs) / 1000);
        steps.push_back(step);
      }
      out["steps"] = steps;
      journeys.push_back(out);
    }
  }
  return {{"flow", flow.name.value},
          {"deliveries", deliveries},
          {"journeys", journeys},
          {"start", format_time(kStartMs)}};
}

}  // namespace

std::string format_offset(int64_t seconds) {
  if (seconds == 0) return "0s";
  std::string out = seconds < 0 ? "-" : "";
  seconds = std::abs(seconds);
  int64_t h = seconds / 3600, m = seconds % 3600 / 60, s = seconds % 60;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  return out;
}

SimulateOutcome simulate(const json& request, const SimulateContext& context) {
  try {
    if (!request.is_object() || !request.contains("flow"))
      throw BadRequest{"send {\"flow\": ..., \"users\": ..., \"events\": [...]}"};
    std::string source;
    ParsedFlow parsed = read_flow(request["flow"], context.deployed_source, &source);
    if (!parsed.ok()) {
      return {422,
              {{"error", "invalid_flow"},
               {"detail",
                {{"errors", parsed.diagnostics.error_count()},
                 {"warnings", parsed.diagnostics.warning_count()},
                 {"diagnostics", dsl::diagnostics_to_json(parsed.diagnostics)}}}}};
    }
    json out = run(*parsed.flow, source, request, context);
    out["diagnostics"] = dsl::diagnostics_to_json(parsed.diagnostics);
    return {200, out};
  } catch (const BadRequest& bad) {
    return {400, {{"error", "invalid_simulation"}, {"detail", bad.detail}}};
  } catch (const json::exception& e) {
    return {400, {{"error", "invalid_simulation"}, {"detail", e.what()}}};
  }
}

}  // namespace trellis::api

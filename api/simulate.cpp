#include "api/simulate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "api/consent.h"
#include "api/flow_catalog.h"
#include "api/routes.h"
#include "dsl/checker.h"
#include "dsl/duration_text.h"
#include "dsl/format_yaml.h"
#include "dsl/json_format.h"
#include "dsl/load.h"
#include "runtime/engine.h"
#include "runtime/virtual_run.h"

namespace trellis::api {
namespace {

using nlohmann::json;

// A fixed, readable epoch for the virtual clock: offsets are what users read.
constexpr int64_t kStartMs = 1798761600000;  // 2027-01-01T00:00:00Z

using SteadyClock = std::chrono::steady_clock;

// Malformed input: 400.
struct BadRequest {
  std::string detail;
};

// More users, events or codes than a simulation takes: 413.
struct TooLarge {
  std::string field;
  size_t limit = 0;
  size_t got = 0;
};

// A run that exceeded its budget: 422, with how far it got.
struct LimitReached {
  std::string limit;  // steps, timer_rounds, time_ms, deliveries, answer_bytes
  int64_t value = 0;
  json progress;
};

void require_at_most(const std::string& field, size_t got, size_t limit) {
  if (got > limit) throw TooLarge{field, limit, got};
}

// `what` (`at` or `horizon`) as whole seconds from 0 to `max_seconds`: a
// number of seconds or a duration text.
int64_t offset_seconds(const json& at, const std::string& where, const char* what,
                       int64_t max_seconds) {
  const std::string most = max_seconds % 86400 == 0 ? std::to_string(max_seconds / 86400) + "d"
                                                    : format_offset(max_seconds);
  const std::string range = where + ": `" + what + "` is from 0s to " + most;
  if (at.is_null()) return 0;
  int64_t seconds = 0;
  if (at.is_number()) {
    const double value = at.get<double>();
    // Also refuses NaN and infinities, and anything a cast could overflow.
    if (!(value >= 0 && value <= static_cast<double>(max_seconds))) throw BadRequest{range};
    seconds = static_cast<int64_t>(value);
  } else if (at.is_string()) {
    std::string error;
    auto parsed = dsl::duration_seconds(at.get<std::string>(), error);
    if (!parsed) throw BadRequest{where + ": " + error};
    seconds = *parsed;
  } else {
    throw BadRequest{where + ": `" + what + "` is a duration such as \"72h\""};
  }
  if (seconds < 0 || seconds > max_seconds) throw BadRequest{range};
  return seconds;
}

ParsedFlow read_flow(const json& spec,
                     const std::function<std::optional<std::string>(const std::string&)>& deployed,
                     std::string* source) {
  if (spec.is_object()) {
    ParsedFlow out;
    out.flow = dsl::flow_from_json(spec, "simulate", out.diagnostics);
    dsl::CheckOptions options;
    options.graph_warnings = !dsl::front_end_lost_edges(out.diagnostics);
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

std::vector<runtime::Event> read_events(const json& list, const SimulateLimits& limits) {
  std::vector<runtime::Event> events;
  if (list.is_null()) return events;
  if (!list.is_array()) throw BadRequest{"`events` is an array"};
  require_at_most("events", list.size(), limits.max_events);
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
    event.time =
        kStartMs +
        offset_seconds(e.value("at", json()), where, "at", limits.max_horizon_seconds) * 1000;
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

// The work a run has done, for a 422's `progress`.
struct RunState {
  runtime::VirtualRunBudget budget;
  runtime::VirtualRunProgress progress;
  size_t events_applied = 0;
  size_t steps = 0;
  size_t answer_bytes = 0;
};

json progress_json(const RunState& run, const runtime::VirtualClock& clock) {
  return {{"offset", format_offset((clock.now_ms() - kStartMs) / 1000)},
          {"events_applied", run.events_applied},
          {"timer_rounds", run.progress.rounds},
          {"timers_fired", run.progress.timers},
          {"steps", run.steps},
          {"answer_bytes", run.answer_bytes}};
}

void check_time(const RunState& run, const runtime::VirtualClock& clock,
                const SimulateLimits& limits) {
  if (SteadyClock::now() >= *run.budget.deadline)
    throw LimitReached{"time_ms", limits.max_time.count(), progress_json(run, clock)};
}

// Fires every timer due before `limit_ms` (or at it, when `inclusive`) within
// the run's budget. A fired timer writes at least one step, so more timers
// than `max_steps` is a trace over the step limit: stop there.
void fire_until(runtime::Engine& engine, runtime::VirtualClock& clock, int64_t limit_ms,
                bool inclusive, RunState& run, const SimulateLimits& limits) {
  runtime::FireOutcome fired =
      runtime::fire_timers_until(engine, clock, limit_ms, inclusive, run.budget, run.progress);
  if (!fired.status.ok()) throw std::runtime_error(fired.status.message());
  switch (fired.exceeded) {
    case runtime::BudgetLimit::kNone:
      return;
    case runtime::BudgetLimit::kRounds:
      throw LimitReached{"timer_rounds", static_cast<int64_t>(limits.max_timer_rounds),
                         progress_json(run, clock)};
    case runtime::BudgetLimit::kTimers:
      throw LimitReached{"steps", static_cast<int64_t>(limits.max_steps),
                         progress_json(run, clock)};
    case runtime::BudgetLimit::kTime:
      throw LimitReached{"time_ms", limits.max_time.count(), progress_json(run, clock)};
  }
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

// Adds `item`'s size to the answer's, refusing an answer over the limit.
void count_answer_bytes(const json& item, RunState& run, const runtime::VirtualClock& clock,
                        const SimulateLimits& limits) {
  run.answer_bytes += item.dump().size();
  if (run.answer_bytes > limits.max_answer_bytes)
    throw LimitReached{"answer_bytes", static_cast<int64_t>(limits.max_answer_bytes),
                       progress_json(run, clock)};
}

json journeys_json(runtime::Engine& e, const std::set<std::string>& users, RunState& run,
                   const runtime::VirtualClock& clock, const SimulateLimits& limits) {
  json journeys = json::array();
  for (const auto& user : users) {
    for (const auto& j : e.journeys_of_user(user)) {
      auto detail = e.journey(j.id);
      if (!detail) continue;
      run.steps += detail->steps.size();
      if (run.steps > limits.max_steps)
        throw LimitReached{"steps", static_cast<int64_t>(limits.max_steps),
                           progress_json(run, clock)};
      json out = journey_to_json(detail->journey);
      json steps = json::array();
      for (const auto& s : detail->steps) {
        json step = step_to_json(s);
        step["offset"] = format_offset((s.at - kStartMs) / 1000);
        count_answer_bytes(step, run, clock, limits);
        steps.push_back(std::move(step));
      }
      out["steps"] = std::move(steps);
      journeys.push_back(std::move(out));
    }
  }
  return journeys;
}

json run(const ir::Flow& flow, const std::string& source, const json& request,
         const SimulateContext& context, SteadyClock::time_point started) {
  const SimulateLimits& limits = context.limits;
  // Sizes first, before any work.
  const json& user_specs = request.value("users", json::object());
  if (!user_specs.is_object()) throw BadRequest{"`users` maps user ids to traits"};
  require_at_most("users", user_specs.size(), limits.max_users);
  const json& pools = request.value("coupons", json::object());
  if (!pools.is_object()) throw BadRequest{"`coupons` maps pools to code lists"};
  size_t codes_in_all = 0;
  for (auto& [pool, codes] : pools.items()) {
    if (!codes.is_array()) throw BadRequest{"codes of pool " + pool + " are not an array"};
    codes_in_all += codes.size();
  }
  require_at_most("coupons", codes_in_all, limits.max_coupon_codes);
  if (request.contains("consent") && request["consent"].is_object())
    require_at_most("consent", request["consent"].size(), limits.max_users);
  auto events = read_events(request.value("events", json::array()), limits);
  std::set<std::string> users;
  for (auto& [id, traits] : user_specs.items()) users.insert(id);
  for (const auto& event : events)
    if (!event.user_id.empty()) users.insert(event.user_id);
  require_at_most("users", users.size(), limits.max_users);
  int64_t horizon_s = limits.max_horizon_seconds;
  if (request.contains("horizon"))
    horizon_s =
        offset_seconds(request["horizon"], "request", "horizon", limits.max_horizon_seconds);

  runtime::TempFolder dir("trellis_simulate_");
  if (dir.path.empty()) throw std::runtime_error("cannot create a temporary folder");
  runtime::VirtualClock clock(kStartMs);
  auto engine = runtime::open_flow_engine(dir.path, clock, flow, source, context.delivery);
  if (!engine.ok()) throw std::runtime_error(engine.error().message);
  runtime::Engine& e = **engine;

  for (auto& [id, traits] : user_specs.items()) {
    if (!traits.is_object()) throw BadRequest{"traits of " + id + " are not an object"};
    Status put = e.put_profile(id, traits.dump());
    if (!put.ok()) throw std::runtime_error(put.message());
  }
  for (auto& [pool, codes] : pools.items()) {
    std::vector<std::string> list;
    for (const auto& c : codes) list.push_back(c.is_string() ? c.get<std::string>() : c.dump());
    auto loaded = e.load_coupons(pool, list);
    if (!loaded.ok()) throw std::runtime_error(loaded.error().message);
  }
  if (request.contains("consent")) set_consent(e, request["consent"], context.delivery.get());

  RunState state;
  state.budget.max_rounds = limits.max_timer_rounds;
  state.budget.max_timers = limits.max_steps;
  state.budget.deadline = started + limits.max_time;
  int64_t last = kStartMs;
  for (auto& event : events) {
    fire_until(e, clock, *event.time, false, state, limits);
    check_time(state, clock, limits);
    clock.set_ms(*event.time);
    last = *event.time;
    // Feedback naming no delivery the run has made is the request's mistake.
    if (Status valid = e.validate_event(event); !valid.ok())
      throw BadRequest{"event at " + format_offset((*event.time - kStartMs) / 1000) + ": " +
                       valid.message()};
    auto ingested = e.ingest({event});
    if (!ingested.ok()) throw std::runtime_error(ingested.error().message);
    ++state.events_applied;
  }
  fire_until(e, clock, last + horizon_s * 1000, true, state, limits);
  check_time(state, clock, limits);

  json deliveries = json::array();
  const auto records = e.deliveries("", "", limits.max_deliveries + 1);
  if (records.size() > limits.max_deliveries)
    throw LimitReached{"deliveries", static_cast<int64_t>(limits.max_deliveries),
                       progress_json(state, clock)};
  for (const auto& d : records) {
    json item = simulated_delivery_json(d);
    count_answer_bytes(item, state, clock, limits);
    deliveries.push_back(std::move(item));
  }
  json journeys = journeys_json(e, users, state, clock, limits);
  check_time(state, clock, limits);
  return {{"flow", flow.name.value},
          {"deliveries", std::move(deliveries)},
          {"journeys", std::move(journeys)},
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

namespace {

// A refusal as the route answers it: the kind's status, {error, detail} and
// any fields beside them (the limit a run hit, how far it got).
SimulateOutcome refused(const ApiError& error, const json& extra = json::object()) {
  json body = error.body();
  body.update(extra);
  return {error.status(), std::move(body)};
}

}  // namespace

SimulateOutcome simulate(const json& request, const SimulateContext& context) {
  const auto started = SteadyClock::now();
  try {
    if (!request.is_object() || !request.contains("flow"))
      throw BadRequest{"send {\"flow\": ..., \"users\": ..., \"events\": [...]}"};
    std::string source;
    ParsedFlow parsed = read_flow(request["flow"], context.deployed_source, &source);
    if (!parsed.ok()) {
      return refused(ApiError::unprocessable(
          "invalid_flow", {{"errors", parsed.diagnostics.error_count()},
                           {"warnings", parsed.diagnostics.warning_count()},
                           {"diagnostics", dsl::diagnostics_to_json(parsed.diagnostics)}}));
    }
    json out = run(*parsed.flow, source, request, context, started);
    out["diagnostics"] = dsl::diagnostics_to_json(parsed.diagnostics);
    return {200, out};
  } catch (const TooLarge& big) {
    return refused({ApiErrorKind::kTooLarge, "simulation_too_large",
                    "`" + big.field + "`: " + std::to_string(big.got) + " given, at most " +
                        std::to_string(big.limit) + " (docs/limits.md)"},
                   {{"limit", {{"name", big.field}, {"value", big.limit}}}});
  } catch (const LimitReached& reached) {
    return refused(
        ApiError::unprocessable("simulation_limit",
                                "the run exceeded its " + reached.limit + " limit (" +
                                    std::to_string(reached.value) + ") at " +
                                    reached.progress["offset"].get<std::string>() +
                                    " of virtual time; shorten the horizon or the flow's loops "
                                    "(docs/limits.md)"),
        {{"limit", {{"name", reached.limit}, {"value", reached.value}}},
         {"progress", reached.progress}});
  } catch (const BadRequest& bad) {
    return refused(ApiError::invalid("invalid_simulation", bad.detail));
  } catch (const json::exception& e) {
    return refused(ApiError::invalid("invalid_simulation", e.what()));
  }
}

}  // namespace trellis::api

#include "api/replay.h"

#include <algorithm>
#include <map>
#include <set>

#include "api/flow_catalog.h"
#include "api/routes.h"
#include "dsl/duration_text.h"
#include "dsl/json_format.h"
#include "runtime/virtual_run.h"

namespace trellis::api {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

constexpr int64_t kMaxPeriodSeconds = int64_t{400} * 24 * 3600;
constexpr size_t kDefaultSample = 5;
constexpr size_t kReadWindow = 2000;  // retained events read per query

struct BadRequest {
  std::string detail;
};
struct TooLarge {
  size_t limit = 0;
};
struct LimitReached {
  std::string limit;  // time_ms, timer_rounds
  int64_t value = 0;
  json progress;
};
struct InvalidFlow {
  ir::Diagnostics diagnostics;
};

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Period {
  runtime::TimeMs from = 0, to = 0;
};

runtime::TimeMs read_time(const json& request, const char* field) {
  const json& value = request[field];
  runtime::TimeMs at = 0;
  if (!value.is_string() || !runtime::parse_rfc3339(value.get<std::string>().c_str(), &at))
    throw BadRequest{std::string("`") + field +
                     "` is an RFC 3339 time such as "
                     "\"2026-11-26T00:00:00Z\""};
  return at;
}

Period read_period(const json& request) {
  Period p;
  const bool last = request.contains("last");
  if (last && (request.contains("from") || request.contains("to")))
    throw BadRequest{"give either `last` or `from` and `to`, not both"};
  if (last) {
    if (!request["last"].is_string()) throw BadRequest{"`last` is a duration such as \"7d\""};
    std::string error;
    auto seconds = dsl::duration_seconds(request["last"].get<std::string>(), error);
    if (!seconds) throw BadRequest{"`last`: " + error};
    if (*seconds <= 0 || *seconds > kMaxPeriodSeconds)
      throw BadRequest{"`last` is from 1s to 400d"};
    p.to = wall_ms();
    p.from = p.to - *seconds * 1000;
    return p;
  }
  if (!request.contains("from") || !request.contains("to"))
    throw BadRequest{"give the period: `last` (\"7d\") or `from` and `to` (RFC 3339)"};
  p.from = read_time(request, "from");
  p.to = read_time(request, "to");
  if (p.to <= p.from) throw BadRequest{"`to` is after `from`"};
  if (p.to - p.from > kMaxPeriodSeconds * 1000) throw BadRequest{"the period is at most 400d"};
  return p;
}

struct FlowChoice {
  ir::Flow flow;
  std::string source;
  int version = 0;  // 0: a draft
  ir::Diagnostics diagnostics;
};

FlowChoice checked(ParsedFlow parsed, std::string source, int version) {
  if (!parsed.ok()) throw InvalidFlow{std::move(parsed.diagnostics)};
  return {std::move(*parsed.flow), std::move(source), version, std::move(parsed.diagnostics)};
}

FlowChoice version_of(runtime::Engine& engine, const std::string& name, int version) {
  for (const runtime::FlowVersionRecord& r : engine.flow_history(name))
    if (r.version == version) return checked(parse_flow_source(r.source, name), r.source, version);
  throw BadRequest{"flow " + name + " has no version " + std::to_string(version)};
}

FlowChoice read_draft(runtime::Engine& engine, const std::string& name, const json& request) {
  const bool has_draft = request.contains("draft"), has_version = request.contains("version");
  if (has_draft == has_version)
    throw BadRequest{"give the flow to replay: `draft` (flow text or IR JSON) or `version`"};
  if (has_version) {
    if (!request["version"].is_number_integer())
      throw BadRequest{"`version` is a deployed version number"};
    return version_of(engine, name, request["version"].get<int>());
  }
  const json& draft = request["draft"];
  if (draft.is_object()) {
    ParsedFlow parsed = parse_flow_body(draft.dump(), "application/json", "draft");
    std::string source = parsed.ok() ? draft.dump() : std::string();
    return checked(std::move(parsed), std::move(source), 0);
  }
  if (!draft.is_string()) throw BadRequest{"`draft` is flow text (YAML or DSL) or IR JSON"};
  const std::string text = draft.get<std::string>();
  return checked(parse_flow_source(text, "draft"), text, 0);
}

size_t read_sample(const json& request, const ReplayLimits& limits) {
  if (!request.contains("sample")) return kDefaultSample;
  const json& v = request["sample"];
  if (!v.is_number_integer() || v.get<int64_t>() < 0 ||
      v.get<int64_t>() > static_cast<int64_t>(limits.max_sample))
    throw BadRequest{"`sample` is a number of users from 0 to " +
                     std::to_string(limits.max_sample)};
  return v.get<size_t>();
}

// The period's retained events, in (time, ingest) order; provider feedback
// is left out (it names deliveries of the server's store, which a throwaway
// store does not have) and counted.
std::vector<runtime::Event> read_events(runtime::Engine& engine, const Period& period,
                                        const ReplayLimits& limits, size_t* feedback) {
  std::vector<runtime::Event> out;
  runtime::RetainedEventQuery query;
  query.from = period.from;
  query.to = period.to;
  query.limit = kReadWindow;
  size_t read = 0;
  for (;;) {
    std::vector<runtime::RetainedEvent> window = engine.retained_events(query);
    for (runtime::RetainedEvent& kept : window) {
      if (++read > limits.max_events) throw TooLarge{limits.max_events};
      query.after_at = kept.at;
      query.after_seq = kept.seq;
      if (runtime::is_delivery_feedback(kept.type)) {
        ++*feedback;
        continue;
      }
      runtime::Event e;
      e.id = std::move(kept.id);
      e.type = std::move(kept.type);
      e.user_id = std::move(kept.user_id);
      e.time = kept.at;
      e.properties_json = std::move(kept.properties);
      if (kept.identify) e.form = runtime::EventForm::kSegmentIdentify;
      out.push_back(std::move(e));
    }
    if (window.size() < kReadWindow) return out;
  }
}

// One side of the comparison: a throwaway engine that ran the events.
struct Side {
  const char* name = "";                       // "live" or "draft"
  runtime::TempFolder dir{"trellis_replay_"};  // before the engine: removed after it closes
  std::unique_ptr<runtime::VirtualClock> clock;
  std::unique_ptr<runtime::Engine> engine;
  size_t events_applied = 0;
};

struct Shared {
  const std::vector<runtime::Event>& events;
  const std::set<std::string>& users;
  const Period& period;
  const ReplayContext& context;
  runtime::VirtualRunBudget budget;
};

[[noreturn]] void budget_ran_out(runtime::BudgetLimit limit, const Side& side,
                                 const Shared& shared) {
  json progress = {{"side", side.name},
                   {"events_applied", side.events_applied},
                   {"at", format_time(side.clock->now_ms())}};
  if (limit == runtime::BudgetLimit::kRounds)
    throw LimitReached{"timer_rounds", static_cast<int64_t>(shared.context.limits.max_timer_rounds),
                       progress};
  throw LimitReached{"time_ms", shared.context.limits.max_time.count(), progress};
}

void fire_until(Side& side, const Shared& shared, runtime::TimeMs limit, bool inclusive) {
  runtime::VirtualRunProgress progress;  // rounds count per call: the budget is per side
  runtime::FireOutcome fired = runtime::fire_timers_until(*side.engine, *side.clock, limit,
                                                          inclusive, shared.budget, progress);
  if (!fired.status.ok()) throw std::runtime_error(fired.status.message());
  if (fired.exceeded != runtime::BudgetLimit::kNone) budget_ran_out(fired.exceeded, side, shared);
}

// Each user starts with the profile and consent the server holds now. Each
// coupon pool the flow names holds placeholder codes (REPLAY-1, REPLAY-2, ...),
// enough that none runs out: a journey starts on at most one event and claims
// at most one code per coupon node, so a pool needs the events times the nodes
// naming it. The server's pools are neither read nor touched; a replay does not
// show a pool running dry (docs/http-api.md#replay).
void seed(runtime::Engine& e, const ir::Flow& flow, const Shared& shared) {
  for (const std::string& user : shared.users) {
    if (auto traits = shared.context.engine->profile(user)) {
      if (Status s = e.put_profile(user, *traits); !s.ok()) throw std::runtime_error(s.message());
    }
    for (const runtime::ConsentRecord& c : shared.context.engine->consent(user)) {
      Status s = e.set_consent(user, {{c.channel, c.subscribed}}, c.reason);
      if (!s.ok()) throw std::runtime_error(s.message());
    }
  }
  std::map<std::string, size_t> nodes_of_pool;
  for (const ir::Node& node : flow.nodes)
    if (const auto* coupon = node.as<ir::CouponNode>(); coupon && coupon->pool)
      ++nodes_of_pool[coupon->pool->value];
  for (const auto& [pool, nodes] : nodes_of_pool) {
    std::vector<std::string> list;
    for (size_t i = 1; i <= shared.events.size() * nodes; ++i)
      list.push_back("REPLAY-" + std::to_string(i));
    if (auto loaded = e.load_coupons(pool, list); !loaded.ok())
      throw std::runtime_error(loaded.error().message);
  }
}

void run_side(Side& side, const FlowChoice& choice, const Shared& shared) {
  if (side.dir.path.empty()) throw std::runtime_error("cannot create a temporary folder");
  side.clock = std::make_unique<runtime::VirtualClock>(shared.period.from);
  std::shared_ptr<runtime::delivery::DeliveryConfig> config;
  if (shared.context.delivery) {
    config = std::make_shared<runtime::delivery::DeliveryConfig>(*shared.context.delivery);
    config->retention = {};  // the throwaway store keeps no events of its own
  }
  const ir::Flow& flow = choice.flow;
  auto engine =
      runtime::open_flow_engine(side.dir.path, *side.clock, flow, choice.source, std::move(config));
  if (!engine.ok()) throw std::runtime_error(engine.error().message);
  side.engine = std::move(*engine);
  runtime::Engine& e = *side.engine;
  seed(e, flow, shared);
  for (const runtime::Event& event : shared.events) {
    fire_until(side, shared, *event.time, false);
    if (SteadyClock::now() >= *shared.budget.deadline)
      budget_ran_out(runtime::BudgetLimit::kTime, side, shared);
    side.clock->set_ms(std::max(*event.time, side.clock->now_ms()));
    auto ingested = e.ingest({event});
    if (!ingested.ok()) throw std::runtime_error(ingested.error().message);
    ++side.events_applied;
  }
  fire_until(side, shared, shared.period.to, true);
}

json totals_json(const Side& side, const FlowChoice& choice) {
  auto stats = side.engine->stats(choice.flow.name.value);
  if (!stats.ok()) throw std::runtime_error(stats.error().message);
  json messages = json::array();
  for (const runtime::MessageCount& m : stats->messages)
    messages.push_back({{"node", m.node}, {"channel", m.channel}, {"messages", m.created}});
  json nodes = json::array();
  for (const runtime::NodeCount& n : stats->nodes)
    nodes.push_back(
        {{"node", n.node}, {"entered", n.entered}, {"waiting", n.waiting}, {"exited", n.exited}});
  json out = {{"flow", choice.flow.name.value},
              {"journeys", stats->journeys},
              {"live", stats->live},
              {"conversions", stats->conversions},
              {"messages", std::move(messages)},
              {"nodes", std::move(nodes)}};
  out["version"] = choice.version ? json(choice.version) : json(nullptr);
  return out;
}

// A user's path on one side: per journey, the nodes with their inputs, and
// how it ended. Times are left out, so a path differs only by where it went.
std::string path_of(runtime::Engine& e, const std::string& user) {
  std::string path;
  for (const runtime::JourneyRecord& j : e.journeys_of_user(user)) {
    auto detail = e.journey(j.id);
    if (!detail) continue;
    for (const runtime::StepRecord& s : detail->steps) path += s.node + "<" + s.input + ">;";
    path += "=>" + std::string(runtime::lifecycle_name(detail->journey.state));
    if (detail->journey.converted_at) path += "+converted";
    path += "\n";
  }
  return path;
}

// The user's journeys on one side as GET /v1/journeys/{id} renders them.
json traces_json(runtime::Engine& e, const std::string& user) {
  json out = json::array();
  for (const runtime::JourneyRecord& j : e.journeys_of_user(user)) {
    auto detail = e.journey(j.id);
    if (!detail) continue;
    json journey = journey_to_json(detail->journey);
    json steps = json::array();
    for (const auto& s : detail->steps) steps.push_back(step_to_json(s));
    journey["steps"] = std::move(steps);
    out.push_back(std::move(journey));
  }
  return out;
}

json run(const std::string& name, const json& request, const ReplayContext& context,
         SteadyClock::time_point started) {
  runtime::Engine& server = *context.engine;
  if (!request.is_object())
    throw BadRequest{
        "send {\"last\": \"7d\", \"draft\": \"flow text\"} or {\"from\", \"to\", "
        "\"version\"}"};
  for (const auto& [key, value] : request.items())
    if (key != "from" && key != "to" && key != "last" && key != "draft" && key != "version" &&
        key != "sample")
      throw BadRequest{"unknown field `" + key + "` (from, to, last, draft, version, sample)"};
  auto live_flow = server.flow(name);
  if (!live_flow) throw std::out_of_range("no deployed flow named " + name);
  const Period period = read_period(request);
  const size_t sample = read_sample(request, context.limits);
  FlowChoice draft = read_draft(server, name, request);
  FlowChoice live = version_of(server, name, live_flow->version);

  size_t feedback = 0;
  const std::vector<runtime::Event> events = read_events(server, period, context.limits, &feedback);
  std::set<std::string> users;
  for (const runtime::Event& e : events) users.insert(e.user_id);

  Shared shared{events, users, period, context, {}};
  shared.budget.max_rounds = context.limits.max_timer_rounds;
  shared.budget.deadline = started + context.limits.max_time;
  Side live_side, draft_side;
  live_side.name = "live";
  draft_side.name = "draft";
  run_side(live_side, live, shared);
  run_side(draft_side, draft, shared);

  size_t differing = 0;
  json shown = json::array();
  for (const std::string& user : users) {
    if (SteadyClock::now() >= *shared.budget.deadline)
      budget_ran_out(runtime::BudgetLimit::kTime, draft_side, shared);
    if (path_of(*live_side.engine, user) == path_of(*draft_side.engine, user)) continue;
    ++differing;
    if (shown.size() >= sample) continue;
    shown.push_back({{"user_id", user},
                     {"live", traces_json(*live_side.engine, user)},
                     {"draft", traces_json(*draft_side.engine, user)}});
  }
  json diagnostics = dsl::diagnostics_to_json(draft.diagnostics);
  return {{"flow", name},
          {"from", format_time(period.from)},
          {"to", format_time(period.to)},
          {"events", events.size()},
          {"feedback_skipped", feedback},
          {"users", users.size()},
          {"live", totals_json(live_side, live)},
          {"draft", totals_json(draft_side, draft)},
          {"differing_users", differing},
          {"sample", std::move(shown)},
          {"diagnostics", std::move(diagnostics)}};
}

// A refusal as the route answers it: the kind's status, {error, detail} and
// any fields beside them (the limit a replay hit, how far it got).
ReplayOutcome refused(const ApiError& error, const json& extra = json::object()) {
  json body = error.body();
  body.update(extra);
  return {error.status(), std::move(body)};
}

}  // namespace

ReplayOutcome replay(const std::string& flow_name, const json& request,
                     const ReplayContext& context) {
  const auto started = SteadyClock::now();
  try {
    return {200, run(flow_name, request, context, started)};
  } catch (const std::out_of_range& unknown) {
    return refused(ApiError::not_found("unknown_flow", unknown.what()));
  } catch (const BadRequest& bad) {
    return refused(ApiError::invalid("invalid_replay", bad.detail));
  } catch (const InvalidFlow& invalid) {
    return refused(ApiError::unprocessable(
        "invalid_flow", {{"errors", invalid.diagnostics.error_count()},
                         {"warnings", invalid.diagnostics.warning_count()},
                         {"diagnostics", dsl::diagnostics_to_json(invalid.diagnostics)}}));
  } catch (const TooLarge& big) {
    return refused({ApiErrorKind::kTooLarge, "replay_too_large",
                    "the period holds more than " + std::to_string(big.limit) +
                        " retained events; replay a shorter period (docs/limits.md)"},
                   {{"limit", {{"name", "events"}, {"value", big.limit}}}});
  } catch (const LimitReached& reached) {
    return refused(
        ApiError::unprocessable("replay_limit", "the replay exceeded its " + reached.limit +
                                                    " limit (" + std::to_string(reached.value) +
                                                    "); replay a shorter period (docs/limits.md)"),
        {{"limit", {{"name", reached.limit}, {"value", reached.value}}},
         {"progress", reached.progress}});
  } catch (const json::exception& e) {
    return refused(ApiError::invalid("invalid_replay", e.what()));
  }
}

}  // namespace trellis::api

#include "api/results.h"

#include <charconv>
#include <chrono>

#include "api/json_text.h"
#include "dsl/format_util.h"
#include "nodes/local_time.h"
#include "runtime/ab_stats.h"
#include "runtime/clock.h"
#include "runtime/results.h"

namespace trellis::api {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;
using runtime::TimeMs;

constexpr int64_t kDayMs = 24LL * 3600 * 1000;
constexpr int64_t kMaxSeriesDays = 400;

ApiError bad_query(const std::string& field, const std::string& message) {
  return ApiError::invalid("bad_query", {{"field", field}, {"message", message}});
}

// An unknown flow is a 404 `unknown_flow`; anything else failed reading.
ApiError flow_error(const Error& e) {
  return ApiError::from(e, e.code == ErrorCode::kNotFound ? "unknown_flow" : "stats_failed");
}

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

json interval(const std::optional<runtime::ab::Interval>& i) {
  if (!i) return nullptr;
  return json::array({i->first, i->second});
}

json goal_json(const std::optional<ir::Goal>& goal) {
  if (!goal) return nullptr;
  json out = {{"event", goal->event.value},
              {"within", goal->within ? dsl::duration_text(*goal->within)
                                      : std::string(ir::kDefaultGoalWindowText)}};
  if (goal->where) out["where"] = goal->where->source;
  if (goal->value) out["value"] = goal->value->source;
  return out;
}

ApiResult<TimeMs> parse_time_param(const Request& req, const char* field) {
  TimeMs t = 0;
  const std::string text = req.get_param_value(field);
  if (!runtime::parse_rfc3339(text.c_str(), &t))
    return bad_query(field,
                     std::string(field) + " must be an RFC 3339 time such as 2026-12-01T00:00:00Z");
  return t;
}

// The series query of a stats request, when it asks for one.
ApiResult<std::optional<runtime::SeriesQuery>> series_query(const Request& req, json& echo) {
  if (!req.has_param("from") && !req.has_param("to") && !req.has_param("bucket") &&
      !req.has_param("tz"))
    return std::optional<runtime::SeriesQuery>();
  runtime::SeriesQuery q;
  const TimeMs now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
  q.to = now;
  if (req.has_param("to")) {
    ApiResult<TimeMs> to = parse_time_param(req, "to");
    if (!to.ok()) return to.error();
    q.to = *to;
  }
  q.from = q.to - 7 * kDayMs;
  if (req.has_param("from")) {
    ApiResult<TimeMs> from = parse_time_param(req, "from");
    if (!from.ok()) return from.error();
    q.from = *from;
  }
  if (q.from >= q.to) return bad_query("from", "from must be before to");
  if (q.to - q.from > kMaxSeriesDays * kDayMs)
    return bad_query("to", "from and to are at most 400 days apart");
  const std::string bucket = req.has_param("bucket") ? req.get_param_value("bucket") : "hour";
  if (bucket != "hour" && bucket != "day") return bad_query("bucket", "bucket is hour or day");
  q.daily = bucket == "day";
  if (req.has_param("tz")) {
    q.zone = req.get_param_value("tz");
    if (!nodes::is_known_zone(q.zone))
      return bad_query("tz", "tz must be an IANA time zone such as Europe/Berlin");
  }
  echo["from"] = runtime::format_rfc3339(q.from);
  echo["to"] = runtime::format_rfc3339(q.to);
  echo["bucket"] = bucket;
  echo["tz"] = q.zone;
  return std::optional<runtime::SeriesQuery>(std::move(q));
}

// A bucket's start: UTC for hours; the local midnight with its offset for days.
std::string bucket_start(TimeMs start, const runtime::SeriesQuery& q) {
  if (!q.daily) return runtime::format_rfc3339(start);
  const int offset = runtime::utc_offset_minutes(start, q.zone);
  std::string text = runtime::format_rfc3339(start + offset * 60000LL);
  text.pop_back();  // the 'Z'
  char zone[16];
  const int magnitude = offset < 0 ? -offset : offset;
  std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset < 0 ? '-' : '+', magnitude / 60,
                magnitude % 60);
  return text + zone;
}

json ab_json(const runtime::AbResult& r) {
  const runtime::ab::Comparison& c = r.comparison;
  json variants = json::array();
  for (const runtime::ab::VariantResult& v : c.variants) {
    auto cost = r.cost.find(v.variant);
    variants.push_back({{"variant", v.variant},
                        {"journeys", v.journeys},
                        {"conversions", v.conversions},
                        {"rate", v.rate},
                        {"rate_ci", json::array({v.rate_ci.first, v.rate_ci.second})},
                        {"revenue", v.revenue},
                        {"revenue_per_journey", v.revenue_per_journey},
                        {"cost", cost == r.cost.end() ? 0.0 : cost->second},
                        {"uplift", optional_number(v.uplift)},
                        {"uplift_ci", interval(v.uplift_ci)},
                        {"p_value", optional_number(v.p_value)},
                        {"p_adjusted", optional_number(v.p_adjusted)},
                        {"revenue_p_value", optional_number(v.revenue_p_value)}});
  }
  json out = {{"node", r.node},
              {"control", c.control},
              {"min_sample", c.min_sample},
              {"verdict", runtime::ab::verdict_name(c.verdict)},
              {"summary", c.summary},
              {"variants", variants}};
  if (c.winner) out["winner"] = *c.winner;
  return out;
}

// One bucket of the series, its members in the order dump() writes them
// (keys sorted; `messages` is a std::map, in key order too).
void write_bucket(JsonText& text, const runtime::SeriesBucket& b, const runtime::SeriesQuery& q) {
  text.begin_object();
  text.key("converted").value(b.converted);
  text.key("cost").value(b.cost);
  text.key("entered").value(b.entered);
  text.key("exited").value(b.exited);
  text.key("messages").begin_object();
  for (const auto& [channel, m] : b.messages) {
    text.key(channel).begin_object();
    text.key("deferred").value(m.deferred);
    text.key("dropped").value(m.dropped);
    text.key("failed").value(m.failed);
    text.key("pending").value(m.pending);
    text.key("sent").value(m.sent);
    text.key("suppressed").value(m.suppressed);
    text.end_object();
  }
  text.end_object();
  text.key("revenue").value(b.revenue);
  text.key("start").value(bucket_start(b.start, q));
  text.end_object();
}

ApiResult<int64_t> int_param(const Request& req, const char* field, int64_t low, int64_t high,
                             int64_t fallback) {
  if (!req.has_param(field)) return fallback;
  const std::string text = req.get_param_value(field);
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < low || v > high)
    return bad_query(field, std::string(field) + " is a whole number from " + std::to_string(low) +
                                " to " + std::to_string(high));
  return v;
}

// `state`: live, waiting, ended, converted, or one lifecycle state.
Reply state_filter(const std::string& state, runtime::JourneyQuery& q) {
  using runtime::Lifecycle;
  static const Lifecycle kAll[] = {Lifecycle::kEntered,      Lifecycle::kRunning,
                                   Lifecycle::kWaitingTimer, Lifecycle::kWaitingEvent,
                                   Lifecycle::kCompleted,    Lifecycle::kExited,
                                   Lifecycle::kFailed};
  if (state == "converted") {
    q.converted_only = true;
    return {};
  }
  for (Lifecycle s : kAll) {
    const bool match = state == runtime::lifecycle_name(s) ||
                       (state == "live" && runtime::is_live(s)) ||
                       (state == "waiting" && runtime::is_waiting(s)) ||
                       (state == "ended" && !runtime::is_live(s));
    if (match) q.states.push_back(s);
  }
  if (q.states.empty())
    return bad_query("state",
                     "state is live, waiting, ended, converted, entered, running, waiting_timer, "
                     "waiting_event, completed, exited or failed");
  return {};
}

Reply flow_journeys(ApiContext& ctx, const Request& req, Response& res) {
  runtime::JourneyQuery q;
  q.flow = req.matches[1];
  q.node = req.get_param_value("node");
  q.variant = req.get_param_value("variant");
  if (req.has_param("state"))
    if (Reply known = state_filter(req.get_param_value("state"), q); !known.ok()) return known;
  ApiResult<int64_t> limit = int_param(req, "limit", 1, 500, 100);
  if (!limit.ok()) return limit.error();
  q.limit = static_cast<size_t>(*limit);
  if (req.has_param("after")) {
    const std::string after = req.get_param_value("after");
    std::optional<int64_t> id;
    if (ctx.journey_ids) {
      id = ctx.journey_ids->decode(after);
    } else {
      int64_t v = 0;
      auto [p, ec] = std::from_chars(after.data(), after.data() + after.size(), v);
      if (ec == std::errc() && p == after.data() + after.size()) id = v;
    }
    if (!id) return bad_query("after", "after is the 'next' of a previous page");
    q.before = *id;
  }
  ++q.limit;  // one more tells whether there is a next page
  auto found = ctx.engine.flow_journeys(q);
  if (!found.ok()) return flow_error(found.error());
  auto id_of = [&](int64_t id) -> json {
    return ctx.journey_ids ? json(ctx.journey_ids->encode(id)) : json(id);
  };
  const bool more = found->size() == q.limit;
  const size_t shown = more ? q.limit - 1 : found->size();
  json list = json::array();
  json out = json::object();
  for (size_t i = 0; i < shown; ++i) {
    const runtime::JourneySummary& j = (*found)[i];
    json item = {{"id", id_of(j.id)},
                 {"user_id", j.user_id},
                 {"state", std::string(runtime::lifecycle_name(j.state))},
                 {"node", j.node},
                 {"entered_at", runtime::format_rfc3339(j.entered_at)}};
    if (!j.variant.empty()) item["variant"] = j.variant;
    if (j.converted_at) item["converted_at"] = runtime::format_rfc3339(*j.converted_at);
    if (j.revenue) item["revenue"] = *j.revenue;
    list.push_back(std::move(item));
  }
  if (more && shown > 0) out["next"] = id_of((*found)[shown - 1].id);
  out["journeys"] = std::move(list);
  reply_json(res, 200, out);
  return {};
}

json group_json(const runtime::HoldoutGroup& g) {
  const auto [lo, hi] = runtime::ab::wilson_interval(g.conversions, g.journeys);
  return {{"journeys", g.journeys},
          {"conversions", g.conversions},
          {"rate", g.journeys > 0 ? static_cast<double>(g.conversions) / g.journeys : 0.0},
          {"rate_ci", json::array({lo, hi})}};
}

void holdout(ApiContext& ctx, Response& res) {
  const runtime::HoldoutResults h = ctx.engine.holdout();
  const runtime::HoldoutGroup &held = h.held_out, &exposed = h.exposed;
  json lift = {{"absolute", nullptr},
               {"absolute_ci", nullptr},
               {"relative", nullptr},
               {"relative_ci", nullptr},
               {"p_value", nullptr}};
  if (held.journeys > 0 && exposed.journeys > 0) {
    const double exposed_rate = static_cast<double>(exposed.conversions) / exposed.journeys;
    const double held_rate = static_cast<double>(held.conversions) / held.journeys;
    lift["absolute"] = exposed_rate - held_rate;
    const auto [lo, hi] = runtime::ab::newcombe_difference(exposed.conversions, exposed.journeys,
                                                           held.conversions, held.journeys);
    lift["absolute_ci"] = json::array({lo, hi});
    if (auto u = runtime::ab::relative_uplift(exposed.conversions, exposed.journeys,
                                              held.conversions, held.journeys)) {
      lift["relative"] = u->value;
      lift["relative_ci"] = interval(u->interval);
    }
    lift["p_value"] = optional_number(runtime::ab::two_proportion_p(
        exposed.conversions, exposed.journeys, held.conversions, held.journeys));
  }
  reply_json(res, 200,
             {{"percent", h.percent},
              {"held_out", group_json(held)},
              {"exposed", group_json(exposed)},
              {"lift", lift}});
}

}  // namespace

std::string series_text(const runtime::FlowResults& results, const runtime::SeriesQuery& q) {
  std::string out;
  out.reserve(results.series.size() * 200);  // a bucket with two channels is about 190 bytes
  JsonText text(out);
  text.begin_array();
  for (const runtime::SeriesBucket& b : results.series) write_bucket(text, b, q);
  text.end_array();
  return out;
}

Reply add_flow_results(ApiContext& ctx, const std::string& flow, const Request& req, json& out,
                       std::string& series_out) {
  json echo = json::object();
  ApiResult<std::optional<runtime::SeriesQuery>> asked = series_query(req, echo);
  if (!asked.ok()) return asked.error();
  const std::optional<runtime::SeriesQuery>& series = *asked;
  auto results = ctx.engine.results(flow, series);
  if (!results.ok()) return flow_error(results.error());
  auto goal = ctx.engine.goal(flow);
  out["goal"] = goal.ok() ? goal_json(*goal) : json(nullptr);
  out["revenue"] = results->revenue;
  out["cost"] = results->cost;
  out["roi"] = optional_number(results->roi);
  for (json& node : out["nodes"]) {
    node["converted_after"] = 0;
    node["cost"] = 0.0;
    for (const runtime::NodeResult& n : results->nodes) {
      if (n.node != node["node"]) continue;
      node["converted_after"] = n.converted_after;
      node["cost"] = n.cost;
    }
  }
  json ab = json::array();
  for (const runtime::AbResult& r : results->ab) ab.push_back(ab_json(r));
  out["ab"] = std::move(ab);
  json funnel = json::array();
  for (const runtime::FunnelPath& f : results->funnel)
    funnel.push_back({{"path", f.path}, {"journeys", f.journeys}, {"reached", f.reached}});
  out["funnel"] = std::move(funnel);
  if (series) {
    out.update(echo);
    series_out = series_text(*results, *series);
  }
  return {};
}

void add_results_routes(HttpServer& server, ApiContext& context) {
  ApiContext* c = &context;
  server.get("/v1/flows/([^/]+)/journeys",
             [c](const Request& q, Response& r) { return flow_journeys(*c, q, r); });
  server.get("/v1/holdout", [c](const Request&, Response& r) { holdout(*c, r); });
}

}  // namespace trellis::api

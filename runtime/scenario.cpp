#include "runtime/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "dsl/ir/diagnostic.h"
#include "runtime/clock.h"
#include "runtime/delivery/config.h"
#include "runtime/engine.h"
#include "runtime/store_url.h"
#include "runtime/processor.h"
#include "runtime/virtual_run.h"

namespace trellis::runtime {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Virtual time 0 is 2026-01-01T00:00:00Z, so that `now` and days_since() see a
// plausible date; `at` offsets in scenario files are relative to it.
constexpr TimeMs kEpoch = 1767225600000LL;
// A safety stop for flows whose timers re-arm for ever.
constexpr size_t kMaxTimerRounds = 100000;

// "0", "90s", "30m", "72h", "7d", "1h30m", "250ms", "PT72H".
bool parse_offset(std::string text, TimeMs* out) {
  if (text.empty()) return false;
  if (text[0] == 'P' || text[0] == 'p') {
    TimeMs total = 0;
    bool in_time = false;
    std::string number;
    for (size_t i = 1; i < text.size(); ++i) {
      const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(text[i])));
      if (c == 'T') {
        in_time = true;
        continue;
      }
      if (std::isdigit(static_cast<unsigned char>(c))) {
        number += c;
        continue;
      }
      if (number.empty()) return false;
      const TimeMs n = std::stoll(number);
      number.clear();
      if (c == 'D' && !in_time)
        total += n * 86400000;
      else if (c == 'W' && !in_time)
        total += n * 7 * 86400000;
      else if (c == 'H' && in_time)
        total += n * 3600000;
      else if (c == 'M' && in_time)
        total += n * 60000;
      else if (c == 'S' && in_time)
        total += n * 1000;
      else
        return false;
    }
    *out = total;
    return number.empty();
  }
  TimeMs total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (start == i) return false;
    const TimeMs n = std::stoll(text.substr(start, i - start));
    std::string unit;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) unit += text[i++];
    if (unit.empty() && start == 0 && i == text.size())
      total += n * 1000;  // bare number: seconds
    else if (unit == "ms")
      total += n;
    else if (unit == "s")
      total += n * 1000;
    else if (unit == "m")
      total += n * 60000;
    else if (unit == "h")
      total += n * 3600000;
    else if (unit == "d")
      total += n * 86400000;
    else if (unit == "w")
      total += n * 7 * 86400000;
    else
      return false;
  }
  *out = total;
  return true;
}

std::string offset_text(TimeMs ms) {
  if (ms == 0) return "0s";
  if (ms % 3600000 == 0) return std::to_string(ms / 3600000) + "h";
  if (ms % 60000 == 0) return std::to_string(ms / 60000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

// A YAML value as JSON: plain scalars become numbers, booleans and null the way
// YAML 1.2 reads them; quoted scalars stay strings.
json to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted
      if (s == "true" || s == "True") return true;
      if (s == "false" || s == "False") return false;
      if (s == "null" || s == "~" || s.empty()) return nullptr;
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (end && *end == '\0' && !s.empty() &&
          (std::isdigit(static_cast<unsigned char>(s[0])) || s[0] == '-' || s[0] == '+' ||
           s[0] == '.'))
        return d;
      return s;
    }
    default:
      return nullptr;
  }
}

struct Step {
  TimeMs at = 0;
  size_t order = 0;
  Event event;
  std::string deploy;  // a flow file to deploy at `at` (a new version)
  // Consent set as the API would (`consent: {sms: false}`), instead of an event.
  std::vector<std::pair<std::string, bool>> consent;
  // A lifecycle change as POST /v1/flows/{name}/pause and the others make it
  // (`pause: cart`), or a migration of waiting journeys (`migrate: cart`).
  std::string flow;
  std::optional<LifecycleRequest> lifecycle;
  std::optional<MigrationRequest> migration;
  bool erase = false;  // `erase: u1`: DELETE /v1/users/{id} (event.user_id)
};

constexpr std::pair<const char*, FlowState> kLifecycleKeys[] = {{"pause", FlowState::kPaused},
                                                                {"resume", FlowState::kActive},
                                                                {"stop", FlowState::kStopped},
                                                                {"archive", FlowState::kArchived}};

// `{at: 2h, pause: cart, reason: "wrong coupon"}`; resume takes `timers: shift`.
std::optional<LifecycleRequest> read_lifecycle_step(const YAML::Node& item, std::string& flow) {
  if (item["type"]) return std::nullopt;  // an event that has a property named `stop`
  for (const auto& [key, state] : kLifecycleKeys) {
    if (!item[key]) continue;
    flow = item[key].as<std::string>();
    LifecycleRequest request;
    request.to = state;
    request.by = "scenario";
    if (item["reason"]) request.reason = item["reason"].as<std::string>();
    if (item["timers"]) {
      const std::string timers = item["timers"].as<std::string>();
      if (timers != "fire" && timers != "shift")
        throw std::runtime_error("`timers` is fire or shift, not `" + timers + "`");
      request.timers = timers == "shift" ? HeldTimers::kShift : HeldTimers::kFire;
    }
    return request;
  }
  return std::nullopt;
}

// `{at: 3h, migrate: cart, from: 1, map: {old_wait: new_wait}}`, applied at
// once (the preview is the API's business; a scenario checks the outcome).
MigrationRequest read_migration_step(const YAML::Node& item) {
  if (!item["from"]) throw std::runtime_error("a `migrate` step needs `from` (a version)");
  MigrationRequest request;
  request.from = item["from"].as<int>();
  if (item["to"]) request.to = item["to"].as<int>();
  if (item["map"])
    for (const auto& kv : item["map"])
      request.node_map[kv.first.as<std::string>()] = kv.second.as<std::string>();
  if (item["restart_timers"]) request.restart_timers = item["restart_timers"].as<bool>();
  request.dry_run = false;
  request.by = "scenario";
  return request;
}

struct Expected {
  TimeMs at = -1;
  TimeMs release_at = -1;
  std::map<std::string, std::string> fields;  // channel, user, node, flow, to, subject, body
  std::string body_contains;
  std::string status;  // sent, pending, deferred, suppressed, dropped, dead
  std::string reason_contains;
};

// A text some step of a user's journeys (of one flow, when given) must contain.
struct ExpectedTrace {
  std::string user;
  std::string flow;
  std::string contains;
};

// A run has no dispatcher, so a released message stays pending: `sent` and
// `pending` both mean "released to the provider".
bool status_matches(const std::string& expected, DeliveryStatus status) {
  if (expected == "sent" || expected == "pending")
    return status == DeliveryStatus::kPending || status == DeliveryStatus::kSent;
  if (std::optional<DeliveryStatus> named = delivery_status_from_name(expected))
    return status == *named;
  throw std::runtime_error("unknown status `" + expected +
                           "` in expect (sent, pending, deferred, suppressed, dropped, dead)");
}

class Runner {
 public:
  Runner(std::string path, const FlowFileLoader& load, const ScenarioStore& store)
      : path_(std::move(path)), load_(load), store_(store) {}

  ScenarioResult run() {
    result_.file = path_;
    result_.name = fs::path(path_).filename().string();
    try {
      run_inner();
    } catch (const std::exception& e) {
      fail(std::string("scenario file: ") + e.what());
    }
    result_.passed = result_.failures.empty();
    return result_;
  }

 private:
  void fail(std::string message) { result_.failures.push_back(std::move(message)); }

  std::string resolve(const std::string& relative) const {
    fs::path p(relative);
    if (p.is_absolute()) return p.string();
    return (fs::path(path_).parent_path() / p).lexically_normal().string();
  }

  TimeMs offset(const YAML::Node& node, const char* what) {
    TimeMs t = 0;
    if (!node || !parse_offset(node.as<std::string>(), &t))
      throw std::runtime_error(std::string("bad `at` in ") + what + ": '" +
                               (node ? node.as<std::string>() : "") + "'");
    return t;
  }

  // `config:` names a delivery configuration file (relative to this file) or
  // holds one inline; either way the loader and checker `serve` uses read it,
  // so a scenario cannot pass with a configuration `serve` would refuse.
  std::optional<delivery::DeliveryConfig> load_config(const YAML::Node& node) {
    delivery::LoadedConfig loaded =
        node.IsScalar() ? delivery::load_delivery_config(resolve(node.as<std::string>()))
                        : delivery::parse_delivery_config(YAML::Dump(node), path_ + " (config)");
    if (loaded.ok()) return std::move(loaded.config);
    for (const ir::Diagnostic& d : loaded.diagnostics.items())
      if (d.severity == ir::Severity::kError) fail("config: " + ir::render(d));
    return std::nullopt;
  }

  bool deploy(Engine& engine, const std::string& relative) {
    Result<LoadedFlow> flow = load_(resolve(relative));
    if (!flow.ok()) {
      fail("flow " + relative + ": " + flow.error().message);
      return false;
    }
    Result<int> version = engine.deploy(flow->flow, flow->source);
    if (!version.ok()) {
      fail("deploy " + relative + ": " + version.error().message);
      return false;
    }
    return true;
  }

  // A misspelt key or a list written as a mapping would otherwise be skipped
  // silently, and a scenario that checks nothing would pass.
  static void check_shape(const YAML::Node& doc) {
    static const std::set<std::string> kKeys = {"name",  "flow",    "flows",  "config",
                                                "users", "coupons", "events", "expect",
                                                "trace", "until",   "results"};
    for (const auto& kv : doc) {
      const std::string key = kv.first.as<std::string>();
      if (!kKeys.count(key))
        throw std::runtime_error("unknown key `" + key +
                                 "` (name, flow, flows, config, users, coupons, events, expect, "
                                 "trace, until, results)");
    }
    for (const char* key : {"flows", "events", "expect", "trace", "results"})
      if (doc[key] && !doc[key].IsNull() && !doc[key].IsSequence())
        throw std::runtime_error(std::string("`") + key +
                                 "` must be a list (items start with '- ')");
    for (const char* key : {"users", "coupons"})
      if (doc[key] && !doc[key].IsNull() && !doc[key].IsMap())
        throw std::runtime_error(std::string("`") + key + "` must be a mapping");
    for (const char* key : {"events", "expect", "trace", "results"})
      if (doc[key])
        for (const auto& item : doc[key])
          if (!item.IsMap())
            throw std::runtime_error(std::string("every item of `") + key + "` must be a mapping");
  }

  std::vector<Step> read_steps(const YAML::Node& events) {
    std::vector<Step> steps;
    for (const auto& item : events) {
      Step step;
      step.order = steps.size();
      step.at = offset(item["at"], "events");
      if (item["deploy"]) {
        step.deploy = item["deploy"].as<std::string>();
        steps.push_back(std::move(step));
        continue;
      }
      if (auto lifecycle = read_lifecycle_step(item, step.flow)) {
        step.lifecycle = std::move(lifecycle);
        steps.push_back(std::move(step));
        continue;
      }
      if (item["migrate"] && !item["type"]) {
        step.flow = item["migrate"].as<std::string>();
        step.migration = read_migration_step(item);
        steps.push_back(std::move(step));
        continue;
      }
      if (item["erase"] && !item["type"]) {
        step.event.user_id = item["erase"].as<std::string>();
        step.erase = true;
        steps.push_back(std::move(step));
        continue;
      }
      if (item["consent"]) {
        if (!item["user"]) throw std::runtime_error("a `consent` step needs `user`");
        step.event.user_id = item["user"].as<std::string>();
        for (const auto& kv : item["consent"])
          step.consent.emplace_back(kv.first.as<std::string>(), kv.second.as<bool>());
        steps.push_back(std::move(step));
        continue;
      }
      json properties = json::object();
      for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        if (key == "at") continue;
        if (key == "type")
          step.event.type = kv.second.as<std::string>();
        else if (key == "user")
          step.event.user_id = kv.second.as<std::string>();
        else if (key == "id")
          step.event.id = kv.second.as<std::string>();
        else if (key == "anonymous_id")
          step.event.anonymous_id = kv.second.as<std::string>();
        else
          properties[key] = to_json(kv.second);
      }
      // Provider feedback may leave the user to the delivery it names.
      if (step.event.type.empty() ||
          (step.event.user_id.empty() && !is_delivery_feedback(step.event.type)))
        throw std::runtime_error("event #" + std::to_string(step.order + 1) +
                                 " needs `type` and `user`");
      if (step.event.type == "identify") step.event.form = EventForm::kSegmentIdentify;
      if (step.event.type == "alias" && step.event.anonymous_id.empty() &&
          properties.contains("previous_id") && properties["previous_id"].is_string())
        step.event.anonymous_id = properties["previous_id"].get<std::string>();
      step.event.properties_json = properties.dump(-1, ' ', false, json::error_handler_t::replace);
      steps.push_back(std::move(step));
    }
    // In time order; events at the same instant keep their file order.
    std::stable_sort(steps.begin(), steps.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });
    return steps;
  }

  std::vector<Expected> read_expected(const YAML::Node& expect) {
    std::vector<Expected> out;
    for (const auto& item : expect) {
      Expected e;
      for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        if (key == "at")
          e.at = offset(kv.second, "expect");
        else if (key == "release_at")
          e.release_at = offset(kv.second, "expect release_at");
        else if (key == "body_contains")
          e.body_contains = kv.second.as<std::string>();
        else if (key == "reason_contains")
          e.reason_contains = kv.second.as<std::string>();
        else if (key == "status")
          e.status = kv.second.as<std::string>();
        else if (key == "channel" || key == "user" || key == "node" || key == "flow" ||
                 key == "to" || key == "subject" || key == "body")
          e.fields[key] = kv.second.as<std::string>();
        else
          throw std::runtime_error("unknown field `" + key + "` in expect");
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  static std::vector<ExpectedTrace> read_traces(const YAML::Node& traces) {
    std::vector<ExpectedTrace> out;
    for (const auto& item : traces) {
      ExpectedTrace t;
      for (const auto& kv : item) {
        const std::string key = kv.first.as<std::string>();
        if (key == "user")
          t.user = kv.second.as<std::string>();
        else if (key == "flow")
          t.flow = kv.second.as<std::string>();
        else if (key == "contains")
          t.contains = kv.second.as<std::string>();
        else
          throw std::runtime_error("unknown field `" + key + "` in trace");
      }
      if (t.user.empty() || t.contains.empty())
        throw std::runtime_error("a `trace` item needs `user` and `contains`");
      out.push_back(std::move(t));
    }
    return out;
  }

  void check_traces(Engine& engine, const std::vector<ExpectedTrace>& traces) {
    for (const ExpectedTrace& t : traces) {
      bool found = false;
      std::string seen;  // the reasons searched, for the failure message
      for (const JourneyRecord& j : engine.journeys_of_user(t.user)) {
        if (!t.flow.empty() && j.flow != t.flow) continue;
        if (std::optional<JourneyDetail> detail = engine.journey(j.id))
          for (const StepRecord& s : detail->steps) {
            found = found || s.reason.find(t.contains) != std::string::npos;
            seen += "\n    " + j.flow + " " + s.node + ": " + s.reason;
          }
      }
      if (!found)
        fail("trace: no step of " + t.user + "'s journeys" +
             (t.flow.empty() ? "" : " in " + t.flow) + " contains \"" + t.contains +
             "\"; steps:" + seen);
    }
  }

  void fire_until(Engine& engine, VirtualClock& clock, TimeMs before, bool inclusive) {
    VirtualRunBudget budget;
    budget.max_rounds = kMaxTimerRounds;
    VirtualRunProgress progress;
    FireOutcome fired = fire_timers_until(engine, clock, before, inclusive, budget, progress);
    if (!fired.status.ok())
      fail("timers: " + fired.status.message());
    else if (fired.exceeded != BudgetLimit::kNone)
      fail("timers kept re-arming for " + std::to_string(kMaxTimerRounds) + " rounds; stopped");
  }

  void run_inner() {
    YAML::Node doc = YAML::LoadFile(path_);
    if (!doc.IsMap()) throw std::runtime_error("not a mapping");
    check_shape(doc);
    if (doc["name"]) result_.name = doc["name"].as<std::string>();

    const TempFolder folder("trellis-scenario-");
    if (folder.path.empty()) throw std::runtime_error("cannot create a temporary folder");
    const fs::path dir = folder.path;

    VirtualClock clock(kEpoch);
    EngineOptions options;
    if (store_) {
      options.store = store_(dir.string());
    } else {
      Result<StoreFactory> sqlite = store_factory((dir / "trellis.db").string());
      if (!sqlite.ok()) {
        fail("store: " + sqlite.error().message);
        return;
      }
      options.store = sqlite.value();
    }
    options.clock = &clock;
    options.adapter = "none";
    if (doc["config"]) {
      std::optional<delivery::DeliveryConfig> config = load_config(doc["config"]);
      if (!config) return;
      options.delivery = std::make_shared<const delivery::DeliveryConfig>(std::move(*config));
    }
    Result<std::unique_ptr<Engine>> opened = Engine::open(options);
    if (!opened.ok()) {
      fail("engine: " + opened.error().message);
      return;
    }
    Engine& engine = *opened.value();

    std::vector<std::string> flow_files;
    if (doc["flow"]) flow_files.push_back(doc["flow"].as<std::string>());
    if (doc["flows"])
      for (const auto& f : doc["flows"]) flow_files.push_back(f.as<std::string>());
    if (flow_files.empty()) throw std::runtime_error("no `flow:`");
    for (const auto& f : flow_files)
      if (!deploy(engine, f)) return;

    if (doc["users"]) {
      for (const auto& kv : doc["users"]) {
        Status s = engine.put_profile(kv.first.as<std::string>(), to_json(kv.second).dump());
        if (!s) fail("users: " + s.message());
      }
    }
    if (doc["coupons"]) {
      for (const auto& kv : doc["coupons"]) {
        std::vector<std::string> codes;
        for (const auto& c : kv.second) codes.push_back(c.as<std::string>());
        (void)engine.load_coupons(kv.first.as<std::string>(), codes);
      }
    }
    const std::vector<Step> steps = read_steps(doc["events"]);
    const std::vector<Expected> expected = read_expected(doc["expect"]);
    const std::vector<ExpectedTrace> traces = read_traces(doc["trace"]);

    for (const Step& step : steps) {
      const TimeMs at = kEpoch + step.at;
      fire_until(engine, clock, at, /*inclusive=*/false);  // the event goes first at its instant
      clock.set_ms(at);
      if (!step.deploy.empty()) {
        if (!deploy(engine, step.deploy)) return;
        continue;
      }
      if (step.lifecycle) {
        if (auto changed = engine.change_flow_state(step.flow, *step.lifecycle); !changed.ok())
          fail("step #" + std::to_string(step.order + 1) + ": " + changed.error().message);
        continue;
      }
      if (step.migration) {
        if (auto moved = engine.migrate_journeys(step.flow, *step.migration); !moved.ok())
          fail("step #" + std::to_string(step.order + 1) + ": " + moved.error().message);
        continue;
      }
      if (step.erase) {
        if (auto erased = engine.erase_user(step.event.user_id); !erased.ok())
          fail("step #" + std::to_string(step.order + 1) + ": " + erased.error().message);
        continue;
      }
      if (!step.consent.empty()) {
        if (Status s = engine.set_consent(step.event.user_id, step.consent, "api"); !s)
          fail("consent #" + std::to_string(step.order + 1) + ": " + s.message());
        continue;
      }
      Event e = step.event;
      e.time = at;
      Result<IngestSummary> r = engine.ingest({e});
      if (!r.ok()) {
        fail("event #" + std::to_string(step.order + 1) + ": " + r.error().message);
        continue;
      }
      for (const IngestSummary::Refusal& refused : r->refused)
        fail("event #" + std::to_string(step.order + 1) + " refused: " + refused.message);
    }
    const TimeMs until = doc["until"] ? kEpoch + offset(doc["until"], "until") : INT64_MAX;
    fire_until(engine, clock, until, /*inclusive=*/true);
    compare(engine.deliveries("", "", 100000), expected);
    check_traces(engine, traces);
    if (doc["results"]) check_results(engine, doc["results"]);
  }

  // `results: [{flow, journeys?, conversions?, revenue?, cost?, converted_after?:
  // {node: n}}, {holdout: {held_out, held_out_conversions, exposed,
  // exposed_conversions}}]`: the flow results the stats endpoint reports
  // (docs/results.md), after the run.
  void check_results(Engine& engine, const YAML::Node& items) {
    static const std::set<std::string> kKeys = {"flow", "journeys",        "conversions", "revenue",
                                                "cost", "converted_after", "holdout"};
    auto expect_number = [&](const std::string& what, double got, const YAML::Node& want) {
      if (std::abs(got - want.as<double>()) > 1e-9)
        fail("results: " + what + " is " + number_text(got) + ", expected " + want.Scalar());
    };
    for (const auto& item : items) {
      for (const auto& kv : item)
        if (!kKeys.count(kv.first.as<std::string>()))
          throw std::runtime_error("unknown key `" + kv.first.as<std::string>() +
                                   "` in results (flow, journeys, conversions, revenue, cost, "
                                   "converted_after, holdout)");
      if (const YAML::Node h = item["holdout"]) {
        const HoldoutResults got = engine.holdout();
        for (const auto& [key, value] :
             {std::pair{"held_out", got.held_out.journeys},
              std::pair{"held_out_conversions", got.held_out.conversions},
              std::pair{"exposed", got.exposed.journeys},
              std::pair{"exposed_conversions", got.exposed.conversions}})
          if (h[key])
            expect_number(std::string("holdout.") + key, static_cast<double>(value), h[key]);
        continue;
      }
      const std::string flow = item["flow"] ? item["flow"].as<std::string>() : "";
      Result<FlowCounts> counts = engine.stats(flow);
      Result<FlowResults> results = engine.results(flow, std::nullopt);
      if (!counts.ok() || !results.ok()) {
        fail("results: unknown flow '" + flow + "'");
        continue;
      }
      const std::string of = " of " + flow;
      if (item["journeys"])
        expect_number("journeys" + of, static_cast<double>(counts->journeys), item["journeys"]);
      if (item["conversions"])
        expect_number("conversions" + of, static_cast<double>(counts->conversions),
                      item["conversions"]);
      if (item["revenue"]) expect_number("revenue" + of, results->revenue, item["revenue"]);
      if (item["cost"]) expect_number("cost" + of, results->cost, item["cost"]);
      if (const YAML::Node after = item["converted_after"]) {
        for (const auto& kv : after) {
          const std::string node = kv.first.as<std::string>();
          int64_t got = 0;
          for (const NodeResult& n : results->nodes)
            if (n.node == node) got = n.converted_after;
          expect_number("converted_after " + node + of, static_cast<double>(got), kv.second);
        }
      }
    }
  }

  static std::string number_text(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
  }

  static std::string describe(const DeliveryRecord& d) {
    std::string s = "{at: " + offset_text(d.at - kEpoch) + ", channel: " + d.channel +
                    ", user: " + d.user_id + ", node: " + d.node;
    if (!d.body.empty()) s += ", body: \"" + d.body + "\"";
    if (d.status != DeliveryStatus::kPending && d.status != DeliveryStatus::kSent)
      s += std::string(", status: ") + delivery_status_name(d.status) + ", reason: \"" +
           d.last_error + "\"";
    else if (d.release_at != d.at)
      s += ", release_at: " + offset_text(d.release_at - kEpoch);
    return s + "}";
  }

  static std::string field_of(const DeliveryRecord& d, const std::string& name) {
    if (name == "channel") return d.channel;
    if (name == "user") return d.user_id;
    if (name == "node") return d.node;
    if (name == "flow") return d.flow;
    if (name == "to") return d.to;
    if (name == "subject") return d.subject;
    return d.body;
  }

  void compare(const std::vector<DeliveryRecord>& actual, const std::vector<Expected>& expected) {
    result_.deliveries = actual.size();
    const size_t n = std::max(actual.size(), expected.size());
    for (size_t i = 0; i < n; ++i) {
      const std::string where = "delivery " + std::to_string(i + 1) + ": ";
      if (i >= actual.size()) {
        fail(where + "expected one more delivery, got none");
        continue;
      }
      if (i >= expected.size()) {
        fail(where + "unexpected " + describe(actual[i]));
        continue;
      }
      const DeliveryRecord& d = actual[i];
      const Expected& e = expected[i];
      if (e.at >= 0 && d.at - kEpoch != e.at)
        fail(where + "at " + offset_text(d.at - kEpoch) + ", expected " + offset_text(e.at) +
             " in " + describe(d));
      for (const auto& [name, value] : e.fields) {
        const std::string got = field_of(d, name);
        if (got != value)
          fail(where + name + " is \"" + got + "\", expected \"" + value + "\" in " + describe(d));
      }
      if (!e.body_contains.empty() && d.body.find(e.body_contains) == std::string::npos)
        fail(where + "body does not contain \"" + e.body_contains + "\" in " + describe(d));
      if (!e.status.empty() && !status_matches(e.status, d.status))
        fail(where + "status is " + delivery_status_name(d.status) + ", expected " + e.status +
             " in " + describe(d));
      if (e.release_at >= 0 && d.release_at - kEpoch != e.release_at)
        fail(where + "release_at " + (d.release_at ? offset_text(d.release_at - kEpoch) : "none") +
             ", expected " + offset_text(e.release_at) + " in " + describe(d));
      if (!e.reason_contains.empty() && d.last_error.find(e.reason_contains) == std::string::npos)
        fail(where + "reason does not contain \"" + e.reason_contains + "\" in " + describe(d));
    }
  }

  std::string path_;
  const FlowFileLoader& load_;
  const ScenarioStore& store_;
  ScenarioResult result_;
};

}  // namespace

ScenarioResult run_scenario_file(const std::string& path, const FlowFileLoader& load_flow,
                                 const ScenarioStore& store) {
  return Runner(path, load_flow, store).run();
}

}  // namespace trellis::runtime

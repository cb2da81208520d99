#include "dsl/checker.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <set>

#include "dsl/expr_types.h"
#include "dsl/node_schema.h"
#include "dsl/ir/node_table.h"
#include "dsl/ir/suggest.h"
#include "nodes/local_time.h"
#include "nodes/webhook_target.h"

namespace trellis::dsl {

namespace {

using ir::NodeKind;

constexpr int kMinCodeLength = 4;
constexpr int kMaxCodeLength = 32;

bool is_name_char(char c, std::string_view extra) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
         extra.find(c) != std::string_view::npos;
}

// Node ids and flow names must survive the textual DSL and URLs unchanged.
bool valid_identifier(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) || name[0] == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) { return is_name_char(c, "-"); });
}

// Producers name events as they like ("Order Completed" from Segment); the DSL
// quotes names that are not bare words, so only control characters, which no
// source text can show, are refused.
bool valid_event_type(std::string_view name) {
  return !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
}

bool blank(std::string_view text) {
  return text.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// The span to report a problem of `node` at, preferring `preferred`.
ir::SourceSpan at_or(const ir::SourceSpan& preferred, const ir::SourceSpan& fallback) {
  return preferred.known() ? preferred : fallback;
}

// Calls `visit` for every path in an expression tree.
void for_each_path(const ir::Expr& expr, const std::function<void(const ir::Path&)>& visit) {
  if (expr.op == ir::ExprOp::kPath) visit(expr.path);
  for (const ir::Expr& operand : expr.operands) for_each_path(operand, visit);
}

std::string edge_field(const ir::Edge& edge);

// What data can exist when a journey enters a node, over all paths from start.
struct NodeFacts {
  bool reached = false;
  bool coupon_on_some_path = false;
  bool coupon_on_every_path = true;
  bool event_on_some_path = false;  // a wait's until_event has been consumed
};

class Checker {
 public:
  Checker(const ir::Flow& flow, const CheckOptions& options)
      : flow_(flow), options_(options), file_(flow.file) {
    for (size_t i = 0; i < flow.nodes.size(); ++i) index_.emplace(flow.nodes[i].id, i);
    for (const ir::Node& node : flow.nodes) node_ids_.push_back(node.id);
  }

  ir::Diagnostics run() {
    check_header();
    for (const ir::Node& node : flow_.nodes) check_node(node);
    // A misspelt target cuts an edge; what looks unreachable then is only
    // an echo of it, so graph warnings wait until targets resolve.
    if (unknown_targets_ > 0) options_.graph_warnings = false;
    compute_facts();
    if (options_.graph_warnings) check_reachability();
    check_loops();
    check_expressions();
    return std::move(diagnostics_);
  }

 private:
  // `code` names the kind of problem (dsl/plain_words.h gives each a plain sentence).
  void error(const char* code, const ir::SourceSpan& span, std::string message,
             const std::string& node = {}, const std::string& field = {}) {
    diagnostics_.error(file_, at_or(span, first_position()), std::move(message), node, field);
    diagnostics_.set_last_code(code);
  }
  void warning(const char* code, const ir::SourceSpan& span, std::string message,
               const std::string& node = {}, const std::string& field = {}) {
    diagnostics_.warning(file_, at_or(span, first_position()), std::move(message), node, field);
    diagnostics_.set_last_code(code);
  }
  // Where flow-level problems without a position of their own are shown.
  ir::SourceSpan first_position() const {
    return flow_.name.span.known() ? flow_.name.span : ir::SourceSpan{1, 1, 0, 0};
  }

  const ir::Node* find(const std::string& id) const {
    auto it = index_.find(id);
    return it == index_.end() ? nullptr : &flow_.nodes[it->second];
  }

  void check_header();
  void check_delivery_settings();
  // An optional flow setting that must be one of `allowed` (by `valid`).
  template <typename Valid>
  void check_setting(const std::optional<ir::Name>& setting, const std::string& field,
                     const std::vector<std::string>& words, const std::string& expected,
                     Valid valid);
  void check_wait_time(const ir::Node& node, const ir::WaitNode& wait);
  void check_schedule();
  void check_schedule_fields_alone();
  void check_audience(const ir::Expression& audience);
  // `node`: the node whose field holds the type; empty for flow-level fields.
  void check_event_type(const ir::Name& name, const std::string& field,
                        const std::string& node = {});
  void check_target(const ir::Target& target, const std::string& field, const ir::Node* node);
  void check_node(const ir::Node& node);
  void check_required(const ir::Node& node);
  bool has_field(const ir::Node& node, std::string_view field) const;
  void check_wait(const ir::Node& node, const ir::WaitNode& wait);
  void check_coupon(const ir::Node& node, const ir::CouponNode& coupon);
  void check_text(const ir::Node& node, const std::optional<ir::Template>& text,
                  const std::string& field);
  void check_webhook(const ir::Node& node, const ir::WebhookNode& webhook);
  void check_ab(const ir::Node& node, const ir::AbNode& ab);
  // A generic kind's rules, from its table row's widgets (docs/node-kinds.md).
  void check_generic(const ir::Node& node, const ir::GenericNode& generic);
  void check_generic_expressions(const ir::Node& node, const ir::GenericNode& generic);
  void check_edges(const ir::Node& node);

  // Successor node indices, with the edge that leads there.
  std::vector<std::pair<size_t, ir::Edge>> successors(const ir::Node& node) const;
  void compute_facts();
  void check_reachability();
  void check_loops();
  void report_loop(const std::vector<size_t>& members);

  void check_expressions();
  void check_expression(const std::optional<ir::Expression>& expression, const ir::Node* node,
                        const std::string& field);
  void check_template(const std::optional<ir::Template>& text, const ir::Node& node,
                      const std::string& field);
  void check_path(const ir::Path& path, const ir::Node* node, const std::string& field,
                  bool has_fallback);

  const ir::Flow& flow_;
  CheckOptions options_;
  std::string file_;
  std::map<std::string, size_t> index_;  // node id -> index in flow_.nodes
  std::vector<std::string> node_ids_;
  std::vector<NodeFacts> facts_;
  size_t unknown_targets_ = 0;
  ir::Diagnostics diagnostics_;
};

void Checker::check_header() {
  if (flow_.name.empty()) {
    error("no_flow_name", flow_.name.span, "the flow has no name: add 'flow: <name>'", "", "flow");
  } else if (!valid_identifier(flow_.name.value)) {
    error("bad_flow_name", flow_.name.span,
          "flow name " + quoted(flow_.name.value) +
              " must start with a letter and hold only letters, digits, '_' or '-'",
          "", "flow");
  }
  if (flow_.trigger.scheduled()) {
    check_schedule();
  } else if (flow_.trigger.event.empty()) {
    error("no_trigger", at_or(flow_.trigger.event.span, flow_.trigger.span),
          "the flow has no trigger event: add 'trigger: {event: <event type>}'", "",
          "trigger.event");
  } else {
    check_event_type(flow_.trigger.event, "trigger.event");
  }
  check_schedule_fields_alone();
  const ir::ReEntry& re_entry = flow_.re_entry;
  if (re_entry.policy == ir::ReEntryPolicy::kAfter && re_entry.after &&
      re_entry.after->seconds <= 0) {
    error("re_entry_zero", at_or(re_entry.after->span, re_entry.span),
          "'re_entry: after' needs a duration longer than zero", "", "re_entry");
  }
  std::set<std::string> exit_events;
  for (const ir::Name& event : flow_.exit_on) {
    check_event_type(event, "exit_on");
    if (!exit_events.insert(event.value).second) {
      warning("exit_on_twice", event.span, quoted(event.value) + " is listed twice in 'exit_on'",
              "", "exit_on");
    }
  }
  if (flow_.goal) {
    const ir::Goal& goal = *flow_.goal;
    if (goal.event.empty()) {
      error("goal_empty", at_or(goal.event.span, goal.span),
            "'goal' is empty: give the event type that counts as a conversion", "", "goal");
    } else {
      check_event_type(goal.event, "goal");
    }
    if (goal.within && goal.within->seconds <= 0) {
      error("goal_window_zero", at_or(goal.within->span, goal.span),
            "'goal: within' needs a duration longer than zero", "", "goal");
    }
  }
  check_delivery_settings();
  if (flow_.nodes.empty())
    error("no_nodes", {}, "the flow has no nodes: add 'nodes:'", "", "nodes");
  if (flow_.start.empty()) {
    error("no_start", flow_.start.span,
          "the flow has no 'start': name the node a journey begins at", "", "start");
  } else {
    check_target(flow_.start, "start", nullptr);
  }
}

template <typename Valid>
void Checker::check_setting(const std::optional<ir::Name>& setting, const std::string& field,
                            const std::vector<std::string>& words, const std::string& expected,
                            Valid valid) {
  if (!setting || valid(setting->value)) return;
  std::string message = quoted(field) + " is empty: write " + expected;
  if (!setting->empty()) {
    std::string suggestion = ir::did_you_mean(setting->value, words);
    message = "invalid " + field + " " + quoted(setting->value) +
              (suggestion.empty() ? ": write " + expected : suggestion);
  }
  error("bad_setting", setting->span, message, "", field);
}

// Governed delivery settings (docs/ir-json.md); the typed readers of ir::Flow
// fall back to the defaults, so a typo must not pass silently.
void Checker::check_delivery_settings() {
  check_setting(
      flow_.category, "category", {"marketing", "transactional"}, "marketing or transactional",
      [](const std::string& text) { return ir::flow_category_from_name(text).has_value(); });
  check_setting(flow_.priority, "priority", {"high", "normal", "low"},
                "high, normal, low or a whole number from 0 to 100",
                [](const std::string& text) { return ir::priority_from_text(text).has_value(); });
  check_setting(flow_.on_cap, "on_cap", {"defer", "skip"}, "defer or skip",
                [](const std::string& text) { return text == "defer" || text == "skip"; });
}

void Checker::check_event_type(const ir::Name& name, const std::string& field,
                               const std::string& node) {
  if (name.empty() || valid_event_type(name.value)) return;
  error("bad_event_type", name.span,
        "event type " + quoted(name.value) + " may not hold control characters (tabs, line breaks)",
        node, field);
}

void Checker::check_target(const ir::Target& target, const std::string& field,
                           const ir::Node* node) {
  if (target.empty() || find(target.value)) return;
  ++unknown_targets_;
  std::string message = "unknown node " + quoted(target.value) + " in " + quoted(field) +
                        ir::did_you_mean(target.value, node_ids_);
  error("unknown_target", at_or(target.span, node ? node->span : ir::SourceSpan{}), message,
        node ? node->id : std::string(), field);
}

void Checker::check_node(const ir::Node& node) {
  if (!valid_identifier(node.id)) {
    error("bad_node_id", node.span,
          "node id " + quoted(node.id) +
              " must start with a letter or '_' and hold only letters, digits, '_' or '-'",
          node.id);
  }
  check_required(node);
  if (auto* wait = node.as<ir::WaitNode>()) check_wait(node, *wait);
  if (auto* coupon = node.as<ir::CouponNode>()) check_coupon(node, *coupon);
  if (auto* sms = node.as<ir::SmsNode>()) check_text(node, sms->text, "text");
  if (auto* email = node.as<ir::EmailNode>()) {
    check_text(node, email->subject, "subject");
    check_text(node, email->body, "body");
  }
  if (auto* webhook = node.as<ir::WebhookNode>()) check_webhook(node, *webhook);
  if (auto* ab = node.as<ir::AbNode>()) check_ab(node, *ab);
  if (auto* generic = node.as<ir::GenericNode>()) check_generic(node, *generic);
  check_edges(node);
}

bool Checker::has_field(const ir::Node& node, std::string_view field) const {
  if (auto* generic = node.as<ir::GenericNode>()) {
    const ir::GenericField* set = generic->find(field);
    if (set == nullptr) return false;
    if (auto* name = std::get_if<ir::Name>(&set->value)) return !name->empty();
    if (auto* branches = std::get_if<std::vector<ir::Branch>>(&set->value))
      return !branches->empty();
    if (auto* entries = std::get_if<std::vector<ir::NamedExpression>>(&set->value)) {
      return !entries->empty();
    }
    return true;
  }
  if (auto* segment = node.as<ir::SegmentNode>()) {
    if (field == "match") return segment->match.has_value();
    if (field == "yes") return !segment->yes.empty();
    if (field == "no") return !segment->no.empty();
  } else if (auto* coupon = node.as<ir::CouponNode>()) {
    if (field == "next") return !coupon->next.empty();
  } else if (auto* sms = node.as<ir::SmsNode>()) {
    if (field == "text") return sms->text.has_value();
    if (field == "next") return !sms->next.empty();
  } else if (auto* email = node.as<ir::EmailNode>()) {
    if (field == "subject") return email->subject.has_value();
    if (field == "body") return email->body.has_value();
    if (field == "next") return !email->next.empty();
  } else if (auto* webhook = node.as<ir::WebhookNode>()) {
    if (field == "url") return webhook->url.has_value();
    if (field == "next") return !webhook->next.empty();
  } else if (auto* ab = node.as<ir::AbNode>()) {
    if (field == "variants") return !ab->variants.empty();
  }
  return true;
}

void Checker::check_required(const ir::Node& node) {
  std::string_view kind = ir::node_kind_name(node.kind());
  for (const FieldSpec& field : node_schema(node.kind()).fields) {
    if (field.requirement != Requirement::kRequired || field.name == "type") continue;
    if (has_field(node, field.name)) continue;
    error("missing_field", node.span,
          std::string(kind) + " node " + quoted(node.id) + " needs " + quoted(field.name), node.id,
          std::string(field.name));
  }
}

void Checker::check_wait(const ir::Node& node, const ir::WaitNode& wait) {
  const std::string& id = node.id;
  if (!wait.wait_for && !wait.until_time && !wait.until_event) {
    error("wait_never_ends", node.span,
          "wait node " + quoted(id) +
              " needs 'for', 'until_time' or 'until_event': otherwise it never ends",
          id, "for");
  }
  if (wait.wait_for && wait.wait_for->seconds <= 0) {
    error("wait_zero", wait.wait_for->span, "'for' must be longer than zero", id, "for");
  }
  check_wait_time(node, wait);
  bool has_timer = wait.wait_for || wait.until_time;
  if (has_timer && wait.next.empty()) {
    std::string when = wait.wait_for ? "'for' runs out" : "'until_time' comes";
    error("wait_needs_next", node.span,
          "wait node " + quoted(id) + " needs 'next': where the journey goes when " + when, id,
          "next");
  }
  if (!has_timer && !wait.next.empty() && wait.until_event) {
    warning("wait_next_unused", wait.next.span,
            "'next' is never taken: this wait has no 'for', so only its event ends it", id, "next");
  }
  if (wait.until_event) {
    if (wait.until_event->event.empty()) {
      error("until_event_empty", at_or(wait.until_event->event.span, wait.until_event->span),
            "'until_event' needs an event type", id, "until_event");
    } else {
      check_event_type(wait.until_event->event, "until_event", id);
    }
    bool ends_journey = std::any_of(
        flow_.exit_on.begin(), flow_.exit_on.end(),
        [&](const ir::Name& exit) { return exit.value == wait.until_event->event.value; });
    if (ends_journey && !wait.on_event.empty()) {
      warning("on_event_exit_on", at_or(wait.until_event->event.span, wait.until_event->span),
              "'on_event' is never taken: " + quoted(wait.until_event->event.value) +
                  " is in 'exit_on', so it ends the journey before this wait sees it",
              id, "on_event");
    }
    if (wait.on_event.empty()) {
      error("wait_needs_on_event", node.span,
            "wait node " + quoted(id) + " needs 'on_event': where the journey goes when " +
                quoted(wait.until_event->event.value) + " arrives",
            id, "on_event");
    }
  } else if (!wait.on_event.empty()) {
    error("on_event_unused", wait.on_event.span,
          "'on_event' is never taken: add 'until_event' to say which event ends the wait", id,
          "on_event");
  }
}

// A broadcast trigger (docs/flows.md#broadcasts): a real date and time, a known
// repetition, an audience that is a condition on traits, and no event settings.
void Checker::check_schedule() {
  const ir::Trigger& trigger = flow_.trigger;
  const ir::Name& schedule = *trigger.schedule;
  const ir::SourceSpan span = at_or(schedule.span, trigger.span);
  const std::optional<nodes::LocalDateTime> at = nodes::parse_local_date_time(schedule.value);
  if (!at) {
    error(
        "bad_schedule", span,
        "invalid schedule " + quoted(schedule.value) +
            ": write a date and a 24-hour time as \"YYYY-MM-DD HH:MM\", such as \"2026-12-24 10:00\"",
        "", "trigger.schedule");
  } else if (options_.now_ms) {
    // Past in every time zone: even read at UTC-12, the last wall clock on earth.
    constexpr int64_t kLatestZoneMs = 12LL * 3600 * 1000;
    if (nodes::local_instant(*at, "UTC") + kLatestZoneMs < *options_.now_ms) {
      warning("schedule_in_past", span,
              "schedule " + quoted(schedule.value) +
                  " is in the past: the flow enters its audience as soon as it is deployed",
              "", "trigger.schedule");
    }
  }
  if (!trigger.event.empty()) {
    error("schedule_and_event", at_or(trigger.event.span, span),
          "a trigger takes 'event' or 'schedule', not both", "", "trigger.event");
  }
  if (trigger.when) {
    error("when_with_schedule", at_or(trigger.when->span, span),
          "'when' filters a trigger event; a schedule takes 'audience' (a condition on user.*)", "",
          "trigger.when");
  }
  if (trigger.key) {
    error("key_with_schedule", at_or(trigger.key->span, span),
          "'key' reads the trigger event; a schedule enters each user once per run", "",
          "trigger.key");
  }
  if (trigger.every && ir::schedule_period_days(trigger.every->value) == 0) {
    std::string suggestion = ir::did_you_mean(trigger.every->value, {"day", "week"});
    error("bad_every", at_or(trigger.every->span, span),
          "'every' must be day or week, not " + quoted(trigger.every->value) + suggestion, "",
          "trigger.every");
  }
  if (trigger.every && flow_.re_entry.policy == ir::ReEntryPolicy::kNever) {
    warning("every_without_re_entry", at_or(trigger.every->span, span),
            "with 're_entry: never' a user enters only on the first run; write 're_entry: "
            "always' (or 'after <duration>') to enter the audience on every run",
            "", "re_entry");
  }
  if (trigger.audience && trigger.audience->tree) check_audience(*trigger.audience);
}

void Checker::check_audience(const ir::Expression& audience) {
  const StaticType type = infer_type(*audience.tree);
  if (type != StaticType::kUnknown && type != StaticType::kBool) {
    error("audience_not_boolean", at_or(audience.span, flow_.trigger.span),
          "'audience' must be a condition (true or false), not " +
              std::string(static_type_name(type)) + ", such as user.tier == \"vip\"",
          "", "trigger.audience");
  }
  for_each_path(*audience.tree, [&](const ir::Path& path) {
    if (path.root == ir::PathRoot::kUser) return;
    error("audience_reads_event", at_or(path.span, audience.span),
          "an audience is a condition on a profile: " + quoted(path.text()) +
              " does not exist there; use user.* traits",
          "", "trigger.audience");
  });
}

// Schedule settings on an event trigger are a mistake, not something to ignore.
void Checker::check_schedule_fields_alone() {
  const ir::Trigger& trigger = flow_.trigger;
  if (trigger.scheduled()) return;
  auto alone = [&](const ir::SourceSpan& span, const std::string& field) {
    error("schedule_field_without_schedule", at_or(span, trigger.span),
          "'" + field + "' belongs to a scheduled trigger: add 'schedule: \"YYYY-MM-DD HH:MM\"'",
          "", "trigger." + field);
  };
  if (trigger.audience) alone(trigger.audience->span, "audience");
  if (trigger.every) alone(trigger.every->span, "every");
  if (trigger.in_user_time_zone) alone(trigger.in_user_time_zone_span, "in_user_time_zone");
}

// `until_time` and `on_days`: a wall-clock time in the user's zone, on some weekdays.
void Checker::check_wait_time(const ir::Node& node, const ir::WaitNode& wait) {
  const std::string& id = node.id;
  if (wait.until_time) {
    const ir::LocalTimeOfDay& time = *wait.until_time;
    ir::SourceSpan span = at_or(time.span, node.span);
    if (!nodes::parse_time_of_day(time.source)) {
      error("bad_until_time", span,
            "invalid until_time " + quoted(time.source) +
                ": write a 24-hour time as HH:MM, such as \"10:00\"",
            id, "until_time");
    }
    if (wait.wait_for) {
      error("for_and_until_time", span, "a wait takes 'for' or 'until_time', not both", id,
            "until_time");
    }
  }
  if (!wait.on_days.empty() && !wait.until_time) {
    error("on_days_without_time", at_or(wait.on_days.front().span, node.span),
          "'on_days' needs 'until_time': the days say when that local time counts", id, "on_days");
  }
  static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
  for (const ir::Name& day : wait.on_days) {
    if (nodes::weekday_from_name(day.value)) continue;
    std::string suggestion = ir::did_you_mean(day.value, kDays);
    error("bad_weekday", at_or(day.span, node.span),
          "unknown weekday " + quoted(day.value) + " in 'on_days'" +
              (suggestion.empty() ? ": write mon, tue, wed, thu, fri, sat or sun" : suggestion),
          id, "on_days");
  }
}

void Checker::check_coupon(const ir::Node& node, const ir::CouponNode& coupon) {
  const std::string& id = node.id;
  if (coupon.pool && coupon.generate) {
    error("pool_and_generate", coupon.generate->span,
          "a coupon node takes 'pool' or 'generate', not both", id, "generate");
  }
  if (!coupon.pool && !coupon.generate) {
    error("coupon_source", node.span,
          "coupon node " + quoted(id) + " needs 'pool' (codes loaded beforehand) or 'generate'", id,
          "pool");
  }
  if (coupon.pool && coupon.pool->empty()) {
    error("pool_empty", coupon.pool->span, "'pool' is empty: name the coupon pool", id, "pool");
  }
  if (coupon.generate &&
      (coupon.generate->length < kMinCodeLength || coupon.generate->length > kMaxCodeLength)) {
    error("code_length", coupon.generate->span,
          "'generate.length' must be between " + std::to_string(kMinCodeLength) + " and " +
              std::to_string(kMaxCodeLength),
          id, "generate.length");
  }
  if (coupon.generate && !coupon.pool && !coupon.on_exhausted.empty()) {
    warning("on_exhausted_unused", coupon.on_exhausted.span,
            "'on_exhausted' is never taken: generated codes never run out", id, "on_exhausted");
  }
}

void Checker::check_text(const ir::Node& node, const std::optional<ir::Template>& text,
                         const std::string& field) {
  if (!text || !blank(text->source)) return;
  error("empty_text", at_or(text->span, node.span),
        std::string(ir::node_kind_name(node.kind())) + " " + field + " is empty", node.id, field);
}

// The URL as far as it is literal text: a placeholder may stand for a path or
// query, but scheme and host must be there for the check to pass.
void Checker::check_webhook(const ir::Node& node, const ir::WebhookNode& webhook) {
  if (!webhook.url) return;
  const ir::Template& url = *webhook.url;
  std::string literal;
  for (const ir::TemplatePart& part : url.parts) {
    if (part.path) break;
    literal += part.text;
  }
  // A URL that is entirely a placeholder is the user's business.
  if (literal.empty() && !url.parts.empty()) return;
  ir::SourceSpan span = at_or(url.span, node.span);
  size_t scheme_end = literal.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : literal.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") {
    error("webhook_scheme", span,
          "webhook url " + quoted(url.source) + " must start with http:// or https://", node.id,
          "url");
    return;
  }
  std::string rest = literal.substr(scheme_end + 3);
  size_t host_end = rest.find_first_of("/?#:");
  std::string host = rest.substr(0, host_end);
  bool host_is_placeholder = host_end == std::string::npos && rest.size() == host.size() &&
                             literal.size() < url.source.size();
  bool host_ok = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return is_name_char(c, "-.[]") && c != '_';
  });
  if (!host_ok && !(host.empty() && host_is_placeholder)) {
    error("webhook_host", span, "webhook url " + quoted(url.source) + " has no valid host", node.id,
          "url");
    return;
  }
  // The server refuses internal targets unless its delivery configuration
  // allows the host; say so where the url is written (docs/delivery.md).
  if (auto internal = nodes::internal_host(host))
    warning("webhook_internal", span,
            "webhook url " + quoted(url.source) + " targets " + *internal +
                ": the server refuses to send there unless its delivery configuration allows "
                "the host (webhooks: {allow_hosts: [...]})",
            node.id, "url");
}

void Checker::check_ab(const ir::Node& node, const ir::AbNode& ab) {
  const std::string& id = node.id;
  bool all_zero = !ab.variants.empty();
  for (const ir::Variant& variant : ab.variants) {
    std::string field = "variants." + variant.name.value;
    if (std::isnan(variant.weight)) {
      error("variant_weight_missing", variant.name.span,
            "variant " + quoted(variant.name.value) + " needs a 'weight'", id, field + ".weight");
      all_zero = false;
    } else if (variant.weight < 0) {
      error("variant_weight_negative", variant.weight_span,
            "variant " + quoted(variant.name.value) + " has a negative weight", id,
            field + ".weight");
      all_zero = false;
    } else if (variant.weight > 0) {
      all_zero = false;
    }
    if (variant.next.empty()) {
      error("variant_needs_next", variant.name.span,
            "variant " + quoted(variant.name.value) + " needs 'next'", id, field + ".next");
    }
  }
  if (all_zero) {
    error("weights_all_zero", node.span,
          "all variant weights of " + quoted(id) + " are zero: no user can be split", id,
          "variants");
  }
  if (ab.variants.size() == 1) {
    warning("one_variant", ab.variants.front().name.span,
            "ab node " + quoted(id) + " has one variant: every user takes it", id, "variants");
  }
}

// The field an edge's target is written in: "next", "variants.a.next", "branches.0.next".
std::string edge_field(const ir::Edge& edge) {
  if (edge.kind == ir::EdgeKind::kVariant) return "variants." + edge.label + ".next";
  if (edge.kind == ir::EdgeKind::kBranch) {
    return std::string(ir::edge_kind_field(edge.kind)) + "." + std::to_string(edge.index) + ".next";
  }
  return edge.label;
}

void Checker::check_edges(const ir::Node& node) {
  for (const ir::Edge& edge : ir::edges_of(node)) {
    if (edge.kind == ir::EdgeKind::kBranch && edge.target->empty()) {
      error("missing_field", node.span,
            std::string(ir::node_kind_name(node.kind())) + " node " + quoted(node.id) +
                ": the branch '" + edge.label + "' needs a 'next'",
            node.id, edge_field(edge));
      continue;
    }
    check_target(*edge.target, edge_field(edge), &node);
  }
}

void Checker::check_generic(const ir::Node& node, const ir::GenericNode& generic) {
  const ir::KindSchema& schema = ir::schema_for(node.kind());
  std::string kind = schema.name + " node " + quoted(node.id);
  // Fields sharing a one-of group: at least one of them.
  std::map<std::string, std::vector<std::string>> groups;
  for (const ir::FieldSchema& field : schema.fields) {
    if (!field.one_of.empty()) groups[field.one_of].push_back(field.name);
  }
  for (const auto& [group, names] : groups) {
    bool any = std::any_of(names.begin(), names.end(),
                           [&](const std::string& name) { return has_field(node, name); });
    if (any) continue;
    std::string list;
    for (const std::string& name : names) list += (list.empty() ? "" : " or ") + quoted(name);
    error("missing_one_of", node.span, kind + " needs " + list, node.id, names.front());
  }
  // A trait is written once per node: by one mapping, once.
  std::map<std::string, std::string> written;  // trait -> field
  for (const ir::GenericField& field : generic.fields) {
    auto* entries = std::get_if<std::vector<ir::NamedExpression>>(&field.value);
    if (entries == nullptr) continue;
    for (const ir::NamedExpression& entry : *entries) {
      const std::string& trait = entry.name.value;
      if (!valid_identifier(trait) || trait.find('-') != std::string::npos) {
        error("bad_trait_name", at_or(entry.name.span, field.span),
              "trait " + quoted(trait) + " of " + kind +
                  " must start with a letter or '_' and hold only letters, digits or '_'",
              node.id, field.name);
        continue;
      }
      auto [first, inserted] = written.emplace(trait, field.name);
      if (!inserted) {
        error("trait_twice", at_or(entry.name.span, field.span),
              kind + " writes trait " + quoted(trait) + " twice (in " + quoted(first->second) +
                  " and " + quoted(field.name) + "): keep one",
              node.id, field.name);
      }
    }
  }
}

// Expression fields are checked as any expression; a branch's `when` must be
// a condition and a number to add must be a number, when the type is known.
void Checker::check_generic_expressions(const ir::Node& node, const ir::GenericNode& generic) {
  for (const ir::FieldSchema& schema : ir::schema_for(node.kind()).fields) {
    const ir::GenericField* field = generic.find(schema.name);
    if (field == nullptr) continue;
    const std::string& name = schema.name;
    if (auto* e = std::get_if<ir::Expression>(&field->value)) check_expression(*e, &node, name);
    if (auto* t = std::get_if<ir::Template>(&field->value)) check_template(*t, node, name);
    if (auto* branches = std::get_if<std::vector<ir::Branch>>(&field->value)) {
      for (size_t i = 0; i < branches->size(); ++i) {
        const ir::Branch& branch = (*branches)[i];
        std::string at = name + "." + std::to_string(i) + ".when";
        check_expression(branch.when, &node, at);
        if (!branch.when || !branch.when->tree) continue;
        StaticType type = infer_type(*branch.when->tree);
        if (type != StaticType::kUnknown && type != StaticType::kBool) {
          error("not_a_condition", branch.when->span,
                "the condition of branch " + std::to_string(i + 1) + " of " + quoted(node.id) +
                    " is always " + std::string(static_type_name(type)) +
                    ", not true or false: compare it, as in user.orders > 3",
                node.id, at);
        }
      }
    }
    if (auto* entries = std::get_if<std::vector<ir::NamedExpression>>(&field->value)) {
      for (const ir::NamedExpression& entry : *entries) {
        std::string at = name + "." + entry.name.value;
        check_expression(entry.value, &node, at);
        // A field named `increment` adds: its values must be numbers.
        if (name != "increment" || !entry.value || !entry.value->tree) continue;
        StaticType type = infer_type(*entry.value->tree);
        if (type != StaticType::kUnknown && type != StaticType::kNumber) {
          error("not_a_number", entry.value->span,
                "'increment' of " + quoted(node.id) + " adds numbers, but " +
                    quoted(entry.name.value) + " is given " + std::string(static_type_name(type)),
                node.id, at);
        }
      }
    }
  }
}

std::vector<std::pair<size_t, ir::Edge>> Checker::successors(const ir::Node& node) const {
  std::vector<std::pair<size_t, ir::Edge>> out;
  for (const ir::Edge& edge : ir::edges_of(node)) {
    auto it = index_.find(edge.target->value);
    if (it != index_.end()) out.emplace_back(it->second, edge);
  }
  return out;
}

// Forward data flow from start: which nodes are reached, and whether a coupon
// code or a consumed event exists on some or every path into each node.
void Checker::compute_facts() {
  facts_.assign(flow_.nodes.size(), NodeFacts{});
  auto start = index_.find(flow_.start.value);
  if (start == index_.end()) return;
  facts_[start->second].reached = true;
  facts_[start->second].coupon_on_every_path = false;
  std::deque<size_t> work = {start->second};
  while (!work.empty()) {
    size_t current = work.front();
    work.pop_front();
    const ir::Node& node = flow_.nodes[current];
    NodeFacts in = facts_[current];
    for (const auto& [next, edge] : successors(node)) {
      bool gives_coupon = node.kind() == NodeKind::kCoupon && edge.kind == ir::EdgeKind::kNext;
      bool gives_event = node.kind() == NodeKind::kWait && edge.kind == ir::EdgeKind::kOnEvent;
      NodeFacts& out = facts_[next];
      NodeFacts before = out;
      bool first_visit = !out.reached;
      out.reached = true;
      out.coupon_on_some_path |= in.coupon_on_some_path || gives_coupon;
      bool every = in.coupon_on_every_path || gives_coupon;
      out.coupon_on_every_path = first_visit ? every : (out.coupon_on_every_path && every);
      out.event_on_some_path |= in.event_on_some_path || gives_event;
      bool changed = first_visit || before.coupon_on_some_path != out.coupon_on_some_path ||
                     before.coupon_on_every_path != out.coupon_on_every_path ||
                     before.event_on_some_path != out.event_on_some_path;
      if (changed) work.push_back(next);
    }
  }
}

void Checker::check_reachability() {
  if (!find(flow_.start.value)) return;  // already an error; every node would be "unreachable"
  for (size_t i = 0; i < flow_.nodes.size(); ++i) {
    if (facts_[i].reached) continue;
    const ir::Node& node = flow_.nodes[i];
    warning("unreachable", node.span,
            "node " + quoted(node.id) + " is never reached from start " + quoted(flow_.start.value),
            node.id);
  }
}

// Loops are found as strongly connected components of the graph without its
// wait nodes: any cycle left there has no wait in it and would spin for ever.
void Checker::check_loops() {
  size_t count = flow_.nodes.size();
  std::vector<int> order(count, -1), low(count, 0);
  std::vector<bool> on_stack(count, false);
  std::vector<size_t> stack;
  int counter = 0;
  auto is_wait = [&](size_t i) { return flow_.nodes[i].kind() == NodeKind::kWait; };
  // Iterative Tarjan, so a long chain of nodes cannot exhaust the call stack.
  for (size_t root = 0; root < count; ++root) {
    if (order[root] >= 0 || is_wait(root)) continue;
    std::vector<std::pair<size_t, size_t>> frames = {{root, 0}};  // node, next successor
    order[root] = low[root] = counter++;
    stack.push_back(root);
    on_stack[root] = true;
    while (!frames.empty()) {
      auto& [current, position] = frames.back();
      auto next_nodes = successors(flow_.nodes[current]);
      if (position < next_nodes.size()) {
        size_t next = next_nodes[position++].first;
        if (is_wait(next)) continue;
        if (order[next] < 0) {
          order[next] = low[next] = counter++;
          stack.push_back(next);
          on_stack[next] = true;
          frames.emplace_back(next, 0);
        } else if (on_stack[next]) {
          low[current] = std::min(low[current], order[next]);
        }
        continue;
      }
      size_t done = current;
      frames.pop_back();
      if (!frames.empty()) low[frames.back().first] = std::min(low[frames.back().first], low[done]);
      if (low[done] != order[done]) continue;
      std::vector<size_t> members;
      size_t member;
      do {
        member = stack.back();
        stack.pop_back();
        on_stack[member] = false;
        members.push_back(member);
      } while (member != done);
      bool self_loop = false;
      for (const auto& [next, edge] : successors(flow_.nodes[done])) self_loop |= next == done;
      if (members.size() > 1 || self_loop) report_loop(members);
    }
  }
}

void Checker::report_loop(const std::vector<size_t>& members) {
  std::set<size_t> inside(members.begin(), members.end());
  size_t first = *inside.begin();  // file order
  // Shortest way round from the first node back to it, for the message.
  std::map<size_t, std::pair<size_t, ir::Edge>> came_from;
  std::deque<size_t> work = {first};
  std::optional<ir::Edge> closing;
  size_t last = first;
  while (!work.empty() && !closing) {
    size_t current = work.front();
    work.pop_front();
    for (const auto& [next, edge] : successors(flow_.nodes[current])) {
      if (!inside.count(next)) continue;
      if (next == first) {
        closing = edge;
        last = current;
        break;
      }
      if (!came_from.count(next)) {
        came_from.emplace(next, std::make_pair(current, edge));
        work.push_back(next);
      }
    }
  }
  std::vector<size_t> path = {last};
  while (path.back() != first) path.push_back(came_from.at(path.back()).first);
  std::reverse(path.begin(), path.end());
  std::string cycle;
  for (size_t i : path) cycle += flow_.nodes[i].id + " -> ";
  cycle += flow_.nodes[first].id;
  // Point at the edge leaving the first node, where the user reads the loop.
  const ir::Edge& edge = path.size() > 1 ? came_from.at(path[1]).second : *closing;
  const ir::Node& node = flow_.nodes[first];
  std::string field = edge_field(edge);
  error("loop_without_wait", at_or(edge.target->span, node.span),
        "loop with no wait node: " + cycle + " would run for ever; add a wait node to the loop",
        node.id, field);
}

void Checker::check_expressions() {
  check_expression(flow_.trigger.when, nullptr, "trigger.when");
  check_expression(flow_.trigger.key, nullptr, "trigger.key");
  if (flow_.goal) {
    // `event` in the goal's expressions is the goal event, which always exists there.
    for (const auto& [expression, field] :
         {std::pair{&flow_.goal->where, "goal.where"}, std::pair{&flow_.goal->value, "goal.value"}})
      if (*expression && (*expression)->tree)
        check_types(*(*expression)->tree, file_, diagnostics_, "", field);
  }
  if (flow_.trigger.audience && flow_.trigger.audience->tree)
    check_types(*flow_.trigger.audience->tree, file_, diagnostics_, "", "trigger.audience");
  for (const ir::Node& node : flow_.nodes) {
    if (auto* segment = node.as<ir::SegmentNode>())
      check_expression(segment->match, &node, "match");
    if (auto* wait = node.as<ir::WaitNode>(); wait && wait->until_event) {
      // `event` in `where` is the awaited event, which always exists there.
      const auto& where = wait->until_event->where;
      if (where && where->tree)
        check_types(*where->tree, file_, diagnostics_, node.id, "until_event.where");
    }
    if (auto* sms = node.as<ir::SmsNode>()) check_template(sms->text, node, "text");
    if (auto* email = node.as<ir::EmailNode>()) {
      check_template(email->subject, node, "subject");
      check_template(email->body, node, "body");
    }
    if (auto* webhook = node.as<ir::WebhookNode>()) {
      check_template(webhook->url, node, "url");
      check_template(webhook->body, node, "body");
    }
    if (auto* generic = node.as<ir::GenericNode>()) check_generic_expressions(node, *generic);
  }
}

void Checker::check_expression(const std::optional<ir::Expression>& expression,
                               const ir::Node* node, const std::string& field) {
  if (!expression || !expression->tree) return;  // a syntax error is the front end's
  std::string id = node ? node->id : std::string();
  check_types(*expression->tree, file_, diagnostics_, id, field);
  for_each_path(*expression->tree,
                [&](const ir::Path& path) { check_path(path, node, field, false); });
}

void Checker::check_template(const std::optional<ir::Template>& text, const ir::Node& node,
                             const std::string& field) {
  if (!text) return;
  for (const ir::TemplatePart& part : text->parts) {
    if (part.path) check_path(*part.path, &node, field, part.fallback.has_value());
  }
}

void Checker::check_path(const ir::Path& path, const ir::Node* node, const std::string& field,
                         bool has_fallback) {
  std::string id = node ? node->id : std::string();
  const NodeFacts* facts = nullptr;
  if (node) facts = &facts_[index_.at(node->id)];
  bool known_paths = options_.graph_warnings && facts && facts->reached;
  if (path.root == ir::PathRoot::kCoupon) {
    if (path.segments.size() != 1 || path.segments[0] != "code") {
      warning("coupon_field_unknown", path.span,
              quoted(path.text()) + " does not exist: a coupon has only 'code'", id, field);
      return;
    }
    if (!known_paths) return;
    if (!facts->coupon_on_some_path) {
      warning("coupon_always_empty", path.span,
              "'coupon.code' is always empty here: no coupon node comes before " + quoted(id), id,
              field);
    } else if (!facts->coupon_on_every_path && !has_fallback) {
      warning("coupon_maybe_empty", path.span,
              "'coupon.code' may be empty here: some paths to " + quoted(id) +
                  " pass no coupon node (add | default: \"...\")",
              id, field);
    }
    return;
  }
  if (path.root == ir::PathRoot::kEvent || path.root == ir::PathRoot::kLastEvent) {
    if (path.segments.size() > 1 && path.segments[0] == "type") {
      warning("event_type_text", path.span, quoted(path.text()) + " does not exist: 'type' is text",
              id, field);
      return;
    }
  }
  if (path.root == ir::PathRoot::kLastEvent) {
    bool trigger_only = node ? (known_paths && !facts->event_on_some_path) : true;
    if (trigger_only) {
      std::string rest = path.text().substr(std::string("last_event").size());
      warning("last_event_unused", path.span,
              "'last_event' names an awaited event, but no wait's event is consumed before "
              "this point: write 'event" +
                  rest + "' for the trigger event",
              id, field);
    }
  }
}

}  // namespace

ir::Diagnostics check_flow(const ir::Flow& flow, const CheckOptions& options) {
  return Checker(flow, options).run();
}

}  // namespace trellis::dsl

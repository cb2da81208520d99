#include "dsl/json_format.h"

#include <cmath>

#include "dsl/format_util.h"
#include "dsl/ir/node_table.h"
#include "dsl/plain_words.h"
#include "dsl/parse.h"
#include "nodes/local_time.h"

namespace trellis::dsl {

using nlohmann::json;

namespace {

// ---- IR -> JSON -------------------------------------------------------------

void put_target(json& out, const char* key, const ir::Target& target) {
  if (!target.empty()) out[key] = target.value;
}

void put_expression(json& out, const char* key, const std::optional<ir::Expression>& e) {
  if (e) out[key] = e->source;
}

void put_template(json& out, const char* key, const std::optional<ir::Template>& t) {
  if (t) out[key] = t->source;
}

json number_json(double value) {
  if (std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 1e15) {
    return static_cast<int64_t>(value);
  }
  return value;
}

json names_json(const std::vector<ir::Name>& names) {
  json out = json::array();
  for (const ir::Name& name : names) out.push_back(name.value);
  return out;
}

struct BodyToJson {
  json& out;
  void operator()(const ir::SegmentNode& n) const {
    put_expression(out, "match", n.match);
    put_target(out, "yes", n.yes);
    put_target(out, "no", n.no);
  }
  void operator()(const ir::WaitNode& n) const {
    if (n.wait_for) out["for"] = duration_text(*n.wait_for);
    if (n.until_time) out["until_time"] = n.until_time->source;
    if (!n.on_days.empty()) out["on_days"] = names_json(n.on_days);
    if (n.until_event) {
      if (n.until_event->where) {
        out["until_event"] = {{"event", n.until_event->event.value},
                              {"where", n.until_event->where->source}};
      } else {
        out["until_event"] = n.until_event->event.value;
      }
    }
    put_target(out, "on_event", n.on_event);
    put_target(out, "next", n.next);
  }
  void operator()(const ir::CouponNode& n) const {
    if (n.pool) out["pool"] = n.pool->value;
    if (n.generate)
      out["generate"] = {{"prefix", n.generate->prefix}, {"length", n.generate->length}};
    put_target(out, "next", n.next);
    put_target(out, "on_exhausted", n.on_exhausted);
  }
  void operator()(const ir::SmsNode& n) const {
    put_template(out, "text", n.text);
    put_target(out, "next", n.next);
  }
  void operator()(const ir::EmailNode& n) const {
    put_template(out, "subject", n.subject);
    put_template(out, "body", n.body);
    put_target(out, "next", n.next);
  }
  void operator()(const ir::WebhookNode& n) const {
    put_template(out, "url", n.url);
    put_template(out, "body", n.body);
    put_target(out, "next", n.next);
  }
  void operator()(const ir::AbNode& n) const {
    json variants = json::array();
    for (const ir::Variant& variant : n.variants) {
      json v = {{"name", variant.name.value}, {"weight", number_json(variant.weight)}};
      put_target(v, "next", variant.next);
      if (!variant.comments.empty()) v["comments"] = variant.comments;
      if (!variant.trailing_comment.empty()) v["trailing_comment"] = variant.trailing_comment;
      variants.push_back(std::move(v));
    }
    out["variants"] = std::move(variants);
  }
  void operator()(const ir::ExitNode&) const {}
  // A generic kind's fields by shape: branches as [{when, next}], a mapping of
  // expressions as an object (its keys come back sorted), the rest as strings.
  void operator()(const ir::GenericNode& n) const {
    for (const ir::GenericField& field : n.fields) {
      std::visit([&](const auto& value) { put(field.name, value); }, field.value);
    }
  }
  void put(const std::string& key, const ir::Name& name) const {
    if (!name.empty()) out[key] = name.value;
  }
  void put(const std::string& key, const ir::Expression& e) const { out[key] = e.source; }
  void put(const std::string& key, const ir::Template& t) const { out[key] = t.source; }
  void put(const std::string& key, const ir::Duration& d) const { out[key] = duration_text(d); }
  void put(const std::string& key, const std::vector<ir::Branch>& branches) const {
    json list = json::array();
    for (const ir::Branch& branch : branches) {
      json item = json::object();
      if (branch.when) item["when"] = branch.when->source;
      if (!branch.next.empty()) item["next"] = branch.next.value;
      list.push_back(std::move(item));
    }
    out[key] = std::move(list);
  }
  void put(const std::string& key, const std::vector<ir::NamedExpression>& entries) const {
    json map = json::object();
    for (const ir::NamedExpression& entry : entries) {
      map[entry.name.value] = entry.value ? entry.value->source : std::string();
    }
    out[key] = std::move(map);
  }
};

json node_to_json(const ir::Node& node, const JsonOptions& options) {
  json out = {{"id", node.id},
              {"type", std::string(ir::node_kind_name(node.kind()))},
              {"comments", node.comments},
              {"description", node.description}};
  if (!node.field_comments.empty()) out["field_comments"] = node.field_comments;
  if (!node.leading_comments.empty()) out["leading_comments"] = node.leading_comments;
  std::visit(BodyToJson{out}, node.body);
  if (options.spans && node.span.known()) {
    out["span"] = {{"line", node.span.line}, {"column", node.span.column}};
  }
  return out;
}

// ---- JSON -> IR -------------------------------------------------------------

class Reader {
 public:
  Reader(std::string file, ir::Diagnostics& diagnostics)
      : file_(std::move(file)), diagnostics_(diagnostics) {}

  ir::Flow flow(const json& in) {
    ir::Flow flow;
    flow.file = file_;
    if (!in.is_object()) {
      error("a flow must be a JSON object");
      return flow;
    }
    flow.name.value = string(in, "flow");
    flow.description = string(in, "description");
    flow.comments = comments(in);
    flow.field_comments = field_comments(in);
    flow.leading_comments = leading_comments(in);
    flow.closing_comments = comments(in, "closing_comments");
    trigger(in, flow.trigger);
    re_entry(in, flow.re_entry);
    flow.exit_on = names(in, "exit_on", "event types");
    goal(in, flow.goal);
    if (has(in, "category")) flow.category = ir::Name{string(in, "category"), {}};
    if (has(in, "priority")) flow.priority = priority(in);
    if (has(in, "on_cap")) flow.on_cap = ir::Name{string(in, "on_cap"), {}};
    flow.start.value = string(in, "start");
    if (auto* nodes = member(in, "nodes", json::value_t::array, "an array of nodes")) {
      for (const json& item : *nodes) node(item, flow);
    }
    return flow;
  }

 private:
  void error(const std::string& message, const std::string& field = {}) {
    diagnostics_.error(file_, {}, message, node_, field);
  }

  // The member when present with the wanted type; a diagnostic when of another type.
  const json* member(const json& in, const char* key, json::value_t type, const char* what) {
    auto it = in.find(key);
    // The editor may send null for "not set"; read it as absent.
    if (it == in.end() || it->is_null()) return nullptr;
    bool number_ok = type == json::value_t::number_float && it->is_number();
    if (it->type() != type && !number_ok) {
      error(std::string("'") + key + "' must be " + what, key);
      return nullptr;
    }
    return &*it;
  }

  static bool has(const json& in, const char* key) {
    auto it = in.find(key);
    return it != in.end() && !it->is_null();
  }

  std::string string(const json& in, const char* key) {
    const json* value = member(in, key, json::value_t::string, "a string");
    return value ? value->get<std::string>() : std::string();
  }

  ir::Comments comments(const json& in, const char* key = "comments") {
    ir::Comments out;
    if (auto* list = member(in, key, json::value_t::array, "an array of strings")) {
      lines(*list, key, out);
    }
    return out;
  }

  void lines(const json& list, const std::string& key, ir::Comments& out) {
    for (const json& line : list) {
      if (line.is_string())
        out.push_back(line.get<std::string>());
      else
        error("'" + key + "' must be an array of strings", key);
    }
  }

  ir::LeadingComments leading_comments(const json& in) {
    ir::LeadingComments out;
    const json* map = member(in, "leading_comments", json::value_t::object,
                             "an object of field name to comment lines");
    if (map == nullptr) return out;
    for (const auto& [field, list] : map->items()) {
      if (!list.is_array()) {
        error("'leading_comments' values must be arrays of strings", "leading_comments");
        continue;
      }
      lines(list, "leading_comments", out[field]);
    }
    return out;
  }

  ir::FieldComments field_comments(const json& in) {
    ir::FieldComments out;
    const json* map = member(in, "field_comments", json::value_t::object,
                             "an object of field name to comment text");
    if (map == nullptr) return out;
    for (const auto& [field, text] : map->items()) {
      if (text.is_string())
        out[field] = text.get<std::string>();
      else
        error("'field_comments' values must be strings", "field_comments");
    }
    return out;
  }

  // Runs a parser and labels what it reports with the current node and field.
  template <typename Parse>
  auto labelled(const char* field, Parse parse) {
    ir::Diagnostics local;
    auto result = parse(local);
    for (ir::Diagnostic diagnostic : local.items()) {
      if (diagnostic.node.empty()) diagnostic.node = node_;
      if (diagnostic.field.empty()) diagnostic.field = field;
      diagnostics_.add(std::move(diagnostic));
    }
    return result;
  }

  std::optional<ir::Expression> expression(const json& in, const char* key) {
    if (!has(in, key)) return std::nullopt;
    std::string source = string(in, key);
    return labelled(key,
                    [&](ir::Diagnostics& d) { return parse_expression(source, {}, file_, d); });
  }

  std::optional<ir::Template> text(const json& in, const char* key) {
    if (!has(in, key)) return std::nullopt;
    std::string source = string(in, key);
    return labelled(key, [&](ir::Diagnostics& d) { return parse_template(source, {}, file_, d); });
  }

  std::optional<ir::Duration> duration(const std::string& source, const char* field) {
    return labelled(field,
                    [&](ir::Diagnostics& d) { return parse_duration(source, {}, file_, d); });
  }

  ir::Target target(const json& in, const char* key) { return {string(in, key), {}}; }

  // An array of strings (`exit_on`, `on_days`); `what` names its items in messages.
  std::vector<ir::Name> names(const json& in, const char* key, const std::string& what) {
    std::vector<ir::Name> out;
    const json* list = member(in, key, json::value_t::array, ("an array of " + what).c_str());
    if (list == nullptr) return out;
    for (const json& item : *list) {
      if (item.is_string()) {
        out.push_back({item.get<std::string>(), {}});
      } else {
        error(std::string("'") + key + "' must list " + what + " as strings", key);
      }
    }
    return out;
  }

  // "high" or "80"; a whole JSON number is taken as its digits, so the checker
  // judges both forms alike.
  ir::Name priority(const json& in) {
    const json& value = in.at("priority");
    if (value.is_number_integer()) return {std::to_string(value.get<int64_t>()), {}};
    if (value.is_number()) return {value.dump(), {}};
    return {string(in, "priority"), {}};
  }

  void trigger(const json& in, ir::Trigger& trigger) {
    const json* value = member(in, "trigger", json::value_t::object, "an object");
    if (!value) return;
    trigger.event.value = string(*value, "event");
    trigger.when = expression(*value, "when");
    trigger.key = expression(*value, "key");
    if (has(*value, "schedule")) trigger.schedule = ir::Name{string(*value, "schedule"), {}};
    trigger.audience = expression(*value, "audience");
    if (has(*value, "every")) trigger.every = ir::Name{string(*value, "every"), {}};
    if (const json* flag =
            member(*value, "in_user_time_zone", json::value_t::boolean, "true or false"))
      trigger.in_user_time_zone = flag->get<bool>();
  }

  void re_entry(const json& in, ir::ReEntry& re_entry) {
    if (!has(in, "re_entry")) return;
    std::string text = string(in, "re_entry");
    if (text == "never" || text.empty()) {
      re_entry.policy = ir::ReEntryPolicy::kNever;
    } else if (text == "always") {
      re_entry.policy = ir::ReEntryPolicy::kAlways;
    } else if (text.rfind("after ", 0) == 0) {
      re_entry.policy = ir::ReEntryPolicy::kAfter;
      re_entry.after = duration(text.substr(6), "re_entry");
    } else {
      error(
          "'re_entry' must be \"never\", \"always\" or \"after <duration>\", not \"" + text + "\"",
          "re_entry");
    }
  }

  void node(const json& in, ir::Flow& flow) {
    node_.clear();
    if (!in.is_object()) {
      error("each node must be a JSON object", "nodes");
      return;
    }
    ir::Node node;
    node.id = node_ = string(in, "id");
    if (node.id.empty()) error("a node needs an \"id\"", "id");
    node.description = string(in, "description");
    node.comments = comments(in);
    node.field_comments = field_comments(in);
    node.leading_comments = leading_comments(in);
    std::string type = string(in, "type");
    std::optional<ir::NodeKind> kind = ir::node_kind_from_name(type);
    if (!kind) {
      error("unknown node type \"" + type + "\"", "type");
      return;
    }
    node.body = body(in, *kind);
    flow.nodes.push_back(std::move(node));
    node_.clear();
  }

  ir::NodeBody body(const json& in, ir::NodeKind kind) {
    switch (kind) {
      case ir::NodeKind::kSegment:
        return ir::SegmentNode{expression(in, "match"), target(in, "yes"), target(in, "no")};
      case ir::NodeKind::kWait:
        return wait(in);
      case ir::NodeKind::kCoupon:
        return coupon(in);
      case ir::NodeKind::kSms:
        return ir::SmsNode{text(in, "text"), target(in, "next")};
      case ir::NodeKind::kEmail:
        return ir::EmailNode{text(in, "subject"), text(in, "body"), target(in, "next")};
      case ir::NodeKind::kWebhook:
        return ir::WebhookNode{text(in, "url"), text(in, "body"), target(in, "next")};
      case ir::NodeKind::kAb:
        return ab(in);
      case ir::NodeKind::kExit:
        return ir::ExitNode{};
    }
    return generic(in, kind);
  }

  // A generic kind's fields, each read by its widget in the table of kinds.
  ir::GenericNode generic(const json& in, ir::NodeKind kind) {
    ir::GenericNode node{static_cast<int>(kind), {}};
    for (const ir::FieldSchema& field : ir::schema_for(kind).fields) {
      const char* key = field.name.c_str();
      if (!has(in, key)) continue;
      switch (field.widget) {
        case ir::Widget::kExpression:
          if (auto e = expression(in, key)) node.set(field.name, {}, *e);
          break;
        case ir::Widget::kTemplate:
          if (auto t = text(in, key)) node.set(field.name, {}, *t);
          break;
        case ir::Widget::kDuration:
          if (auto d = duration(string(in, key), key)) node.set(field.name, {}, *d);
          break;
        case ir::Widget::kBranches:
          node.set(field.name, {}, branches(in, key));
          break;
        case ir::Widget::kExpressions:
          node.set(field.name, {}, named_expressions(in, key));
          break;
        default:
          node.set(field.name, {}, ir::Name{string(in, key), {}});
      }
    }
    return node;
  }

  std::vector<ir::Branch> branches(const json& in, const char* key) {
    std::vector<ir::Branch> out;
    auto* list = member(in, key, json::value_t::array, "an array of {when, next}");
    if (!list) return out;
    for (const json& item : *list) {
      if (!item.is_object()) {
        error(std::string("each item of '") + key + "' must be an object {when, next}", key);
        continue;
      }
      ir::Branch branch;
      branch.when = expression(item, "when");
      branch.next = target(item, "next");
      out.push_back(std::move(branch));
    }
    return out;
  }

  std::vector<ir::NamedExpression> named_expressions(const json& in, const char* key) {
    std::vector<ir::NamedExpression> out;
    auto* map = member(in, key, json::value_t::object, "an object of names to expressions");
    if (!map) return out;
    for (const auto& [name, value] : map->items()) {
      ir::NamedExpression entry{ir::Name{name, {}}, std::nullopt};
      // A number or a boolean is an expression as well: {"orders": 1}.
      std::string source = value.is_string() ? value.get<std::string>() : value.dump();
      entry.value =
          labelled(key, [&](ir::Diagnostics& d) { return parse_expression(source, {}, file_, d); });
      out.push_back(std::move(entry));
    }
    return out;
  }

  // "goal": "order_paid", or {"event", "where"?, "within"?, "value"?}.
  void goal(const json& in, std::optional<ir::Goal>& out) {
    auto it = in.find("goal");
    if (it == in.end() || it->is_null()) return;
    ir::Goal goal;
    if (it->is_string()) {
      goal.event.value = it->get<std::string>();
    } else if (it->is_object()) {
      goal.event.value = string(*it, "event");
      goal.where = expression(*it, "where");
      if (has(*it, "within")) goal.within = duration(string(*it, "within"), "goal");
      goal.value = expression(*it, "value");
    } else {
      error("'goal' must be an event type or {\"event\", \"where\", \"within\", \"value\"}",
            "goal");
    }
    out = std::move(goal);
  }

  ir::WaitNode wait(const json& in) {
    ir::WaitNode wait;
    if (has(in, "for")) wait.wait_for = duration(string(in, "for"), "for");
    if (has(in, "until_time")) {
      ir::LocalTimeOfDay time;
      time.source = string(in, "until_time");
      time.minute_of_day = nodes::parse_time_of_day(time.source).value_or(0);
      wait.until_time = std::move(time);
    }
    wait.on_days = names(in, "on_days", "weekdays");
    auto it = in.find("until_event");
    if (it != in.end() && !it->is_null()) {
      ir::EventFilter filter;
      if (it->is_string()) {
        filter.event.value = it->get<std::string>();
      } else if (it->is_object()) {
        filter.event.value = string(*it, "event");
        filter.where = expression(*it, "where");
      } else {
        error("'until_event' must be an event type or {\"event\", \"where\"}", "until_event");
      }
      wait.until_event = std::move(filter);
    }
    wait.on_event = target(in, "on_event");
    wait.next = target(in, "next");
    return wait;
  }

  ir::CouponNode coupon(const json& in) {
    ir::CouponNode coupon;
    if (has(in, "pool")) coupon.pool = ir::Name{string(in, "pool"), {}};
    if (auto* generate = member(in, "generate", json::value_t::object, "an object")) {
      ir::CouponGenerate spec;
      spec.prefix = string(*generate, "prefix");
      if (auto* length = member(*generate, "length", json::value_t::number_float, "a number")) {
        spec.length = static_cast<int>(length->get<double>());
      }
      coupon.generate = spec;
    }
    coupon.next = target(in, "next");
    coupon.on_exhausted = target(in, "on_exhausted");
    return coupon;
  }

  ir::AbNode ab(const json& in) {
    ir::AbNode ab;
    auto* variants = member(in, "variants", json::value_t::array, "an array of variants");
    if (!variants) return ab;
    for (const json& item : *variants) {
      if (!item.is_object()) {
        error("each variant must be an object", "variants");
        continue;
      }
      ir::Variant variant;
      variant.name.value = string(item, "name");
      if (auto* weight = member(item, "weight", json::value_t::number_float, "a number")) {
        variant.weight = weight->get<double>();
      }
      variant.next = target(item, "next");
      variant.comments = comments(item);
      variant.trailing_comment = string(item, "trailing_comment");
      ab.variants.push_back(std::move(variant));
    }
    return ab;
  }

  std::string file_;
  ir::Diagnostics& diagnostics_;
  std::string node_;  // id of the node being read, for diagnostics
};

}  // namespace

json flow_to_json(const ir::Flow& flow, const JsonOptions& options) {
  json out = {
      {"flow", flow.name.value}, {"description", flow.description}, {"comments", flow.comments}};
  if (!flow.field_comments.empty()) out["field_comments"] = flow.field_comments;
  if (!flow.leading_comments.empty()) out["leading_comments"] = flow.leading_comments;
  if (!flow.closing_comments.empty()) out["closing_comments"] = flow.closing_comments;
  json trigger = {{"event", flow.trigger.event.value}};
  put_expression(trigger, "when", flow.trigger.when);
  put_expression(trigger, "key", flow.trigger.key);
  if (flow.trigger.schedule) trigger["schedule"] = flow.trigger.schedule->value;
  put_expression(trigger, "audience", flow.trigger.audience);
  if (flow.trigger.every) trigger["every"] = flow.trigger.every->value;
  if (flow.trigger.in_user_time_zone) trigger["in_user_time_zone"] = true;
  out["trigger"] = std::move(trigger);
  out["re_entry"] = re_entry_text(flow.re_entry);
  json exit_on = json::array();
  for (const ir::Name& name : flow.exit_on) exit_on.push_back(name.value);
  out["exit_on"] = std::move(exit_on);
  if (flow.goal) {
    const ir::Goal& goal = *flow.goal;
    if (!goal.where && !goal.within && !goal.value) {
      out["goal"] = goal.event.value;  // the plain form, as files write it
    } else {
      json g = {{"event", goal.event.value}};
      put_expression(g, "where", goal.where);
      if (goal.within) g["within"] = duration_text(*goal.within);
      put_expression(g, "value", goal.value);
      out["goal"] = std::move(g);
    }
  }
  if (flow.category) out["category"] = flow.category->value;
  if (flow.priority) out["priority"] = flow.priority->value;
  if (flow.on_cap) out["on_cap"] = flow.on_cap->value;
  put_target(out, "start", flow.start);
  json nodes = json::array();
  for (const ir::Node& node : flow.nodes) nodes.push_back(node_to_json(node, options));
  out["nodes"] = std::move(nodes);
  return out;
}

ir::Flow flow_from_json(const json& in, const std::string& file, ir::Diagnostics& diagnostics) {
  // Reader checks every type before reading, so nlohmann has nothing to throw;
  // the catch keeps the no-throw promise should a check be missed.
  try {
    return Reader(file, diagnostics).flow(in);
  } catch (const std::exception& e) {
    diagnostics.error(file, {}, std::string("unreadable flow JSON: ") + e.what());
    ir::Flow flow;
    flow.file = file;
    return flow;
  }
}

json diagnostic_to_json(const ir::Diagnostic& d) {
  return {{"severity", std::string(ir::severity_name(d.severity))},
          {"file", d.file},
          {"line", d.span.line},
          {"column", d.span.column},
          {"length", d.span.length},
          {"message", d.message},
          {"node", d.node},
          {"field", d.field},
          // The editor shows `plain`; the CLI and `message` keep the precise form.
          {"code", d.code},
          {"plain", plain_sentence(d)}};
}

json diagnostics_to_json(const ir::Diagnostics& diagnostics) {
  json out = json::array();
  for (const ir::Diagnostic& d : diagnostics.items()) out.push_back(diagnostic_to_json(d));
  return out;
}

}  // namespace trellis::dsl

#include "dsl/format_yaml.h"

#include <algorithm>
#include <set>
#include <cctype>
#include <regex>
#include <sstream>

#include "dsl/format_util.h"
#include "dsl/ir/node_table.h"
#include "dsl/ir/quoted.h"

namespace trellis::dsl {

namespace {

bool is_reserved_word(const std::string& text) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static const char* const kWords[] = {"true", "false", "yes",  "no", "on", "off",
                                       "y",    "n",     "null", "~",  "<<", "="};
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* word) { return lower == word; });
}

// YAML 1.1 and 1.2 numbers, so that a pool named `2024` stays a string for any reader.
bool looks_numeric(const std::string& text) {
  static const std::regex kNumber(
      R"(^[-+]?([0-9][0-9_]*|0[xX][0-9a-fA-F_]+|0o[0-7]+|0b[01_]+|)"
      R"((\.[0-9_]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?|)"
      R"([0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|\.(inf|Inf|INF)|\.(nan|NaN|NAN))$)");
  return std::regex_match(text, kNumber);
}

bool plain_ok(const std::string& text, bool flow_context) {
  if (text.empty() || is_reserved_word(text) || looks_numeric(text)) return false;
  if (std::isspace(static_cast<unsigned char>(text.front())) ||
      std::isspace(static_cast<unsigned char>(text.back()))) {
    return false;
  }
  if (std::string("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != std::string::npos) return false;
  if (text.back() == ':') return false;
  if (text.find(": ") != std::string::npos || text.find(" #") != std::string::npos) return false;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    if (flow_context && std::string(",[]{}").find(c) != std::string::npos) return false;
  }
  return true;
}

std::string double_quoted(const std::string& text) {
  std::string out;
  ir::append_quoted(out, text, ir::QuoteStyle::kYaml);
  return out;
}

std::string quoted(const std::string& text) {
  bool has_control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  // Expressions often hold "string literals": single quotes keep them readable.
  if (!has_control && text.find('"') != std::string::npos) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
  }
  return double_quoted(text);
}

std::string flow_scalar(const std::string& text) {
  return plain_ok(text, true) ? text : quoted(text);
}

// `[a, b]`: the names as flow scalars.
std::string flow_list(const std::vector<ir::Name>& names) {
  std::string list;
  for (const ir::Name& name : names) list += (list.empty() ? "" : ", ") + flow_scalar(name.value);
  return "[" + list + "]";
}

class YamlPrinter : private CommentedPrinter {
 public:
  std::string print(const ir::Flow& flow) {
    comments(flow.comments, 0);
    notes_ = &flow.field_comments;
    above(&flow.leading_comments);
    line(0, "flow", flow.name.value);
    if (!flow.description.empty()) line(0, "description", flow.description);
    trigger(flow.trigger);
    lead(0, "re_entry");
    raw(0, "re_entry: " + yaml_scalar(re_entry_text(flow.re_entry)), "re_entry");
    if (!flow.exit_on.empty()) {
      lead(0, "exit_on");
      raw(0, "exit_on: " + flow_list(flow.exit_on), "exit_on");
    }
    if (flow.goal) goal(*flow.goal);
    if (flow.category) line(0, "category", flow.category->value);
    if (flow.priority) priority(flow.priority->value);
    if (flow.on_cap) line(0, "on_cap", flow.on_cap->value);
    target(0, "start", flow.start);
    unprinted(0, "nodes");
    lead(0, "nodes");
    raw(0, flow.nodes.empty() ? "nodes: {}" : "nodes:", "nodes");
    for (const ir::Node& node : flow.nodes) this->node(node);
    comments(flow.closing_comments, 0);
    return out_.str();
  }

 private:
  // The plain form when the goal is an event alone, else a block.
  void goal(const ir::Goal& goal) {
    if (!goal.where && !goal.within && !goal.value) {
      line(0, "goal", goal.event.value);
      return;
    }
    lead(0, "goal");
    raw(0, "goal:", "goal");
    raw(2, "event: " + yaml_scalar(goal.event.value));
    if (goal.where) raw(2, "where: " + yaml_scalar(goal.where->source));
    if (goal.within) raw(2, "within: " + yaml_scalar(duration_text(*goal.within)));
    if (goal.value) raw(2, "value: " + yaml_scalar(goal.value->source));
  }

  // `note` names the field whose end-of-line comment (in notes_) ends the line.
  void raw(int indent, const std::string& text, const std::string& note) {
    out_ << std::string(indent, ' ') << text << trailing_comment(*notes_, note) << "\n";
  }
  // A line no comment ends: a sub-key whose comment goes on its parent's line.
  void raw(int indent, const std::string& text) {
    out_ << std::string(indent, ' ') << text << "\n";
  }
  // `line` and `expression` print the comments above `note`'s line; other lines call lead().
  void line(int indent, const std::string& key, const std::string& value, const std::string& note) {
    lead(indent, note);
    raw(indent, key + ": " + yaml_scalar(value), note);
  }
  void line(int indent, const std::string& key, const std::string& value) {
    line(indent, key, value, key);
  }
  void target(int indent, const std::string& key, const ir::Target& target) {
    if (!target.empty()) line(indent, key, target.value);
  }
  void expression(int indent, const std::string& key, const std::optional<ir::Expression>& e,
                  const std::string& note) {
    if (e) line(indent, key, e->source, note);
  }
  void text(int indent, const std::string& key, const std::optional<ir::Template>& t) {
    if (t) line(indent, key, t->source);
  }

  // `priority: 80` stays a plain number; words and anything odd go through yaml_scalar.
  void priority(const std::string& text) {
    bool digits = !text.empty() && text.size() <= 3 &&
                  std::all_of(text.begin(), text.end(),
                              [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
    if (digits && (text == "0" || text.front() != '0')) {
      lead(0, "priority");
      raw(0, "priority: " + text, "priority");
    } else {
      line(0, "priority", text);
    }
  }

  void trigger(const ir::Trigger& trigger) {
    if (trigger.event.empty() && !trigger.when && !trigger.key && !trigger.scheduled()) return;
    lead(0, "trigger");
    raw(0, "trigger:");
    if (trigger.scheduled()) {
      schedule(trigger);
      return;
    }
    lead(2, "trigger.event");
    line(2, "event", trigger.event.value, "trigger");
    expression(2, "when", trigger.when, "trigger.when");
    expression(2, "key", trigger.key, "trigger.key");
  }

  // The schedule stands where the event would: its comments are the trigger's.
  void schedule(const ir::Trigger& trigger) {
    // Always quoted: a date and time, never a YAML timestamp.
    lead(2, "trigger.schedule");
    raw(2, "schedule: " + double_quoted(trigger.schedule->value), "trigger");
    if (trigger.every) line(2, "every", trigger.every->value, "trigger.every");
    if (trigger.in_user_time_zone) {
      lead(2, "trigger.in_user_time_zone");
      raw(2, "in_user_time_zone: true", "trigger.in_user_time_zone");
    }
    expression(2, "audience", trigger.audience, "trigger.audience");
  }

  void node(const ir::Node& node) {
    comments(node.comments, 2);
    notes_ = &node.field_comments;
    above(&node.leading_comments);
    raw(2, yaml_scalar(node.id) + ":", "");
    lead(4, "type");
    out_ << "    type: " << ir::node_kind_name(node.kind()) << "\n";
    if (!node.description.empty()) line(4, "description", node.description);
    std::visit([&](const auto& body) { fields(body); }, node.body);
    unprinted(4, "");
  }

  void fields(const ir::SegmentNode& n) {
    expression(4, "match", n.match, "match");
    target(4, "yes", n.yes);
    target(4, "no", n.no);
  }
  void fields(const ir::WaitNode& n) {
    if (n.wait_for) line(4, "for", duration_text(*n.wait_for));
    if (n.until_time) line(4, "until_time", n.until_time->source);
    if (!n.on_days.empty()) {
      lead(4, "on_days");
      raw(4, "on_days: " + flow_list(n.on_days), "on_days");
    }
    if (n.until_event) {
      lead(4, "until_event");
      if (!n.until_event->where) {
        line(4, "until_event", n.until_event->event.value);
      } else {
        raw(4, "until_event:", "until_event");
        raw(6, "event: " + yaml_scalar(n.until_event->event.value));
        raw(6, "where: " + yaml_scalar(n.until_event->where->source));
      }
    }
    target(4, "on_event", n.on_event);
    target(4, "next", n.next);
  }
  void fields(const ir::CouponNode& n) {
    if (n.pool) line(4, "pool", n.pool->value);
    if (n.generate) {
      lead(4, "generate");
      raw(4, "generate:", "generate");
      raw(6, "prefix: " + yaml_scalar(n.generate->prefix));
      raw(6, "length: " + std::to_string(n.generate->length));
    }
    target(4, "next", n.next);
    target(4, "on_exhausted", n.on_exhausted);
  }
  void fields(const ir::SmsNode& n) {
    text(4, "text", n.text);
    target(4, "next", n.next);
  }
  void fields(const ir::EmailNode& n) {
    text(4, "subject", n.subject);
    text(4, "body", n.body);
    target(4, "next", n.next);
  }
  void fields(const ir::WebhookNode& n) {
    text(4, "url", n.url);
    text(4, "body", n.body);
    target(4, "next", n.next);
  }
  // One line per variant, as in docs/flows.md#ab, so its end-of-line comment has one place.
  void fields(const ir::AbNode& n) {
    lead(4, "variants");
    out_ << "    " << (n.variants.empty() ? "variants: {}" : "variants:") << "\n";
    for (const ir::Variant& variant : n.variants) {
      comments(variant.comments, 6);
      std::string entry = "weight: " + number_text(variant.weight);
      if (!variant.next.empty()) entry += ", next: " + flow_scalar(variant.next.value);
      out_ << "      " << yaml_scalar(variant.name.value) << ": { " << entry << " }"
           << trailing_comment(variant.trailing_comment) << "\n";
    }
  }
  void fields(const ir::ExitNode&) {}

  // A generic kind's fields in its table row's order, each by its shape.
  void fields(const ir::GenericNode& n) {
    for (const ir::FieldSchema& field : ir::schema_for(static_cast<ir::NodeKind>(n.kind)).fields) {
      if (const ir::GenericField* set = n.find(field.name)) {
        std::visit([&](const auto& value) { generic(field.name, value); }, set->value);
      }
    }
  }
  void generic(const std::string& key, const ir::Name& name) { target(4, key, name); }
  void generic(const std::string& key, const ir::Expression& e) {
    lead(4, key);
    raw(4, key + ": " + expression_scalar(e.source), key);
  }
  void generic(const std::string& key, const ir::Template& t) { line(4, key, t.source); }
  void generic(const std::string& key, const ir::Duration& d) { line(4, key, duration_text(d)); }
  void generic(const std::string& key, const std::vector<ir::Branch>& branches) {
    lead(4, key);
    raw(4, key + (branches.empty() ? ": []" : ":"), key);
    for (const ir::Branch& branch : branches) {
      std::string item = "- { when: " + flow_scalar(branch.when ? branch.when->source : "");
      if (!branch.next.empty()) item += ", next: " + flow_scalar(branch.next.value);
      raw(6, item + " }");
    }
  }
  void generic(const std::string& key, const std::vector<ir::NamedExpression>& entries) {
    lead(4, key);
    raw(4, key + (entries.empty() ? ": {}" : ":"), key);
    for (const ir::NamedExpression& entry : entries) {
      raw(6, yaml_scalar(entry.name.value) + ": " +
                 expression_scalar(entry.value ? entry.value->source : ""));
    }
  }
  // A number stays plain (`orders: 1`); any other expression is a string.
  static std::string expression_scalar(const std::string& source) {
    static const std::regex kPlainNumber(R"(^-?[0-9]+(\.[0-9]+)?$)");
    return std::regex_match(source, kPlainNumber) ? source : yaml_scalar(source);
  }
};

}  // namespace

std::string yaml_scalar(const std::string& text) {
  return plain_ok(text, false) ? text : quoted(text);
}

std::string format_yaml(const ir::Flow& flow) { return YamlPrinter().print(flow); }

}  // namespace trellis::dsl

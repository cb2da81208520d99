#include "dsl/format_dsl.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "dsl/format_util.h"
#include "dsl/ir/node_table.h"
#include "dsl/ir/quoted.h"

namespace trellis::dsl {

namespace {

bool is_identifier(const std::string& text) {
  if (text.empty()) return false;
  if (!std::isalpha(static_cast<unsigned char>(text.front())) && text.front() != '_') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// Words the expression language reserves; as names they need quotes.
bool is_expression_keyword(const std::string& text) {
  static const char* const kWords[] = {"and", "or", "not", "in", "true", "false", "null", "now"};
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* word) { return text == word; });
}

// Field keywords of the DSL. A variant line starts with its name, so a variant
// named like a keyword is quoted; elsewhere keywords are fine as names.
bool is_dsl_keyword(const std::string& text) {
  static const char* const kWords[] = {"flow",
                                       "description",
                                       "trigger",
                                       "when",
                                       "key",
                                       "re_entry",
                                       "never",
                                       "always",
                                       "after",
                                       "exit_on",
                                       "goal",
                                       "start",
                                       "match",
                                       "yes",
                                       "no",
                                       "next",
                                       "on_event",
                                       "on_exhausted",
                                       "for",
                                       "until_event",
                                       "where",
                                       "pool",
                                       "generate",
                                       "prefix",
                                       "length",
                                       "text",
                                       "subject",
                                       "body",
                                       "url",
                                       "weight",
                                       "category",
                                       "priority",
                                       "on_cap",
                                       "until_time",
                                       "on_days",
                                       "within",
                                       "value",
                                       "schedule",
                                       "every",
                                       "audience",
                                       "in_user_time_zone"};
  return std::any_of(std::begin(kWords), std::end(kWords),
                     [&](const char* word) { return text == word; });
}

// `72h` and `PT72H` read back as durations without quotes; anything else is quoted.
std::string dsl_duration(const ir::Duration& duration) {
  std::string text = duration_text(duration);
  bool short_form = text.size() >= 2 &&
                    std::string("smhd").find(text.back()) != std::string::npos &&
                    std::all_of(text.begin(), text.end() - 1,
                                [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
  return short_form || is_identifier(text) ? text : dsl_string(text);
}

// A priority of digits only reads back as a number; a word as a name.
std::string dsl_priority(const std::string& text) {
  bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
  return digits ? text : dsl_name(text);
}

std::string name_list(const std::vector<ir::Name>& names) {
  std::string list;
  for (const ir::Name& name : names) list += (list.empty() ? "" : ", ") + dsl_name(name.value);
  return list;
}

class DslPrinter : private CommentedPrinter {
 public:
  std::string print(const ir::Flow& flow) {
    header(flow);
    for (const ir::Node& node : flow.nodes) {
      out_ << "\n";
      this->node(node);
    }
    if (!flow.closing_comments.empty()) out_ << "\n";
    comments(flow.closing_comments, 0);
    return out_.str();
  }

 private:
  // `note` names the field whose end-of-line comment (in notes_) ends the line.
  // Also prints the comments above `note`'s line.
  void raw(int indent, const std::string& text, const std::string& note) {
    lead(indent, note);
    out_ << std::string(indent, ' ') << text << trailing_comment(*notes_, note) << "\n";
  }
  void arrow(const std::string& field, const ir::Target& target) {
    if (!target.empty()) raw(2, field + " -> " + dsl_name(target.value), field);
  }
  void expression(int indent, const std::string& field, const std::optional<ir::Expression>& e,
                  const std::string& note) {
    if (e) raw(indent, field + " " + e->source, note);
  }
  void text(const std::string& field, const std::optional<ir::Template>& t) {
    if (t) raw(2, field + " " + dsl_string(t->source), field);
  }
  void description(const std::string& text) {
    if (!text.empty()) raw(2, "description " + dsl_string(text), "description");
  }

  // `trigger schedule "..."`, then one line per setting, as YAML has them.
  void schedule(const ir::Trigger& trigger, const ir::LeadingComments& above_fields) {
    lead(2, "trigger");
    const std::string at = "schedule " + dsl_string(trigger.schedule->value);
    auto above_at = above_fields.find("trigger.schedule");
    if (above_at == above_fields.end() || above_at->second.empty()) {
      raw(2, "trigger " + at, "trigger");
    } else {
      // YAML's comments above `schedule:` inside `trigger:` stand before it, as
      // those above `event:` do: above the line they would belong to `trigger`.
      raw(2, "trigger", "");
      lead(4, "trigger.schedule");
      raw(4, at, "trigger");
    }
    if (trigger.every) {
      lead(4, "trigger.every");
      raw(4, "every " + dsl_name(trigger.every->value), "trigger.every");
    }
    if (trigger.in_user_time_zone) {
      lead(4, "trigger.in_user_time_zone");
      raw(4, "in_user_time_zone", "trigger.in_user_time_zone");
    }
    expression(4, "audience", trigger.audience, "trigger.audience");
  }

  void header(const ir::Flow& flow) {
    comments(flow.comments, 0);
    notes_ = &flow.field_comments;
    above(&flow.leading_comments);
    raw(0, "flow " + dsl_name(flow.name.value) + " {", "flow");
    description(flow.description);
    const ir::Trigger& trigger = flow.trigger;
    if (trigger.scheduled()) {
      schedule(trigger, flow.leading_comments);
    } else if (!trigger.event.empty() || trigger.when || trigger.key) {
      lead(2, "trigger");
      auto above_event = flow.leading_comments.find("trigger.event");
      if (above_event == flow.leading_comments.end()) {
        raw(2, "trigger " + dsl_name(trigger.event.value), "trigger");
      } else {
        // YAML's comments above `event:` inside `trigger:` stand before the event.
        raw(2, "trigger", "");
        lead(4, "trigger.event");
        raw(4, dsl_name(trigger.event.value), "trigger");
      }
      expression(4, "when", trigger.when, "trigger.when");
      expression(4, "key", trigger.key, "trigger.key");
    }
    std::string re_entry = re_entry_text(flow.re_entry);
    if (flow.re_entry.policy == ir::ReEntryPolicy::kAfter && flow.re_entry.after) {
      re_entry = "after " + dsl_duration(*flow.re_entry.after);
    }
    raw(2, "re_entry " + re_entry, "re_entry");
    if (!flow.exit_on.empty()) raw(2, "exit_on " + name_list(flow.exit_on), "exit_on");
    if (flow.goal) {
      std::string goal = "goal " + dsl_name(flow.goal->event.value);
      if (flow.goal->where) goal += " where " + flow.goal->where->source;
      if (flow.goal->within) goal += " within " + dsl_duration(*flow.goal->within);
      if (flow.goal->value) goal += " value " + flow.goal->value->source;
      raw(2, goal, "goal");
    }
    if (flow.category) raw(2, "category " + dsl_name(flow.category->value), "category");
    if (flow.priority) raw(2, "priority " + dsl_priority(flow.priority->value), "priority");
    if (flow.on_cap) raw(2, "on_cap " + dsl_name(flow.on_cap->value), "on_cap");
    arrow("start", flow.start);
    // The block's end stands where YAML says `nodes:`.
    unprinted(2, "nodes");
    raw(0, "}", "nodes");
  }

  void node(const ir::Node& node) {
    comments(node.comments, 0);
    notes_ = &node.field_comments;
    above(&node.leading_comments);
    std::string head = dsl_name(node.id) + ": " + std::string(ir::node_kind_name(node.kind()));
    if (node.leading_comments.count("type")) {
      // YAML's comments above `type:` stand between the id and the type.
      out_ << dsl_name(node.id) << ":\n";
      lead(2, "type");
      head = "  " + std::string(ir::node_kind_name(node.kind()));
    }
    bool empty_body = node.description.empty() && node.kind() == ir::NodeKind::kExit;
    if (empty_body && node.leading_comments.empty()) {
      raw(0, head, "");
      return;
    }
    raw(0, head + " {", "");
    description(node.description);
    std::visit([&](const auto& body) { fields(body); }, node.body);
    unprinted(2, "");
    out_ << "}\n";
  }

  void fields(const ir::SegmentNode& n) {
    expression(2, "match", n.match, "match");
    arrow("yes", n.yes);
    arrow("no", n.no);
  }
  void fields(const ir::WaitNode& n) {
    if (n.wait_for) raw(2, "for " + dsl_duration(*n.wait_for), "for");
    if (n.until_time) raw(2, "until_time " + dsl_string(n.until_time->source), "until_time");
    if (!n.on_days.empty()) raw(2, "on_days " + name_list(n.on_days), "on_days");
    if (n.until_event) {
      std::string until = "until_event " + dsl_name(n.until_event->event.value);
      if (n.until_event->where) until += " where " + n.until_event->where->source;
      raw(2, until, "until_event");
    }
    arrow("on_event", n.on_event);
    arrow("next", n.next);
  }
  void fields(const ir::CouponNode& n) {
    if (n.pool) raw(2, "pool " + dsl_name(n.pool->value), "pool");
    if (n.generate) {
      raw(2,
          "generate prefix " + dsl_string(n.generate->prefix) + " length " +
              std::to_string(n.generate->length),
          "generate");
    }
    arrow("next", n.next);
    arrow("on_exhausted", n.on_exhausted);
  }
  void fields(const ir::SmsNode& n) {
    text("text", n.text);
    arrow("next", n.next);
  }
  void fields(const ir::EmailNode& n) {
    text("subject", n.subject);
    text("body", n.body);
    arrow("next", n.next);
  }
  void fields(const ir::WebhookNode& n) {
    text("url", n.url);
    text("body", n.body);
    arrow("next", n.next);
  }
  void fields(const ir::AbNode& n) {
    lead(2, "variants");
    for (const ir::Variant& variant : n.variants) {
      comments(variant.comments, 2);
      const std::string& name = variant.name.value;
      std::string line = (is_dsl_keyword(name) ? dsl_string(name) : dsl_name(name)) + " weight " +
                         number_text(variant.weight);
      if (!variant.next.empty()) line += " -> " + dsl_name(variant.next.value);
      out_ << "  " << line << trailing_comment(variant.trailing_comment) << "\n";
    }
  }
  void fields(const ir::ExitNode&) {}

  // A generic kind's fields in its table row's order, each by its shape:
  // `name -> node`, `name <expression>`, `name "text"`, `name 72h`,
  // `name { trait: <expression>, ... }`, and a branch per line `when <expression> -> node`.
  void fields(const ir::GenericNode& n) {
    for (const ir::FieldSchema& field : ir::schema_for(static_cast<ir::NodeKind>(n.kind)).fields) {
      const ir::GenericField* set = n.find(field.name);
      if (!set) continue;
      if (field.widget == ir::Widget::kTarget) {
        arrow(field.name, std::get<ir::Name>(set->value));
        continue;
      }
      std::visit([&](const auto& value) { generic(field.name, value); }, set->value);
    }
  }
  void generic(const std::string& key, const ir::Name& name) {
    if (!name.empty()) raw(2, key + " " + dsl_name(name.value), key);
  }
  void generic(const std::string& key, const ir::Expression& e) {
    raw(2, key + " " + e.source, key);
  }
  void generic(const std::string& key, const ir::Template& t) {
    raw(2, key + " " + dsl_string(t.source), key);
  }
  void generic(const std::string& key, const ir::Duration& d) {
    raw(2, key + " " + dsl_duration(d), key);
  }
  void generic(const std::string& key, const std::vector<ir::Branch>& branches) {
    bool first = true;
    for (const ir::Branch& branch : branches) {
      std::string line = "when " + (branch.when ? branch.when->source : std::string("false"));
      if (!branch.next.empty()) line += " -> " + dsl_name(branch.next.value);
      // The field's comments (above, end of line) go with its first line.
      if (first)
        raw(2, line, key);
      else
        out_ << "  " << line << "\n";
      first = false;
    }
  }
  void generic(const std::string& key, const std::vector<ir::NamedExpression>& entries) {
    std::string line;
    for (const ir::NamedExpression& entry : entries) {
      line += (line.empty() ? "" : ", ") + dsl_name(entry.name.value) + ": " +
              (entry.value ? entry.value->source : std::string("null"));
    }
    raw(2, key + " { " + line + (line.empty() ? "}" : " }"), key);
  }
};

}  // namespace

std::string dsl_string(const std::string& text) {
  // Templates often quote: `'{{user.name | default: "you"}}'` reads better than escapes.
  const char quote =
      text.find('"') != std::string::npos && text.find('\'') == std::string::npos ? '\'' : '"';
  std::string out;
  ir::append_quoted(out, text, ir::QuoteStyle::kExpression, quote);
  return out;
}

std::string dsl_name(const std::string& name) {
  return is_identifier(name) && !is_expression_keyword(name) ? name : dsl_string(name);
}

std::string format_dsl(const ir::Flow& flow) { return DslPrinter().print(flow); }

}  // namespace trellis::dsl

#include "dsl/ir/compare.h"

#include <sstream>

#include "dsl/ir/node_table.h"

namespace trellis::ir {

namespace {

// Each compare_* returns the first difference below `where`, or "" when equal.
std::string quote(const std::string& text) { return "'" + text + "'"; }

std::string differ(const std::string& where, const std::string& a, const std::string& b) {
  if (a == b) return {};
  return where + ": " + quote(a) + " vs " + quote(b);
}

std::string literal_text(const Literal& literal) {
  std::ostringstream out;
  if (std::holds_alternative<Null>(literal.value)) out << "null";
  if (auto* b = std::get_if<bool>(&literal.value)) out << (*b ? "true" : "false");
  if (auto* d = std::get_if<double>(&literal.value)) out << *d;
  if (auto* s = std::get_if<std::string>(&literal.value)) out << '"' << *s << '"';
  if (literal.is_duration) out << " (duration)";
  return out.str();
}

std::string compare_expr(const std::string& where, const Expr& a, const Expr& b) {
  if (a.op != b.op) {
    return where + ": operator " + std::to_string(static_cast<int>(a.op)) + " vs " +
           std::to_string(static_cast<int>(b.op));
  }
  std::string diff;
  if (a.op == ExprOp::kLiteral)
    diff = differ(where, literal_text(a.literal), literal_text(b.literal));
  if (diff.empty() && a.op == ExprOp::kPath) diff = differ(where, a.path.text(), b.path.text());
  if (diff.empty()) diff = differ(where + " function", a.function, b.function);
  if (!diff.empty()) return diff;
  if (a.operands.size() != b.operands.size()) return where + ": operand count differs";
  for (size_t i = 0; i < a.operands.size(); ++i) {
    diff = compare_expr(where + "." + std::to_string(i), a.operands[i], b.operands[i]);
    if (!diff.empty()) return diff;
  }
  return {};
}

std::string compare_expression(const std::string& where, const std::optional<Expression>& a,
                               const std::optional<Expression>& b) {
  if (a.has_value() != b.has_value()) return where + ": present in only one flow";
  if (!a) return {};
  std::string diff = differ(where + ": source", a->source, b->source);
  if (!diff.empty()) return diff;
  if (a->tree.has_value() != b->tree.has_value()) return where + ": parsed in only one flow";
  return a->tree ? compare_expr(where + ": tree", *a->tree, *b->tree) : std::string();
}

std::string compare_template(const std::string& where, const std::optional<Template>& a,
                             const std::optional<Template>& b) {
  if (a.has_value() != b.has_value()) return where + ": present in only one flow";
  if (!a) return {};
  std::string diff = differ(where + ": source", a->source, b->source);
  if (!diff.empty()) return diff;
  if (a->parts.size() != b->parts.size()) return where + ": part count differs";
  for (size_t i = 0; i < a->parts.size(); ++i) {
    const TemplatePart& pa = a->parts[i];
    const TemplatePart& pb = b->parts[i];
    std::string part = where + " part " + std::to_string(i);
    diff = differ(part + " text", pa.text, pb.text);
    if (diff.empty() && pa.path.has_value() != pb.path.has_value()) diff = part + ": path differs";
    if (diff.empty() && pa.path) diff = differ(part + " path", pa.path->text(), pb.path->text());
    if (diff.empty())
      diff =
          differ(part + " default", pa.fallback.value_or("<none>"), pb.fallback.value_or("<none>"));
    if (!diff.empty()) return diff;
  }
  return {};
}

std::string compare_duration(const std::string& where, const std::optional<Duration>& a,
                             const std::optional<Duration>& b) {
  if (a.has_value() != b.has_value()) return where + ": present in only one flow";
  if (!a) return {};
  std::string diff = differ(where, a->source, b->source);
  if (diff.empty())
    diff = differ(where + " seconds", std::to_string(a->seconds), std::to_string(b->seconds));
  return diff;
}

std::string compare_name(const std::string& where, const std::optional<Name>& a,
                         const std::optional<Name>& b) {
  if (a.has_value() != b.has_value()) return where + ": present in only one flow";
  return a ? differ(where, a->value, b->value) : std::string();
}

std::string compare_time(const std::string& where, const std::optional<LocalTimeOfDay>& a,
                         const std::optional<LocalTimeOfDay>& b) {
  if (a.has_value() != b.has_value()) return where + ": present in only one flow";
  if (!a) return {};
  std::string diff = differ(where, a->source, b->source);
  if (diff.empty())
    diff = differ(where + " minute", std::to_string(a->minute_of_day),
                  std::to_string(b->minute_of_day));
  return diff;
}

std::string join_names(const std::vector<Name>& names) {
  std::string out;
  for (const Name& name : names) out += (out.empty() ? "" : ", ") + name.value;
  return out;
}

std::string compare_comments(const std::string& where, const Comments& a, const Comments& b) {
  if (a == b) return {};
  auto join = [](const Comments& lines) {
    std::string out;
    for (const std::string& line : lines) out += (out.empty() ? "" : "|") + line;
    return out;
  };
  return differ(where + " comments", join(a), join(b));
}

std::string compare_field_comments(const std::string& where, const FieldComments& a,
                                   const FieldComments& b) {
  if (a == b) return {};
  auto join = [](const FieldComments& comments) {
    std::string out;
    for (const auto& [field, text] : comments) out += (out.empty() ? "" : "|") + field + "=" + text;
    return out;
  };
  return differ(where + " field comments", join(a), join(b));
}

std::string compare_leading_comments(const std::string& where, const LeadingComments& a,
                                     const LeadingComments& b) {
  if (a == b) return {};
  auto join = [](const LeadingComments& comments) {
    std::string out;
    for (const auto& [field, lines] : comments) {
      for (const std::string& line : lines) out += (out.empty() ? "" : "|") + field + "=" + line;
    }
    return out;
  };
  return differ(where + " comments above fields", join(a), join(b));
}

// The first non-empty difference of a list of lazily computed comparisons.
template <typename... Fs>
std::string first_of(Fs&&... checks) {
  std::string diff;
  ((diff.empty() ? (void)(diff = checks()) : (void)0), ...);
  return diff;
}

// A generic kind's field values, by shape.
struct CompareValue {
  const std::string& where;
  std::string operator()(const Name& a, const Name& b) const {
    return differ(where, a.value, b.value);
  }
  std::string operator()(const Expression& a, const Expression& b) const {
    return compare_expression(where, a, b);
  }
  std::string operator()(const Template& a, const Template& b) const {
    return compare_template(where, a, b);
  }
  std::string operator()(const Duration& a, const Duration& b) const {
    return compare_duration(where, a, b);
  }
  std::string operator()(const std::vector<Branch>& a, const std::vector<Branch>& b) const {
    if (a.size() != b.size()) {
      return where + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
             " branches";
    }
    for (size_t i = 0; i < a.size(); ++i) {
      std::string at = where + "." + std::to_string(i);
      std::string diff =
          first_of([&] { return compare_expression(at + ".when", a[i].when, b[i].when); },
                   [&] { return differ(at + ".next", a[i].next.value, b[i].next.value); });
      if (!diff.empty()) return diff;
    }
    return {};
  }
  std::string operator()(const std::vector<NamedExpression>& a,
                         const std::vector<NamedExpression>& b) const {
    if (a.size() != b.size()) {
      return where + ": " + std::to_string(a.size()) + " vs " + std::to_string(b.size()) +
             " entries";
    }
    for (size_t i = 0; i < a.size(); ++i) {
      std::string diff = first_of(
          [&] { return differ(where + " name", a[i].name.value, b[i].name.value); },
          [&] {
            return compare_expression(where + "." + a[i].name.value, a[i].value, b[i].value);
          });
      if (!diff.empty()) return diff;
    }
    return {};
  }
  template <typename A, typename B>
  std::string operator()(const A&, const B&) const {
    return where + ": values of different shapes";
  }
};

std::string compare_generic(const std::string& w, const GenericNode& a, const GenericNode& b) {
  for (const FieldSchema& field : schema_for(static_cast<NodeKind>(a.kind)).fields) {
    const GenericField* fa = a.find(field.name);
    const GenericField* fb = b.find(field.name);
    if (!fa && !fb) continue;
    if (!fa || !fb) return w + field.name + ": present in only one flow";
    std::string where = w + field.name;
    std::string diff = std::visit(CompareValue{where}, fa->value, fb->value);
    if (!diff.empty()) return diff;
  }
  return {};
}

std::string compare_body(const std::string& w, const Node& na, const Node& nb) {
  if (auto* a = na.as<GenericNode>()) return compare_generic(w, *a, *nb.as<GenericNode>());
  if (auto* a = na.as<SegmentNode>()) {
    auto* b = nb.as<SegmentNode>();
    return first_of([&] { return compare_expression(w + "match", a->match, b->match); },
                    [&] { return differ(w + "yes", a->yes.value, b->yes.value); },
                    [&] { return differ(w + "no", a->no.value, b->no.value); });
  }
  if (auto* a = na.as<WaitNode>()) {
    auto* b = nb.as<WaitNode>();
    return first_of(
        [&] { return compare_duration(w + "for", a->wait_for, b->wait_for); },
        [&] { return compare_time(w + "until_time", a->until_time, b->until_time); },
        [&] { return differ(w + "on_days", join_names(a->on_days), join_names(b->on_days)); },
        [&]() -> std::string {
          if (a->until_event.has_value() != b->until_event.has_value())
            return w + "until_event: present in only one flow";
          if (!a->until_event) return {};
          return first_of(
              [&] {
                return differ(w + "until_event", a->until_event->event.value,
                              b->until_event->event.value);
              },
              [&] {
                return compare_expression(w + "where", a->until_event->where,
                                          b->until_event->where);
              });
        },
        [&] { return differ(w + "on_event", a->on_event.value, b->on_event.value); },
        [&] { return differ(w + "next", a->next.value, b->next.value); });
  }
  if (auto* a = na.as<CouponNode>()) {
    auto* b = nb.as<CouponNode>();
    return first_of(
        [&] { return compare_name(w + "pool", a->pool, b->pool); },
        [&]() -> std::string {
          if (a->generate.has_value() != b->generate.has_value())
            return w + "generate: present in only one flow";
          if (!a->generate) return {};
          return first_of(
              [&] {
                return differ(w + "generate prefix", a->generate->prefix, b->generate->prefix);
              },
              [&] {
                return differ(w + "generate length", std::to_string(a->generate->length),
                              std::to_string(b->generate->length));
              });
        },
        [&] { return differ(w + "next", a->next.value, b->next.value); },
        [&] { return differ(w + "on_exhausted", a->on_exhausted.value, b->on_exhausted.value); });
  }
  if (auto* a = na.as<SmsNode>()) {
    auto* b = nb.as<SmsNode>();
    return first_of([&] { return compare_template(w + "text", a->text, b->text); },
                    [&] { return differ(w + "next", a->next.value, b->next.value); });
  }
  if (auto* a = na.as<EmailNode>()) {
    auto* b = nb.as<EmailNode>();
    return first_of([&] { return compare_template(w + "subject", a->subject, b->subject); },
                    [&] { return compare_template(w + "body", a->body, b->body); },
                    [&] { return differ(w + "next", a->next.value, b->next.value); });
  }
  if (auto* a = na.as<WebhookNode>()) {
    auto* b = nb.as<WebhookNode>();
    return first_of([&] { return compare_template(w + "url", a->url, b->url); },
                    [&] { return compare_template(w + "body", a->body, b->body); },
                    [&] { return differ(w + "next", a->next.value, b->next.value); });
  }
  if (auto* a = na.as<AbNode>()) {
    auto* b = nb.as<AbNode>();
    if (a->variants.size() != b->variants.size()) {
      return w + "variants: " + std::to_string(a->variants.size()) + " vs " +
             std::to_string(b->variants.size());
    }
    for (size_t i = 0; i < a->variants.size(); ++i) {
      const Variant& va = a->variants[i];
      const Variant& vb = b->variants[i];
      std::string diff = first_of(
          [&] { return differ(w + "variant name", va.name.value, vb.name.value); },
          [&] {
            return differ(w + "variant '" + va.name.value + "' weight", std::to_string(va.weight),
                          std::to_string(vb.weight));
          },
          [&] {
            return differ(w + "variant '" + va.name.value + "' next", va.next.value, vb.next.value);
          },
          [&] {
            return compare_comments(w + "variant '" + va.name.value + "'", va.comments,
                                    vb.comments);
          },
          [&] {
            return differ(w + "variant '" + va.name.value + "' trailing comment",
                          va.trailing_comment, vb.trailing_comment);
          });
      if (!diff.empty()) return diff;
    }
  }
  return {};
}

std::string compare_node(const Node& a, const Node& b) {
  std::string w = "node '" + a.id + "': ";
  return first_of(
      [&] { return differ("node id", a.id, b.id); },
      [&] {
        return differ(w + "type", std::string(node_kind_name(a.kind())),
                      std::string(node_kind_name(b.kind())));
      },
      [&] { return differ(w + "description", a.description, b.description); },
      [&] { return compare_comments(w.substr(0, w.size() - 2), a.comments, b.comments); },
      [&] {
        return compare_field_comments(w.substr(0, w.size() - 2), a.field_comments,
                                      b.field_comments);
      },
      [&] {
        return compare_leading_comments(w.substr(0, w.size() - 2), a.leading_comments,
                                        b.leading_comments);
      },
      [&] { return compare_body(w, a, b); });
}

std::string compare_goal(const std::optional<Goal>& a, const std::optional<Goal>& b) {
  if (a.has_value() != b.has_value())
    return differ("goal", a ? "set" : "unset", b ? "set" : "unset");
  if (!a) return "";
  return first_of([&] { return differ("goal event", a->event.value, b->event.value); },
                  [&] { return compare_expression("goal where", a->where, b->where); },
                  [&] { return compare_duration("goal within", a->within, b->within); },
                  [&] { return compare_expression("goal value", a->value, b->value); });
}

std::string compare_header(const Flow& a, const Flow& b) {
  return first_of(
      [&] { return differ("flow", a.name.value, b.name.value); },
      [&] { return differ("description", a.description, b.description); },
      [&] { return compare_comments("flow", a.comments, b.comments); },
      [&] { return compare_field_comments("flow", a.field_comments, b.field_comments); },
      [&] { return compare_leading_comments("flow", a.leading_comments, b.leading_comments); },
      [&] { return compare_comments("flow closing", a.closing_comments, b.closing_comments); },
      [&] { return differ("trigger event", a.trigger.event.value, b.trigger.event.value); },
      [&] { return compare_expression("trigger when", a.trigger.when, b.trigger.when); },
      [&] { return compare_expression("trigger key", a.trigger.key, b.trigger.key); },
      [&] { return compare_name("trigger schedule", a.trigger.schedule, b.trigger.schedule); },
      [&] {
        return compare_expression("trigger audience", a.trigger.audience, b.trigger.audience);
      },
      [&] { return compare_name("trigger every", a.trigger.every, b.trigger.every); },
      [&] {
        return differ("trigger in_user_time_zone", a.trigger.in_user_time_zone ? "true" : "false",
                      b.trigger.in_user_time_zone ? "true" : "false");
      },
      [&] {
        return differ("re_entry", std::to_string(static_cast<int>(a.re_entry.policy)),
                      std::to_string(static_cast<int>(b.re_entry.policy)));
      },
      [&] { return compare_duration("re_entry after", a.re_entry.after, b.re_entry.after); },
      [&] { return differ("exit_on", join_names(a.exit_on), join_names(b.exit_on)); },
      [&] { return compare_goal(a.goal, b.goal); },
      [&] { return compare_name("category", a.category, b.category); },
      [&] { return compare_name("priority", a.priority, b.priority); },
      [&] { return compare_name("on_cap", a.on_cap, b.on_cap); },
      [&] { return differ("start", a.start.value, b.start.value); });
}

}  // namespace

std::string same_flow(const Flow& a, const Flow& b) {
  std::string diff = compare_header(a, b);
  if (!diff.empty()) return diff;
  size_t count = std::min(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < count; ++i) {
    diff = compare_node(a.nodes[i], b.nodes[i]);
    if (!diff.empty()) return diff;
  }
  if (a.nodes.size() != b.nodes.size()) {
    return "node count: " + std::to_string(a.nodes.size()) + " vs " +
           std::to_string(b.nodes.size());
  }
  return {};
}

}  // namespace trellis::ir

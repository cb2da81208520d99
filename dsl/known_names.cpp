#include "dsl/known_names.h"

#include <algorithm>
#include <functional>

#include "dsl/ir/suggest.h"

namespace trellis::dsl {

namespace {

class KnownNamesCheck {
 public:
  KnownNamesCheck(const ir::Flow& flow, const KnownNames& known) : flow_(flow), known_(known) {}

  ir::Diagnostics run() {
    check_event_type(flow_.trigger.event, "", "trigger.event");
    for (const ir::Node& node : flow_.nodes) {
      if (auto* wait = node.as<ir::WaitNode>(); wait && wait->until_event)
        check_event_type(wait->until_event->event, node.id, "until_event");
      if (auto* segment = node.as<ir::SegmentNode>())
        check_expression(segment->match, node.id, "match");
      if (auto* sms = node.as<ir::SmsNode>()) check_template(sms->text, node.id, "text");
      if (auto* email = node.as<ir::EmailNode>()) {
        check_template(email->subject, node.id, "subject");
        check_template(email->body, node.id, "body");
      }
      if (auto* webhook = node.as<ir::WebhookNode>()) {
        check_template(webhook->url, node.id, "url");
        check_template(webhook->body, node.id, "body");
      }
    }
    check_expression(flow_.trigger.when, "", "trigger.when");
    check_expression(flow_.trigger.audience, "", "trigger.audience");
    return std::move(diagnostics_);
  }

 private:
  void warning(const char* code, ir::SourceSpan span, std::string message, const std::string& node,
               const std::string& field) {
    diagnostics_.warning(flow_.file, span, std::move(message), node, field);
    diagnostics_.set_last_code(code);
  }

  static bool contains(const std::vector<std::string>& list, const std::string& name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  }

  // Only a near miss is reported: a type no event had yet may simply be new.
  void check_event_type(const ir::Name& type, const std::string& node, const std::string& field) {
    if (type.empty() || known_.event_types.empty() || contains(known_.event_types, type.value))
      return;
    auto meant = ir::closest_name(type.value, known_.event_types);
    if (!meant) return;
    warning("event_type_unseen", type.span,
            "no '" + type.value + "' event has reached this server, but '" + *meant +
                "' has: did you mean '" + *meant + "'?",
            node, field);
  }

  // A template that names an unknown trait prints nothing for it, so any unknown
  // trait is reported there; in a condition only a near miss is.
  void check_template(const std::optional<ir::Template>& text, const std::string& node,
                      const std::string& field) {
    if (!text) return;
    for (const ir::TemplatePart& part : text->parts)
      if (part.path) check_trait(*part.path, node, field, /*near_miss_only=*/false);
  }

  void check_expression(const std::optional<ir::Expression>& expression, const std::string& node,
                        const std::string& field) {
    if (!expression || !expression->tree) return;
    std::function<void(const ir::Expr&)> visit = [&](const ir::Expr& expr) {
      if (expr.op == ir::ExprOp::kPath)
        check_trait(expr.path, node, field, /*near_miss_only=*/true);
      for (const ir::Expr& operand : expr.operands) visit(operand);
    };
    visit(*expression->tree);
  }

  void check_trait(const ir::Path& path, const std::string& node, const std::string& field,
                   bool near_miss_only) {
    if (path.root != ir::PathRoot::kUser || path.segments.empty() || known_.traits.empty()) return;
    const std::string& trait = path.segments.front();
    std::string where = node + "." + field + "." + trait;
    if (contains(known_.traits, trait) || contains(reported_, where)) return;
    auto meant = ir::closest_name(trait, known_.traits);
    if (!meant && near_miss_only) return;
    reported_.push_back(where);
    std::string message = "no stored profile has the trait '" + trait + "'";
    message += meant ? ": did you mean '" + *meant + "'?" : "; it is empty for every user so far";
    warning("trait_unknown", path.span, message, node, field);
  }

  const ir::Flow& flow_;
  const KnownNames& known_;
  std::vector<std::string> reported_;  // one finding per field and unknown trait
  ir::Diagnostics diagnostics_;
};

}  // namespace

ir::Diagnostics check_known_names(const ir::Flow& flow, const KnownNames& known) {
  return KnownNamesCheck(flow, known).run();
}

}  // namespace trellis::dsl

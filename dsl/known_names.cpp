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
    collect_traits();
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
      if (auto* generic = node.as<ir::GenericNode>()) check_generic(*generic, node.id);
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

  // Every trait a finding may name as meant: stored, declared, and written by this
  // flow's own update_profile nodes (set or increment), which later nodes read.
  void collect_traits() {
    traits_ = known_.traits;
    traits_.insert(traits_.end(), known_.declared_traits.begin(), known_.declared_traits.end());
    if (traits_.empty()) return;  // nothing known: nothing to tell a typo from
    for (const ir::Node& node : flow_.nodes) {
      const auto* generic = node.as<ir::GenericNode>();
      if (generic == nullptr) continue;
      for (const ir::GenericField& field : generic->fields)
        if (auto* entries = std::get_if<std::vector<ir::NamedExpression>>(&field.value))
          for (const ir::NamedExpression& entry : *entries) traits_.push_back(entry.name.value);
    }
  }

  // The conditions and values of generic kinds (a split's branches, update_profile's
  // expressions) and their templates, by the field path the checker uses.
  void check_generic(const ir::GenericNode& generic, const std::string& node) {
    for (const ir::GenericField& field : generic.fields) {
      if (auto* e = std::get_if<ir::Expression>(&field.value))
        check_expression(*e, node, field.name);
      if (auto* t = std::get_if<ir::Template>(&field.value)) check_template(*t, node, field.name);
      if (auto* branches = std::get_if<std::vector<ir::Branch>>(&field.value))
        for (size_t i = 0; i < branches->size(); ++i)
          check_expression((*branches)[i].when, node,
                           field.name + "." + std::to_string(i) + ".when");
      if (auto* entries = std::get_if<std::vector<ir::NamedExpression>>(&field.value))
        for (const ir::NamedExpression& entry : *entries)
          check_expression(entry.value, node, field.name + "." + entry.name.value);
    }
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
            "no '" + type.value + "' event has reached this server, but '" + *meant + "' has" +
                ir::did_you_mean_text(*meant),
            node, field);
  }

  // A template that names an unknown trait prints nothing for it, so any unknown
  // trait is reported there; in a condition only a near miss is.
  void check_template(const std::optional<ir::Template>& text, const std::string& node,
                      const std::string& field) {
    if (text) check_template(*text, node, field);
  }
  void check_template(const ir::Template& text, const std::string& node, const std::string& field) {
    for (const ir::TemplatePart& part : text.parts)
      if (part.path) check_trait(*part.path, node, field, /*near_miss_only=*/false);
  }

  void check_expression(const std::optional<ir::Expression>& expression, const std::string& node,
                        const std::string& field) {
    if (expression) check_expression(*expression, node, field);
  }
  void check_expression(const ir::Expression& expression, const std::string& node,
                        const std::string& field) {
    if (!expression.tree) return;
    std::function<void(const ir::Expr&)> visit = [&](const ir::Expr& expr) {
      if (expr.op == ir::ExprOp::kPath)
        check_trait(expr.path, node, field, /*near_miss_only=*/true);
      for (const ir::Expr& operand : expr.operands) visit(operand);
    };
    visit(*expression.tree);
  }

  void check_trait(const ir::Path& path, const std::string& node, const std::string& field,
                   bool near_miss_only) {
    if (path.root != ir::PathRoot::kUser || path.segments.empty() || traits_.empty()) return;
    const std::string& trait = path.segments.front();
    std::string where = node + "." + field + "." + trait;
    if (contains(traits_, trait) || contains(reported_, where)) return;
    auto meant = ir::closest_name(trait, traits_);
    if (!meant && near_miss_only) return;
    reported_.push_back(where);
    const bool declared = !known_.declared_traits.empty();
    std::string message = declared
                              ? "'" + trait + "' is not a declared trait (traits: in trellis.yaml)"
                              : "no stored profile has the trait '" + trait + "'";
    if (declared && !known_.traits.empty()) message += " and no stored profile has it";
    if (meant) {
      message += ir::did_you_mean_text(*meant);
    } else if (!declared) {
      message += "; it is empty for every user so far";
    } else {
      message += "; declare it there if profiles will have it";
    }
    if (declared) {
      warning("trait_undeclared", path.span, message, node, field);
    } else {
      warning("trait_unknown", path.span, message, node, field);
    }
  }

  const ir::Flow& flow_;
  const KnownNames& known_;
  std::vector<std::string> traits_;    // known_.traits, declared and written by the flow
  std::vector<std::string> reported_;  // one finding per field and unknown trait
  ir::Diagnostics diagnostics_;
};

}  // namespace

ir::Diagnostics check_known_names(const ir::Flow& flow, const KnownNames& known) {
  return KnownNamesCheck(flow, known).run();
}

}  // namespace trellis::dsl

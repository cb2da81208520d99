// update_profile: set or add to the user's profile traits, then follow `next`.
// `set: {tier: "'gold'"}` writes each expression's value; `increment: {orders: 1}`
// adds a number to the trait (a missing or non-numeric trait counts as 0). The
// runtime writes the traits in the step's transaction (Decision::profile_update),
// so later nodes and other flows read them (docs/flows.md#update_profile).
#include "dsl/ir/quoted.h"
#include "nodes/kinds.h"
#include "nodes/registry.h"
#include "nodes/scope.h"

namespace trellis::nodes {

namespace {

const ir::NodeKind kKind = kind_named("update_profile");

class UpdateProfileProcessor final : public NodeProcessor {
 public:
  ir::NodeKind kind() const override { return kKind; }

  // One program per trait, `set` ones first, then `increment` ones.
  bool compile(const ir::Node& node, CompiledNode& out,
               std::vector<std::string>& errors) const override {
    const auto& generic = *node.as<ir::GenericNode>();
    bool ok = true;
    for (const char* field : {"set", "increment"}) {
      for (const ir::NamedExpression& entry : entries(generic, field)) {
        if (!entry.value || !entry.value->tree) {
          errors.push_back(node_error(node, "'" + entry.name.value + "' did not parse"));
          ok = false;
          continue;
        }
        out.programs.push_back(expr::Program::compile(*entry.value->tree));
        out.program_labels.push_back(entry.name.value);
      }
    }
    return ok;
  }

  Decision on_entry(const CompiledFlow&, const CompiledNode& node,
                    const JourneyView& journey) const override {
    const auto& generic = *node.node->as<ir::GenericNode>();
    FlowScope scope(journey);
    std::string update = "{";
    std::string reason;
    size_t i = 0;
    for (const ir::NamedExpression& entry : entries(generic, "set")) {
      expr::ValueView value = node.programs[i++].evaluate(scope);
      add(update, entry.name.value, value);
      add_reason(reason, "set " + entry.name.value + " = ", value);
    }
    for (const ir::NamedExpression& entry : entries(generic, "increment")) {
      expr::ValueView by = node.programs[i++].evaluate(scope);
      expr::ValueView now =
          journey.profile ? journey.profile->get(entry.name.value) : expr::ValueView::null();
      const double before = now.type == expr::Type::kNumber ? now.number : 0;
      const double step = by.type == expr::Type::kNumber ? by.number : 0;
      add(update, entry.name.value, expr::ValueView::of(before + step));
      add_reason(reason, "increment " + entry.name.value + " by ", by);
      reason += " to ";
      expr::append_display(reason, expr::ValueView::of(before + step));
    }
    update += '}';
    Decision d = go_to(target_field(generic, "next"), "next", std::move(reason));
    if (update.size() > 2) d.profile_update = std::move(update);
    return d;
  }

 private:
  static const std::vector<ir::NamedExpression>& entries(const ir::GenericNode& node,
                                                         const char* field) {
    static const std::vector<ir::NamedExpression> kNone;
    const auto* list = node.get<std::vector<ir::NamedExpression>>(field);
    return list ? *list : kNone;
  }

  static void add(std::string& update, const std::string& trait, const expr::ValueView& value) {
    if (update.size() > 1) update += ',';
    ir::append_quoted(update, trait, ir::QuoteStyle::kJson);
    update += ':';
    append_json(update, value);
  }

  static void add_reason(std::string& reason, const std::string& what,
                         const expr::ValueView& value) {
    if (!reason.empty()) reason += "; ";
    reason += what;
    if (value.type == expr::Type::kString) {
      ir::append_quoted(reason, value.string(), ir::QuoteStyle::kJson);
    } else {
      expr::append_display(reason, value);
    }
  }
};

}  // namespace

TRELLIS_NODE_KIND(update_profile, UpdateProfileProcessor);

}  // namespace trellis::nodes

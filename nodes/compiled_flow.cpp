#include "nodes/compiled_flow.h"

#include <algorithm>

#include "nodes/registry.h"

namespace trellis::nodes {

namespace {

// Compiles an optional flow-level expression; a present one without a tree
// (it failed to parse) is an error.
void compile_optional(const std::optional<ir::Expression>& source, std::string_view what,
                      std::optional<expr::Program>& out, std::vector<std::string>& errors) {
  if (!source) return;
  if (!source->tree) {
    errors.push_back(std::string(what) + " did not parse: " + source->source);
    return;
  }
  out = expr::Program::compile(*source->tree);
}

std::string join(const std::vector<std::string>& parts) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) text += "; ";
    text += part;
  }
  return text;
}

}  // namespace

Result<std::unique_ptr<CompiledFlow>> CompiledFlow::compile(ir::Flow flow, int64_t version) {
  std::unique_ptr<CompiledFlow> compiled(new CompiledFlow());
  compiled->flow_ = std::move(flow);
  compiled->version_ = version;
  std::vector<std::string> errors;

  const ir::Flow& ir = compiled->flow_;
  compile_optional(ir.trigger.when, "trigger 'when'", compiled->when_, errors);
  compile_optional(ir.trigger.key, "trigger 'key'", compiled->key_, errors);
  if (ir.goal) {
    compile_optional(ir.goal->where, "goal 'where'", compiled->goal_where_, errors);
    compile_optional(ir.goal->value, "goal 'value'", compiled->goal_value_, errors);
  }
  compile_optional(ir.trigger.audience, "trigger 'audience'", compiled->audience_, errors);

  compiled->nodes_.reserve(ir.nodes.size());
  for (const ir::Node& node : ir.nodes) {
    CompiledNode out;
    out.node = &node;
    if (const NodeProcessor* processor = find_processor(node.kind())) {
      processor->compile(node, out, errors);
    } else {
      errors.push_back("node '" + node.id + "': no processor for kind '" +
                       std::string(ir::node_kind_name(node.kind())) + "'");
    }
    compiled->index_.emplace(node.id, compiled->nodes_.size());
    compiled->nodes_.push_back(std::move(out));
    if (const auto* wait = node.as<ir::WaitNode>(); wait && wait->until_event) {
      const std::string& type = wait->until_event->event.value;
      auto& awaited = compiled->awaited_;
      if (std::find(awaited.begin(), awaited.end(), type) == awaited.end()) {
        awaited.push_back(type);
      }
    }
  }
  if (!errors.empty()) {
    return Error{"flow '" + ir.name.value + "' does not compile: " + join(errors)};
  }
  // Every expression of the flow, the goal's too: a counter read only by the
  // goal's `where` must be counted like one a trigger reads.
  for (const std::optional<expr::Program>* program :
       {&compiled->when_, &compiled->key_, &compiled->audience_, &compiled->goal_where_,
        &compiled->goal_value_}) {
    if (*program) compiled->collect_behaviour(**program);
  }
  for (const CompiledNode& node : compiled->nodes_) {
    if (node.match) compiled->collect_behaviour(*node.match);
    if (node.where) compiled->collect_behaviour(*node.where);
    for (const expr::Program& program : node.programs) compiled->collect_behaviour(program);
  }
  return Result<std::unique_ptr<CompiledFlow>>(std::move(compiled));
}

void CompiledFlow::collect_behaviour(const expr::Program& program) {
  for (const expr::CounterUse& use : program.counters()) counters_.push_back(use);
  for (const std::string& type : program.last_seen_types()) {
    if (std::find(last_seen_types_.begin(), last_seen_types_.end(), type) == last_seen_types_.end())
      last_seen_types_.push_back(type);
  }
}

const CompiledNode* CompiledFlow::find(std::string_view id) const {
  auto it = index_.find(id);
  return it == index_.end() ? nullptr : &nodes_[it->second];
}

}  // namespace trellis::nodes

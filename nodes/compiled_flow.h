// A flow version ready to run: the IR plus every expression and template of
// it compiled once (expr::Program, expr::CompiledTemplate), so that deciding a
// step never parses or allocates for evaluation.
//
// Build one per deployed flow version and keep it for as long as journeys of
// that version exist. Immutable after compile(); safe to share across threads.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/expr/program.h"
#include "dsl/ir/flow.h"
#include "dsl/ir/result.h"

namespace trellis::nodes {

// One node with its compiled parts. Which members are set depends on the kind.
struct CompiledNode {
  const ir::Node* node = nullptr;  // points into the owning CompiledFlow's IR

  std::optional<expr::Program> match;     // segment
  std::vector<std::string> match_labels;  // segment: "user.age" per match->paths()
  std::optional<expr::Program> where;     // wait: until_event's `where`
  // wait: `on_days` as a mask for next_local_time (bit 0 = Sunday; 0 = every day).
  unsigned weekday_mask = 0;
  std::optional<expr::CompiledTemplate> text;     // sms
  std::optional<expr::CompiledTemplate> subject;  // email
  std::optional<expr::CompiledTemplate> body;     // email, webhook
  std::optional<expr::CompiledTemplate> url;      // webhook
  std::vector<double> cumulative_weights;         // ab: running sums, in variant order
  // ab: each variant's reason up to the user id, "variant 'a' (weight 45 of
  // 100) for user ", formatted once instead of per journey.
  std::vector<std::string> variant_reasons;
  // A generic kind's compiled expressions and templates, in the order its
  // processor's compile() put them, each with a label for its reasons.
  std::vector<expr::Program> programs;
  std::vector<std::string> program_labels;
  std::vector<expr::CompiledTemplate> templates;
  // Whether deciding reads the user's profile (`user.*`); the runtime loads
  // the profile only then. A kind that never reads it (ab, exit, a wait
  // without `where` or `until_time`) clears this in compile().
  bool reads_profile = true;

  const std::string& id() const { return node->id; }
  ir::NodeKind kind() const { return node->kind(); }
};

class CompiledFlow {
 public:
  // Takes the IR (normally one the checker passed) and compiles it. Fails with
  // every problem found when an expression or template has no parsed tree or a
  // node kind cannot compile. `version` is the deployed flow version.
  static Result<std::unique_ptr<CompiledFlow>> compile(ir::Flow flow, int64_t version = 1);

  CompiledFlow(const CompiledFlow&) = delete;
  CompiledFlow& operator=(const CompiledFlow&) = delete;

  const ir::Flow& ir() const { return flow_; }
  const std::string& name() const { return flow_.name.value; }
  int64_t version() const { return version_; }

  // Null when no node has that id.
  const CompiledNode* find(std::string_view id) const;
  const CompiledNode* start() const { return find(flow_.start.value); }
  const std::vector<CompiledNode>& nodes() const { return nodes_; }

  // Trigger `when` (filters starting events) and `key` (one journey per value);
  // null when the flow has none. Evaluate over a FlowScope (nodes/scope.h)
  // whose `event` is the incoming event.
  const expr::Program* trigger_when() const { return when_ ? &*when_ : nullptr; }
  const expr::Program* trigger_key() const { return key_ ? &*key_ : nullptr; }
  // A scheduled trigger's audience (docs/flows.md#broadcasts); null: every profile.
  const expr::Program* audience() const { return audience_ ? &*audience_ : nullptr; }

  // The goal's `where` and `value` (docs/results.md#goals); null when not given.
  const expr::Program* goal_where() const { return goal_where_ ? &*goal_where_ : nullptr; }
  const expr::Program* goal_value() const { return goal_value_ ? &*goal_value_ : nullptr; }

  // Event types that wake a node of this flow (until_event of every wait), for
  // routing: an event of another type that is not in exit_on/goal/trigger
  // never concerns a journey of this flow.
  const std::vector<std::string>& awaited_event_types() const { return awaited_; }

  // The count() and last_seen() calls of every expression of the flow: what
  // the runtime keeps per user for it (docs/expressions.md#behaviour).
  const std::vector<expr::CounterUse>& counters() const { return counters_; }
  const std::vector<std::string>& last_seen_types() const { return last_seen_types_; }
  bool reads_behaviour() const { return !counters_.empty() || !last_seen_types_.empty(); }

 private:
  void collect_behaviour(const expr::Program& program);

  CompiledFlow() = default;

  ir::Flow flow_;
  int64_t version_ = 1;
  std::vector<CompiledNode> nodes_;                   // in flow_.nodes order
  std::map<std::string, size_t, std::less<>> index_;  // id -> position in nodes_
  std::optional<expr::Program> when_;
  std::optional<expr::Program> key_;
  std::optional<expr::Program> goal_where_;
  std::optional<expr::Program> goal_value_;
  std::optional<expr::Program> audience_;
  std::vector<std::string> awaited_;
  std::vector<expr::CounterUse> counters_;
  std::vector<std::string> last_seen_types_;
};

}  // namespace trellis::nodes

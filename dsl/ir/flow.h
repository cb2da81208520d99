// The flow IR: the one in-memory model of a campaign flow. The YAML loader and
// the textual DSL produce it; the checker, formatter, graph export, runtime and
// editor (as JSON) consume it and never know which syntax it came from.
//
// Plain structs with public fields. A loader fills in what the file said and
// leaves the rest empty; the checker decides what is missing or wrong, so a
// broken file still yields a Flow the checker can report on in full.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "dsl/ir/expr.h"
#include "dsl/ir/source_span.h"

namespace trellis::ir {

// A name that refers to something (a node, an event type) with its position.
struct Name {
  std::string value;
  SourceSpan span;

  bool empty() const { return value.empty(); }
};

// A reference to a node by id. Empty when the file did not give one.
using Target = Name;

struct Duration {
  int64_t seconds = 0;
  std::string source;  // as written: "72h", "PT72H"
  SourceSpan span;
};

// Comments attached to a flow or node, without the leading `#`, one per line,
// kept so that `fmt` and the editor's save can write them back.
using Comments = std::vector<std::string>;

// End-of-line comments by the field whose line they end ("for" -> "durable
// timer"), without `#`. Keys are the field names the printers write one line
// each for: on a node "" is the node's own line (`id:`, `id: type {`); on the flow
// "flow", "trigger" (the `event:` line), "trigger.when", "trigger.key", ...,
// and "nodes" (YAML `nodes:`, the DSL's closing `}` of the flow block).
using FieldComments = std::map<std::string, std::string>;

// Comment lines above a field's line, by the same field names as FieldComments
// ("trigger.when", "exit_on", "next", ...; "trigger.event" is the YAML
// `event:` line inside `trigger:`). A comment standing inside a value the
// printers write on one line (a block list, `generate:`, `until_event:`) goes
// to that field. With Comments on flows, nodes and variants and the flow's
// closing comments, every comment line of a file has one place in the IR.
using LeadingComments = std::map<std::string, Comments>;

struct SegmentNode {
  std::optional<Expression> match;
  Target yes;
  Target no;
};

struct EventFilter {
  Name event;                       // event type
  std::optional<Expression> where;  // over `event.*` of the awaited event
  SourceSpan span;
};

// A wall-clock time of day in the user's own time zone: `until_time: "10:00"`.
struct LocalTimeOfDay {
  int minute_of_day = 0;  // 0..1439
  std::string source;     // as written: "10:00"
  SourceSpan span;
};

struct WaitNode {
  std::optional<Duration> wait_for;  // `for:`
  // `until_time:` wakes at the next occurrence of this local time (strictly
  // after the journey arrives), in the user's time zone, on one of `on_days`
  // (every day when empty). Exclusive with `for`; the timer follows `next`.
  std::optional<LocalTimeOfDay> until_time;
  std::vector<Name> on_days;  // "mon" .. "sun"
  std::optional<EventFilter> until_event;
  Target on_event;
  Target next;
};

struct CouponGenerate {
  std::string prefix;
  int length = 8;
  SourceSpan span;
};

struct CouponNode {
  std::optional<Name> pool;
  std::optional<CouponGenerate> generate;
  Target next;
  Target on_exhausted;
};

struct SmsNode {
  std::optional<Template> text;
  Target next;
};

struct EmailNode {
  std::optional<Template> subject;
  std::optional<Template> body;
  Target next;
};

struct WebhookNode {
  std::optional<Template> url;
  std::optional<Template> body;
  Target next;
};

struct Variant {
  Name name;
  double weight = 0;
  SourceSpan weight_span;
  Target next;
  Comments comments;
  std::string trailing_comment;  // end of the variant's line
};

struct AbNode {
  std::vector<Variant> variants;  // in file order
};

struct ExitNode {};

// The fields of a kind the IR has no struct of its own for: a "generic" kind,
// whose fields are all in the table of kinds (dsl/ir/node_table.h), so that adding
// it needs its processor file and its table row only (docs/node-kinds.md).
// Each field's value has the shape of its widget.

// `{when: <expr>, next: <node>}`, one item of a list of branches.
struct Branch {
  std::optional<Expression> when;
  Target next;
  SourceSpan span;
};

// `name: <expr>`, one entry of a mapping of names (profile traits) to expressions.
struct NamedExpression {
  Name name;
  std::optional<Expression> value;
};

using FieldValue =
    std::variant<Name,  // a target or a plain string
                 Expression, Template, Duration, std::vector<Branch>, std::vector<NamedExpression>>;

struct GenericField {
  std::string name;  // the table's field name
  SourceSpan span;   // the key
  FieldValue value;
};

struct GenericNode {
  // NodeKind values past the typed kinds' ones are generic kinds: the table's rows
  // after the eight typed ones.
  int kind = 0;
  std::vector<GenericField> fields;  // in file order, each name at most once

  const GenericField* find(std::string_view name) const;
  GenericField* find(std::string_view name);
  // The field's value when it is set and has the shape T, else null.
  template <typename T>
  const T* get(std::string_view name) const {
    const GenericField* f = find(name);
    return f ? std::get_if<T>(&f->value) : nullptr;
  }
  // Sets (or replaces) a field's value, keeping its place.
  void set(std::string name, SourceSpan span, FieldValue value);
};

// The typed kinds, then the generic ones by their place in the table of kinds
// (ir::node_kind_from_name("split")); there is no constant for those.
enum class NodeKind { kSegment, kWait, kCoupon, kSms, kEmail, kWebhook, kAb, kExit };
constexpr int kFirstGenericKind = 8;
inline bool is_generic(NodeKind kind) { return static_cast<int>(kind) >= kFirstGenericKind; }

// The spelling used in files: "segment", "wait", ...
std::string_view node_kind_name(NodeKind kind);
std::optional<NodeKind> node_kind_from_name(std::string_view name);
const std::vector<NodeKind>& all_node_kinds();

// One alternative per typed kind, in NodeKind order, then the generic body for
// every generic kind.
using NodeBody = std::variant<SegmentNode, WaitNode, CouponNode, SmsNode, EmailNode, WebhookNode,
                              AbNode, ExitNode, GenericNode>;

struct Node {
  std::string id;
  SourceSpan span;       // the node's key in the file
  SourceSpan type_span;  // the `type:` value
  std::string description;
  Comments comments;
  NodeBody body;
  FieldComments field_comments;  // last, so `Node{id, ..., body}` still reads
  LeadingComments leading_comments = {};

  NodeKind kind() const {
    if (auto* generic = std::get_if<GenericNode>(&body))
      return static_cast<NodeKind>(generic->kind);
    return static_cast<NodeKind>(body.index());
  }
  template <typename T>
  const T* as() const {
    return std::get_if<T>(&body);
  }
  template <typename T>
  T* as() {
    return std::get_if<T>(&body);
  }
};

// An outgoing transition. `label` is what a user sees on the arrow: "next",
// "yes", "no", "on_event", "on_exhausted", or a variant's name; for a generic
// kind, a target field's name (kField, or kNext for `next`) or a branch's
// condition as written (kBranch).
enum class EdgeKind { kNext, kYes, kNo, kOnEvent, kOnExhausted, kVariant, kField, kBranch };

struct Edge {
  EdgeKind kind;
  std::string label;     // field name, or variant name for kVariant
  const Target* target;  // points into the node; target->empty() when not set
  double weight = 0;     // kVariant only
  size_t index = 0;      // kVariant, kBranch: the position in the list
};

// Every outgoing edge slot of a node in a stable order, set or not, so the
// checker can report missing targets and graph export can draw the set ones.
std::vector<Edge> edges_of(const Node& node);
std::string_view edge_kind_field(EdgeKind kind);  // "next", "yes", ..., "variants"
void add_generic_edges(NodeKind kind, const GenericNode& node, std::vector<Edge>& edges);
// A branch's label on the canvas and in the trace: its condition as written
// ("branch 2" when it has none).
std::string branch_label(const Branch& branch, size_t index);

enum class ReEntryPolicy { kNever, kAlways, kAfter };

struct ReEntry {
  ReEntryPolicy policy = ReEntryPolicy::kNever;
  std::optional<Duration> after;  // kAfter only
  SourceSpan span;
};

// A flow starts on an event (`event`, with `when` and `key`) or on a schedule
// for an audience (docs/flows.md#broadcasts): at `schedule`, a local wall time
// "YYYY-MM-DD HH:MM" in the configured default time zone, or in each user's
// own zone with `in_user_time_zone`, every profile for which `audience` holds
// (every profile without one) enters; `every` repeats it daily or weekly.
struct Trigger {
  Name event;
  std::optional<Expression> when;
  std::optional<Expression> key;
  std::optional<Name> schedule;        // "2026-12-24 10:00" as written
  std::optional<Expression> audience;  // over `user.*`
  std::optional<Name> every;           // "day" | "week"; absent: once
  bool in_user_time_zone = false;
  SourceSpan in_user_time_zone_span;
  SourceSpan span;

  bool scheduled() const { return schedule.has_value(); }
};

// What counts as a conversion (docs/results.md#goals): an event of type
// `event` (matching `where`, over `event.*`) within `within` of the journey's
// entry, worth `value` (an expression over `event.*`, e.g. `event.revenue`).
// `goal: order_paid` sets the event alone; the window then defaults to
// kDefaultGoalWindowSeconds.
struct Goal {
  Name event;
  std::optional<Expression> where;
  std::optional<Duration> within;
  std::optional<Expression> value;
  SourceSpan span;

  int64_t window_seconds() const;  // `within`, or the default
};
inline constexpr int64_t kDefaultGoalWindowSeconds = 7 * 24 * 3600;
inline constexpr const char* kDefaultGoalWindowText = "7d";

// A schedule's repetition in days: 1 for "day", 7 for "week", 0 otherwise.
int schedule_period_days(std::string_view every);

// How governed delivery treats a flow's messages (docs/delivery.md).
// `marketing` (the default): consent, frequency caps and quiet hours apply.
// `transactional` (order confirmations): caps and quiet hours do not apply,
// suppression after a hard bounce or complaint still does.
enum class FlowCategory { kMarketing, kTransactional };
std::string_view flow_category_name(FlowCategory category);  // "marketing", "transactional"
std::optional<FlowCategory> flow_category_from_name(std::string_view name);

// What a message that would break a frequency cap does: wait for the window
// (`defer`, the default) or be dropped (`skip`).
enum class CapPolicy { kDefer, kSkip };

struct Flow {
  std::string file;  // source path as the user named it; empty when built in memory
  Name name;         // `flow:`
  std::string description;
  Comments comments;
  Trigger trigger;
  ReEntry re_entry;
  std::vector<Name> exit_on;
  std::optional<Goal> goal;
  // Delivery settings as written (the checker validates them; the typed
  // readers below apply the defaults). `priority`: high | normal | low or a
  // whole number 0..100 (high = 80, normal = 50, low = 20); among deferred
  // messages of one user the highest priority is released first.
  std::optional<Name> category;  // marketing | transactional
  std::optional<Name> priority;
  std::optional<Name> on_cap;  // defer | skip
  Target start;
  std::vector<Node> nodes;  // in file order
  FieldComments field_comments;
  LeadingComments leading_comments = {};
  Comments closing_comments;  // comment lines after the last node, at the end of the file

  const Node* find_node(std::string_view id) const;
  Node* find_node(std::string_view id);

  // Typed views of the delivery settings; an invalid value (which the checker
  // reports) reads as the default.
  FlowCategory category_value() const;
  int priority_value() const;  // 0..100, default 50
  CapPolicy on_cap_value() const;
};

// "high" = 80, "normal" = 50, "low" = 20, or a whole number 0..100.
std::optional<int> priority_from_text(std::string_view text);

}  // namespace trellis::ir

// The one interface behind which every node kind sits (segment, wait, coupon,
// sms, email, webhook, ab, exit).
//
// A node kind DECIDES and does no I/O. The runtime gives it the compiled node,
// a read-only view of the journey and the input that woke it; the node returns
// a Decision value: where the journey goes next, the effects to record
// (deliveries, a coupon claim, timer changes), what the journey now waits for,
// and a human-readable reason with the values it saw. The runtime commits the
// decision (journey state, step history, deliveries, timers) in one transaction.
// Nothing here throws; a node that cannot proceed (say, a missing target the
// checker should have rejected) ends the journey with a reason saying why.
//
// Thread-safety: decide() and the processors are stateless and may be called
// from any number of threads at once; a CompiledFlow is immutable after
// compile() and may be shared.
//
// Time: milliseconds since the Unix epoch on the runtime's (injected) clock.
// Expressions see `now` in seconds (docs/expressions.md#operators-and-functions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/expr/program.h"
#include "dsl/expr/value.h"
#include "dsl/ir/flow.h"

namespace trellis::nodes {

using Millis = int64_t;  // milliseconds since the Unix epoch

class CompiledFlow;
struct CompiledNode;

// An event as the runtime has it. Borrowed: valid for the decide() call only.
// Expressions read `event.type`, `event.time` (seconds) and `event.id` from
// here, every other `event.<name>` from `properties`.
struct EventView {
  std::string_view id;
  std::string_view type;
  Millis time = 0;
  const expr::Record* properties = nullptr;  // null means no properties
};

// Read-only view of one journey, filled by the runtime before each decide().
// Everything is borrowed for the duration of the call. Null pointers mean
// "absent" (an empty profile, no event yet).
struct JourneyView {
  std::string_view journey_id;
  std::string_view flow;  // flow name
  int64_t flow_version = 0;
  std::string_view user_id;
  const expr::Record* profile = nullptr;     // `user.*`
  const EventView* trigger_event = nullptr;  // `event.*` outside a wait's `where`
  const EventView* last_event = nullptr;     // `last_event.*`: newest consumed event
  // `coupon.code` in templates: the newest code this journey was given, empty if none.
  std::string_view coupon_code;
  // The code THIS node already gave this journey on an earlier visit, if any.
  // A coupon node gives at most one code per journey and node; with this set it
  // follows `next` again without a new claim or delivery.
  std::optional<std::string_view> coupon_given_here;
  uint32_t visit = 1;  // 1 on the first arrival at this node, 2 on the second, ...
  Millis now = 0;      // the clock's current time
  // The IANA zone for users without a valid `timezone` trait (`until_time`
  // waits, local_hour(), local_weekday()); the runtime fills it from its
  // delivery configuration. Must outlive the call, as everything here.
  std::string_view default_timezone = "UTC";
  // The user's recent behaviour for count() and last_seen(); the runtime sets
  // it when the flow reads behaviour (CompiledFlow::reads_behaviour), else null.
  const expr::Behaviour* behaviour = nullptr;
};

// What woke the node.
enum class InputKind {
  kEntry,   // the journey arrives at the node (from the trigger or another node)
  kEvent,   // an event the journey waits for (wait nodes); exit_on is the runtime's job
  kTimer,   // the timer this node armed on this visit is due
  kCoupon,  // second phase of a coupon node: the runtime resolved the claim
};

std::string_view input_kind_name(InputKind kind);  // "entry", "event", "timer", "coupon"

struct Input {
  InputKind kind = InputKind::kEntry;
  const EventView* event = nullptr;  // kEvent: borrowed for the call
  Millis timer_due = 0;              // kTimer: the due time it was armed with
  // kCoupon: the code the runtime claimed for the CouponClaim the node asked
  // for; nullopt means the pool is exhausted.
  std::optional<std::string> coupon_code;

  static Input entry() { return Input{}; }
  static Input of_event(const EventView& e) {
    Input i;
    i.kind = InputKind::kEvent;
    i.event = &e;
    return i;
  }
  static Input of_timer(Millis due) {
    Input i;
    i.kind = InputKind::kTimer;
    i.timer_due = due;
    return i;
  }
  static Input of_coupon(std::optional<std::string> code) {
    Input i;
    i.kind = InputKind::kCoupon;
    i.coupon_code = std::move(code);
    return i;
  }
};

enum class Channel { kSms, kEmail, kWebhook, kCoupon };
std::string_view channel_name(Channel channel);  // "sms", "email", "webhook", "coupon"

// A message to record in the outbox. The runtime adds the id, the idempotency
// key (journey id + node id + visit), user, flow, version, node and time.
struct Delivery {
  Channel channel = Channel::kSms;
  std::string to;       // phone, email address, URL, or (coupon) the user id
  std::string subject;  // email only
  std::string body;     // rendered text; for a coupon, the code
};

// Asked by a coupon node on entry; the runtime resolves it in the same
// transaction and calls decide() again with Input::of_coupon(code or nullopt).
//   pool:     take one unclaimed code from `pool`, or report exhausted.
//   generate: use `candidate` (deterministic for journey and node, so a replayed
//             step yields the same code); if it collides with an issued code,
//             use generate_coupon_code(spec, journey id + node id, attempt 1, 2, ...).
struct CouponClaim {
  std::string pool;                            // set for a pool
  std::optional<ir::CouponGenerate> generate;  // set for generated codes
  std::string candidate;                       // generate only
};

// A change to THIS node's timer for this journey. A journey waits at one node
// at a time, so (journey, node, visit) identifies the timer.
struct TimerChange {
  enum class Op { kArm, kCancel };
  Op op = Op::kArm;
  Millis due = 0;  // kArm
};

// What the journey waits for after a kWait decision. Events of `event_type`
// are routed to decide(); the node checks `where` itself and answers "still
// waiting" when it is false. `where` points into the CompiledFlow.
struct Awaiting {
  std::string event_type;                // empty: no event
  const expr::Program* where = nullptr;  // optional filter over `event.*`
  std::optional<Millis> timer_due;       // set when a timer is armed
  bool coupon_claim = false;             // waiting for the runtime's Input::of_coupon
};

enum class Transition {
  kNext,  // go to `next` (and run it now, with Input::entry())
  kWait,  // stay at this node; see `awaiting`
  kEnd,   // the journey ends here (exit node, or a node that cannot proceed); see `ending`
};

// How a kEnd decision ends the journey: completed (it reached its end, as an
// exit does) or failed (a node could not proceed, say a missing target).
enum class Ending { kFailed, kCompleted };

struct Decision {
  Transition transition = Transition::kWait;
  std::string next;  // kNext: node id
  // Which outgoing slot was taken: "yes", "no", "next", "on_event",
  // "on_exhausted", or an ab variant name. Empty unless kNext.
  std::string edge;
  Ending ending = Ending::kFailed;  // kEnd only
  // The A/B variant this journey was assigned at this node (an ab node sets
  // it); the runtime records it with the journey for per-variant stats.
  std::string variant;
  std::string reason;  // for step history: "match was true: user.age = 34, ..."
  std::vector<Delivery> deliveries;
  std::optional<CouponClaim> claim;  // coupon node, first phase
  std::vector<TimerChange> timers;
  Awaiting awaiting;  // kWait
  // The input event was consumed (a wait woke on it): it becomes `last_event`.
  bool consumed_event = false;
  // The journey now holds this coupon code: it becomes `coupon.code` for later
  // templates and `coupon_given_here` for this node.
  std::optional<std::string> coupon_given;
  // Profile traits to merge into the user's profile, as a JSON object text
  // ({"tier":"gold","orders":4}); empty for none. The runtime writes them in the
  // step's transaction, so later nodes and other flows read them (update_profile).
  std::string profile_update;
  // The input did not concern the node (an event of another type, a `where`
  // that was false, a stray timer): nothing changes, the journey keeps waiting
  // as before. `reason` says why; recording the step is the runtime's choice.
  bool ignored = false;
};

// Runs the node's kind on `input`. This is what the runtime calls.
// REQUIRES: `node` belongs to `flow`.
Decision decide(const CompiledFlow& flow, const CompiledNode& node, const JourneyView& journey,
                const Input& input);

// Convenience: looks the node up by id; a missing id ends the journey with a reason.
Decision decide(const CompiledFlow& flow, std::string_view node_id, const JourneyView& journey,
                const Input& input);

// One node kind. Zeebe-style: one processor per kind, stateless, registered once:
// the typed kinds in registry.cpp, a generic kind by its own file
// (TRELLIS_NODE_KIND in nodes/registry.h). Inputs a kind does not expect get the default answer:
// stay waiting, with a reason saying the input was ignored.
class NodeProcessor {
 public:
  virtual ~NodeProcessor() = default;
  virtual ir::NodeKind kind() const = 0;

  // Compiles the node's expressions and templates into `out` once per flow
  // version. Returns false (and appends a message to `errors`) when something
  // the node needs did not parse.
  virtual bool compile(const ir::Node& node, CompiledNode& out,
                       std::vector<std::string>& errors) const = 0;

  // Arriving at the node. Possible actions: go on, wait (timer, event, claim), end.
  virtual Decision on_entry(const CompiledFlow& flow, const CompiledNode& node,
                            const JourneyView& journey) const = 0;
  // An awaited event arrived. Default: ignored, still waiting.
  virtual Decision on_event(const CompiledFlow& flow, const CompiledNode& node,
                            const JourneyView& journey, const EventView& event) const;
  // The node's timer is due. Default: ignored, still waiting.
  virtual Decision on_timer(const CompiledFlow& flow, const CompiledNode& node,
                            const JourneyView& journey, Millis due) const;
  // The runtime resolved a coupon claim. Default: ignored, still waiting.
  virtual Decision on_coupon(const CompiledFlow& flow, const CompiledNode& node,
                             const JourneyView& journey,
                             const std::optional<std::string>& code) const;
};

}  // namespace trellis::nodes

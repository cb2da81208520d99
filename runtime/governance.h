// Governance of what journeys send: consent, frequency caps, quiet hours and
// max_defer, as pure rules. Given the delivery configuration, the flow's
// delivery settings, the message and what the store knows about its user, the
// rules give a verdict: send now, defer until T, suppress or drop, with the
// reason the journey trace shows. No I/O: the processor gathers the facts and
// writes the outcome; docs/delivery.md is the user's reference.
//
// The rules, in the order they apply:
//  1. Not a message: coupons, and webhook calls unless the configuration names
//     a cap or quiet hours for channel `webhook`, are sent as they are.
//  2. Consent, for every category. No record means subscribed; the newest of
//     the channel's record and the "*" (every channel) record decides. A
//     marketing message honours any unsubscribed record; a transactional one
//     only those a provider caused (a hard bounce or a complaint), because an
//     order confirmation must reach a user who opted out of marketing but
//     cannot reach an address that bounces.
//  3. Transactional messages stop here: caps and quiet hours do not apply to
//     them, and they are not counted against caps.
//  4. Caps: a message counts from the instant it is released (release_at). A
//     message that would break a cap is dropped with `on_cap: skip`, else
//     deferred to the instant enough counted messages leave the window.
//  5. Quiet hours of the channel, in the user's zone (`user.timezone`, else
//     the configured default): a message that would be released inside them
//     is deferred to the window's end plus a spread in [0, spread_ms) taken
//     from a hash of its delivery key, so the same message always gets the
//     same instant and a million deferred messages do not leave at once.
//  6. A deferral that would end later than max_defer after the message was
//     created drops it instead.
//
// Thread-safety: every function is pure (time zone rules aside).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dsl/ir/flow.h"
#include "runtime/clock.h"
#include "runtime/delivery/config.h"
#include "runtime/store.h"

namespace trellis::runtime::governance {

// The message being judged.
struct Message {
  std::string key;      // delivery key: seeds the quiet-hours spread
  std::string channel;  // sms, email, webhook, coupon, ...
  ir::FlowCategory category = ir::FlowCategory::kMarketing;
  ir::CapPolicy on_cap = ir::CapPolicy::kDefer;
  TimeMs created_at = 0;  // when its node ran: max_defer counts from here
};

// What the store knows about the message's user.
struct UserFacts {
  std::string user_id;
  std::vector<ConsentRecord> consent;     // newest per channel (any order)
  std::vector<ReleasedMessage> released;  // at least those inside the longest cap window
  std::string zone;                       // the `timezone` trait, empty when absent
};

enum class Outcome { kSend, kDefer, kSuppress, kDrop };

struct Verdict {
  Outcome outcome = Outcome::kSend;
  TimeMs until = 0;    // kDefer: when to judge the message again
  std::string reason;  // empty for kSend; what the trace shows otherwise
};

// Whether the rules govern `channel` at all (rule 1).
bool is_governed_channel(const delivery::DeliveryConfig& config, std::string_view channel);

// Whether any cap applies to `channel`: the caller needs the user's released
// messages only then.
bool caps_apply(const delivery::DeliveryConfig& config, std::string_view channel);

// Whether `channel` has quiet hours: the caller needs the user's zone only then.
bool quiet_hours_apply(const delivery::DeliveryConfig& config, std::string_view channel);

// The longest cap window, so the caller can bound the released messages it reads.
TimeMs longest_cap_window(const delivery::DeliveryConfig& config);

// Rules 1 to 6 at `now`.
Verdict judge(const delivery::DeliveryConfig& config, const Message& message, const UserFacts& user,
              TimeMs now);

// Rule 2 alone, for the last look before a provider call: the reason a
// message of `category` on `channel` must not be sent, or nullopt.
std::optional<std::string> consent_denial(const std::string& user_id,
                                          const std::vector<ConsentRecord>& consent,
                                          std::string_view channel, ir::FlowCategory category);

// Consent records that provider feedback writes. Their reasons are how a
// transactional message tells them from a user's own unsubscribe.
std::string hard_bounce_reason(int64_t delivery_id);  // "hard bounce of delivery 12"
std::string complaint_reason(int64_t delivery_id);    // "complaint about delivery 12"
bool caused_by_provider(const ConsentRecord& record);

// Whether `incoming` replaces `existing` (same user and channel) in the store.
// It does, except that a user's unsubscribe does not overwrite a provider's
// suppression of the same channel: the address still bounces, and a later
// transactional message must still see why.
bool replaces(const ConsentRecord& existing, const ConsentRecord& incoming);

// "2026-01-01T01:00:00Z": whole seconds, as traces show times.
std::string trace_time(TimeMs t);
// "3d", "36h", "90m", "45s", "250ms": the largest unit that divides `ms`.
std::string duration_text(TimeMs ms);

}  // namespace trellis::runtime::governance

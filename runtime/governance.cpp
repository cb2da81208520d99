#include "runtime/governance.h"

#include <algorithm>

#include "nodes/ab.h"
#include "nodes/local_time.h"

namespace trellis::runtime::governance {

namespace {

constexpr std::string_view kHardBounce = "hard bounce of delivery ";
constexpr std::string_view kComplaint = "complaint about delivery ";

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool cap_covers(const delivery::CapRule& cap, std::string_view channel) {
  return cap.channel.empty() || cap.channel == channel;
}

// A deferral and what caused it, as the trace words it.
struct Deferral {
  TimeMs until = 0;
  std::string cause;  // "cap sms 2/1d", "quiet hours 21:00-09:00 Europe/Berlin"
};

// When `cap` lets one more message of `channel` out, if it does not at `now`:
// the instant enough of the counted messages have left its window.
std::optional<TimeMs> cap_reopens(const delivery::DeliveryConfig& config,
                                  const delivery::CapRule& cap, std::string_view channel,
                                  const std::vector<ReleasedMessage>& released, TimeMs now) {
  if (!cap_covers(cap, channel) || cap.max <= 0 || cap.window_ms <= 0) return std::nullopt;
  std::vector<TimeMs> counted;
  for (const ReleasedMessage& m : released) {
    if (m.category == ir::flow_category_name(ir::FlowCategory::kTransactional)) continue;
    if (!is_governed_channel(config, m.channel) || !cap_covers(cap, m.channel)) continue;
    if (m.release_at > now - cap.window_ms && m.release_at <= now) counted.push_back(m.release_at);
  }
  if (counted.size() < static_cast<size_t>(cap.max)) return std::nullopt;
  std::sort(counted.begin(), counted.end());
  // With `max` allowed, the window must first lose (counted - max + 1) messages.
  return counted[counted.size() - static_cast<size_t>(cap.max)] + cap.window_ms;
}

std::string cap_text(const delivery::CapRule& cap) {
  if (!cap.text.empty()) return cap.text;
  return (cap.channel.empty() ? std::string("any") : cap.channel) + " " + std::to_string(cap.max) +
         "/" + duration_text(cap.window_ms);
}

// The latest instant at which every cap covering the channel lets one more
// message out; nullopt when all of them do at `now`. `skip_cause` names the
// first cap broken, for on_cap: skip.
std::optional<Deferral> cap_deferral(const delivery::DeliveryConfig& config,
                                     std::string_view channel,
                                     const std::vector<ReleasedMessage>& released, TimeMs now) {
  std::optional<Deferral> latest;
  for (const delivery::CapRule& cap : config.caps) {
    const std::optional<TimeMs> reopens = cap_reopens(config, cap, channel, released, now);
    if (reopens && (!latest || *reopens > latest->until))
      latest = Deferral{*reopens, "cap " + cap_text(cap)};
  }
  return latest;
}

std::string time_of_day(int minute) {
  std::string out(5, '0');
  out[0] = static_cast<char>('0' + minute / 600);
  out[1] = static_cast<char>('0' + minute / 60 % 10);
  out[2] = ':';
  out[3] = static_cast<char>('0' + minute % 60 / 10);
  out[4] = static_cast<char>('0' + minute % 10);
  return out;
}

// Deterministic by delivery key, whole seconds when the spread is a second
// or more, so that release instants read cleanly in traces.
TimeMs spread_of(const std::string& key, TimeMs spread_ms) {
  if (spread_ms <= 0) return 0;
  const uint64_t hash = nodes::stable_hash({"quiet-hours", key});
  if (spread_ms < 1000) return static_cast<TimeMs>(hash % static_cast<uint64_t>(spread_ms));
  return static_cast<TimeMs>(hash % static_cast<uint64_t>(spread_ms / 1000)) * 1000;
}

std::optional<Deferral> quiet_hours_deferral(const delivery::DeliveryConfig& config,
                                             const Message& message, const std::string& zone,
                                             TimeMs at) {
  const delivery::ChannelConfig* channel = config.channel(message.channel);
  if (channel == nullptr || !channel->quiet_hours) return std::nullopt;
  const delivery::QuietHours& quiet = *channel->quiet_hours;
  if (quiet.start_minute == quiet.end_minute) return std::nullopt;
  const nodes::ZoneChoice choice = nodes::choose_zone(zone, config.default_timezone);
  const std::optional<TimeMs> end =
      nodes::quiet_hours_end(at, quiet.start_minute, quiet.end_minute, choice.name);
  if (!end) return std::nullopt;
  std::string cause = "quiet hours ";
  cause += quiet.text.empty()
               ? time_of_day(quiet.start_minute) + "-" + time_of_day(quiet.end_minute)
               : quiet.text;
  cause += " " + choice.name;
  if (!choice.warning.empty()) cause += "; " + choice.warning;
  return Deferral{*end + spread_of(message.key, quiet.spread_ms), std::move(cause)};
}

}  // namespace

bool is_governed_channel(const delivery::DeliveryConfig& config, std::string_view channel) {
  if (channel == "coupon") return false;
  if (channel != "webhook") return true;
  // Webhook calls feed other systems; they are messages only when the
  // configuration says so by capping them or giving them quiet hours.
  for (const delivery::CapRule& cap : config.caps)
    if (cap.channel == "webhook") return true;
  return quiet_hours_apply(config, channel);
}

bool caps_apply(const delivery::DeliveryConfig& config, std::string_view channel) {
  return std::any_of(config.caps.begin(), config.caps.end(),
                     [&](const delivery::CapRule& cap) { return cap_covers(cap, channel); });
}

bool quiet_hours_apply(const delivery::DeliveryConfig& config, std::string_view channel) {
  const delivery::ChannelConfig* c = config.channel(std::string(channel));
  return c != nullptr && c->quiet_hours &&
         c->quiet_hours->start_minute != c->quiet_hours->end_minute;
}

TimeMs longest_cap_window(const delivery::DeliveryConfig& config) {
  TimeMs longest = 0;
  for (const delivery::CapRule& cap : config.caps) longest = std::max(longest, cap.window_ms);
  return longest;
}

std::optional<std::string> consent_denial(const std::string& user_id,
                                          const std::vector<ConsentRecord>& consent,
                                          std::string_view channel, ir::FlowCategory category) {
  const ConsentRecord* newest = nullptr;
  for (const ConsentRecord& r : consent) {
    if (r.channel != channel && r.channel != "*") continue;
    if (category == ir::FlowCategory::kTransactional && !r.subscribed && !caused_by_provider(r))
      continue;
    // On a tie the channel's own record is the more specific statement.
    if (!newest || r.at > newest->at || (r.at == newest->at && r.channel != "*")) newest = &r;
  }
  if (newest == nullptr || newest->subscribed) return std::nullopt;
  std::string reason = "not sent: user " + user_id + " unsubscribed from ";
  reason += newest->channel == "*" ? std::string("every channel") : newest->channel;
  reason += " at " + trace_time(newest->at);
  if (!newest->reason.empty()) reason += " (" + newest->reason + ")";
  return reason;
}

Verdict judge(const delivery::DeliveryConfig& config, const Message& message, const UserFacts& user,
              TimeMs now) {
  if (!is_governed_channel(config, message.channel)) return Verdict{};
  if (std::optional<std::string> denial =
          consent_denial(user.user_id, user.consent, message.channel, message.category))
    return Verdict{Outcome::kSuppress, 0, std::move(*denial)};
  if (message.category == ir::FlowCategory::kTransactional) return Verdict{};

  std::optional<Deferral> deferral = cap_deferral(config, message.channel, user.released, now);
  if (deferral && message.on_cap == ir::CapPolicy::kSkip)
    return Verdict{Outcome::kDrop, 0, "dropped: " + deferral->cause + " (on_cap: skip)"};
  // Quiet hours are judged at the instant the caps would release the message.
  const TimeMs release = deferral ? deferral->until : now;
  if (std::optional<Deferral> quiet = quiet_hours_deferral(config, message, user.zone, release))
    deferral = std::move(quiet);
  if (!deferral) return Verdict{};
  if (deferral->until - message.created_at > config.max_defer_ms)
    return Verdict{Outcome::kDrop, 0,
                   "dropped: deferred past max_defer " + duration_text(config.max_defer_ms)};
  return Verdict{Outcome::kDefer, deferral->until,
                 "deferred until " + trace_time(deferral->until) + " (" + deferral->cause + ")"};
}

std::string hard_bounce_reason(int64_t delivery_id) {
  return std::string(kHardBounce) + std::to_string(delivery_id);
}

std::string complaint_reason(int64_t delivery_id) {
  return std::string(kComplaint) + std::to_string(delivery_id);
}

bool caused_by_provider(const ConsentRecord& record) {
  return starts_with(record.reason, kHardBounce) || starts_with(record.reason, kComplaint);
}

bool replaces(const ConsentRecord& existing, const ConsentRecord& incoming) {
  const bool user_unsubscribe = !incoming.subscribed && !caused_by_provider(incoming);
  return !(user_unsubscribe && !existing.subscribed && caused_by_provider(existing));
}

std::string trace_time(TimeMs t) {
  std::string text = format_rfc3339(t);
  const size_t millis = text.rfind(".000Z");
  if (millis != std::string::npos) text.replace(millis, 5, "Z");
  return text;
}

std::string duration_text(TimeMs ms) {
  struct Unit {
    TimeMs size;
    const char* name;
  };
  static constexpr Unit kUnits[] = {
      {86'400'000, "d"}, {3'600'000, "h"}, {60'000, "m"}, {1000, "s"}};
  if (ms == 0) return "0s";
  for (const Unit& unit : kUnits)
    if (ms % unit.size == 0) return std::to_string(ms / unit.size) + unit.name;
  return std::to_string(ms) + "ms";
}

}  // namespace trellis::runtime::governance

#include "runtime/processor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <tuple>
#include <unordered_set>
#include <nlohmann/json.hpp>

#include "nodes/ab.h"
#include "nodes/coupon.h"
#include "nodes/node.h"
#include "nodes/scope.h"
#include "runtime/json_record.h"
#include "runtime/stored_fields.h"

namespace trellis::runtime {

namespace {

using nlohmann::json;

// The stored form of an event a journey keeps (trigger, last consumed):
// {"id":..,"type":..,"time":<time>,"properties":{..}}, in two parts around the
// time, which is the writer's clock when the event carries none. The parts are
// built on the caller's thread (prepare_event), not on the single writer.
std::pair<std::string, std::string> event_json_around_time(const Event& e) {
  std::string head = "{\"id\":";
  // Replace, never throw, on invalid UTF-8: a bad byte must not fail a whole batch.
  head += json(e.id).dump(-1, ' ', false, json::error_handler_t::replace);
  head += ",\"type\":";
  head += json(e.type).dump(-1, ' ', false, json::error_handler_t::replace);
  head += ",\"time\":";
  std::string tail = ",\"properties\":";
  tail += e.properties_json.empty() ? "{}" : e.properties_json;
  tail += '}';
  return {std::move(head), std::move(tail)};
}

struct FeedbackType {
  const char* type;
  Feedback kind;
};
constexpr FeedbackType kFeedbackTypes[] = {{"message_delivered", Feedback::kDelivered},
                                           {"message_bounced", Feedback::kBounced},
                                           {"message_complained", Feedback::kComplained},
                                           {"message_opened", Feedback::kOpened},
                                           {"message_clicked", Feedback::kClicked}};

std::optional<Feedback> feedback_kind(const std::string& type) {
  for (const FeedbackType& f : kFeedbackTypes)
    if (type == f.type) return f.kind;
  return std::nullopt;
}

json properties_of(const Event& e) {
  json properties =
      json::parse(e.properties_json.empty() ? "{}" : e.properties_json, nullptr, false);
  return properties.is_object() ? properties : json::object();
}

// `properties.delivery_id` as a number or as digits in a string.
std::optional<int64_t> delivery_id_of(const json& properties) {
  auto id = properties.find("delivery_id");
  if (id == properties.end()) return std::nullopt;
  if (id->is_number_integer()) return id->get<int64_t>();
  if (!id->is_string()) return std::nullopt;
  const std::string text = id->get<std::string>();
  if (text.empty() || text.size() > 18 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  return std::stoll(text);
}

ir::FlowCategory category_from(const std::string& name) {
  return ir::flow_category_from_name(name).value_or(ir::FlowCategory::kMarketing);
}

}  // namespace

Result<DeliveryRecord> feedback_delivery(StoreReader& reader, const Event& event) {
  const json properties = properties_of(event);
  std::optional<DeliveryRecord> found;
  std::string named;
  if (std::optional<int64_t> id = delivery_id_of(properties)) {
    found = reader.delivery(*id);
    named = "delivery " + std::to_string(*id);
  } else if (auto key = properties.find("key"); key != properties.end() && key->is_string()) {
    found = reader.delivery_by_key(key->get<std::string>());
    named = "delivery key '" + key->get<std::string>() + "'";
  } else {
    return Error::invalid(event.type +
                          " names no delivery: give properties.delivery_id or properties.key");
  }
  if (!found) return Error::not_found(event.type + ": no " + named);
  // An anonymous id merged into the delivery's user names that user.
  if (!event.user_id.empty() && event.user_id != found->user_id &&
      reader.merged_into(event.user_id) != found->user_id)
    return Error::invalid(event.type + ": " + named + " belongs to another user");
  return std::move(*found);
}

void BehaviourSpecs::add(const nodes::CompiledFlow& flow) {
  for (const expr::CounterUse& use : flow.counters()) {
    std::vector<Counter>& of_type = counters[use.event_type];
    auto same = std::find_if(of_type.begin(), of_type.end(),
                             [&use](const Counter& c) { return c.key == use.key; });
    if (same == of_type.end()) {
      of_type.push_back(Counter{use.key, use.where, use.window_days});
    } else {
      same->keep_days = std::max(same->keep_days, use.window_days);
    }
  }
  for (const std::string& type : flow.last_seen_types()) last_seen.insert(type);
}

void FlowSet::rebuild_routes() {
  routes.clear();
  behaviour = BehaviourSpecs{};
  for (const auto& [name, versions] : flows)
    for (const auto& [v, flow] : versions.versions) behaviour.add(*flow);
  auto add = [this](const std::string& type, const std::string& flow) {
    if (type.empty()) return;
    auto& list = routes[type];
    if (std::find(list.begin(), list.end(), flow) == list.end()) list.push_back(flow);
  };
  for (const auto& [name, versions] : flows) {
    if (const nodes::CompiledFlow* newest = versions.newest())
      add(newest->ir().trigger.event.value, name);
    for (const auto& [v, flow] : versions.versions) {
      for (const auto& type : flow->ir().exit_on) add(type.value, name);
      if (flow->ir().goal) add(flow->ir().goal->event.value, name);
      for (const auto& type : flow->awaited_event_types()) add(type, name);
    }
  }
}

struct Processor::Profile {
  std::string json = "{}";
  expr::Record record;
};

// An event being applied, parsed once for every flow it concerns.
struct Processor::Incoming {
  const PreparedEvent* prepared = nullptr;
  TimeMs time = 0;  // the event's own, or the writer's clock when it has none
  nodes::EventView view;
  std::string stored;  // the stored form, built on first use

  const Event& event() const { return prepared->event; }
  const std::string& stored_json() {
    if (stored.empty()) {
      stored.reserve(prepared->json_head.size() + 20 + prepared->json_tail.size());
      stored = prepared->json_head;
      stored += std::to_string(time);
      stored += prepared->json_tail;
    }
    return stored;
  }
};

// A journey loaded for one step, with the borrowed views nodes read.
struct Processor::Journey {
  JourneyRecord rec;
  std::string id_text;
  std::map<std::string, int> visits;
  std::vector<std::pair<std::string, std::string>> coupons;

  struct StoredEvent {
    std::string id, type;
    expr::Record properties;
    nodes::EventView view;
    bool present = false;
    bool loaded = false;  // parsed from the stored JSON yet
  };
  StoredEvent trigger, last;

  // Parsed on first use: flows whose expressions and templates never read
  // `event.*` or `last_event.*` (the cart reminder) never pay for the JSON.
  const nodes::EventView* trigger_view() {
    if (!trigger.loaded) load_event(rec.trigger_event, trigger);
    return trigger.present ? &trigger.view : nullptr;
  }
  const nodes::EventView* last_view() {
    if (!last.loaded) load_event(rec.last_event, last);
    return last.present ? &last.view : nullptr;
  }

  // The event that started a journey, already parsed: no round trip through JSON.
  static void borrow_event(const Incoming& in, StoredEvent& out) {
    out = StoredEvent{};
    out.id = in.event().id;
    out.type = in.event().type;
    out.properties = in.prepared->properties;
    out.view.id = out.id;
    out.view.type = out.type;
    out.view.time = in.time;
    out.view.properties = &out.properties;
    out.present = true;
    out.loaded = true;
  }

  static void load_event(const std::string& text, StoredEvent& out) {
    out = StoredEvent{};
    out.loaded = true;
    if (text.size() <= 2) return;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return;
    out.id = j.value("id", "");
    out.type = j.value("type", "");
    auto props = j.find("properties");
    if (props != j.end()) out.properties = record_from_json_value(*props);
    out.view.id = out.id;
    out.view.type = out.type;
    out.view.time = j.value("time", int64_t{0});
    out.view.properties = &out.properties;
    out.present = true;
  }

  explicit Journey(JourneyRecord r, const Incoming* trigger_in = nullptr) : rec(std::move(r)) {
    id_text = std::to_string(rec.id);
    visits = decode_visit_counts(rec.visits);
    coupons = decode_coupons(rec.coupon_code);
    if (trigger_in) borrow_event(*trigger_in, trigger);
  }

  bool is_new = false;   // not in the store yet: save() inserts
  bool unsaved = false;  // changed since the last save(): a node decided, or a timer was consumed
  // Steps not yet written: save() adds them to the journey's history, written
  // with the journey's row.
  std::vector<StepRecord> pending_steps;

  std::optional<std::string_view> coupon_at(const std::string& node) const {
    for (auto it = coupons.rbegin(); it != coupons.rend(); ++it)
      if (it->first == node) return std::string_view(it->second);
    return std::nullopt;
  }
  std::string_view newest_coupon() const {
    return coupons.empty() ? std::string_view() : std::string_view(coupons.back().second);
  }
};

Processor::Processor(Store& store, const FlowSet& flows, const EngineOptions& options)
    : store_(store), flows_(flows), options_(options), delivery_(options.delivery) {}

Processor::~Processor() = default;

PreparedEvent prepare_event(Event event) {
  PreparedEvent p;
  p.properties = record_from_json(event.properties_json);
  std::tie(p.json_head, p.json_tail) = event_json_around_time(event);
  p.event = std::move(event);
  return p;
}

void Processor::begin_batch(TimeMs now) {
  now_ = now;
  earliest_armed_.reset();
  profiles_.clear();
  rollups_.clear();
  behaviours_.clear();
}

RollupCounts& Processor::rollup(const Journey& j, const std::string& node) {
  if (!options_.rollups) return unused_rollup_;
  return rollups_.at(now_, j.rec.flow, j.rec.version, node, j.rec.variant);
}

const expr::Behaviour* Processor::behaviour_for(const nodes::CompiledFlow& flow,
                                                const std::string& user_id) {
  if (!flow.reads_behaviour()) return nullptr;
  auto it = behaviours_.find(user_id);
  if (it != behaviours_.end()) return it->second.get();
  auto behaviour = std::make_unique<expr::Behaviour>();
  BehaviourRecord stored = store_.behaviour(user_id);
  for (const BehaviourRecord::Bucket& b : stored.buckets) behaviour->add(b.key, b.day, b.count);
  for (const BehaviourRecord::Seen& s : stored.last_seen)
    behaviour->seen(s.event_type, static_cast<double>(s.at) / 1000.0);
  return behaviours_.emplace(user_id, std::move(behaviour)).first->second.get();
}

// Before any flow sees the event, so that the view being counted is among
// those a trigger's `count(...) >= 3` reads. The event's own time decides its
// day (no later than now: a clock ahead of ours cannot make a bucket that is
// never pruned); one older than a counter's longest window is not counted.
// A duplicate never gets here (mark_event_seen), so a redelivery counts once.
void Processor::record_behaviour(const PreparedEvent& prepared) {
  const Event& e = prepared.event;
  const BehaviourSpecs& specs = flows_.behaviour;
  if (e.user_id.empty() || (specs.counters.empty() && specs.last_seen.empty())) return;
  auto counters = specs.counters.find(e.type);
  const bool seen = specs.last_seen.count(e.type) > 0;
  if (counters == specs.counters.end() && !seen) return;
  BehaviourHit hit;
  hit.event_type = e.type;
  hit.at = std::min(e.time.value_or(now_), now_);
  hit.last_seen = seen;
  hit.day = expr::utc_day(static_cast<double>(hit.at) / 1000.0);
  if (counters != specs.counters.end()) {
    static const expr::Record kNoProfile;
    const nodes::EventView view{e.id, e.type, hit.at, &prepared.properties};
    const nodes::FlowScope scope(&kNoProfile, &view, nullptr, {}, now_);
    const int64_t today = expr::utc_day(static_cast<double>(now_) / 1000.0);
    for (const BehaviourSpecs::Counter& counter : counters->second) {
      const int64_t oldest_day = today - counter.keep_days + 1;
      if (hit.day < oldest_day || (counter.where && !counter.where->test(scope))) continue;
      hit.counters.push_back({counter.key, oldest_day});
    }
  }
  if (hit.counters.empty() && !hit.last_seen) return;
  must(store_.record_behaviour(e.user_id, hit));
  auto cached = behaviours_.find(e.user_id);  // loaded earlier in this batch
  if (cached == behaviours_.end()) return;
  for (const BehaviourHit::Counter& counter : hit.counters)
    cached->second->add(counter.key, hit.day, 1);
  if (hit.last_seen) cached->second->seen(e.type, static_cast<double>(hit.at) / 1000.0);
}

const Processor::Profile& Processor::profile_of(const std::string& user_id) {
  auto it = profiles_.find(user_id);
  if (it != profiles_.end()) return *it->second;
  auto profile = std::make_unique<Profile>();
  if (auto text = store_.profile(user_id)) {
    profile->json = std::move(*text);
    profile->record = record_from_json(profile->json);
  }
  return *profiles_.emplace(user_id, std::move(profile)).first->second;
}

// Whether any expression or template of the flow reads `event.*` or
// `last_event.*` (a wait's `where` counts: it may read `last_event`).
bool Processor::reads_events(const nodes::CompiledFlow& flow) {
  auto cached = reads_events_.find(&flow);
  if (cached != reads_events_.end()) return cached->second;
  bool reads = false;
  auto check = [&reads](const std::vector<expr::PathId>& paths) {
    for (expr::PathId p : paths) {
      const ir::PathRoot root = expr::path_root(p);
      reads = reads || root == ir::PathRoot::kEvent || root == ir::PathRoot::kLastEvent;
    }
  };
  for (const nodes::CompiledNode& n : flow.nodes()) {
    if (n.match) check(n.match->paths());
    if (n.where) check(n.where->paths());
    for (const auto* t : {&n.text, &n.subject, &n.body, &n.url})
      if (*t) check((*t)->paths());
    for (const expr::Program& p : n.programs) check(p.paths());
    for (const expr::CompiledTemplate& t : n.templates) check(t.paths());
  }
  reads_events_.emplace(&flow, reads);
  return reads;
}

// Only nodes that read traits load the profile (CompiledNode::reads_profile:
// a wait without `where`, an A/B split and an exit never do), which spares the
// event hot path a lookup.
// The trigger's `when` and `key` usually read only the event; load the
// profile only when one of them names a `user.` path.
const expr::Record* Processor::trigger_profile(const nodes::CompiledFlow& flow,
                                               const std::string& user_id) {
  static const expr::Record kEmpty;
  for (const expr::Program* p : {flow.trigger_when(), flow.trigger_key()}) {
    if (!p) continue;
    for (expr::PathId path : p->paths())
      if (expr::path_root(path) == ir::PathRoot::kUser) return &profile_of(user_id).record;
  }
  return &kEmpty;
}

const expr::Record* Processor::profile_for(const nodes::CompiledNode& node,
                                           const std::string& user_id) {
  static const expr::Record kEmpty;
  return node.reads_profile ? &profile_of(user_id).record : &kEmpty;
}

void Processor::merge_profile(const std::string& user_id, const std::string& traits_json) {
  must(store_.lock_user(user_id));  // read, merge, write: no other writer in between
  const Profile& current = profile_of(user_id);
  auto merged = std::make_unique<Profile>();
  merged->json = merge_json_objects(current.json, traits_json);
  merged->record = record_from_json(merged->json);
  must(store_.put_profile(user_id, merged->json, now_));
  profiles_[user_id] = std::move(merged);
}

EventOutcome Processor::apply_event(const PreparedEvent& prepared, std::string* refusal) {
  const Event& event = prepared.event;
  std::optional<DeliveryRecord> feedback_on;
  if (is_delivery_feedback(event.type)) {
    // Refused before its id is remembered, so a corrected retry still applies.
    Result<DeliveryRecord> delivery = feedback_delivery(store_, event);
    if (!delivery.ok()) {
      if (refusal) *refusal = delivery.error().message;
      return EventOutcome::kRefused;
    }
    feedback_on = std::move(delivery.value());
  }
  // The user's journeys are this transaction's until it ends (several writers).
  must(store_.lock_user(feedback_on ? feedback_on->user_id : event.user_id));
  if (!event.id.empty() && !must(store_.mark_event_seen(event.id, now_)))
    return EventOutcome::kDuplicate;
  // Identity: an id merged into a user is that user; an identify or alias
  // linking an anonymous id merges it first, so the event itself (traits,
  // a trigger) already applies to the merged user.
  std::optional<std::string> known = merged_into(event.user_id);
  const std::string& user = known ? *known : event.user_id;
  if (known) must(store_.lock_user(*known));
  if (!event.anonymous_id.empty() && !user.empty()) merge_identity(event.anonymous_id, user);
  retain(event, user.empty() && feedback_on ? feedback_on->user_id : user);
  if (!known) return apply_known(prepared, std::move(feedback_on));
  PreparedEvent resolved = prepared;
  resolved.event.user_id = *known;
  return apply_known(resolved, std::move(feedback_on));
}

// Keeps the applied event for replay when the configuration says so
// (docs/operations.md#event-retention): in this step's transaction, after the
// dedupe check, so a redelivered event is kept once and a failed commit keeps none.
void Processor::retain(const Event& event, const std::string& user) {
  if (!delivery_->retention.on()) return;
  RetainedEvent kept;
  kept.id = event.id;
  kept.type = event.type;
  kept.user_id = user;
  kept.at = event.time.value_or(now_);
  kept.properties = event.properties_json;
  kept.identify = event.is_identify();
  must(store_.retain_event(kept));
}

EventOutcome Processor::apply_known(const PreparedEvent& prepared,
                                    std::optional<DeliveryRecord> feedback_on) {
  const Event& event = prepared.event;
  if (event.is_identify()) {
    merge_profile(event.user_id, event.properties_json);
    return EventOutcome::kApplied;
  }
  if (feedback_on) {
    apply_feedback(prepared, *feedback_on);
    return EventOutcome::kApplied;
  }
  apply_consent_event(prepared);  // before any flow sees the event
  route_event(prepared);
  return EventOutcome::kApplied;
}

// Records what the provider said on the delivery; a hard bounce or a complaint
// also suppresses the channel for the user. Then the event, carrying the
// delivery's user, node, flow and channel, goes to flows like any other, so a
// wait can be `until_event: message_clicked where event.node == "mail"`.
void Processor::apply_feedback(const PreparedEvent& prepared, const DeliveryRecord& d) {
  const Event& event = prepared.event;
  json properties = properties_of(event);
  const Feedback kind = *feedback_kind(event.type);
  std::string detail;
  if (kind == Feedback::kBounced) {
    auto type = properties.find("bounce_type");
    if (type != properties.end() && type->is_string()) detail = type->get<std::string>();
  }
  must(store_.record_feedback(d.id, kind, detail, now_));
  if (kind == Feedback::kComplained)
    set_consent(d.user_id, d.channel, false, governance::complaint_reason(d.id));
  if (kind == Feedback::kBounced && detail == "hard")
    set_consent(d.user_id, d.channel, false, governance::hard_bounce_reason(d.id));

  Event routed = event;
  if (routed.user_id.empty()) routed.user_id = d.user_id;
  properties["node"] = d.node;
  properties["flow"] = d.flow;
  properties["channel"] = d.channel;
  properties["delivery_id"] = d.id;
  routed.properties_json = properties.dump(-1, ' ', false, json::error_handler_t::replace);
  route_event(prepare_event(std::move(routed)));
}

// Events named in the configuration's consent_events (by default
// `unsubscribe` and `subscribe`) set consent for `properties.channel`, or for
// every channel when they name none.
void Processor::apply_consent_event(const PreparedEvent& prepared) {
  const Event& event = prepared.event;
  for (const delivery::ConsentEvent& consent : delivery_->consent_events) {
    if (consent.event != event.type) continue;
    std::string channel(prepared.properties.get("channel").string());
    if (channel.empty()) channel = "*";
    set_consent(event.user_id, channel, consent.subscribe, "event " + event.type);
    return;
  }
}

void Processor::set_consent(const std::string& user_id, const std::string& channel, bool subscribed,
                            const std::string& reason) {
  const ConsentRecord incoming{user_id, channel, subscribed, now_, reason};
  must(store_.lock_user(user_id));
  for (const ConsentRecord& existing : store_.consent(user_id))
    if (existing.channel == channel && !governance::replaces(existing, incoming)) return;
  must(store_.put_consent(incoming));
}

void Processor::route_event(const PreparedEvent& prepared) {
  record_behaviour(prepared);
  const Event& event = prepared.event;
  auto routes = flows_.routes.find(event.type);
  if (routes == flows_.routes.end()) return;
  Incoming in;
  in.prepared = &prepared;
  in.time = event.time.value_or(now_);
  in.view.id = event.id;
  in.view.type = event.type;
  in.view.time = in.time;
  in.view.properties = &prepared.properties;
  for (const std::string& flow_name : routes->second) {
    auto versions = flows_.flows.find(flow_name);
    if (versions != flows_.flows.end()) apply_to_flow(flow_name, versions->second, in);
  }
}

// An event without the key's property reaches every journey of the user and
// flow; with it, only the journey of that key (docs/flows.md#routing-which-events-reach-which-journeys).
bool Processor::reaches(const Journey& j, const Incoming& in) {
  const FlowVersions& versions = flows_.flows.at(j.rec.flow);
  const nodes::CompiledFlow* flow = versions.find(j.rec.version);
  if (flow == nullptr || flow->trigger_key() == nullptr) return true;
  nodes::FlowScope scope(trigger_profile(*flow, j.rec.user_id), &in.view, nullptr, {}, now_);
  if (flow->trigger_key()->reads_behaviour())
    scope.set_behaviour(behaviour_for(*flow, j.rec.user_id));
  expr::ValueView key = flow->trigger_key()->evaluate(scope);
  return key.is_null() || expr::to_display(key) == j.rec.key;
}

void Processor::apply_to_flow(const std::string& flow_name, const FlowVersions& versions,
                              Incoming& in) {
  const Event& e = in.event();
  std::vector<Journey> journeys;
  for (JourneyRecord& r : store_.journeys_of(e.user_id, flow_name))
    journeys.emplace_back(std::move(r));

  credit_goal(journeys, versions, in);

  // 2. exit_on ends live journeys wherever they are and cancels their timers.
  for (Journey& j : journeys) {
    if (!is_live(j.rec.state) || !reaches(j, in)) continue;
    const nodes::CompiledFlow* flow = versions.find(j.rec.version);
    if (!flow) continue;
    const auto& exits = flow->ir().exit_on;
    if (std::none_of(exits.begin(), exits.end(),
                     [&](const ir::Name& n) { return n.value == e.type; }))
      continue;
    end_journey(j, Lifecycle::kExited, "exit_on:" + e.type,
                "exit_on '" + e.type + "': journey exited");
    ++counters_.journeys_exited;
  }

  // A stopped flow's live journeys are being exited (Engine::change_flow_state).
  if (versions.state == FlowState::kStopped || versions.state == FlowState::kArchived) return;

  // 3. Wake journeys waiting for this event type. In a paused flow the wait
  //    takes the event (it is not lost) and the journey holds before its next node.
  for (Journey& j : journeys) {
    if (!is_waiting(j.rec.state) || j.rec.waiting_for != e.type || !reaches(j, in)) continue;
    const nodes::CompiledFlow* flow = versions.find(j.rec.version);
    if (!flow) continue;
    run(j, *flow, nodes::InputKind::kEvent, &in, 0, "event:" + e.type);
  }

  // 4. Trigger: start a journey on the newest version, subject to `when` and
  //    re_entry; a paused flow starts none.
  if (versions.state != FlowState::kActive) return;
  const nodes::CompiledFlow* newest = versions.newest();
  if (!newest || newest->ir().trigger.event.value != e.type) return;
  nodes::FlowScope scope(trigger_profile(*newest, e.user_id), &in.view, nullptr, {}, now_);
  for (const expr::Program* p : {newest->trigger_when(), newest->trigger_key()})
    if (p && p->reads_behaviour()) scope.set_behaviour(behaviour_for(*newest, e.user_id));
  if (newest->trigger_when() && !newest->trigger_when()->test(scope)) return;
  std::string key;
  if (newest->trigger_key()) {
    expr::ValueView v = newest->trigger_key()->evaluate(scope);
    if (!v.is_null()) key = expr::to_display(v);
  }
  const Journey* previous = nullptr;  // newest journey of the same key
  for (const Journey& j : journeys) {
    if (j.rec.key != key) continue;
    if (is_live(j.rec.state)) return;  // one live journey per user, flow and key
    previous = &j;
  }
  if (previous && !may_enter_again(*newest, previous->rec)) return;
  if (is_held_out(*newest, e.user_id)) {
    hold_out(*newest, in, e.user_id, key);
    return;
  }
  start_journey(*newest, in, e.user_id, key);
}

bool Processor::may_enter_again(const nodes::CompiledFlow& flow,
                                const JourneyRecord& previous) const {
  const ir::ReEntry& re = flow.ir().re_entry;
  if (re.policy == ir::ReEntryPolicy::kNever) return false;
  if (re.policy == ir::ReEntryPolicy::kAfter) {
    const TimeMs wait = re.after ? re.after->seconds * 1000 : 0;
    if (now_ < previous.entered_at + wait) return false;
  }
  return true;
}

// The run's key makes a second entry by the same run impossible, even if a
// batch of the walk were applied twice; the cursor makes that rare anyway.
BroadcastEntry Processor::enter_broadcast(const nodes::CompiledFlow& flow, const BroadcastRun& run,
                                          const std::string& user_id,
                                          const std::string& traits_json, TimeMs& due) {
  // The walk read the traits already: no second lookup for the profile.
  auto profile = std::make_unique<Profile>();
  profile->json = traits_json;
  profile->record = record_from_json(profile->json);
  const Profile& p = *(profiles_[user_id] = std::move(profile));
  if (run.in_user_time_zone) {
    const nodes::ZoneChoice zone = nodes::journey_zone(&p.record, delivery_->default_timezone);
    due = nodes::local_instant(run.at, zone.name);
    if (due > now_) return BroadcastEntry::kNotDue;
  }
  if (const expr::Program* audience = flow.audience()) {
    nodes::FlowScope scope(&p.record, nullptr, nullptr, {}, now_, delivery_->default_timezone);
    if (audience->reads_behaviour()) scope.set_behaviour(behaviour_for(flow, user_id));
    if (!audience->test(scope)) return BroadcastEntry::kSkipped;
  }
  std::optional<JourneyRecord> previous;
  for (JourneyRecord& r : store_.journeys_of(user_id, flow.name())) {
    if (r.key == run.key || is_live(r.state)) return BroadcastEntry::kSkipped;
    previous = std::move(r);
  }
  if (previous && !may_enter_again(flow, *previous)) return BroadcastEntry::kSkipped;
  Incoming in;
  in.prepared = run.event;
  in.time = now_;
  in.view.id = run.event->event.id;
  in.view.type = run.event->event.type;
  in.view.time = now_;
  in.view.properties = &run.event->properties;
  if (is_held_out(flow, user_id)) {
    hold_out(flow, in, user_id, run.key);
  } else {
    start_journey(flow, in, user_id, run.key);
  }
  return BroadcastEntry::kEntered;
}

// The global holdout (docs/results.md#global-holdout): a stable hash of the
// user id (salted, so it is independent of A/B splits) puts `holdout.percent`
// of users out of every marketing flow.
bool Processor::is_held_out(const nodes::CompiledFlow& flow, const std::string& user_id) const {
  const double percent = delivery_->holdout_percent;
  if (!(percent > 0) || flow.ir().category_value() != ir::FlowCategory::kMarketing) return false;
  const double point =
      static_cast<double>(nodes::stable_hash({"trellis holdout", user_id}) >> 11) * 0x1.0p-53;
  return point * 100 < percent;
}

// A held-out user gets an ended journey at kHoldoutNode instead of a run:
// nothing is sent, but re-entry rules and the goal's window apply to it as to
// a journey, so its conversions compare with the exposed users' ones.
void Processor::hold_out(const nodes::CompiledFlow& flow, Incoming& in, const std::string& user_id,
                         const std::string& key) {
  JourneyRecord r = entering(flow, in, user_id, key);
  r.state = Lifecycle::kExited;
  r.node = kHoldoutNode;
  r.ended_at = now_;
  Journey j(std::move(r), &in);
  j.is_new = true;
  ++rollup(j, kHoldoutNode).entered;
  append_step(j, kHoldoutNode, "holdout", "user in the global holdout: no marketing flow");
  save(j);
}

// 1. Goal (docs/results.md#goals): the newest journey the event reaches whose
//    window (entry + `within`) holds the event and whose goal's `where`
//    accepts it is credited, once: a journey that converted already takes no
//    second conversion, and no older journey takes this one. Ended journeys
//    count too, so holdout variants count conversions after they finish.
void Processor::credit_goal(std::vector<Journey>& journeys, const FlowVersions& versions,
                            const Incoming& in) {
  const Event& e = in.event();
  for (auto it = journeys.rbegin(); it != journeys.rend(); ++it) {
    const nodes::CompiledFlow* flow = versions.find(it->rec.version);
    if (!flow || !flow->ir().goal) continue;
    const ir::Goal& goal = *flow->ir().goal;
    if (goal.event.value != e.type || now_ < it->rec.entered_at ||
        now_ > it->rec.entered_at + goal.window_seconds() * 1000 || !reaches(*it, in))
      continue;
    nodes::FlowScope scope(trigger_profile(*flow, it->rec.user_id), &in.view, nullptr, {}, now_);
    for (const expr::Program* p : {flow->goal_where(), flow->goal_value()})
      if (p && p->reads_behaviour()) scope.set_behaviour(behaviour_for(*flow, it->rec.user_id));
    if (flow->goal_where() && !flow->goal_where()->test(scope)) continue;
    Journey& j = *it;
    if (j.rec.converted_at) return;
    j.rec.converted_at = now_;
    std::string reason = "goal '" + e.type + "' reached: conversion";
    if (flow->goal_value()) {
      const expr::ValueView value = flow->goal_value()->evaluate(scope);
      if (value.type == expr::Type::kNumber && std::isfinite(value.number)) {
        j.rec.revenue = value.number;
        reason += " worth " + expr::to_display(value);
      }
    }
    j.rec.converted_after = j.rec.last_message;
    if (!j.rec.last_message.empty()) reason += " after '" + j.rec.last_message + "'";
    const double revenue = j.rec.revenue.value_or(0);
    const std::string flow_row = j.rec.node == kHoldoutNode ? kHoldoutNode : std::string();
    for (const std::string& node : {flow_row, j.rec.converted_after}) {
      RollupCounts& c = rollup(j, node);
      ++c.converted;
      c.revenue += revenue;
      c.revenue_sq += revenue * revenue;
      if (j.rec.converted_after.empty()) break;  // no message: the flow's row only
    }
    append_step(j, j.rec.node, "goal:" + e.type, std::move(reason));
    save(j);
    return;
  }
}

// A journey's row as `in` starts it now, with its id; the caller sets its
// state and node. Written once, when its first step ends (save), not inserted
// then updated.
JourneyRecord Processor::entering(const nodes::CompiledFlow& flow, Incoming& in,
                                  const std::string& user_id, const std::string& key) {
  JourneyRecord r;
  r.flow = flow.name();
  r.version = static_cast<int>(flow.version());
  r.user_id = user_id;
  r.key = key;
  r.trigger_event = in.stored_json();
  r.last_event = "{}";
  r.entered_at = r.updated_at = now_;
  r.id = must(store_.new_journey_id());
  return r;
}

void Processor::start_journey(const nodes::CompiledFlow& flow, Incoming& in,
                              const std::string& user_id, const std::string& key) {
  JourneyRecord r = entering(flow, in, user_id, key);
  r.state = Lifecycle::kEntered;
  r.node = flow.ir().start.value;
  r.visits = r.node + "=1";
  Journey j(std::move(r), &in);
  j.is_new = true;
  ++counters_.journeys_started;
  ++rollup(j, "").entered;
  j.rec.state = transition(j.rec.state, LifecycleInput::kStart).value_or(Lifecycle::kRunning);
  run(j, flow, nodes::InputKind::kEntry, nullptr, 0, "entry");
}

std::optional<std::string> Processor::merged_into(const std::string& id) {
  if (id.empty()) return std::nullopt;
  return store_.merged_into(id);
}

// Merges an anonymous id into a known user, in the writer's transaction, so
// no other input of either id runs in between (the engine applies inputs one
// at a time). The first link of an anonymous id wins: a later identify that
// names it with another user changes nothing (docs/events.md#identity).
void Processor::merge_identity(const std::string& anonymous_id, const std::string& user_id) {
  if (anonymous_id == user_id) return;
  must(store_.lock_user(anonymous_id));  // its journeys move to the user
  if (merged_into(anonymous_id)) return;
  // Traits: the known user's win over the visitor's.
  if (std::optional<std::string> visitor = store_.profile(anonymous_id)) {
    const std::string merged = merge_json_objects(*visitor, profile_of(user_id).json);
    must(store_.put_profile(user_id, merged, now_));
  }
  settle_merge_conflicts(anonymous_id, user_id);
  must(store_.merge_user(anonymous_id, user_id, now_));
  profiles_.erase(anonymous_id);
  profiles_.erase(user_id);
  behaviours_.erase(anonymous_id);
  behaviours_.erase(user_id);
}

// One live journey per user, flow and key: when both ids have one, the older
// goes on and the other exits with reason `merged`.
void Processor::settle_merge_conflicts(const std::string& anonymous_id,
                                       const std::string& user_id) {
  std::vector<JourneyRecord> visitor = store_.journeys_of(anonymous_id, "");
  if (visitor.empty()) return;
  std::vector<JourneyRecord> known = store_.journeys_of(user_id, "");
  auto older = [](const JourneyRecord& a, const JourneyRecord& b) {
    return std::tie(a.entered_at, a.id) < std::tie(b.entered_at, b.id);
  };
  for (JourneyRecord& v : visitor) {
    if (!is_live(v.state)) continue;
    for (JourneyRecord& k : known) {
      if (!is_live(k.state) || k.flow != v.flow || k.key != v.key) continue;
      JourneyRecord& kept = older(v, k) ? v : k;
      Journey other(older(v, k) ? k : v);
      end_journey(
          other, Lifecycle::kExited, "merged",
          "merged: journey " + std::to_string(kept.id) + " of the same flow and key goes on");
      ++counters_.journeys_exited;
      (older(v, k) ? k : v).state = other.rec.state;  // ended: no further conflict
      break;
    }
  }
}

namespace {

// The id erased journeys and deliveries keep: names nobody, differs per erasure.
std::string erased_user_id() {
  static std::mt19937_64 random{std::random_device{}()};
  char text[32];
  std::snprintf(text, sizeof text, "erased-%016llx", static_cast<unsigned long long>(random()));
  return text;
}

}  // namespace

ErasureSummary Processor::erase_user(const std::string& user_id) {
  ErasureSummary out;
  must(store_.lock_user(user_id));
  std::vector<JourneyRecord> journeys = store_.journeys_of(user_id, "");
  out.journeys = static_cast<int64_t>(journeys.size());
  for (JourneyRecord& r : journeys) {
    if (!is_live(r.state)) continue;
    Journey j(std::move(r));
    end_journey(j, Lifecycle::kExited, "erased", "erased");
    ++out.journeys_exited;
    ++counters_.journeys_exited;
  }
  const BehaviourRecord behaviour = store_.behaviour(user_id);
  out.held = !journeys.empty() || store_.profile(user_id) || !store_.consent(user_id).empty() ||
             !store_.merged_ids(user_id).empty() || store_.merged_into(user_id) ||
             !store_.retained_events({user_id, INT64_MIN, INT64_MAX, INT64_MIN, 0, 1}).empty() ||
             !behaviour.buckets.empty() || !behaviour.last_seen.empty();
  out.deliveries = must(store_.erase_user(user_id, erased_user_id()));
  profiles_.erase(user_id);
  behaviours_.erase(user_id);
  return out;
}

void Processor::append_step(Journey& j, const std::string& node, const std::string& input,
                            std::string reason) {
  StepRecord s;
  s.journey_id = j.rec.id;
  s.flow = j.rec.flow;
  s.seq = j.rec.steps++;
  s.node = node;
  s.input = input;
  s.at = now_;
  s.reason = std::move(reason);
  // A node's entries are its steps on input "entry", counted after the node
  // decided: an A/B node's row then names the variant it gave.
  if (input == "entry") ++rollup(j, node).entered;
  if (j.pending_steps.empty()) j.pending_steps.reserve(8);
  j.pending_steps.push_back(std::move(s));  // written by save()
}

void Processor::save(Journey& j) {
  j.unsaved = false;
  j.rec.visits = encode_visit_counts(j.visits);
  j.rec.coupon_code = encode_coupons(j.coupons);
  j.rec.updated_at = now_;
  if (!j.pending_steps.empty()) {
    must(store_.append_history(j.rec, j.pending_steps));
    j.pending_steps.clear();
  }
  if (j.is_new) {
    must(store_.insert_journey(j.rec));
    j.is_new = false;
  } else {
    must(store_.update_journey(j.rec));
  }
}

void Processor::end_journey(Journey& j, Lifecycle to, const std::string& input,
                            const std::string& reason) {
  const LifecycleInput how = to == Lifecycle::kCompleted ? LifecycleInput::kComplete
                             : to == Lifecycle::kExited  ? LifecycleInput::kExitOn
                                                         : LifecycleInput::kFail;
  Lifecycle from = j.rec.state;
  if (from == Lifecycle::kEntered && how == LifecycleInput::kComplete) from = Lifecycle::kRunning;
  if (is_waiting(from) && how == LifecycleInput::kComplete) from = Lifecycle::kRunning;
  j.rec.state = transition(from, how).value_or(to);
  j.rec.ended_at = now_;
  ++rollup(j, "").exited;
  ++rollup(j, j.rec.node).exited;
  j.rec.waiting_for.clear();
  j.rec.timer.reset();
  if (!input.empty()) append_step(j, j.rec.node, input, reason);
  save(j);
}

std::optional<std::string> Processor::resolve_claim(Journey& j, const std::string& node_id,
                                                    const nodes::CouponClaim& claim) {
  if (!claim.pool.empty()) return must(store_.claim_coupon(claim.pool, j.rec.id, now_));
  if (!claim.generate) return claim.candidate;
  // Generated codes: the candidate is deterministic per journey and node, so a
  // replayed step yields the same code. Issued codes are kept in a pool of
  // their own ("~generated:<prefix>"), claimed at once; a collision retries
  // with the next attempt of the same deterministic sequence.
  const std::string pool = "~generated:" + claim.generate->prefix;
  std::string code = claim.candidate;
  for (uint32_t attempt = 1; attempt <= 16; ++attempt) {
    if (must(store_.add_coupon_codes(pool, {code})) == 1)
      return must(store_.claim_coupon(pool, j.rec.id, now_));
    code = nodes::generate_coupon_code(*claim.generate, j.id_text + "/" + node_id, attempt);
  }
  return std::nullopt;  // 16 collisions in a row: treat the generator as exhausted
}

nodes::JourneyView Processor::view_of(Journey& j, const nodes::CompiledFlow& flow,
                                      const nodes::CompiledNode& node, const Incoming* event) {
  nodes::JourneyView view;
  view.journey_id = j.id_text;
  view.flow = j.rec.flow;
  view.flow_version = j.rec.version;
  view.user_id = j.rec.user_id;
  view.profile = profile_for(node, j.rec.user_id);
  if (reads_events(flow)) {
    view.trigger_event = j.trigger_view();
    if (!view.trigger_event && event) view.trigger_event = &event->view;
    view.last_event = j.last_view();
  }
  view.coupon_code = j.newest_coupon();
  view.coupon_given_here = j.coupon_at(node.id());
  view.visit = static_cast<uint32_t>(std::max(1, j.visits[node.id()]));
  view.now = now_;
  view.default_timezone = delivery_->default_timezone;  // lives as long as the processor
  view.behaviour = behaviour_for(flow, j.rec.user_id);
  return view;
}

// Writes what a decision asks for: outbox rows (keyed journey:node:visit) as
// governance judges them, with the verdict added to the step's `reason`; timer
// rows, the consumed event, the coupon held and the A/B variant taken.
void Processor::record_effects(Journey& j, const nodes::CompiledFlow& flow,
                               const nodes::CompiledNode& node, const nodes::Decision& d,
                               const Incoming* event, std::string& reason) {
  if (d.consumed_event && event) {
    j.rec.last_event = const_cast<Incoming*>(event)->stored_json();
    Journey::load_event(j.rec.last_event, j.last);
  }
  if (d.coupon_given) j.coupons.emplace_back(node.id(), *d.coupon_given);
  // In this step's transaction, and in the cache later nodes of the step read.
  if (!d.profile_update.empty()) merge_profile(j.rec.user_id, d.profile_update);
  const int visit = std::max(1, j.visits[node.id()]);
  for (size_t i = 0; i < d.deliveries.size(); ++i) {
    const nodes::Delivery& out = d.deliveries[i];
    DeliveryRecord rec;
    rec.key = j.id_text + ":" + node.id() + ":" + std::to_string(visit);
    if (i > 0) rec.key += "#" + std::to_string(i);
    rec.journey_id = j.rec.id;
    rec.channel = std::string(nodes::channel_name(out.channel));
    rec.user_id = j.rec.user_id;
    rec.flow = j.rec.flow;
    rec.flow_version = j.rec.version;
    rec.node = node.id();
    rec.at = now_;
    rec.to = out.to;
    rec.subject = out.subject;
    rec.body = out.body;
    rec.next_attempt_at = now_;
    rec.release_at = now_;
    rec.variant = j.rec.variant;
    insert_governed(rec, flow, reason);
    // Attribution: the newest message that governance did not end.
    if (rec.channel != "coupon" && rec.status != DeliveryStatus::kSuppressed &&
        rec.status != DeliveryStatus::kDropped)
      j.rec.last_message = node.id();
  }
  for (const nodes::TimerChange& t : d.timers) {
    if (t.op == nodes::TimerChange::Op::kCancel) {
      j.rec.timer.reset();
    } else {
      j.rec.timer = JourneyTimer{t.due, node.id(), visit};  // written by save()
      note_wake_up(t.due);
    }
  }
  if (!d.variant.empty()) {
    append_variant(j.rec.variant, node.id(), d.variant);
  }
}

void Processor::count_verdict(DeliveryStatus status) {
  if (status == DeliveryStatus::kDeferred) ++counters_.deliveries_deferred;
  if (status == DeliveryStatus::kSuppressed) ++counters_.deliveries_suppressed;
  if (status == DeliveryStatus::kDropped) ++counters_.deliveries_dropped;
}

// The message is inserted as the rules say: released now (pending), held
// until a later instant (deferred), or ended (suppressed, dropped). The
// journey moves on either way; the release pass judges deferred ones again.
void Processor::insert_governed(DeliveryRecord& rec, const nodes::CompiledFlow& flow,
                                std::string& reason) {
  const ir::Flow& ir = flow.ir();
  rec.category = std::string(ir::flow_category_name(ir.category_value()));
  rec.priority = ir.priority_value();
  const governance::Verdict verdict = judge(rec, ir.on_cap_value());
  switch (verdict.outcome) {
    case governance::Outcome::kSend:
      break;
    case governance::Outcome::kDefer:
      rec.status = DeliveryStatus::kDeferred;
      rec.release_at = rec.next_attempt_at = verdict.until;
      note_wake_up(verdict.until);
      break;
    case governance::Outcome::kSuppress:
      rec.status = DeliveryStatus::kSuppressed;
      rec.release_at = 0;
      break;
    case governance::Outcome::kDrop:
      rec.status = DeliveryStatus::kDropped;
      rec.release_at = 0;
      break;
  }
  rec.last_error = verdict.reason;
  if (must(store_.insert_delivery(rec))) {
    ++counters_.deliveries_created;
    count_verdict(rec.status);
    if (options_.rollups && rec.channel != "coupon")
      ++rollups_.messages[MessageKey{hour_of(rec.at), rec.flow, rec.flow_version, rec.node,
                                     rec.channel, rec.variant, static_cast<int>(rec.status)}];
  }
  if (!verdict.reason.empty()) {
    reason += "; ";
    reason += verdict.reason;
  }
}

// Gathers what the rules need about the message's user, reading only what
// the configuration makes relevant (released messages for caps, the zone for
// quiet hours), and judges the message at the batch's time.
governance::Verdict Processor::judge(const DeliveryRecord& rec, ir::CapPolicy on_cap) {
  const delivery::DeliveryConfig& config = *delivery_;
  if (!governance::is_governed_channel(config, rec.channel)) return governance::Verdict{};
  const governance::Message message{rec.key, rec.channel, category_from(rec.category), on_cap,
                                    rec.at};
  governance::UserFacts user;
  user.user_id = rec.user_id;
  user.consent = store_.consent(rec.user_id);
  if (message.category != ir::FlowCategory::kTransactional) {
    if (governance::caps_apply(config, rec.channel))
      user.released =
          store_.released_since(rec.user_id, now_ - governance::longest_cap_window(config));
    if (governance::quiet_hours_apply(config, rec.channel))
      user.zone = std::string(profile_of(rec.user_id).record.get("timezone").string());
  }
  return governance::judge(config, message, user, now_);
}

size_t Processor::release_deferred(size_t limit) {
  size_t judged = 0;
  std::unordered_set<std::string> users;  // judged in this window: each user's due ones at once
  for (const DeliveryRecord& due : must(store_.due_deferred(now_, limit))) {
    if (!users.insert(due.user_id).second) continue;
    must(store_.lock_user(due.user_id));  // its journeys record the verdicts
    for (const DeliveryRecord& d : must(store_.due_deferred_of_user(due.user_id, now_))) {
      judge_again(d);
      ++judged;
    }
  }
  return judged;
}

// A deferred message whose time came: the rules again, with what changed
// meanwhile (consent, messages released since). What became of it goes to
// its journey's trace as a step of the node that produced it.
void Processor::judge_again(const DeliveryRecord& deferred) {
  auto versions = flows_.flows.find(deferred.flow);
  const nodes::CompiledFlow* flow =
      versions == flows_.flows.end() ? nullptr : versions->second.find(deferred.flow_version);
  const ir::CapPolicy on_cap = flow ? flow->ir().on_cap_value() : ir::CapPolicy::kDefer;
  // A flow stopped while its message was held must not speak afterwards: the
  // marketer who stops a flow with a wrong coupon expects silence from it.
  const bool flow_stopped =
      versions != flows_.flows.end() && (versions->second.state == FlowState::kStopped ||
                                         versions->second.state == FlowState::kArchived);
  const governance::Verdict verdict =
      flow_stopped ? governance::Verdict{governance::Outcome::kSuppress, 0, "flow stopped"}
                   : judge(deferred, on_cap);
  std::string step;
  switch (verdict.outcome) {
    case governance::Outcome::kSend:
      must(store_.set_delivery_verdict(deferred.id, DeliveryStatus::kPending, now_, ""));
      ++counters_.deliveries_released;
      step = deferred.channel + " released; it was " + deferred.last_error;
      break;
    case governance::Outcome::kDefer:
      must(store_.set_delivery_verdict(deferred.id, DeliveryStatus::kDeferred, verdict.until,
                                       verdict.reason));
      count_verdict(DeliveryStatus::kDeferred);
      note_wake_up(verdict.until);
      step = verdict.reason;
      break;
    case governance::Outcome::kSuppress:
    case governance::Outcome::kDrop: {
      const DeliveryStatus status = verdict.outcome == governance::Outcome::kSuppress
                                        ? DeliveryStatus::kSuppressed
                                        : DeliveryStatus::kDropped;
      must(store_.set_delivery_verdict(deferred.id, status, 0, verdict.reason));
      count_verdict(status);
      step = verdict.reason;
      break;
    }
  }
  if (std::optional<JourneyRecord> record = store_.journey(deferred.journey_id)) {
    Journey j(std::move(*record));
    append_step(j, deferred.node, "release", std::move(step));
    save(j);
  }
}

void Processor::note_wake_up(TimeMs at) {
  if (!earliest_armed_ || at < *earliest_armed_) earliest_armed_ = at;
}

void Processor::wait(Journey& j, const nodes::Awaiting& awaiting) {
  if (is_waiting(j.rec.state))
    j.rec.state = transition(j.rec.state, LifecycleInput::kWake).value_or(Lifecycle::kRunning);
  const bool timer = awaiting.timer_due.has_value();
  j.rec.state =
      transition(j.rec.state, timer ? LifecycleInput::kWaitTimer : LifecycleInput::kWaitEvent)
          .value_or(timer ? Lifecycle::kWaitingTimer : Lifecycle::kWaitingEvent);
  j.rec.waiting_for = awaiting.event_type;
  save(j);
}

void Processor::move_to(Journey& j, const std::string& next) {
  j.rec.timer.reset();  // leaving a node ends its wait
  if (is_waiting(j.rec.state)) {
    j.rec.state = transition(j.rec.state, LifecycleInput::kWake).value_or(Lifecycle::kRunning);
    j.rec.waiting_for.clear();
    ++counters_.journeys_woken;
  }
  if (options_.rollups) ++rollups_.edges[EdgeKey{j.rec.flow, j.rec.version, j.rec.node, next}];
  j.rec.node = next;
  ++j.visits[next];
}

// Runs the journey from its current node until it waits or ends: each node
// decides, its effects are written, and `kNext` enters the next node at once.
void Processor::run(Journey& j, const nodes::CompiledFlow& flow, nodes::InputKind input_kind,
                    const Incoming* event, TimeMs timer_due, std::string input_name) {
  std::optional<std::string> coupon;
  for (int n = 0; n < options_.max_nodes_per_step; ++n) {
    if (n > 0 && input_kind == nodes::InputKind::kEntry && flow_holds(j.rec.flow)) {
      // Paused: the journey holds here, running but not waiting; resume enters the node.
      append_step(j, j.rec.node, "pause", "held before this step: the flow is paused");
      save(j);
      return;
    }
    const nodes::CompiledNode* node = flow.find(j.rec.node);
    if (node == nullptr) {
      end_journey(j, Lifecycle::kFailed, input_name,
                  "node '" + j.rec.node + "' is not in version " + std::to_string(j.rec.version));
      return;
    }
    const nodes::JourneyView view = view_of(j, flow, *node, event);
    nodes::Input input;
    switch (input_kind) {
      case nodes::InputKind::kEntry:
        input = nodes::Input::entry();
        break;
      case nodes::InputKind::kEvent:
        input = nodes::Input::of_event(event->view);
        break;
      case nodes::InputKind::kTimer:
        input = nodes::Input::of_timer(timer_due);
        break;
      case nodes::InputKind::kCoupon:
        input = nodes::Input::of_coupon(coupon);
        break;
    }
    nodes::Decision d = nodes::decide(flow, *node, view, input);
    if (d.ignored) {
      // Nothing concerned the journey; an entry that is ignored would stall it.
      if (input_kind == nodes::InputKind::kEntry)
        end_journey(j, Lifecycle::kFailed, input_name, d.reason);
      else if (j.unsaved)
        save(j);
      return;
    }
    if (d.claim) {
      // Coupon, first phase: claim in this transaction, then ask the node again.
      coupon = resolve_claim(j, node->id(), *d.claim);
      input_kind = nodes::InputKind::kCoupon;
      continue;
    }
    j.unsaved = true;
    record_effects(j, flow, *node, d, event, d.reason);
    append_step(j, node->id(), input_name, std::move(d.reason));
    switch (d.transition) {
      case nodes::Transition::kNext:
        move_to(j, d.next);
        input_kind = nodes::InputKind::kEntry;
        input_name = "entry";
        coupon.reset();
        continue;
      case nodes::Transition::kWait:
        wait(j, d.awaiting);
        return;
      case nodes::Transition::kEnd:
        end_journey(
            j, d.ending == nodes::Ending::kCompleted ? Lifecycle::kCompleted : Lifecycle::kFailed,
            "", "");
        return;
    }
  }
  end_journey(j, Lifecycle::kFailed, input_name,
              "ran " + std::to_string(options_.max_nodes_per_step) +
                  " nodes without waiting: a cycle without a wait");
}

bool Processor::flow_holds(const std::string& flow) const {
  auto it = flows_.flows.find(flow);
  return it != flows_.flows.end() && it->second.state != FlowState::kActive;
}

void Processor::note_step(JourneyRecord journey, const std::string& input,
                          const std::string& reason) {
  Journey j(std::move(journey));
  append_step(j, j.rec.node, input, reason);
  save(j);
}

void Processor::resume_journey(JourneyRecord journey, const std::string& reason, TimeMs shift_ms) {
  Journey j(std::move(journey));
  if (j.rec.timer && shift_ms > 0) {
    j.rec.timer->due += shift_ms;
    note_wake_up(j.rec.timer->due);
  } else if (j.rec.timer) {
    note_wake_up(j.rec.timer->due);
  }
  append_step(j, j.rec.node, "resume", reason);
  auto versions = flows_.flows.find(j.rec.flow);
  const nodes::CompiledFlow* flow =
      versions == flows_.flows.end() ? nullptr : versions->second.find(j.rec.version);
  // Running at rest means held before its node by the pause: it enters it now.
  if (j.rec.state == Lifecycle::kRunning && flow) {
    run(j, *flow, nodes::InputKind::kEntry, nullptr, 0, "entry");
    return;
  }
  save(j);
}

void Processor::stop_journey(JourneyRecord journey, const std::string& reason) {
  Journey j(std::move(journey));
  end_journey(j, Lifecycle::kExited, "stop", reason);
  ++counters_.journeys_exited;
}

void Processor::migrate_journey(JourneyRecord journey, const nodes::CompiledFlow& target,
                                const std::string& node, bool restart, const std::string& reason) {
  Journey j(std::move(journey));
  const ir::WaitNode* wait = target.find(node)->node->as<ir::WaitNode>();
  const bool timed = wait->wait_for.has_value() || wait->until_time.has_value();
  j.rec.version = static_cast<int>(target.version());
  j.rec.node = node;
  if (restart || (timed && !j.rec.timer)) {
    ++j.visits[node];
    j.rec.timer.reset();
    append_step(j, node, "migrate", reason + "; enters the wait afresh");
    run(j, target, nodes::InputKind::kEntry, nullptr, 0, "migrate");
    return;
  }
  j.visits[node] = std::max(1, j.visits[node]);
  if (timed) {
    j.rec.timer = JourneyTimer{j.rec.timer->due, node, j.visits[node]};
    note_wake_up(j.rec.timer->due);
  } else {
    j.rec.timer.reset();
  }
  j.rec.waiting_for = wait->until_event ? wait->until_event->event.value : "";
  append_step(
      j, node, "migrate",
      reason + (timed ? "; timer due " + governance::trace_time(j.rec.timer->due) + " kept" : ""));
  save(j);
}

void Processor::fire_timer(JourneyRecord due) {
  if (!due.timer) return;
  if (auto versions = flows_.flows.find(due.flow); versions != flows_.flows.end()) {
    const FlowState state = versions->second.state;
    if (state == FlowState::kPaused) return;  // the store leaves these out; kept for resume
    if (state == FlowState::kStopped || state == FlowState::kArchived) {
      stop_journey(std::move(due), "flow stopped: the journey exits");
      return;
    }
  }
  const JourneyTimer timer = *due.timer;
  Journey j(std::move(due));
  j.rec.timer.reset();  // fired: it is consumed by this step whatever the journey does
  j.unsaved = true;
  // A timer of an earlier visit, or of a journey that moved on, is stale.
  auto versions = flows_.flows.find(j.rec.flow);
  const nodes::CompiledFlow* flow =
      versions == flows_.flows.end() ? nullptr : versions->second.find(j.rec.version);
  if (j.rec.state != Lifecycle::kWaitingTimer || j.rec.node != timer.node ||
      j.visits[timer.node] != timer.visit || !flow) {
    save(j);
    return;
  }
  run(j, *flow, nodes::InputKind::kTimer, nullptr, timer.due, "timer");
}

}  // namespace trellis::runtime

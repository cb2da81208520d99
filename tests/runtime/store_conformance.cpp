#include "store_conformance.h"

#include <catch2/catch.hpp>
#include <algorithm>
#include <map>

namespace trellis::testing {

using namespace runtime;

namespace {

JourneyRecord journey_of(Store& store, const std::string& user) {
  JourneyRecord j;
  auto id = store.new_journey_id();
  REQUIRE(id.ok());
  j.id = id.value();
  j.flow = "cart_reminder";
  j.version = 1;
  j.user_id = user;
  j.state = Lifecycle::kRunning;
  j.node = "wait_pay";
  j.trigger_event = R"({"id":"e1","type":"cart_updated","time":5,"properties":{"total":12}})";
  j.last_event = "{}";
  j.visits = "wait_pay=1";
  return j;
}

DeliveryRecord delivery_of(const std::string& key, const std::string& user) {
  DeliveryRecord d;
  d.key = key;
  d.journey_id = 1;
  d.channel = "email";
  d.user_id = user;
  d.flow = "f";
  d.node = "mail";
  d.at = 10;
  d.next_attempt_at = 10;
  d.release_at = 10;
  return d;
}

void commit_survives_rollback_leaves_nothing(StoreBackend& backend) {
  int64_t id = 0;
  {
    auto store = backend.fresh();
    REQUIRE(store->begin().ok());
    JourneyRecord waiting = journey_of(*store, "u1");
    id = waiting.id;
    waiting.timer = JourneyTimer{1000, "wait_pay", 1};
    REQUIRE(store
                ->append_history(waiting,
                                 {{id, "cart_reminder", 0, "wait_pay", "entry", 5, "armed 72h"}})
                .ok());
    REQUIRE(store->insert_journey(waiting).ok());
    REQUIRE(store->commit().ok());

    REQUIRE(store->begin().ok());
    REQUIRE(store->insert_journey(journey_of(*store, "u2")).ok());
    REQUIRE(store->put_profile("u2", "{}", 1).ok());
    store->rollback();
  }
  auto store = backend.reopen();
  auto j = store->journey(id);
  REQUIRE(j.has_value());
  CHECK(j->user_id == "u1");
  CHECK(j->visits == "wait_pay=1");
  CHECK(j->trigger_event ==
        R"({"id":"e1","type":"cart_updated","time":5,"properties":{"total":12}})");
  REQUIRE(j->timer.has_value());
  CHECK(j->timer->node == "wait_pay");
  CHECK(j->timer->visit == 1);
  CHECK(store->journeys_of("u2", "").empty());
  CHECK_FALSE(store->profile("u2").has_value());
  auto steps = store->steps(id);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].reason == "armed 72h");
  CHECK(store->next_timer_due() == 1000);
}

void a_failed_call_fails_the_commit(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  REQUIRE(store->add_flow_version({"f", 1, "a", 1}).ok());
  REQUIRE(store->commit().ok());
  REQUIRE(store->begin().ok());
  REQUIRE(store->put_profile("u1", R"({"a":1})", 2).ok());
  CHECK_FALSE(store->add_flow_version({"f", 1, "again", 2}).ok());  // the same version twice
  CHECK_FALSE(store->commit().ok());  // even though the caller goes on to commit
  CHECK_FALSE(store->profile("u1").has_value());
  // The store is usable again afterwards.
  REQUIRE(store->begin().ok());
  REQUIRE(store->put_profile("u1", R"({"a":2})", 3).ok());
  REQUIRE(store->commit().ok());
  CHECK(store->profile("u1") == std::optional<std::string>(R"({"a":2})"));
  CHECK(store->flow_versions().size() == 1);
}

void reads_own_writes_reader_sees_committed(StoreBackend& backend) {
  auto store = backend.fresh();
  auto reader = store->open_reader();
  REQUIRE(reader.ok());
  REQUIRE(store->begin().ok());
  JourneyRecord j = journey_of(*store, "u1");
  REQUIRE(store->insert_journey(j).ok());
  REQUIRE(store->put_profile("u1", R"({"age":34})", 1).ok());
  CHECK(store->journeys_of("u1", "cart_reminder").size() == 1);  // inside: its own writes
  CHECK(store->profile("u1").has_value());
  CHECK(reader.value()->journeys_of("u1", "").empty());  // a reader: committed state only
  CHECK_FALSE(reader.value()->profile("u1").has_value());
  REQUIRE(store->commit().ok());
  CHECK(reader.value()->profile("u1") == std::optional<std::string>(R"({"age":34})"));
  CHECK(reader.value()->journeys_of("u1", "cart_reminder").size() == 1);
}

void history_reads_back_in_order(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  JourneyRecord j = journey_of(*store, "u1");
  const int64_t id = j.id;
  REQUIRE(store->append_history(j, {{id, "cart_reminder", 0, "wait_pay", "entry", 5, "armed 72h"}})
              .ok());
  REQUIRE(store->insert_journey(j).ok());
  REQUIRE(store->commit().ok());
  REQUIRE(store->begin().ok());
  REQUIRE(
      store
          ->append_history(j, {{id, "cart_reminder", 1, "wait_pay", "timer", 9, "fired \"72h\"\n"},
                               {id, "cart_reminder", 2, "pick", "entry", 9, "user.name=Zo\xc3\xab"},
                               {id, "cart_reminder", 3, "sms_a", "entry", 9, "bad \xff byte"}})
          .ok());
  REQUIRE(store->update_journey(j).ok());
  // Entries are counted from the rollups the engine writes with the steps
  // (docs/results.md#rollups) where a store keeps them: what these steps write.
  RollupBatch rollups;
  for (const char* node : {"wait_pay", "pick", "sms_a"})
    rollups.at(9, "cart_reminder", 1, node, "").entered = 1;
  REQUIRE(store->add_rollups(rollups).ok());
  REQUIRE(store->commit().ok());
  store = backend.reopen();
  const auto steps = store->steps(id);
  REQUIRE(steps.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(steps[i].seq == i);
  CHECK(steps[0].at == 5);
  CHECK(steps[1].input == "timer");
  CHECK(steps[1].flow == "cart_reminder");
  CHECK(steps[1].reason == "fired \"72h\"\n");
  CHECK(steps[2].reason == "user.name=Zo\xc3\xab");
  CHECK(steps[3].reason.rfind("bad ", 0) == 0);  // invalid UTF-8 replaced, the step kept
  std::map<std::string, int64_t> entered;
  for (const auto& n : store->counts("cart_reminder").nodes) entered[n.node] = n.entered;
  CHECK(entered["wait_pay"] == 1);
  CHECK(entered["pick"] == 1);
}

void long_history_moves_out_whole(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  JourneyRecord j = journey_of(*store, "u1");
  REQUIRE(store->commit().ok());
  constexpr int kWakes = 120;
  for (int wake = 0; wake < kWakes; ++wake) {
    REQUIRE(store->begin().ok());
    const std::string reason = "wake " + std::to_string(wake) + std::string(40, '.');
    REQUIRE(
        store
            ->append_history(j, {{j.id, "cart_reminder", 2 * wake, "wait", "timer", wake, reason},
                                 {j.id, "cart_reminder", 2 * wake + 1, "loop", "entry", wake, ""}})
            .ok());
    REQUIRE((wake == 0 ? store->insert_journey(j) : store->update_journey(j)).ok());
    RollupBatch rollups;  // what the engine writes with these steps
    rollups.at(wake, "cart_reminder", 1, "loop", "").entered = 1;
    REQUIRE(store->add_rollups(rollups).ok());
    REQUIRE(store->commit().ok());
    CHECK(j.history.size() < 4096);  // the row stays small
  }
  const auto steps = store->steps(j.id);
  REQUIRE(steps.size() == 2 * kWakes);
  for (int i = 0; i < 2 * kWakes; ++i) CHECK(steps[i].seq == i);
  CHECK(steps[2 * 77].reason.rfind("wake 77.", 0) == 0);
  std::map<std::string, int64_t> entered;
  for (const auto& n : store->counts("cart_reminder").nodes) entered[n.node] = n.entered;
  CHECK(entered["loop"] == kWakes);
}

void due_timers_in_order_and_bounded(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  std::vector<int64_t> ids;
  for (TimeMs due : {500, 100, 300, 100, 900}) {
    JourneyRecord j = journey_of(*store, "u" + std::to_string(ids.size()));
    j.timer = JourneyTimer{due, "w", 1};
    ids.push_back(j.id);
    REQUIRE(store->insert_journey(j).ok());
  }
  REQUIRE(store->insert_journey(journey_of(*store, "no-timer")).ok());
  REQUIRE(store->commit().ok());
  REQUIRE(store->begin().ok());
  auto due = store->due_journeys(500, 3);
  REQUIRE(due.ok());
  REQUIRE(due.value().size() == 3);
  CHECK(due.value()[0].timer->due == 100);
  CHECK(due.value()[0].id == ids[1]);  // ties in due time go by journey id
  CHECK(due.value()[1].id == ids[3]);
  CHECK(due.value()[2].timer->due == 300);
  CHECK(due.value()[0].user_id == "u1");  // the whole journey comes with its timer
  CHECK(store->due_journeys(50, 10).value().empty());
  store->rollback();
  CHECK(store->pending_timer_count() == 5);
  CHECK(store->next_timer_due() == 100);

  REQUIRE(store->begin().ok());
  JourneyRecord rearmed = *store->journey(ids[4]);
  rearmed.timer = JourneyTimer{50, "w2", 2};
  REQUIRE(store->update_journey(rearmed).ok());
  JourneyRecord fired = *store->journey(ids[1]);
  fired.timer.reset();
  REQUIRE(store->update_journey(fired).ok());
  REQUIRE(store->commit().ok());
  CHECK(store->pending_timer_count() == 4);
  REQUIRE(store->begin().ok());
  auto first = store->due_journeys(50, 10);
  REQUIRE(first.ok());
  REQUIRE(first.value().size() == 1);
  CHECK(first.value()[0].id == ids[4]);
  CHECK(first.value()[0].timer->node == "w2");
  store->rollback();
  CHECK_FALSE(store->journey(ids[1])->timer.has_value());
}

void event_ids_dedupe_until_pruned(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  CHECK(store->mark_event_seen("e1", 100).value());
  CHECK_FALSE(store->mark_event_seen("e1", 200).value());
  CHECK(store->prune_events_seen(150).value() == 1);
  CHECK(store->mark_event_seen("e1", 300).value());
  REQUIRE(store->commit().ok());
  auto other = backend.reopen();  // a second process sees the same set
  REQUIRE(other->begin().ok());
  CHECK_FALSE(other->mark_event_seen("e1", 400).value());
  REQUIRE(other->commit().ok());
}

void outbox_keys_unique_attempts_tracked(StoreBackend& backend) {
  auto store = backend.fresh();
  DeliveryRecord d = delivery_of("1:mail:1", "u1");
  REQUIRE(store->begin().ok());
  CHECK(store->insert_delivery(d).value());
  CHECK_FALSE(store->insert_delivery(d).value());
  DeliveryRecord later = delivery_of("1:mail:2", "u1");
  later.channel = "sms";
  later.next_attempt_at = 12;
  CHECK(store->insert_delivery(later).value());
  REQUIRE(store->commit().ok());
  auto pending = store->pending_deliveries(10, 10);
  REQUIRE(pending.size() == 1);
  CHECK(store->pending_deliveries(12, 10).size() == 2);
  CHECK(store->pending_deliveries_of("sms", 12, 10).size() == 1);
  CHECK(store->delivery_by_key("1:mail:1")->id == pending[0].id);
  REQUIRE(store->begin().ok());
  REQUIRE(store->record_failure(pending[0].id, 1, 20, "503", false, 10).ok());
  REQUIRE(store->commit().ok());
  CHECK(store->pending_deliveries_of("email", 15, 10).empty());
  CHECK(store->pending_deliveries_of("email", 20, 10).size() == 1);
  REQUIRE(store->begin().ok());
  REQUIRE(store->record_failure(pending[0].id, 2, 40, "503", true, 20).ok());
  REQUIRE(store->mark_sent(store->delivery_by_key("1:mail:2")->id, 21).ok());
  REQUIRE(
      store->record_feedback(store->delivery_by_key("1:mail:2")->id, Feedback::kBounced, "hard", 22)
          .ok());
  REQUIRE(store->commit().ok());
  CHECK(store->pending_deliveries(100, 10).empty());
  auto dead = store->delivery(pending[0].id);
  REQUIRE(dead.has_value());
  CHECK(dead->status == DeliveryStatus::kDead);
  CHECK(dead->attempts == 2);
  CHECK(dead->last_error == "503");
  auto sent = store->delivery_by_key("1:mail:2");
  CHECK(sent->status == DeliveryStatus::kSent);
  CHECK(sent->feedback == "bounced hard");
  CHECK(store->deliveries("u1", "", 10).size() == 2);
  CHECK(store->deliveries("", "f", 1).size() == 1);
}

void coupons_once_then_dry(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  CHECK(store->add_coupon_codes("SPRING", {"C-1", "C-2", "C-1"}).value() == 2);
  CHECK(store->claim_coupon("SPRING", 1, 0).value() == std::optional<std::string>("C-1"));
  CHECK(store->claim_coupon("SPRING", 2, 0).value() == std::optional<std::string>("C-2"));
  CHECK_FALSE(store->claim_coupon("SPRING", 3, 0).value().has_value());
  REQUIRE(store->commit().ok());
  CHECK(store->coupon_codes_left("SPRING") == 0);
}

void governance_records(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  REQUIRE(store->put_consent({"u1", "sms", false, 5, "api"}).ok());
  REQUIRE(store->put_consent({"u1", "sms", true, 6, "event subscribe"}).ok());  // replaces
  REQUIRE(store->put_consent({"u1", "*", true, 7, "api"}).ok());
  DeliveryRecord deferred = delivery_of("1:mail:1", "u1");
  deferred.status = DeliveryStatus::kDeferred;
  deferred.next_attempt_at = 50;
  deferred.release_at = 50;
  deferred.priority = 10;
  DeliveryRecord urgent = delivery_of("2:mail:1", "u1");
  urgent.status = DeliveryStatus::kDeferred;
  urgent.next_attempt_at = 40;
  urgent.release_at = 40;
  urgent.priority = 90;
  DeliveryRecord suppressed = delivery_of("3:mail:1", "u1");
  suppressed.status = DeliveryStatus::kSuppressed;
  suppressed.release_at = 0;
  REQUIRE(store->insert_delivery(deferred).value());
  REQUIRE(store->insert_delivery(urgent).value());
  REQUIRE(store->insert_delivery(suppressed).value());
  REQUIRE(store->commit().ok());
  auto consent = store->consent("u1");
  REQUIRE(consent.size() == 2);
  CHECK(consent[1].channel == "sms");
  CHECK(consent[1].subscribed);
  CHECK(consent[1].reason == "event subscribe");
  CHECK(store->next_deferred_due() == 40);
  CHECK(store->released_since("u1", 0).empty());  // deferred and suppressed: not released
  REQUIRE(store->begin().ok());
  auto due = store->due_deferred(60, 10);
  REQUIRE(due.ok());
  REQUIRE(due.value().size() == 2);
  CHECK(due.value()[0].key == "2:mail:1");  // by next attempt
  auto of_user = store->due_deferred_of_user("u1", 60);
  REQUIRE(of_user.value().size() == 2);
  CHECK(of_user.value()[0].priority == 90);  // highest priority first
  REQUIRE(
      store->set_delivery_verdict(of_user.value()[0].id, DeliveryStatus::kPending, 60, "").ok());
  REQUIRE(store
              ->set_delivery_verdict(of_user.value()[1].id, DeliveryStatus::kDeferred, 90,
                                     "cap: 1 per day")
              .ok());
  REQUIRE(store->commit().ok());
  auto released = store->released_since("u1", 0);
  REQUIRE(released.size() == 1);
  CHECK(released[0].release_at == 60);
  CHECK(store->next_deferred_due() == 90);
  CHECK(store->delivery_by_key("1:mail:1")->last_error == "cap: 1 per day");
  CHECK(store->pending_deliveries(60, 10).size() == 1);
}

void counts_nodes_waiting_variants(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  auto a = journey_of(*store, "u1");
  a.state = Lifecycle::kWaitingTimer;
  a.timer = JourneyTimer{100, "wait_pay", 1};
  REQUIRE(store->append_history(a, {{a.id, "cart_reminder", 0, "wait_pay", "entry", 1, ""}}).ok());
  REQUIRE(store->insert_journey(a).ok());
  auto b = journey_of(*store, "u2");
  b.state = Lifecycle::kCompleted;
  b.node = "done";
  b.variant = "nudge=a";
  b.converted_at = 5;
  REQUIRE(store
              ->append_history(b, {{b.id, "cart_reminder", 0, "wait_pay", "entry", 1, ""},
                                   {b.id, "cart_reminder", 1, "done", "entry", 2, ""}})
              .ok());
  REQUIRE(store->insert_journey(b).ok());
  DeliveryRecord sms = delivery_of("2:sms:1", "u2");
  sms.flow = "cart_reminder";
  sms.node = "sms";
  sms.channel = "sms";
  REQUIRE(store->insert_delivery(sms).value());
  RollupBatch rollups;  // what the engine writes with these steps
  rollups.at(1, "cart_reminder", 1, "wait_pay", "").entered = 2;
  rollups.at(2, "cart_reminder", 1, "nudge", "nudge=a").entered = 1;
  rollups.at(2, "cart_reminder", 1, "done", "nudge=a").entered = 1;
  rollups.at(5, "cart_reminder", 1, "", "nudge=a").converted = 1;
  rollups.messages[MessageKey{hour_of(10), "cart_reminder", 0, "sms", "sms", "", 0}] = 1;
  REQUIRE(store->add_rollups(rollups).ok());
  REQUIRE(store->commit().ok());
  const FlowCounts c = store->counts("cart_reminder");
  CHECK(c.journeys == 2);
  CHECK(c.live == 1);
  CHECK(c.conversions == 1);
  std::map<std::string, NodeCount> nodes;
  for (const auto& n : c.nodes) nodes[n.node] = n;
  CHECK(nodes["wait_pay"].entered == 2);
  CHECK(nodes["wait_pay"].waiting == 1);
  CHECK(nodes["done"].exited == 1);
  REQUIRE(c.variants.size() == 1);
  CHECK(c.variants[0].node == "nudge");
  CHECK(c.variants[0].variant == "a");
  CHECK(c.variants[0].conversions == 1);
  REQUIRE(c.messages.size() == 1);
  CHECK(c.messages[0].created == 1);
  const FlowTotals t = store->totals("cart_reminder");
  CHECK(t.journeys == 2);
  CHECK(t.waiting == 1);
  CHECK(store->pending_timer_count() == 1);
}

// Ids are the store's: two processes on the same data never hand out one id
// twice, and a restart never reuses a committed one.
void journey_ids_unique_across_processes(StoreBackend& backend) {
  auto first = backend.fresh();
  auto second = backend.reopen();
  std::vector<int64_t> seen;
  for (int round = 0; round < 3; ++round) {
    for (Store* store : {first.get(), second.get()}) {
      REQUIRE(store->begin().ok());
      JourneyRecord j = journey_of(*store, "u" + std::to_string(seen.size()));
      seen.push_back(j.id);
      REQUIRE(store->insert_journey(j).ok());
      REQUIRE(store->commit().ok());
    }
  }
  std::sort(seen.begin(), seen.end());
  CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
  auto restarted = backend.reopen();
  REQUIRE(restarted->begin().ok());
  CHECK(restarted->new_journey_id().value() > seen.back());
  restarted->rollback();
}

// What a process may cache is re-read when another one wrote: a journey a
// second process started is found by the first (no stale journey filter).
void another_writers_journeys_are_found(StoreBackend& backend) {
  auto first = backend.fresh();
  REQUIRE(first->begin().ok());
  CHECK(first->journeys_of("late", "cart_reminder").empty());
  REQUIRE(first->commit().ok());
  auto second = backend.reopen();
  REQUIRE(second->begin().ok());
  REQUIRE(second->insert_journey(journey_of(*second, "late")).ok());
  REQUIRE(second->commit().ok());
  REQUIRE(first->begin().ok());
  REQUIRE(first->lock_user("late").ok());
  CHECK(first->journeys_of("late", "cart_reminder").size() == 1);
  REQUIRE(first->commit().ok());
}

void meta_value_first_one_wins(StoreBackend& backend) {
  auto first = backend.fresh();
  REQUIRE(first->begin().ok());
  CHECK(first->meta_value("journey_id_key", "aaa").value() == "aaa");
  REQUIRE(first->commit().ok());
  auto second = backend.reopen();
  REQUIRE(second->begin().ok());
  CHECK(second->meta_value("journey_id_key", "bbb").value() == "aaa");
  REQUIRE(second->commit().ok());
}

// Lifecycle: who deployed a version, a flow's state (the newest record wins),
// and a paused flow's timers held back from due_journeys and next_timer_due.
void flow_states_hold_paused_timers(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  REQUIRE(store->add_flow_version({"cart_reminder", 1, "src", 1, "ana"}).ok());
  JourneyRecord j = journey_of(*store, "u1");
  j.timer = JourneyTimer{100, "wait_pay", 1};
  REQUIRE(store->insert_journey(j).ok());
  REQUIRE(store->set_flow_state({"cart_reminder", "paused", 5, "ana", "typo"}).ok());
  REQUIRE(store->commit().ok());
  auto reopened = backend.reopen();
  REQUIRE(reopened->flow_versions().size() == 1);
  CHECK(reopened->flow_versions()[0].author == "ana");
  auto states = reopened->flow_states();
  REQUIRE(states.size() == 1);
  CHECK(states[0].state == "paused");
  CHECK(states[0].by == "ana");
  CHECK(states[0].reason == "typo");
  CHECK_FALSE(reopened->next_timer_due().has_value());
  REQUIRE(reopened->begin().ok());
  CHECK(reopened->due_journeys(1000, 10).value().empty());
  REQUIRE(reopened->set_flow_state({"cart_reminder", "active", 9, "bo", ""}).ok());
  REQUIRE(reopened->commit().ok());
  states = reopened->flow_states();
  REQUIRE(states.size() == 1);
  CHECK(states[0].state == "active");
  CHECK(states[0].at == 9);
  CHECK(reopened->next_timer_due() == 100);
  REQUIRE(reopened->begin().ok());
  CHECK(reopened->due_journeys(1000, 10).value().size() == 1);
  reopened->rollback();
}

// The flows' generation: moved by every deploy and state change, committed
// or not at all, and seen by another process at its next transaction.
void flows_generation_moves_with_flows(StoreBackend& backend) {
  auto store = backend.fresh();
  auto generation = [](Store& s) {
    REQUIRE(s.begin().ok());
    const Result<int64_t> g = s.flows_generation();
    s.rollback();
    REQUIRE(g.ok());
    return g.value();
  };
  const int64_t empty = generation(*store);
  REQUIRE(store->begin().ok());
  REQUIRE(store->add_flow_version({"f", 1, "a", 1}).ok());
  store->rollback();
  CHECK(generation(*store) == empty);
  auto other = backend.reopen();
  REQUIRE(store->begin().ok());
  REQUIRE(store->add_flow_version({"f", 1, "a", 1}).ok());
  REQUIRE(store->commit().ok());
  const int64_t deployed = generation(*other);
  CHECK(deployed != empty);
  REQUIRE(store->begin().ok());
  REQUIRE(store->put_profile("u1", "{}", 2).ok());  // not a flow change
  REQUIRE(store->commit().ok());
  CHECK(generation(*other) == deployed);
  REQUIRE(other->begin().ok());
  REQUIRE(other->set_flow_state({"f", "paused", 3, "ana", ""}).ok());
  REQUIRE(other->commit().ok());
  const int64_t paused = generation(*store);
  CHECK(paused != deployed);
  CHECK(paused != empty);
}

// The bounded window of live journeys that stop, resume and migration walk,
// and a migration's new version written by update_journey.
void live_journeys_in_windows(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  std::vector<int64_t> live;
  for (int i = 0; i < 5; ++i) {
    JourneyRecord j = journey_of(*store, "u" + std::to_string(i));
    if (i % 2 == 1) {
      j.state = Lifecycle::kCompleted;
      j.ended_at = 3;
    } else {
      live.push_back(j.id);
    }
    REQUIRE(store->insert_journey(j).ok());
  }
  REQUIRE(store->commit().ok());
  auto first = store->live_journeys("cart_reminder", 0, 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].id == live[0]);
  CHECK(first[1].id == live[1]);
  auto rest = store->live_journeys("cart_reminder", first[1].id, 2);
  REQUIRE(rest.size() == 1);
  CHECK(rest[0].id == live[2]);
  CHECK(store->live_journeys("other", 0, 10).empty());
  REQUIRE(store->begin().ok());
  JourneyRecord moved = rest[0];
  moved.version = 2;
  REQUIRE(store->update_journey(moved).ok());
  REQUIRE(store->commit().ok());
  CHECK(backend.reopen()->journey(moved.id)->version == 2);
}

// Identity: a merge gives the user the visitor's journeys, their deliveries,
// the consent the user has none of, and the ids merged into the visitor; a
// process that cached before the merge sees it (no stale filter).
void merge_moves_what_the_visitor_held(StoreBackend& backend) {
  auto watcher = backend.fresh();
  REQUIRE(watcher->begin().ok());
  CHECK_FALSE(watcher->merged_into("anon").has_value());
  REQUIRE(watcher->commit().ok());
  auto store = backend.reopen();
  REQUIRE(store->begin().ok());
  JourneyRecord j = journey_of(*store, "anon");
  REQUIRE(store->insert_journey(j).ok());
  DeliveryRecord d = delivery_of(std::to_string(j.id) + ":mail:1", "anon");
  d.journey_id = j.id;
  REQUIRE(store->insert_delivery(d).value());
  REQUIRE(store->put_consent({"anon", "sms", false, 2, "api"}).ok());
  REQUIRE(store->put_consent({"anon", "email", false, 2, "api"}).ok());
  REQUIRE(store->put_consent({"known", "email", true, 3, "api"}).ok());
  REQUIRE(store->put_profile("anon", R"({"a":1})", 2).ok());
  REQUIRE(store->merge_user("older", "anon", 3).ok());  // an id merged into the visitor first
  REQUIRE(store->commit().ok());

  REQUIRE(store->begin().ok());
  REQUIRE(store->lock_user("anon").ok());
  REQUIRE(store->lock_user("known").ok());
  REQUIRE(store->merge_user("anon", "known", 4).ok());
  REQUIRE(store->commit().ok());

  CHECK(store->journeys_of("anon", "").empty());
  REQUIRE(store->journeys_of("known", "cart_reminder").size() == 1);
  auto deliveries = store->deliveries("known", "", 10);
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0].key == d.key);
  std::map<std::string, bool> consent;
  for (const ConsentRecord& c : store->consent("known")) consent[c.channel] = c.subscribed;
  CHECK(consent == std::map<std::string, bool>{{"email", true}, {"sms", false}});
  CHECK(store->consent("anon").empty());
  CHECK_FALSE(store->profile("anon").has_value());
  CHECK(store->merged_into("anon") == std::optional<std::string>("known"));
  CHECK(store->merged_into("older") == std::optional<std::string>("known"));
  CHECK(store->merged_ids("known") == std::vector<std::string>{"older", "anon"});
  REQUIRE(watcher->begin().ok());
  CHECK(watcher->merged_into("anon") == std::optional<std::string>("known"));
  CHECK(watcher->journeys_of("known", "cart_reminder").size() == 1);
  REQUIRE(watcher->commit().ok());
}

// Erasure: the user's journeys and deliveries keep nodes, states and counts
// under an id naming nobody; what they said about the user is gone.
void erase_keeps_counts_not_the_user(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  JourneyRecord j = journey_of(*store, "zoe");
  REQUIRE(store
              ->append_history(j, {{j.id, "cart_reminder", 0, "wait_pay", "entry", 5,
                                    "user.name=Zo\xc3\xab Quill-erasure"}})
              .ok());
  REQUIRE(store->insert_journey(j).ok());
  DeliveryRecord pending = delivery_of(std::to_string(j.id) + ":mail:1", "zoe");
  pending.journey_id = j.id;
  pending.to = "zoe@example.com";
  pending.body = "Hi Zoë";
  DeliveryRecord sent = pending;
  sent.key = std::to_string(j.id) + ":mail:2";
  REQUIRE(store->insert_delivery(pending).value());
  REQUIRE(store->insert_delivery(sent).value());
  REQUIRE(store->put_profile("zoe", R"({"name":"Zoë"})", 2).ok());
  REQUIRE(store->put_consent({"zoe", "sms", false, 2, "api"}).ok());
  REQUIRE(store->merge_user("zoe-anon", "zoe", 3).ok());
  REQUIRE(store->commit().ok());
  const int64_t sent_id = store->delivery_by_key(sent.key)->id;
  REQUIRE(store->begin().ok());
  REQUIRE(store->mark_sent(sent_id, 20).ok());
  REQUIRE(store->record_failure(sent_id, 1, 30, "zoe@example.com refused", false, 20).ok());
  REQUIRE(store->mark_sent(sent_id, 31).ok());
  REQUIRE(store->commit().ok());

  REQUIRE(store->begin().ok());
  REQUIRE(store->lock_user("zoe").ok());
  auto erased = store->erase_user("zoe", "erased-1");
  REQUIRE(erased.ok());
  CHECK(erased.value() == 2);
  REQUIRE(store->commit().ok());

  auto reopened = backend.reopen();
  CHECK(reopened->journeys_of("zoe", "").empty());
  auto kept = reopened->journeys_of("erased-1", "");
  REQUIRE(kept.size() == 1);
  CHECK(kept[0].node == "wait_pay");
  CHECK(kept[0].trigger_event.find("total") == std::string::npos);
  auto steps = reopened->steps(kept[0].id);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].node == "wait_pay");
  CHECK(steps[0].reason.empty());
  auto after = reopened->delivery_by_key(pending.key);
  REQUIRE(after.has_value());
  CHECK(after->status == DeliveryStatus::kSuppressed);
  CHECK(after->last_error == "erased");
  CHECK(after->to.empty());
  CHECK(after->body.empty());
  auto sent_after = reopened->delivery(sent_id);
  CHECK(sent_after->status == DeliveryStatus::kSent);
  CHECK(sent_after->to.empty());
  CHECK(sent_after->user_id == "erased-1");
  CHECK_FALSE(reopened->profile("zoe").has_value());
  CHECK(reopened->consent("zoe").empty());
  CHECK_FALSE(reopened->merged_into("zoe-anon").has_value());
  CHECK(reopened->totals("cart_reminder").journeys == 1);
}

// The outbox lease: due deliveries of a channel leased to one process are not
// due again until the lease ends; with a shared store, a second process
// leasing at the same time takes the others (SKIP LOCKED), and what a process
// leased and never recorded is due again when its lease ends.
void deliveries_leased_once_until_the_lease_ends(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  for (int i = 1; i <= 3; ++i)
    REQUIRE(store->insert_delivery(delivery_of("k" + std::to_string(i), "u1")).value());
  DeliveryRecord sms = delivery_of("s1", "u1");
  sms.channel = "sms";
  REQUIRE(store->insert_delivery(sms).value());
  REQUIRE(store->commit().ok());

  REQUIRE(store->begin().ok());
  auto first = store->lease_deliveries("email", 10, 2, 500);
  REQUIRE(first.ok());
  REQUIRE(first.value().size() == 2);
  CHECK(first.value()[0].key == "k1");
  CHECK(first.value()[1].key == "k2");
  if (store->shared()) {
    auto other = backend.reopen();
    REQUIRE(other->begin().ok());
    auto taken = other->lease_deliveries("email", 10, 5, 500);
    REQUIRE(taken.ok());
    REQUIRE(taken.value().size() == 1);  // k1 and k2 are held by the open transaction
    CHECK(taken.value()[0].key == "k3");
    REQUIRE(other->commit().ok());
  }
  REQUIRE(store->commit().ok());
  REQUIRE(store->begin().ok());
  auto again = store->lease_deliveries("email", 10, 5, 500);
  REQUIRE(again.ok());
  CHECK(again.value().size() == (store->shared() ? 0u : 1u));
  REQUIRE(store->mark_sent(first.value()[0].id, 20).ok());
  REQUIRE(store->commit().ok());
  CHECK(store->pending_deliveries_of("email", 499, 10).empty());
  CHECK(store->pending_deliveries_of("sms", 10, 10).size() == 1);
  // The lease ended: what was leased and not recorded is due again.
  auto due = store->pending_deliveries_of("email", 500, 10);
  REQUIRE(due.size() == 2);
  CHECK(due[0].key == "k2");
  CHECK(due[1].key == "k3");
}

void stored_names_bounded(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  REQUIRE(store->put_profile("u1", R"({"first_name":"Ana","age":34})", 1).ok());
  REQUIRE(store->put_profile("u2", R"({"plan":"pro","age":40})", 1).ok());
  JourneyRecord older = journey_of(*store, "u1");  // cart_updated, then order_paid
  older.last_event = R"({"id":"e2","type":"order_paid","time":7,"properties":{}})";
  REQUIRE(store->insert_journey(older).ok());
  JourneyRecord newer = journey_of(*store, "u2");
  newer.trigger_event = R"({"id":"e3","type":"page_view","time":9,"properties":{}})";
  REQUIRE(store->insert_journey(newer).ok());
  REQUIRE(store->commit().ok());
  auto reader = store->open_reader();
  REQUIRE(reader.ok());
  StoredNames all = reader.value()->stored_names(100, 100);
  CHECK(all.traits == std::vector<std::string>{"age", "first_name", "plan"});
  CHECK(all.event_types == std::vector<std::string>{"cart_updated", "order_paid", "page_view"});
  // Bounded: the newest journey only, and at most two names kept.
  StoredNames few = reader.value()->stored_names(1, 2);
  CHECK(few.traits.size() == 2);
  CHECK(few.event_types == std::vector<std::string>{"page_view"});
  CHECK(reader.value()->stored_names(100, 1).event_types.size() == 1);
}

BehaviourHit hit_of(const std::string& type, TimeMs at, int64_t day,
                    std::vector<BehaviourHit::Counter> counters, bool last_seen = false) {
  BehaviourHit hit;
  hit.event_type = type;
  hit.at = at;
  hit.day = day;
  hit.counters = std::move(counters);
  hit.last_seen = last_seen;
  return hit;
}

using Buckets = std::map<std::pair<std::string, int64_t>, int64_t>;

Buckets buckets_of(StoreReader& store, const std::string& user) {
  Buckets out;
  for (const auto& b : store.behaviour(user).buckets) out[{b.key, b.day}] = b.count;
  return out;
}

// Behavioural counters (docs/expressions.md#behaviour): per (key, day), the
// days before a counter's window dropped when a new day starts, last_seen
// never moved back, a rollback counting nothing.
void behaviour_counts_per_day(StoreBackend& backend) {
  {
    auto store = backend.fresh();
    REQUIRE(store->begin().ok());
    REQUIRE(store->record_behaviour("u1", hit_of("view", 1000, 100, {{"view", 71}})).ok());
    REQUIRE(store->record_behaviour("u1", hit_of("view", 2000, 100, {{"view", 71}})).ok());
    REQUIRE(store
                ->record_behaviour(
                    "u1", hit_of("view", 3000, 101, {{"view", 72}, {"view where x", 72}}, true))
                .ok());
    REQUIRE(store->record_behaviour("u2", hit_of("view", 4000, 101, {{"view", 72}})).ok());
    REQUIRE(store->commit().ok());
    REQUIRE(store->begin().ok());
    REQUIRE(store->record_behaviour("u1", hit_of("view", 5000, 101, {{"view", 72}})).ok());
    store->rollback();
  }
  auto store = backend.reopen();
  REQUIRE(store->begin().ok());
  CHECK(buckets_of(*store, "u1") ==
        Buckets{{{"view", 100}, 2}, {{"view", 101}, 1}, {{"view where x", 101}, 1}});
  auto seen = store->behaviour("u1").last_seen;
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].event_type == "view");
  CHECK(seen[0].at == 3000);
  // Day 130's first event drops the days before 101 (a 30-day window).
  REQUIRE(store->record_behaviour("u1", hit_of("view", 6000, 130, {{"view", 101}}, true)).ok());
  // An older time never moves last_seen back.
  REQUIRE(store->record_behaviour("u1", hit_of("view", 10, 130, {}, true)).ok());
  REQUIRE(store->commit().ok());
  CHECK(buckets_of(*store, "u1") ==
        Buckets{{{"view", 101}, 1}, {{"view", 130}, 1}, {{"view where x", 101}, 1}});
  REQUIRE(store->behaviour("u1").last_seen.size() == 1);
  CHECK(store->behaviour("u1").last_seen[0].at == 6000);
  CHECK(buckets_of(*store, "u2") == Buckets{{{"view", 101}, 1}});
}

void behaviour_follows_merge_and_erasure(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  REQUIRE(store->record_behaviour("a1", hit_of("view", 9000, 100, {{"view", 71}}, true)).ok());
  REQUIRE(store->record_behaviour("a1", hit_of("view", 9000, 99, {{"view", 71}})).ok());
  REQUIRE(store->record_behaviour("u1", hit_of("view", 5000, 100, {{"view", 71}}, true)).ok());
  REQUIRE(store->lock_user("a1").ok());
  REQUIRE(store->lock_user("u1").ok());
  REQUIRE(store->merge_user("a1", "u1", 10).ok());
  REQUIRE(store->commit().ok());
  CHECK(buckets_of(*store, "u1") == Buckets{{{"view", 99}, 1}, {{"view", 100}, 2}});
  REQUIRE(store->behaviour("u1").last_seen.size() == 1);
  CHECK(store->behaviour("u1").last_seen[0].at == 9000);  // the later of the two
  CHECK(store->behaviour("a1").buckets.empty());
  CHECK(store->behaviour("a1").last_seen.empty());

  REQUIRE(store->begin().ok());
  REQUIRE(store->record_behaviour("u2", hit_of("view", 1, 100, {{"view", 71}}, true)).ok());
  REQUIRE(store->lock_user("u1").ok());
  REQUIRE(store->erase_user("u1", "erased-1").ok());
  REQUIRE(store->commit().ok());
  CHECK(store->behaviour("u1").buckets.empty());
  CHECK(store->behaviour("u1").last_seen.empty());
  CHECK(buckets_of(*store, "u2") == Buckets{{{"view", 100}, 1}});  // others' stay
}

// Broadcasts (docs/flows.md#broadcasts): a run's record replaces the previous
// one of its flow and run; profiles come in user id windows after a cursor.
void broadcast_runs_and_profile_windows(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  for (const char* user : {"c", "a", "e", "b", "d"})
    REQUIRE(store->put_profile(user, std::string("{\"n\":\"") + user + "\"}", 1).ok());
  BroadcastRecord run;
  run.flow = "blast";
  run.run = "2026-12-24 10:00";
  run.schedule = "2026-12-24 10:00";
  run.state = "scheduled";
  run.due_at = 1000;
  REQUIRE(store->put_broadcast(run).ok());
  BroadcastRecord other = run;
  other.flow = "news";
  REQUIRE(store->put_broadcast(other).ok());
  run.state = "running";
  run.cursor = "b";
  run.entered = 2;
  run.walked = 2;
  run.total = 5;
  run.started_at = 1001;
  REQUIRE(store->put_broadcast(run).ok());
  REQUIRE(store->commit().ok());

  auto reopened = backend.reopen();
  CHECK(reopened->profile_count() == 5);
  auto first = reopened->profiles_after("", 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].first == "a");
  CHECK(first[1].first == "b");
  CHECK(first[1].second == "{\"n\":\"b\"}");
  auto rest = reopened->profiles_after("b", 10);
  REQUIRE(rest.size() == 3);
  CHECK(rest[0].first == "c");
  CHECK(rest[2].first == "e");
  CHECK(reopened->broadcasts("").size() == 2);
  auto runs = reopened->broadcasts("blast");
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].state == "running");
  CHECK(runs[0].cursor == "b");
  CHECK(runs[0].entered == 2);
  CHECK(runs[0].total == 5);
  CHECK(runs[0].due_at == 1000);
  CHECK(runs[0].started_at == 1001);
  CHECK(runs[0].finished_at == 0);
}

// A broadcast window is walked by one transaction at a time: claim_broadcast
// holds the run and reads its committed cursor; lock_profiles_after holds the
// window's users. With other writers (PostgreSQL), another transaction skips a
// held run rather than wait, and its window ends before a user held elsewhere.
void broadcast_claim_and_locked_window(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  for (const char* user : {"a", "b", "c", "d"}) REQUIRE(store->put_profile(user, "{}", 1).ok());
  BroadcastRecord run;
  run.flow = "blast";
  run.run = "2026-12-24 10:00";
  run.state = "running";
  run.cursor = "a";
  REQUIRE(store->put_broadcast(run).ok());
  REQUIRE(store->commit().ok());

  REQUIRE(store->begin().ok());
  auto missing = store->claim_broadcast("blast", "2026-12-25 10:00");
  REQUIRE(missing.ok());
  CHECK_FALSE(missing.value().has_value());
  auto claimed = store->claim_broadcast("blast", "2026-12-24 10:00");
  REQUIRE(claimed.ok());
  REQUIRE(claimed.value().has_value());
  CHECK(claimed.value()->cursor == "a");
  auto window = store->lock_profiles_after("a", 2);
  REQUIRE(window.ok());
  REQUIRE(window.value().size() == 2);
  CHECK(window.value()[0].first == "b");
  CHECK(window.value()[1] == std::make_pair(std::string("c"), std::string("{}")));
  if (store->shared()) {
    // Another node meanwhile: the run is skipped, and its window stops at b.
    auto other = backend.reopen();
    REQUIRE(other->begin().ok());
    auto skipped = other->claim_broadcast("blast", "2026-12-24 10:00");
    REQUIRE(skipped.ok());
    CHECK_FALSE(skipped.value().has_value());
    auto blocked = other->lock_profiles_after("a", 3);
    REQUIRE(blocked.ok());
    CHECK(blocked.value().empty());
    auto after = other->lock_profiles_after("c", 3);
    REQUIRE(after.ok());
    REQUIRE(after.value().size() == 1);
    CHECK(after.value()[0].first == "d");
    other->rollback();
  }
  run.cursor = "c";
  REQUIRE(store->put_broadcast(run).ok());
  REQUIRE(store->commit().ok());

  // The next transaction reads the cursor the last one committed.
  auto next = backend.reopen();
  REQUIRE(next->begin().ok());
  auto again = next->claim_broadcast("blast", "2026-12-24 10:00");
  REQUIRE(again.ok());
  REQUIRE(again.value().has_value());
  CHECK(again.value()->cursor == "c");
  next->rollback();
}

}  // namespace

// Event retention (docs/operations.md#event-retention): events read back in
// (at, seq) order through a cursor, by user; pruning is bounded by its limit
// and keeps the newest by count; a merge moves an anonymous id's events and
// an erasure deletes the user's.
void retained_events_read_prune_merge_erase(StoreBackend& backend) {
  auto store = backend.fresh();
  auto kept = [](const std::string& user, TimeMs at, const std::string& id) {
    RetainedEvent e;
    e.id = id;
    e.type = "viewed";
    e.user_id = user;
    e.at = at;
    e.properties = R"({"n":1})";
    return e;
  };
  REQUIRE(store->begin().ok());
  // Ingest order differs from time order: e3 arrived first but happened last.
  REQUIRE(store->retain_event(kept("u1", 300, "e3")).ok());
  REQUIRE(store->retain_event(kept("anon", 100, "e1")).ok());
  REQUIRE(store->retain_event(kept("u2", 200, "e2")).ok());
  RetainedEvent traits = kept("u1", 200, "t1");
  traits.type = "identify";
  traits.identify = true;
  REQUIRE(store->retain_event(traits).ok());
  REQUIRE(store->commit().ok());

  auto ids = [&](RetainedEventQuery q) {
    std::vector<std::string> out;
    for (const RetainedEvent& e : store->retained_events(q)) out.push_back(e.id);
    return out;
  };
  CHECK(ids({}) == std::vector<std::string>{"e1", "e2", "t1", "e3"});
  RetainedEventQuery window;
  window.from = 150;
  window.to = 300;
  CHECK(ids(window) == std::vector<std::string>{"e2", "t1"});
  std::vector<RetainedEvent> first =
      store->retained_events({"", INT64_MIN, INT64_MAX, INT64_MIN, 0, 2});
  REQUIRE(first.size() == 2);
  RetainedEventQuery rest;
  rest.after_at = first.back().at;
  rest.after_seq = first.back().seq;
  CHECK(ids(rest) == std::vector<std::string>{"t1", "e3"});
  RetainedEventQuery of_u1;
  of_u1.user_id = "u1";
  std::vector<RetainedEvent> u1 = store->retained_events(of_u1);
  REQUIRE(u1.size() == 2);
  CHECK(u1[0].identify);
  CHECK(u1[0].type == "identify");
  CHECK(u1[1].properties == R"({"n":1})");
  CHECK_FALSE(u1[1].identify);

  REQUIRE(store->begin().ok());
  REQUIRE(store->lock_user("anon").ok());
  REQUIRE(store->lock_user("u2").ok());
  REQUIRE(store->merge_user("anon", "u2", 400).ok());
  REQUIRE(store->commit().ok());
  RetainedEventQuery of_u2;
  of_u2.user_id = "u2";
  CHECK(ids(of_u2) == std::vector<std::string>{"e1", "e2"});

  // Age first (at < 150: e1), bounded by the limit; then the count (keep 2).
  REQUIRE(store->begin().ok());
  CHECK(store->prune_retained_events(150, 100, 1).value() == 1);
  CHECK(store->prune_retained_events(150, 2, 10).value() == 1);  // e3, the oldest by seq
  REQUIRE(store->commit().ok());
  CHECK(ids({}) == std::vector<std::string>{"e2", "t1"});

  REQUIRE(store->begin().ok());
  REQUIRE(store->lock_user("u1").ok());
  REQUIRE(store->erase_user("u1", "erased-1").ok());
  REQUIRE(store->commit().ok());
  CHECK(ids({}) == std::vector<std::string>{"e2"});
}

// Flow results (docs/results.md#rollups): a batch adds to its hours' rows and
// to the all-time rows, twice adds twice, a rollback adds nothing, and a
// prune forgets old hours but never the all-time sums.
void rollups_add_up_by_hour_and_all_time(StoreBackend& backend) {
  constexpr TimeMs kHour = 3600 * 1000;
  const TimeMs h0 = 100 * kHour, h1 = 101 * kHour;
  auto store = backend.fresh();
  auto reader = store->open_reader();
  REQUIRE(reader.ok());
  RollupBatch batch;
  RollupCounts& flow0 = batch.at(h0 + 5, "f", 1, "", "ab=a");
  flow0.entered = 2;
  flow0.converted = 1;
  flow0.revenue = 12.5;
  flow0.revenue_sq = 156.25;
  batch.at(h1 + 7, "f", 1, "", "ab=a").exited = 1;
  batch.at(h1, "f", 1, "mail", "ab=a").entered = 3;
  batch.at(h1, "f", 2, "", "ab=b").entered = 5;  // another version and variant, same hour
  batch.at(h1, "other", 1, "", "").entered = 9;
  batch.edges[EdgeKey{"f", 1, "start", "mail"}] = 2;
  batch.messages[MessageKey{h0, "f", 1, "mail", "email", "ab=a", 0}] = 2;
  for (int i = 0; i < 2; ++i) {
    REQUIRE(store->begin().ok());
    REQUIRE(store->add_rollups(batch).ok());
    REQUIRE(store->commit().ok());
  }
  REQUIRE(store->begin().ok());
  REQUIRE(store->add_rollups(batch).ok());
  store->rollback();

  std::map<std::string, RollupCounts> totals;
  for (const RollupRow& row : reader.value()->rollup_totals("f")) {
    CHECK(row.key.flow == "f");
    CHECK(row.key.hour == kAllTimeHour);
    totals[row.key.node + "|" + row.key.variant] = row.counts;
  }
  REQUIRE(totals.size() == 3);
  CHECK(totals["|ab=b"].entered == 10);
  CHECK(totals["|ab=a"].entered == 4);
  CHECK(totals["|ab=a"].exited == 2);
  CHECK(totals["|ab=a"].converted == 2);
  CHECK(totals["|ab=a"].revenue == Approx(25.0));
  CHECK(totals["|ab=a"].revenue_sq == Approx(312.5));
  CHECK(totals["mail|ab=a"].entered == 6);

  // The flow's own rows only, of the hours asked for, summed by the hour over
  // versions and variants, in hour order; never the all-time rows.
  auto hours = reader.value()->rollup_hours("f", h0, h1 + kHour);
  REQUIRE(hours.size() == 2);
  CHECK(hours[0].key.hour == h0);
  CHECK(hours[0].key.node.empty());
  CHECK(hours[0].key.version == 0);
  CHECK(hours[0].key.variant.empty());
  CHECK(hours[0].counts.entered == 4);
  CHECK(hours[0].counts.converted == 2);
  CHECK(hours[0].counts.revenue == Approx(25.0));
  CHECK(hours[0].counts.revenue_sq == Approx(312.5));
  CHECK(hours[1].key.hour == h1);
  CHECK(hours[1].counts.exited == 2);
  CHECK(hours[1].counts.entered == 10);  // ab=b of version 2
  CHECK(reader.value()->rollup_hours("f", h1, h1 + kHour).size() == 1);
  CHECK(reader.value()->rollup_hours("f", -kHour, h0).empty());
  CHECK(reader.value()->message_rollups("f", false, -kHour, h0).empty());

  auto edges = reader.value()->rollup_edges("f");
  REQUIRE(edges.size() == 1);
  CHECK(edges[0].key.from == "start");
  CHECK(edges[0].key.to == "mail");
  CHECK(edges[0].journeys == 4);

  auto all_time = reader.value()->message_rollups("f", true, 0, 0);
  REQUIRE(all_time.size() == 1);
  CHECK(all_time[0].hour == kAllTimeHour);
  CHECK(all_time[0].messages == 4);
  CHECK(all_time[0].variant == "ab=a");
  CHECK(all_time[0].channel == "email");
  auto hourly = reader.value()->message_rollups("f", false, h0, h1);
  REQUIRE(hourly.size() == 1);
  CHECK(hourly[0].hour == h0);
  auto series = reader.value()->message_hours("f", -kHour, h1);
  REQUIRE(series.size() == 1);  // the hour's row, not the all-time one
  CHECK(series[0].hour == h0);
  CHECK(series[0].channel == "email");
  CHECK(series[0].status == 0);
  CHECK(series[0].messages == 4);
  CHECK(reader.value()->message_rollups("f", false, h1, h1 + kHour).empty());

  REQUIRE(store->begin().ok());
  CHECK(store->prune_rollups(h1) >= 2);  // the h0 rows of rollups and messages
  REQUIRE(store->commit().ok());
  CHECK(reader.value()->rollup_hours("f", 0, h1 + kHour).size() == 1);
  CHECK(reader.value()->message_rollups("f", false, 0, h1 + kHour).empty());
  CHECK(reader.value()->rollup_totals("f").size() == 3);
  CHECK(reader.value()->message_rollups("f", true, 0, 0).size() == 1);
  CHECK(reader.value()->rollup_totals("other").size() == 1);
}

// A message counted when made (the batch) moves with its delivery's later
// status changes and feedback, whichever call makes them; coupons are no
// messages.
void message_rollups_follow_deliveries(StoreBackend& backend) {
  auto store = backend.fresh();
  DeliveryRecord d = delivery_of("1:mail:1", "u1");
  d.variant = "ab=b";
  d.flow_version = 2;
  d.at = hour_of(10) + 10;
  DeliveryRecord coupon = delivery_of("1:coupon:1", "u1");
  coupon.channel = "coupon";
  REQUIRE(store->begin().ok());
  REQUIRE(store->insert_delivery(d).value());
  REQUIRE(store->insert_delivery(coupon).value());
  RollupBatch batch;
  batch.messages[MessageKey{hour_of(d.at), "f", 2, "mail", "email", "ab=b", 0}] = 1;
  REQUIRE(store->add_rollups(batch).ok());
  REQUIRE(store->commit().ok());
  const int64_t id = store->delivery_by_key(d.key)->id;
  CHECK(store->delivery(id)->variant == "ab=b");
  REQUIRE(store->begin().ok());
  REQUIRE(store->mark_sent(id, 20).ok());
  REQUIRE(store->mark_sent(store->delivery_by_key(coupon.key)->id, 20).ok());
  REQUIRE(store->record_feedback(id, Feedback::kDelivered, "", 30).ok());
  REQUIRE(store->record_feedback(id, Feedback::kDelivered, "", 31).ok());  // counted once
  REQUIRE(store->record_feedback(id, Feedback::kOpened, "", 32).ok());
  REQUIRE(store->commit().ok());
  for (bool all_time : {true, false}) {
    std::map<int, MessageRollupRow> by_status;
    for (const MessageRollupRow& row :
         store->message_rollups("f", all_time, 0, hour_of(d.at) + 3600 * 1000))
      by_status[row.status] = row;
    INFO("all time: " << all_time);
    REQUIRE(by_status.count(0));
    CHECK(by_status[0].messages == 0);
    REQUIRE(by_status.count(1));
    CHECK(by_status[1].messages == 1);
    CHECK(by_status[1].variant == "ab=b");
    CHECK(by_status[1].version == 2);
    CHECK(by_status[1].channel == "email");
    REQUIRE(by_status.count(-1));
    CHECK(by_status[-1].delivered == 1);
    CHECK(by_status[-1].opened == 1);
    CHECK(by_status[-1].clicked == 0);
    CHECK(by_status.size() == 3);  // nothing of the coupon
  }
  // The series' view of the same hour: status rows only, no feedback row.
  std::map<int, int64_t> series;
  for (const MessageHour& m : store->message_hours("f", 0, hour_of(d.at) + 3600 * 1000)) {
    CHECK(m.hour == hour_of(d.at));
    CHECK(m.channel == "email");
    series[m.status] += m.messages;
  }
  CHECK(series == std::map<int, int64_t>{{0, 0}, {1, 1}});
  CHECK(store->message_hours("f", hour_of(d.at) + 3600 * 1000, INT64_MAX).empty());
  const FlowCounts counts = store->counts("f");
  REQUIRE(counts.messages.size() == 1);
  CHECK(counts.messages[0].created == 1);
  CHECK(counts.messages[0].sent == 1);
  CHECK(counts.messages[0].delivered == 1);
  CHECK(counts.messages[0].opened == 1);
}

// What a conversion records on its journey reads back; the drill-down lists
// a flow's journeys newest first by node, state, conversion and variant (a
// whole assignment), without the held-out ones unless asked.
void results_fields_and_drill_down(StoreBackend& backend) {
  auto store = backend.fresh();
  REQUIRE(store->begin().ok());
  std::vector<int64_t> ids;
  auto add = [&](const std::string& user, const std::string& node, Lifecycle state,
                 const std::string& variant, std::optional<double> revenue) {
    JourneyRecord j = journey_of(*store, user);
    j.node = node;
    j.state = state;
    j.variant = variant;
    j.revenue = revenue;
    if (revenue) {
      j.converted_at = 50;
      j.last_message = "mail";
      j.converted_after = "mail";
    }
    REQUIRE(store->insert_journey(j).ok());
    ids.push_back(j.id);
    return j;
  };
  add("u1", "mail", Lifecycle::kCompleted, "ab=a", 30.25);
  JourneyRecord waiting = add("u2", "wait_pay", Lifecycle::kWaitingTimer, "ab=ab", std::nullopt);
  add("u3", "mail", Lifecycle::kCompleted, "ab=a;ab2=x", std::nullopt);
  add("u4", kHoldoutNode, Lifecycle::kCompleted, "", 5.0);
  REQUIRE(store->commit().ok());
  // A later step records a conversion on a journey already stored.
  REQUIRE(store->begin().ok());
  waiting.converted_at = 60;
  waiting.revenue = 0.5;
  waiting.last_message = "sms";
  waiting.converted_after = "sms";
  REQUIRE(store->update_journey(waiting).ok());
  REQUIRE(store->commit().ok());

  auto reopened = backend.reopen();
  auto first = reopened->journey(ids[0]);
  REQUIRE(first.has_value());
  CHECK(first->revenue == std::optional<double>(30.25));
  CHECK(first->last_message == "mail");
  CHECK(first->converted_after == "mail");
  auto updated = reopened->journeys_of("u2", "cart_reminder");
  REQUIRE(updated.size() == 1);
  CHECK(updated[0].revenue == std::optional<double>(0.5));
  CHECK(updated[0].converted_after == "sms");
  CHECK_FALSE(reopened->journey(ids[2])->revenue.has_value());

  auto list = [&](JourneyQuery q) {
    q.flow = "cart_reminder";
    std::vector<int64_t> out;
    for (const JourneySummary& s : reopened->flow_journeys(q)) out.push_back(s.id);
    return out;
  };
  CHECK(list({}) == std::vector<int64_t>{ids[2], ids[1], ids[0]});
  JourneyQuery by_node;
  by_node.node = "mail";
  CHECK(list(by_node) == std::vector<int64_t>{ids[2], ids[0]});
  JourneyQuery held_out;
  held_out.node = kHoldoutNode;
  CHECK(list(held_out) == std::vector<int64_t>{ids[3]});
  JourneyQuery converted;
  converted.converted_only = true;
  CHECK(list(converted) == std::vector<int64_t>{ids[1], ids[0]});
  JourneyQuery waiting_only;
  waiting_only.states = {Lifecycle::kWaitingTimer, Lifecycle::kWaitingEvent};
  CHECK(list(waiting_only) == std::vector<int64_t>{ids[1]});
  JourneyQuery variant;
  variant.variant = "ab=a";  // not "ab=ab"
  CHECK(list(variant) == std::vector<int64_t>{ids[2], ids[0]});
  variant.variant = "a";  // a bare name: any A/B node's
  CHECK(list(variant) == std::vector<int64_t>{ids[2], ids[0]});
  variant.variant = "x";
  CHECK(list(variant) == std::vector<int64_t>{ids[2]});
  JourneyQuery page;
  page.limit = 1;
  CHECK(list(page) == std::vector<int64_t>{ids[2]});
  page.before = ids[2];
  CHECK(list(page) == std::vector<int64_t>{ids[1]});
  JourneyQuery other_flow;
  other_flow.flow = "nothing";
  CHECK(reopened->flow_journeys(other_flow).empty());
  converted.flow = "cart_reminder";
  const auto summaries = reopened->flow_journeys(converted);
  REQUIRE(summaries.size() == 2);
  CHECK(summaries[1].user_id == "u1");
  CHECK(summaries[1].variant == "ab=a");
  CHECK(summaries[1].node == "mail");
  CHECK(summaries[1].state == Lifecycle::kCompleted);
  CHECK(summaries[1].converted_at == std::optional<TimeMs>(50));
  CHECK(summaries[1].revenue == std::optional<double>(30.25));
  // Held-out journeys are not the flow's: counts leave them out.
  CHECK(reopened->totals("cart_reminder").journeys == 3);
}

const std::vector<std::pair<std::string, ConformanceCheck>>& conformance_checks() {
  static const std::vector<std::pair<std::string, ConformanceCheck>> kChecks = {
      {"a committed transaction survives reopening; a rolled back one leaves nothing",
       commit_survives_rollback_leaves_nothing},
      {"a failed call fails the commit, and the store is usable after",
       a_failed_call_fails_the_commit},
      {"a transaction reads its own writes; a reader sees committed state only",
       reads_own_writes_reader_sees_committed},
      {"a journey's history reads back one step per node, in order", history_reads_back_in_order},
      {"a long history moves out of the journey row and reads back whole",
       long_history_moves_out_whole},
      {"due timers come back in (due, id) order, bounded by the window",
       due_timers_in_order_and_bounded},
      {"event ids dedupe until pruned, across processes", event_ids_dedupe_until_pruned},
      {"delivery keys are unique and the outbox tracks attempts and feedback",
       outbox_keys_unique_attempts_tracked},
      {"coupon pools hand out each code once, then run dry", coupons_once_then_dry},
      {"consent, deferral order, verdicts and released messages", governance_records},
      {"counts aggregate nodes, waiting journeys, variants and messages",
       counts_nodes_waiting_variants},
      {"journey ids are unique across processes and restarts", journey_ids_unique_across_processes},
      {"a journey another process started is found", another_writers_journeys_are_found},
      {"a stored setting keeps the first value", meta_value_first_one_wins},
      {"flow states: authors kept, a paused flow's timers held", flow_states_hold_paused_timers},
      {"every deploy and flow state change moves the flows' generation",
       flows_generation_moves_with_flows},
      {"live journeys come in id windows; a migration's version is written",
       live_journeys_in_windows},
      {"a merge moves the visitor's journeys, deliveries, consent and ids",
       merge_moves_what_the_visitor_held},
      {"erasure keeps counts and forgets the user", erase_keeps_counts_not_the_user},
      {"deliveries are leased once until the lease ends",
       deliveries_leased_once_until_the_lease_ends},
      {"retained events: cursor order, pruning bounds, merge and erasure",
       retained_events_read_prune_merge_erase},
      {"stored names: traits of profiles and event types of journeys, bounded",
       stored_names_bounded},
      {"behaviour counters count per day and drop the days before their window",
       behaviour_counts_per_day},
      {"behaviour counters follow a merge and go with an erasure",
       behaviour_follows_merge_and_erasure},
      {"broadcast runs are replaced by flow and run; profiles come in id windows",
       broadcast_runs_and_profile_windows},
      {"a broadcast window is claimed by one transaction, its users locked without waiting",
       broadcast_claim_and_locked_window},
      {"rollups add up by hour and for all time; a prune keeps the all-time sums",
       rollups_add_up_by_hour_and_all_time},
      {"message rollups follow their deliveries' status and feedback",
       message_rollups_follow_deliveries},
      {"conversions keep value and attribution; the drill-down filters and pages",
       results_fields_and_drill_down},
  };
  return kChecks;
}

}  // namespace trellis::testing

#include "runtime/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <map>

#include "runtime/step_codec.h"
#include "temp_dir.h"

using namespace trellis::runtime;
using trellis::testing::TempDir;

namespace {

std::unique_ptr<Store> open_store(const TempDir& dir) {
  auto store = open_sqlite_store({dir.file("trellis.db")});
  REQUIRE(store.ok());
  return std::move(store.value());
}

JourneyRecord journey_of(const std::string& user) {
  JourneyRecord j;
  j.flow = "cart_reminder";
  j.version = 1;
  j.user_id = user;
  j.state = Lifecycle::kRunning;
  j.node = "wait_pay";
  j.trigger_event = "{}";
  j.last_event = "{}";
  return j;
}

}  // namespace

TEST_CASE("a version-2 file is migrated: its timers move into their journeys' rows") {
  TempDir dir;
  const std::string path = dir.file("old.db");
  REQUIRE(create_sqlite_file_at_version(path, 2).ok());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* rows = R"sql(
      INSERT INTO journeys(id, flow, version, user_id, key, state, node, waiting_for, visits,
        coupon_code, variant, trigger_event, last_event, steps, entered_at, updated_at)
        VALUES(1, 'f', 1, 'u1', '', 2, 'wait', '', 'wait=1', '', '', '{}', '{}', 1, 0, 0),
              (2, 'f', 1, 'u2', '', 4, 'done', '', 'done=1', '', '', '{}', '{}', 2, 0, 0);
      INSERT INTO timers(journey_id, due, node, visit) VALUES(1, 7000, 'wait', 1);
      INSERT INTO steps(journey_id, seq, flow, node, input, at, reason)
        VALUES(1, 0, 'f', 'wait', 'entry', 0, 'armed');
    )sql";
    REQUIRE(sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open_sqlite_store({path});
  REQUIRE(store.ok());
  auto waiting = store.value()->journey(1);
  REQUIRE(waiting.has_value());
  REQUIRE(waiting->timer.has_value());
  CHECK(waiting->timer->due == 7000);
  CHECK(waiting->timer->node == "wait");
  CHECK(waiting->timer->visit == 1);
  CHECK_FALSE(store.value()->journey(2)->timer.has_value());
  CHECK(store.value()->pending_timer_count() == 1);
  CHECK(store.value()->due_journeys(7000, 10).value().size() == 1);

  // Steps recorded before the migration and after it read back as one history.
  Store& migrated = *store.value();
  REQUIRE(migrated.begin().ok());
  REQUIRE(migrated.append_history(*waiting, {{1, "f", 1, "wait", "timer", 7000, "fired"}}).ok());
  REQUIRE(migrated.update_journey(*waiting).ok());
  REQUIRE(migrated.commit().ok());
  const auto steps = migrated.steps(1);
  REQUIRE(steps.size() == 2);
  CHECK(steps[0].reason == "armed");
  CHECK(steps[1].reason == "fired");
  CHECK(steps[1].seq == 1);
}

TEST_CASE("a file of a newer schema version is refused with a clear error") {
  TempDir dir;
  const std::string path = dir.file("future.db");
  REQUIRE(open_sqlite_store({path}).ok());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const std::string bump = "UPDATE meta SET v = '" + std::to_string(sqlite_schema_version() + 1) +
                             "' WHERE k = 'schema_version'";
    REQUIRE(sqlite3_exec(db, bump.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = open_sqlite_store({path});
  REQUIRE_FALSE(store.ok());
  CHECK(store.error().message.find("newer than this trellis") != std::string::npos);
}

// Prunes sweep events_seen by id, a bounded range each (at least 100,000 ids,
// twice as many as were marked since the previous prune), from where the
// previous one stopped: here 120,000 expired ids, marked before the store was
// reopened, take two prunes, and an id not yet expired survives both.
TEST_CASE("event id prunes sweep the seen ids in ranges and start over") {
  TempDir dir;
  {
    auto store = open_store(dir);
    REQUIRE(store->begin().ok());
    char id[16];
    for (int i = 0; i < 120000; ++i) {
      std::snprintf(id, sizeof id, "e%06d", i);
      REQUIRE(store->mark_event_seen(id, 100).value());
    }
    REQUIRE(store->mark_event_seen("e999999", 200).value());
    REQUIRE(store->commit().ok());
  }
  auto store = open_store(dir);
  REQUIRE(store->begin().ok());
  CHECK(store->prune_events_seen(150).value() == 100000);
  CHECK(store->prune_events_seen(150).value() == 20000);
  CHECK(store->prune_events_seen(150).value() == 0);
  CHECK_FALSE(store->mark_event_seen("e999999", 300).value());
  CHECK(store->mark_event_seen("e000000", 300).value());
  REQUIRE(store->commit().ok());
}

TEST_CASE(
    "rollups commit with their transaction, and message rollups follow each delivery's status") {
  TempDir dir;
  auto store = open_store(dir);
  constexpr TimeMs kAt = 5 * kHourMs + 10;
  RollupBatch batch;
  batch.at(kAt, "f", 1, "", "ab=a").entered = 3;
  batch.edges[EdgeKey{"f", 1, "ab", "text"}] = 2;
  REQUIRE(store->begin().ok());
  REQUIRE(store->add_rollups(batch).ok());
  store->rollback();  // a batch that fails writes none of its rollups
  CHECK(store->rollup_totals("f").empty());
  for (int i = 0; i < 2; ++i) {  // two commits add up
    REQUIRE(store->begin().ok());
    REQUIRE(store->add_rollups(batch).ok());
    REQUIRE(store->commit().ok());
  }
  auto totals = store->rollup_totals("f");
  REQUIRE(totals.size() == 1);
  CHECK(totals[0].key.hour == kAllTimeHour);
  CHECK(totals[0].counts.entered == 6);
  auto hours = store->rollup_hours("f", 0, 100 * kHourMs);
  REQUIRE(hours.size() == 1);
  CHECK(hours[0].key.hour == 5 * kHourMs);
  CHECK(hours[0].key.variant.empty());  // summed over variants
  CHECK(hours[0].counts.entered == 6);
  REQUIRE(store->rollup_edges("f").size() == 1);
  CHECK(store->rollup_edges("f")[0].journeys == 4);

  DeliveryRecord d;
  d.key = "1:text:1";
  d.journey_id = 1;
  d.channel = "sms";
  d.user_id = "u1";
  d.flow = "f";
  d.flow_version = 1;
  d.node = "text";
  d.variant = "ab=a";
  d.at = kAt;
  d.next_attempt_at = kAt;
  REQUIRE(store->begin().ok());
  REQUIRE(store->insert_delivery(d).value());
  RollupBatch made;  // what the engine adds with the step that made it
  made.messages[MessageKey{hour_of(kAt), "f", 1, "text", "sms", "ab=a", 0}] = 1;
  REQUIRE(store->add_rollups(made).ok());
  REQUIRE(store->commit().ok());
  auto status_counts = [&](bool all_time) {
    std::map<int, int64_t> out;
    for (const auto& m : store->message_rollups("f", all_time, 0, 100 * kHourMs)) {
      CHECK(m.variant == "ab=a");
      if (m.status >= 0) out[m.status] += m.messages;
    }
    return out;
  };
  CHECK(status_counts(true)[0] == 1);
  const int64_t id = store->pending_deliveries(kAt, 10).at(0).id;
  REQUIRE(store->begin().ok());
  REQUIRE(store->mark_sent(id, kAt + 1).ok());
  REQUIRE(store->commit().ok());
  for (bool all_time : {true, false}) {
    auto counts = status_counts(all_time);
    CHECK(counts[0] == 0);  // moved, not added
    CHECK(counts[1] == 1);
  }
  CHECK(store->counts("f").messages.at(0).sent == 1);

  // Retention forgets hours, never the all-time sums.
  REQUIRE(store->begin().ok());
  CHECK(store->prune_rollups(6 * kHourMs) == 3);  // the hour's rollup and 2 message rows
  REQUIRE(store->commit().ok());
  CHECK(store->rollup_hours("f", 0, 100 * kHourMs).empty());
  CHECK(store->rollup_totals("f").size() == 1);
  CHECK(status_counts(true)[1] == 1);
}

TEST_CASE("the WAL is checkpointed while the store is open and stays bounded under a long burst") {
  TempDir dir;
  const std::string path = dir.file("trellis.db");
  auto store = open_store(dir);
  // About 100 MB in back-to-back transactions: a writer that never pauses.
  const std::string history = "[" + std::string(8000, ' ') + "]";
  int64_t id = 0;
  for (int txn = 0; txn < 120; ++txn) {
    REQUIRE(store->begin().ok());
    for (int i = 0; i < 100; ++i) {
      JourneyRecord j = journey_of("u" + std::to_string(id));
      j.id = ++id;
      j.history = history;
      REQUIRE(store->insert_journey(j).ok());
    }
    REQUIRE(store->commit().ok());
  }
  namespace fs = std::filesystem;
  // Checkpoints copied pages into the database file before it was closed...
  CHECK(fs::file_size(path) > 50'000'000);
  // ...and the WAL started over instead of growing with every transaction.
  CHECK(fs::file_size(path + "-wal") < 90'000'000);
  CHECK(store->journey(id).has_value());
}

TEST_CASE("a step's reason reads back byte for byte from its compact form") {
  TempDir dir;
  const std::vector<std::string> reasons = {
      "timer of 72h fired (due 2026-01-04T00:00:00Z)",
      "waiting 2s, until 2026-01-01T00:00:02.500Z, or for event 'order_paid'",
      "variant 'a' (weight 45 of 100) for user u42, hash point 0.123457",
      "match was false: user.age=null, user.interests=null",
      "match was true: user.age=007, user.total=12345678901234567890123, x=3.25",
      "time-like but not canonical 2026-01-04T00:00:00.000Z and 2026-13-45T99:99:99Z",
      "sms to +33612345678: \"Your cart misses you!\"",
      std::string("placeholder bytes \x01\x02\x03 kept"),
      "u42u42 at the end u42",
      "",
      "user.name=Zo\xc3\xab",
  };
  int64_t id = 0;
  {
    auto store = open_store(dir);
    JourneyRecord j = journey_of("u42");
    j.id = id = 11;
    // One step per call, as wakes append them, across commits.
    for (size_t i = 0; i < reasons.size(); ++i) {
      REQUIRE(store->begin().ok());
      REQUIRE(store
                  ->append_history(
                      j, {{id, "cart_reminder", static_cast<int>(i), "n" + std::to_string(i % 3),
                           i % 2 ? "timer" : "event:order_paid",
                           1767225600000LL + static_cast<int64_t>(i) * 7, reasons[i]}})
                  .ok());
      if (i == 0)
        REQUIRE(store->insert_journey(j).ok());
      else
        REQUIRE(store->update_journey(j).ok());
      REQUIRE(store->commit().ok());
    }
    CHECK(j.history.size() < 300);  // the JSON of these steps was about 1.2 KB
  }
  auto store = open_store(dir);
  const auto steps = store->steps(id);
  REQUIRE(steps.size() == reasons.size());
  for (size_t i = 0; i < reasons.size(); ++i) {
    CHECK(steps[i].reason == reasons[i]);
    CHECK(steps[i].node == "n" + std::to_string(i % 3));
    CHECK(steps[i].input == (i % 2 ? "timer" : "event:order_paid"));
    CHECK(steps[i].at == 1767225600000LL + static_cast<int64_t>(i) * 7);
  }
  // Another connection (an HTTP reader) decodes them the same.
  auto reader = store->open_reader().value();
  REQUIRE(reader);
  const auto read = reader->steps(id);
  REQUIRE(read.size() == reasons.size());
  CHECK(read[2].reason == reasons[2]);
}

TEST_CASE("words of a rolled back transaction are forgotten with it") {
  TempDir dir;
  auto store = open_store(dir);
  JourneyRecord lost = journey_of("u1");
  lost.id = 1;
  REQUIRE(store->begin().ok());
  REQUIRE(
      store->append_history(lost, {{1, "f", 0, "rolled", "entry", 5, "shape that is lost"}}).ok());
  REQUIRE(store->insert_journey(lost).ok());
  store->rollback();
  JourneyRecord kept = journey_of("u2");
  kept.id = 2;
  REQUIRE(store->begin().ok());
  REQUIRE(store->append_history(kept, {{2, "f", 0, "kept", "timer", 5, "shape that stays"}}).ok());
  REQUIRE(store->insert_journey(kept).ok());
  REQUIRE(store->commit().ok());
  CHECK_FALSE(store->journey(1).has_value());
  const auto steps = store->open_reader().value()->steps(2);
  REQUIRE(steps.size() == 1);
  CHECK(steps[0].node == "kept");
  CHECK(steps[0].input == "timer");
  CHECK(steps[0].reason == "shape that stays");
}

TEST_CASE("a version-5 file is migrated: its JSON history reads the same and grows compact") {
  TempDir dir;
  const std::string path = dir.file("v5.db");
  REQUIRE(create_sqlite_file_at_version(path, 5).ok());
  {
    // Rows as schema 5 wrote them: a JSON history in the row and an older
    // group moved out of it.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* rows = R"sql(
      INSERT INTO journeys(id, flow, version, user_id, key, state, node, waiting_for, visits,
        coupon_code, variant, trigger_event, last_event, steps, entered_at, updated_at,
        timer_due, timer_node, timer_visit, history, history_seq)
        VALUES(1, 'cart_reminder', 1, 'u1', '', 2, 'wait_pay', '', 'wait_pay=2', '', '', '{}', '{}',
          3, 0, 0, 9000, 'wait_pay', 2,
          '[{"at":10,"node":"wait_pay","input":"entry","reason":"waiting 72h, until 1970-01-01T00:00:09Z"}]', 2);
      INSERT INTO step_groups(journey_id, seq, flow, at, steps) VALUES(1, 0, 'cart_reminder', 1,
        '[{"at":1,"node":"wait_pay","input":"entry","reason":"first"},{"at":2,"node":"pick","input":"timer","reason":"second"}]');
    )sql";
    REQUIRE(sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  auto opened = open_sqlite_store({path});
  REQUIRE(opened.ok());
  Store& store = *opened.value();
  auto before = store.steps(1);
  REQUIRE(before.size() == 3);
  CHECK(before[0].reason == "first");
  CHECK(before[1].node == "pick");
  CHECK(before[2].reason == "waiting 72h, until 1970-01-01T00:00:09Z");
  auto count_entered = [&store] {
    std::map<std::string, int64_t> entered;
    for (const auto& n : store.counts("cart_reminder").nodes) entered[n.node] = n.entered;
    return entered;
  };
  CHECK(count_entered()["wait_pay"] == 2);

  // The next step converts the row's history; nothing read changes.
  auto j = store.due_journeys(9000, 10).value();
  REQUIRE(j.size() == 1);
  REQUIRE(store.begin().ok());
  REQUIRE(store
              .append_history(
                  j[0], {{1, "cart_reminder", 3, "wait_pay", "timer", 9000,
                          "timer of 72h fired (due 1970-01-01T00:00:09Z)"},
                         {1, "cart_reminder", 4, "done", "entry", 9000, "reached exit 'done'"}})
              .ok());
  j[0].timer.reset();
  REQUIRE(store.update_journey(j[0]).ok());
  RollupBatch rollups;  // what the engine writes with these steps
  rollups.at(9000, "cart_reminder", 1, "done", "").entered = 1;
  REQUIRE(store.add_rollups(rollups).ok());
  REQUIRE(store.commit().ok());
  CHECK(step_codec::is_encoded(store.journey(1)->history));
  const auto after = store.open_reader().value()->steps(1);
  REQUIRE(after.size() == 5);
  for (size_t i = 0; i < 3; ++i) {
    CHECK(after[i].reason == before[i].reason);
    CHECK(after[i].at == before[i].at);
    CHECK(after[i].seq == static_cast<int>(i));
  }
  CHECK(after[3].reason == "timer of 72h fired (due 1970-01-01T00:00:09Z)");
  CHECK(after[4].node == "done");
  auto entered = count_entered();
  CHECK(entered["wait_pay"] == 2);  // filled from the histories once, on the upgrade
  CHECK(entered["done"] == 1);
}

TEST_CASE("visit counts and stored events read back as written, compact or not") {
  TempDir dir;
  auto store = open_store(dir);
  const std::vector<std::pair<std::string, std::string>> rows = {
      {R"({"id":"e1","type":"add_to_cart","time":1767225600000,"properties":{"value":59}})",
       "done=1;nudge=12;wait_pay=1"},
      {R"({"id":"a \"quoted\" \\ id","type":"t\u00e9","time":-5,"properties":{}})", "a=1"},
      {R"({"id":"","type":"x","time":007,"properties":{}})", "a=01;b=2"},
      {R"({"type":"x","id":"e1"})", "not visits"},
      {"{}", ""},
  };
  REQUIRE(store->begin().ok());
  for (size_t i = 0; i < rows.size(); ++i) {
    JourneyRecord j = journey_of("u" + std::to_string(i));
    j.id = static_cast<int64_t>(i) + 1;
    j.entered_at = 1767225600000LL + 7;
    j.trigger_event = rows[i].first;
    j.last_event = rows[i].first;
    j.visits = rows[i].second;
    REQUIRE(store->insert_journey(j).ok());
  }
  REQUIRE(store->commit().ok());
  auto reader = store->open_reader().value();
  for (size_t i = 0; i < rows.size(); ++i) {
    for (const auto& j : {store->journey(static_cast<int64_t>(i) + 1),
                          reader->journey(static_cast<int64_t>(i) + 1)}) {
      REQUIRE(j.has_value());
      CHECK(j->trigger_event == rows[i].first);
      CHECK(j->last_event == rows[i].first);
      CHECK(j->visits == rows[i].second);
    }
  }
}

namespace {

// The kept counts (journey_counts) and a fresh count over every journey row,
// as "flow node state journeys conversions timers" lines.
std::pair<std::string, std::string> kept_and_counted(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  auto lines = [db](const char* sql) {
    std::string out;
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &s, nullptr) == SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
      for (int i = 0; i < sqlite3_column_count(s); ++i)
        out += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, i))) + " ";
      out += "\n";
    }
    sqlite3_finalize(s);
    return out;
  };
  std::pair<std::string, std::string> out{
      lines("SELECT flow, node, state, journeys, conversions, timers FROM journey_counts "
            "WHERE journeys > 0 ORDER BY 1, 2, 3"),
      lines("SELECT flow, node, state, count(*), count(converted_at), count(timer_due) "
            "FROM journeys GROUP BY 1, 2, 3 ORDER BY 1, 2, 3")};
  sqlite3_close(db);
  return out;
}

}  // namespace

TEST_CASE("journey counts are kept with every journey write and migrated from older files") {
  TempDir dir;
  const std::string path = dir.file("v5.db");
  // Version 6: the last before journey_counts (migration 7).
  REQUIRE(create_sqlite_file_at_version(path, 6).ok());
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* rows = R"sql(
      INSERT INTO journeys(id, flow, version, user_id, key, state, node, waiting_for, visits,
        coupon_code, variant, trigger_event, last_event, steps, entered_at, updated_at,
        converted_at, timer_due)
        VALUES(1, 'f', 1, 'u1', '', 2, 'wait', '', '', '', '', '{}', '{}', 1, 0, 0, NULL, 7000),
              (2, 'f', 1, 'u2', '', 4, 'done', '', '', '', '', '{}', '{}', 2, 0, 0, 5, NULL);
    )sql";
    REQUIRE(sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  {
    auto opened = open_sqlite_store({path});
    REQUIRE(opened.ok());
    Store& store = *opened.value();
    CHECK(store.pending_timer_count() == 1);
    FlowTotals migrated = store.totals("f");
    CHECK(migrated.journeys == 2);
    CHECK(migrated.conversions == 1);

    // New journeys, moves between nodes and states, conversions, timers armed and cleared.
    REQUIRE(store.begin().ok());
    for (int i = 0; i < 6; ++i) {
      JourneyRecord j = journey_of("n" + std::to_string(i));
      j.id = 10 + i;
      if (i % 2) j.timer = JourneyTimer{100 + i, "wait_pay", 1};
      REQUIRE(store.insert_journey(j).ok());
    }
    REQUIRE(store.commit().ok());
    REQUIRE(store.begin().ok());
    JourneyRecord moved = *store.journey(11);
    moved.node = "done";
    moved.state = Lifecycle::kCompleted;
    moved.converted_at = 300;
    moved.timer.reset();
    REQUIRE(store.update_journey(moved).ok());
    JourneyRecord rearmed = *store.journey(13);
    rearmed.timer = JourneyTimer{900, "wait_pay", 2};  // still armed: no change in counts
    REQUIRE(store.update_journey(rearmed).ok());
    JourneyRecord armed = *store.journey(10);
    armed.timer = JourneyTimer{50, "wait_pay", 1};
    REQUIRE(store.update_journey(armed).ok());
    JourneyRecord first = *store.journey(1);
    first.timer.reset();
    first.state = Lifecycle::kCompleted;
    REQUIRE(store.update_journey(first).ok());
    REQUIRE(store.commit().ok());

    CHECK(store.pending_timer_count() == 3);
    CHECK(store.totals("cart_reminder").journeys == 6);
    CHECK(store.totals("cart_reminder").conversions == 1);
  }  // closed, so every write is in the file
  auto [kept, counted] = kept_and_counted(path);
  CHECK(kept == counted);
  CHECK(kept.find("cart_reminder done") != std::string::npos);
}

TEST_CASE(
    "journey counts: a rolled back transaction counts nothing, a delete counts, a schema 7 file keeps its counts") {
  TempDir dir;
  const std::string path = dir.file("v7.db");
  REQUIRE(create_sqlite_file_at_version(path, 7).ok());
  {
    // Schema 7 counted through triggers on every journey write.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const char* rows = R"sql(
      INSERT INTO journeys(id, flow, version, user_id, key, state, node, waiting_for, visits,
        coupon_code, variant, trigger_event, last_event, steps, entered_at, updated_at,
        converted_at, timer_due)
        VALUES(1, 'f', 1, 'u1', '', 2, 'wait', '', '', '', '', '{}', '{}', 1, 0, 0, NULL, 7000),
              (2, 'f', 1, 'u2', '', 2, 'wait', '', '', '', '', '{}', '{}', 1, 0, 0, NULL, 8000);
    )sql";
    REQUIRE(sqlite3_exec(db, rows, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  {
    auto opened = open_sqlite_store({path});
    REQUIRE(opened.ok());
    Store& store = *opened.value();
    CHECK(store.pending_timer_count() == 2);

    // Rolled back: neither the new journey nor the move counts.
    REQUIRE(store.begin().ok());
    JourneyRecord added = journey_of("n1");
    added.id = 20;
    added.timer = JourneyTimer{100, "wait_pay", 1};
    REQUIRE(store.insert_journey(added).ok());
    JourneyRecord moved = *store.journey(1);
    moved.node = "done";
    moved.state = Lifecycle::kCompleted;
    moved.timer.reset();
    REQUIRE(store.update_journey(moved).ok());
    CHECK(store.pending_timer_count() == 2);  // 2 - 1 + 1 inside the transaction
    store.rollback();
    CHECK(store.pending_timer_count() == 2);
    CHECK(store.totals("cart_reminder").journeys == 0);

    // The same move committed, twice in one transaction (the second from the
    // row as this transaction left it), and a journey made and moved at once.
    REQUIRE(store.begin().ok());
    moved = *store.journey(2);
    moved.node = "pick";
    moved.state = Lifecycle::kRunning;
    moved.timer.reset();
    REQUIRE(store.update_journey(moved).ok());
    moved.node = "done";
    moved.state = Lifecycle::kCompleted;
    moved.converted_at = 5;
    REQUIRE(store.update_journey(moved).ok());
    REQUIRE(store.insert_journey(added).ok());
    added.state = Lifecycle::kCompleted;
    added.timer.reset();
    REQUIRE(store.update_journey(added).ok());
    REQUIRE(store.commit().ok());
    CHECK(store.pending_timer_count() == 1);
    CHECK(store.totals("f").conversions == 1);
  }
  {
    // A delete by hand counts through the trigger.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "DELETE FROM journeys WHERE id = 1", nullptr, nullptr, nullptr) ==
            SQLITE_OK);
    sqlite3_close(db);
  }
  auto [kept, counted] = kept_and_counted(path);
  CHECK(kept == counted);
  CHECK(kept.find("f done 4 1 1 0") != std::string::npos);
  CHECK(kept.find("cart_reminder wait_pay 4 1 0 0") != std::string::npos);
}

TEST_CASE("merging a user moves journeys, their deliveries, missing consent and merged ids") {
  TempDir dir;
  auto store = open_store(dir);
  auto delivery = [](int64_t journey, const std::string& user, const std::string& node) {
    DeliveryRecord d;
    d.key = std::to_string(journey) + ":" + node + ":1";
    d.journey_id = journey;
    d.channel = "sms";
    d.user_id = user;
    d.flow = "cart_reminder";
    d.node = node;
    return d;
  };
  REQUIRE(store->begin().ok());
  JourneyRecord visitor = journey_of("a1");
  visitor.id = 1;
  store->insert_journey(visitor);
  JourneyRecord other = journey_of("x");
  other.id = 12;  // its deliveries' keys start with "1" too, and must stay
  store->insert_journey(other);
  CHECK(store->insert_delivery(delivery(1, "a1", "nudge")));
  CHECK(store->insert_delivery(delivery(12, "x", "nudge")));
  REQUIRE(store->put_profile("a1", R"({"name":"Visitor"})", 1).ok());
  REQUIRE(store->put_consent({"a1", "sms", false, 1, "api"}).ok());
  REQUIRE(store->put_consent({"a1", "email", false, 1, "api"}).ok());
  REQUIRE(store->put_consent({"u1", "email", true, 2, "api"}).ok());
  REQUIRE(store->merge_user("a0", "a1", 3).ok());  // an older visitor of the same person
  REQUIRE(store->merge_user("a1", "u1", 4).ok());
  REQUIRE(store->commit().ok());

  CHECK(store->journeys_of("a1", "").empty());
  REQUIRE(store->journeys_of("u1", "").size() == 1);
  CHECK(store->deliveries("u1", "", 10).size() == 1);
  CHECK(store->deliveries("x", "", 10).size() == 1);
  CHECK(store->deliveries("a1", "", 10).empty());
  CHECK_FALSE(store->profile("a1"));
  auto consent = store->consent("u1");
  REQUIRE(consent.size() == 2);
  CHECK(consent[0].channel == "email");
  CHECK(consent[0].subscribed);  // u1's own record stays
  CHECK(consent[1].channel == "sms");
  CHECK_FALSE(consent[1].subscribed);  // the visitor's, which u1 lacked
  CHECK(store->consent("a1").empty());
  CHECK(store->merged_into("a1") == "u1");
  CHECK(store->merged_into("a0") == "u1");
  CHECK(store->merged_ids("u1") == std::vector<std::string>{"a0", "a1"});
  CHECK_FALSE(store->merged_into("u1"));
}

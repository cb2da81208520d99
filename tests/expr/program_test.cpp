#include "dsl/expr/program.h"

#include <catch2/catch.hpp>
#include <thread>

#include "dsl/expr/timestamp.h"
#include "expr_test_support.h"

using trellis::expr::Program;
using trellis::expr::Record;
using trellis::expr::RecordScope;
using trellis::expr::to_display;
using trellis::expr::ValueView;
using trellis::testing::compile;
using trellis::testing::kNow;

namespace {

// Ana has every trait; Bo has none; Cy has them all set to null.
Record ana() {
  Record user;
  user.set("age", 34);
  user.set_list("interests", {ValueView::of("education"), ValueView::of("tech")});
  user.set("paid", false);
  user.set("first_name", "Ana");
  user.set("address.city", "Oslo");
  user.set("score", 85.5);
  user.set("signed_up_at", "2026-11-13T09:00:00Z");
  user.set("signed_up_epoch", kNow - 3.5 * 86400);
  user.set("bio", "teaches maths");
  return user;
}

Record cy() {
  Record user;
  for (const char* name : {"age", "interests", "paid", "first_name", "score"}) user.set_null(name);
  return user;
}

Record user_named(const std::string& who) {
  if (who == "ana") return ana();
  if (who == "cy") return cy();
  return Record();
}

// A scope that answers only through lookup(), as a scope without Records does;
// programs must give the same results as through the Record fast path.
class LookupOnlyScope final : public trellis::expr::Scope {
 public:
  explicit LookupOnlyScope(const RecordScope& inner) : inner_(inner) {}
  ValueView lookup(trellis::expr::PathId path) const override { return inner_.lookup(path); }
  double now() const override { return inner_.now(); }

 private:
  const RecordScope& inner_;
};

std::string evaluate(const std::string& source, const std::string& who) {
  Record user = user_named(who);
  Record event;
  event.set("value", 59);
  event.set("type", "add_to_cart");
  event.set("time", "2026-11-20T10:00:00Z");
  Record last_event;
  last_event.set("value", 12);
  RecordScope scope(&user, &event, &last_event, "C-001", kNow);
  Program program = compile(source);
  std::string direct = to_display(program.evaluate(scope));
  CHECK(to_display(program.evaluate(LookupOnlyScope(scope))) == direct);
  return direct;
}

}  // namespace

TEST_CASE("truth table: comparisons, with null and missing traits") {
  // Columns: the expression, then its value for Ana (traits set), Bo (no traits)
  // and Cy (traits set to null). Missing and null behave alike.
  auto [source, for_ana, for_bo, for_cy] =
      GENERATE(table<std::string, std::string, std::string, std::string>({
          {"user.age > 30", "true", "false", "false"},
          {"user.age <= 30", "false", "false", "false"},
          {"user.age == 34", "true", "false", "false"},
          {"user.age != 34", "false", "false", "false"},
          {"user.age != 35", "true", "false", "false"},
          {"user.age >= 34 and user.age < 35", "true", "false", "false"},
          {"30 < user.age", "true", "false", "false"},
          {"user.age == null", "false", "false", "false"},
          {"user.age != null", "false", "false", "false"},
          {"not user.age", "false", "true", "true"},
          {"not (user.age > 30)", "false", "true", "true"},
          {"not user.paid", "true", "true", "true"},
          {"user.paid == false", "true", "false", "false"},
          {"has(user.age)", "true", "false", "false"},
          {"has(user.paid)", "true", "false", "false"},
          {"\"education\" in user.interests", "true", "false", "false"},
          {"\"cooking\" in user.interests", "false", "false", "false"},
          {"user.first_name in [\"Ana\", \"Bo\"]", "true", "false", "false"},
          {"user.first_name in [user.bio, \"Ana\"]", "true", "false", "false"},
          {"\"math\" in user.bio", "true", "false", "false"},
          {"user.score in 85.5", "false", "false", "false"},
          {"null in [null]", "false", "false", "false"},
          {"user.address.city == \"Oslo\"", "true", "false", "false"},
          {"user.first_name < \"Bo\"", "true", "false", "false"},
          {"user.first_name > 3", "false", "false", "false"},
          {"user.first_name == 3", "false", "false", "false"},
          {"user.first_name != 3", "true", "false", "false"},
          {"user.paid < true", "false", "false", "false"},
          {"user.age > 30 and \"education\" in user.interests and not user.paid", "true", "false",
           "false"},
          {"user.age > 30 or has(user.email)", "true", "false", "false"},
          {"user.age < 30 or not has(user.email)", "true", "true", "true"},
          {"user.interests == [\"education\", \"tech\"]", "true", "false", "false"},
      }));
  CAPTURE(source);
  CHECK(evaluate(source, "ana") == for_ana);
  CHECK(evaluate(source, "bo") == for_bo);
  CHECK(evaluate(source, "cy") == for_cy);
}

TEST_CASE("truth table: arithmetic, time and functions") {
  auto [source, for_ana, for_bo] = GENERATE(table<std::string, std::string, std::string>({
      {"user.age + 1", "35", "null"},
      {"user.age * 2 - 8 / 4", "66", "null"},
      {"user.age % 5", "4", "null"},
      {"user.age / 0", "null", "null"},
      {"user.age % 0", "null", "null"},
      {"-user.age", "-34", "null"},
      {"-user.first_name", "null", "null"},
      {"user.first_name + 1", "null", "null"},
      {"user.score / 2", "42.75", "null"},
      {"now", "1795428000", "1795428000"},
      {"days_since(user.signed_up_at)", "10", "null"},
      {"days_since(user.signed_up_epoch)", "3", "null"},
      {"days_since(user.first_name)", "null", "null"},
      {"days_since(user.signed_up_at) > 7", "true", "false"},
      {"now - event.time >= 72h", "true", "true"},
      {"now - event.time > 72h", "false", "false"},
      {"now - event.time", "259200", "259200"},
      {"now - event.time > 4d", "false", "false"},
      {"event.value >= 20 and event.type == \"add_to_cart\"", "true", "true"},
      {"last_event.value", "12", "12"},
      {"event.missing", "null", "null"},
      {"[user.age, 1]", "[34, 1]", "[null, 1]"},
      {"[\"a\", [true, null]]", "[\"a\", [true, null]]", "[\"a\", [true, null]]"},
      {"1 + 2 * 3", "7", "7"},
      {"7d", "604800", "604800"},
      {"\"x\"", "x", "x"},
  }));
  CAPTURE(source);
  CHECK(evaluate(source, "ana") == for_ana);
  CHECK(evaluate(source, "bo") == for_bo);
}

TEST_CASE("test() is truthiness of the result, null is false") {
  Record user = ana();
  RecordScope scope(&user, nullptr, nullptr, {}, kNow);
  auto [source, truth] = GENERATE(table<std::string, bool>({
      {"user.age", true},
      {"user.missing", false},
      {"0", false},
      {"\"\"", false},
      {"\"a\"", true},
      {"[]", false},
      {"[0]", true},
      {"user.paid", false},
      {"user.interests", true},
      {"null", false},
      {"0 / 0", false},
  }));
  CAPTURE(source);
  CHECK(compile(source).test(scope) == truth);
}

TEST_CASE("and/or short-circuit and always give booleans") {
  Record user = ana();
  RecordScope scope(&user, nullptr, nullptr, {}, kNow);
  ValueView v = compile("user.age and user.first_name").evaluate(scope);
  CHECK(v.type == trellis::expr::Type::kBool);
  CHECK(v.boolean);
  CHECK(to_display(compile("user.missing or 0").evaluate(scope)) == "false");
  CHECK(to_display(compile("user.missing and user.age > 1").evaluate(scope)) == "false");
}

TEST_CASE("a program lists the paths it reads, once each, in order") {
  Program program = compile("user.age > 30 and user.age < 60 or has(event.x) or not user.paid");
  std::vector<std::string> names;
  for (auto id : program.paths()) {
    names.push_back(std::to_string(static_cast<int>(trellis::expr::path_root(id))) + ":" +
                    std::string(trellis::expr::path_name(id)));
  }
  CHECK(names == std::vector<std::string>{"0:age", "1:x", "0:paid"});
}

TEST_CASE("an empty (moved-from) program evaluates to null") {
  Program program = compile("1");
  Program other = std::move(program);
  RecordScope scope(nullptr);
  CHECK(to_display(other.evaluate(scope)) == "1");
  CHECK(Program().evaluate(scope).is_null());
}

TEST_CASE("timestamps in ISO 8601") {
  auto [text, seconds] = GENERATE(table<std::string, double>({
      {"1970-01-01", 0},
      {"2026-11-23T10:00:00Z", 1795428000},
      {"2026-11-23T10:00:00.5Z", 1795428000.5},
      {"2026-11-23T11:00:00+01:00", 1795428000},
      {"2026-11-23 10:00", 1795428000},
      {"2000-02-29T00:00:00Z", 951782400},
  }));
  CAPTURE(text);
  double parsed = -1;
  REQUIRE(trellis::expr::parse_timestamp(text, parsed));
  CHECK(parsed == seconds);
}

TEST_CASE("text that is not a timestamp") {
  auto text = GENERATE(as<std::string>{}, "", "2026", "2026-13-01", "2026-11-23T25:00",
                       "2026-11-23Tnoon", "2026-11-23T10:00:00 UTC", "yesterday");
  CAPTURE(text);
  double parsed = 0;
  CHECK_FALSE(trellis::expr::parse_timestamp(text, parsed));
}

TEST_CASE("to_display formats numbers without a trailing .0 and lists as JSON") {
  CHECK(to_display(ValueView::of(3.0)) == "3");
  CHECK(to_display(ValueView::of(-0.25)) == "-0.25");
  CHECK(to_display(ValueView::of(1e20)) == "1e+20");
  CHECK(to_display(ValueView::null()) == "null");
  CHECK(to_display(ValueView::of(true)) == "true");
  CHECK(to_display(ValueView::of("a\"b")) == "a\"b");
  ValueView items[] = {ValueView::of("a\"b"), ValueView::of(2), ValueView::null()};
  CHECK(to_display(ValueView::list(items, 3)) == "[\"a\\\"b\", 2, null]");
}

TEST_CASE("one program evaluates on several threads at once") {
  Program program = compile("[user.age, user.age + 1]");
  std::vector<Record> users(4);
  for (int i = 0; i < 4; ++i) users[i].set("age", i * 10);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      RecordScope scope(&users[t]);
      for (int i = 0; i < 20000; ++i) {
        ValueView list = program.evaluate(scope);
        if (list.size != 2 || list.items[0].number != t * 10 ||
            list.items[1].number != t * 10 + 1) {
          ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(mismatches == std::vector<int>(4, 0));
}

TEST_CASE("local_hour() and local_weekday() come from the scope's local clock, else null") {
  RecordScope plain(nullptr, nullptr, nullptr, "", kNow);
  CHECK(compile("local_hour()").evaluate(plain).is_null());
  CHECK(compile("local_weekday()").evaluate(plain).is_null());
  CHECK_FALSE(compile("local_hour() >= 0").test(plain));

  // A scope that knows the user's wall clock (nodes::FlowScope does, with time zones).
  class WallClockScope final : public trellis::expr::Scope {
   public:
    trellis::expr::ValueView lookup(trellis::expr::PathId) const override {
      return trellis::expr::ValueView::null();
    }
    double now() const override { return kNow; }
    std::optional<trellis::expr::LocalClock> local_clock() const override {
      return trellis::expr::LocalClock{9, 1};
    }
  } wall_clock;
  CHECK(compile("local_hour()").evaluate(wall_clock).number == 9);
  CHECK(compile("local_weekday()").evaluate(wall_clock).string() == "mon");
  CHECK(compile("local_hour() >= 9 and local_hour() < 17 and local_weekday() in "
                "[\"mon\", \"tue\"]")
            .test(wall_clock));
}

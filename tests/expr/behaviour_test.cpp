// count() and last_seen() over a Behaviour (docs/expressions.md#behaviour).
#include "dsl/expr/behaviour.h"

#include <catch2/catch.hpp>

#include "dsl/expr/value.h"
#include "expr_test_support.h"

using trellis::expr::Behaviour;
using trellis::expr::Record;
using trellis::expr::RecordScope;
using trellis::expr::utc_day;
using trellis::expr::ValueView;
using trellis::testing::compile;
using trellis::testing::kNow;

namespace {

// A RecordScope that also answers behaviour().
class BehaviourScope final : public trellis::expr::Scope {
 public:
  BehaviourScope(const Behaviour* behaviour, const Record* event = nullptr)
      : records_(nullptr, event, nullptr, {}, kNow), behaviour_(behaviour) {}
  ValueView lookup(trellis::expr::PathId path) const override { return records_.lookup(path); }
  double now() const override { return kNow; }
  const Behaviour* behaviour() const override { return behaviour_; }

 private:
  RecordScope records_;
  const Behaviour* behaviour_;
};

constexpr int64_t kDay = 86400;

}  // namespace

TEST_CASE("count() adds the day buckets of its window, today included") {
  const int64_t today = utc_day(kNow);
  Behaviour b;
  b.add("product_viewed", today, 2);
  b.add("product_viewed", today - 29, 1);  // the window's first day
  b.add("product_viewed", today - 30, 5);  // one day before it
  b.add("product_viewed", today + 1, 7);   // not yet
  b.add("order_paid", today, 1);
  BehaviourScope scope(&b);
  CHECK(compile("count(\"product_viewed\", 30d)").evaluate(scope).number == 3);
  CHECK(compile("count(\"product_viewed\", 31d)").evaluate(scope).number == 8);
  CHECK(compile("count(\"product_viewed\", 1d)").evaluate(scope).number == 2);
  CHECK(compile("count(\"never\", 30d)").evaluate(scope).number == 0);
  CHECK(compile("count(\"product_viewed\", 30d) >= 3").test(scope));
  CHECK_FALSE(compile("count(\"product_viewed\", 30d) >= 4").test(scope));
}

TEST_CASE("a filtered count reads the counter of its type and filter") {
  const int64_t today = utc_day(kNow);
  trellis::expr::Program program =
      compile("count(\"product_viewed\", 30d, where: event.category == \"exam\")");
  REQUIRE(program.counters().size() == 1);
  const trellis::expr::CounterUse& use = program.counters()[0];
  CHECK(use.event_type == "product_viewed");
  CHECK(use.window_days == 30);
  CHECK(use.key == "product_viewed where (== event.category \"exam\")");
  REQUIRE(use.where != nullptr);
  Record exam;
  exam.set("category", "exam");
  Record games;
  games.set("category", "games");
  CHECK(use.where->test(BehaviourScope(nullptr, &exam)));
  CHECK_FALSE(use.where->test(BehaviourScope(nullptr, &games)));

  // Spacing and parentheses do not make another counter.
  CHECK(compile("count(\"product_viewed\", 7d, where: (event.category==\"exam\"))")
            .counters()[0]
            .key == use.key);

  Behaviour b;
  b.add(use.key, today, 4);
  b.add("product_viewed", today, 9);
  CHECK(program.evaluate(BehaviourScope(&b)).number == 4);
}

TEST_CASE("last_seen() is a time in seconds, null when never seen") {
  Behaviour b;
  b.seen("order_paid", kNow - 10 * kDay);
  b.seen("order_paid", kNow - 40 * kDay);  // older: the latest stays
  BehaviourScope scope(&b);
  CHECK(compile("last_seen(\"order_paid\")").evaluate(scope).number == kNow - 10 * kDay);
  CHECK(compile("now - last_seen(\"order_paid\") < 30d").test(scope));
  CHECK(compile("has(last_seen(\"order_paid\"))").test(scope));
  CHECK(compile("last_seen(\"signup\")").evaluate(scope).is_null());
  CHECK_FALSE(compile("has(last_seen(\"signup\"))").test(scope));
  CHECK_FALSE(compile("now - last_seen(\"signup\") > 30d").test(scope));
  CHECK(compile("last_seen(\"order_paid\")").last_seen_types() ==
        std::vector<std::string>{"order_paid"});
}

TEST_CASE("without a behaviour in the scope, count() and last_seen() are null") {
  BehaviourScope scope(nullptr);
  CHECK(compile("count(\"a\", 30d)").evaluate(scope).is_null());
  CHECK(compile("last_seen(\"a\")").evaluate(scope).is_null());
  CHECK_FALSE(compile("count(\"a\", 30d) >= 0").test(scope));
  CHECK(compile("count(\"a\", 30d) >= 0").reads_behaviour());
  CHECK_FALSE(compile("user.age > 3").reads_behaviour());
}

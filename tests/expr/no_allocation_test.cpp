// Verifies the claim of program.h: evaluation allocates nothing. This binary
// replaces the global operator new to count calls while `counting` is set.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <new>

#include "dsl/expr/program.h"
#include "expr_test_support.h"

namespace {
std::atomic<bool> counting{false};
std::atomic<size_t> allocations{0};
}  // namespace

// GCC flags free() on memory from `new`; here `new` is malloc by construction.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using trellis::expr::Record;
using trellis::expr::RecordScope;
using trellis::expr::ValueView;

TEST_CASE("the allocation counter sees allocations (so the next test can fail)") {
  allocations = 0;
  counting = true;
  auto* p = new std::string(100, 'x');
  counting = false;
  delete p;
  CHECK(allocations.load() >= 1);
}

TEST_CASE("evaluating a compiled program allocates nothing") {
  auto source = GENERATE(
      as<std::string>{}, "user.age > 30 and \"education\" in user.interests and not user.paid",
      "user.first_name in [\"Ana\", user.nick, \"Bo\"] or user.x == null",
      "days_since(user.signed_up_at) > 7 and now - event.time > 72h",
      "(user.age + 1) * 2 % 7 >= -user.age and has(user.missing)", "[user.age, [1, 2], \"x\"]");
  CAPTURE(source);
  trellis::expr::Program program = trellis::testing::compile(source);
  Record user;
  user.set("age", 34);
  user.set_list("interests", {ValueView::of("education")});
  user.set("paid", false);
  user.set("first_name", "Ana");
  user.set("signed_up_at", "2026-11-01T00:00:00Z");
  Record event;
  event.set("time", "2026-11-20T10:00:00Z");
  RecordScope scope(&user, &event, nullptr, {}, trellis::testing::kNow);
  program.evaluate(scope);  // the first call on a thread may set up its scratch

  allocations = 0;
  counting = true;
  bool any = false;
  for (int i = 0; i < 1000; ++i) any ^= program.test(scope);
  ValueView last = program.evaluate(scope);
  counting = false;
  CHECK(allocations.load() == 0);
  CHECK((any || !any));
  CHECK_FALSE(last.type == trellis::expr::Type::kNull);
}

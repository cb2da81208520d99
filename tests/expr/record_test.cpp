#include <catch2/catch.hpp>

#include "dsl/expr/value.h"

using trellis::expr::intern_path;
using trellis::expr::path_name;
using trellis::expr::path_root;
using trellis::expr::path_under_root;
using trellis::expr::Record;
using trellis::expr::Type;
using trellis::expr::ValueView;
using trellis::ir::PathRoot;

TEST_CASE("interned paths: one id per root and name, names shared across roots") {
  auto user_age = intern_path(PathRoot::kUser, "age");
  CHECK(intern_path(PathRoot::kUser, "age") == user_age);
  auto event_age = intern_path(PathRoot::kEvent, "age");
  CHECK(event_age != user_age);
  CHECK(path_under_root(user_age, PathRoot::kEvent) == event_age);
  CHECK(path_name(event_age) == "age");
  CHECK(path_root(event_age) == PathRoot::kEvent);
  trellis::ir::Path path{PathRoot::kLastEvent, {"address", "city"}, {}};
  CHECK(path_name(intern_path(path)) == "address.city");
  CHECK(trellis::expr::interned_path_count() > intern_path(path));
}

TEST_CASE("a record finds values by dotted name and by path id of any root") {
  Record record;
  record.set("age", 34);
  record.set("address.city", "Oslo");
  record.set("paid", true);
  record.set_list("tags", {ValueView::of("a"), ValueView::of(2), ValueView::null()});
  CHECK(record.size() == 4);
  CHECK(record.get("age").number == 34);
  CHECK(record.get(intern_path(PathRoot::kUser, "address.city")).string() == "Oslo");
  CHECK(record.get(intern_path(PathRoot::kEvent, "address.city")).string() == "Oslo");
  CHECK(record.get("paid").boolean);
  ValueView tags = record.get("tags");
  REQUIRE(tags.type == Type::kList);
  REQUIRE(tags.size == 3);
  CHECK(tags.items[0].string() == "a");
  CHECK(tags.items[1].number == 2);
  CHECK(tags.items[2].is_null());
  CHECK(record.get("never.heard.of").is_null());
  CHECK(record.get(intern_path(PathRoot::kUser, "interned.but.absent")).is_null());
  CHECK_FALSE(record.has("never"));
}

TEST_CASE("setting a name again replaces its value, erase removes it") {
  Record record;
  record.set("plan", "free");
  record.set("plan", "pro");
  record.set("age", 3);
  CHECK(record.size() == 2);
  CHECK(record.get("plan").string() == "pro");
  record.erase("plan");
  record.erase("not-there");
  CHECK(record.size() == 1);
  CHECK(record.get("plan").is_null());
  record.erase("age");
  CHECK(record.size() == 0);
  CHECK(record.get("age").is_null());
}

TEST_CASE("copies own their text, the original can change or die") {
  Record copy;
  {
    Record original;
    original.set("name", std::string(100, 'x'));
    original.set_list("tags", {ValueView::of("long tag text that is not inline")});
    copy = original;
    original.set("name", "changed");
  }
  CHECK(copy.get("name").string() == std::string(100, 'x'));
  CHECK(copy.get("tags").items[0].string() == "long tag text that is not inline");
  Record moved = std::move(copy);
  CHECK(moved.get("name").string().size() == 100);
}

TEST_CASE("merge overwrites with the other record's entries") {
  Record profile;
  profile.set("age", 30);
  profile.set("city", "Oslo");
  Record identify;
  identify.set("age", 31);
  identify.set("plan", "pro");
  profile.merge(identify);
  CHECK(profile.size() == 3);
  CHECK(profile.get("age").number == 31);
  CHECK(profile.get("city").string() == "Oslo");
  CHECK(profile.get("plan").string() == "pro");
}

TEST_CASE("entries come out in name order, and from() builds a record in one go") {
  Record record = Record::from(
      {{"zeta", ValueView::of(1)}, {"alpha", ValueView::of("a")}, {"zeta", ValueView::of(2)}});
  auto entries = record.entries();
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].first == "alpha");
  CHECK(entries[1].first == "zeta");
  CHECK(entries[1].second.number == 2);
}

TEST_CASE("a record with many traits still finds each one") {
  Record record;
  for (int i = 0; i < 100; ++i) record.set("trait_" + std::to_string(i), i);
  for (int i = 0; i < 100; ++i) {
    CHECK(record.get("trait_" + std::to_string(i)).number == i);
  }
}

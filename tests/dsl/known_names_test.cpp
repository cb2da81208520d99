// Names a flow uses that are not known (dsl/known_names.h): traits declared in the
// delivery configuration's `traits:` list, those of stored profiles and those the
// flow's own update_profile nodes write; conditions of generic kinds too.
#include "dsl/known_names.h"

#include <catch2/catch.hpp>

#include "tests/dsl/flow_test_support.h"

using namespace trellis;

namespace {

constexpr const char* kFlow = R"(flow: greet
trigger:
  event: signed_up
start: count
nodes:
  count:
    type: update_profile
    increment:
      visits: 1
    next: pick
  pick:
    type: split
    branches:
      - { when: user.teir == "gold", next: hello }
      - { when: user.visits > 3, next: hello }
    default: hello
  hello:
    type: sms
    text: "Hi {{user.frist_name}}, visit {{user.visits}}; {{user.nickname}}"
    next: done
  done:
    type: exit
)";

// "node.field: code: message" of each finding.
std::vector<std::string> findings(const dsl::KnownNames& known) {
  dsl::LoadResult loaded = test::check_yaml(kFlow);
  REQUIRE(loaded.ok());
  std::vector<std::string> out;
  const ir::Diagnostics found = dsl::check_known_names(*loaded.flow, known);
  for (const ir::Diagnostic& d : found.items())
    out.push_back(d.node + "." + d.field + ": " + d.code + ": " + d.message);
  return out;
}

}  // namespace

TEST_CASE("declared traits tell a typo from a trait, with the name meant") {
  dsl::KnownNames known;
  known.declared_traits = {"first_name", "tier"};
  std::vector<std::string> got = findings(known);
  CHECK(got == std::vector<std::string>{
                   // A near miss in a split's condition, at the branch's field.
                   "pick.branches.0.when: trait_undeclared: 'teir' is not a declared trait "
                   "(traits: in trellis.yaml): did you mean 'tier'?",
                   "hello.text: trait_undeclared: 'frist_name' is not a declared trait (traits: "
                   "in trellis.yaml): did you mean 'first_name'?",
                   // In a template any unknown trait prints nothing, so it is reported.
                   "hello.text: trait_undeclared: 'nickname' is not a declared trait (traits: in "
                   "trellis.yaml); declare it there if profiles will have it",
               });
  // `visits`, written by the flow's own update_profile, is known: no finding names it.
  for (const std::string& line : got) CHECK(line.find("'visits'") == std::string::npos);
}

TEST_CASE("declared and stored traits are known together, stored alone keep their words") {
  dsl::KnownNames both;
  both.declared_traits = {"tier"};
  both.traits = {"first_name", "nickname"};
  std::vector<std::string> got = findings(both);
  REQUIRE(got.size() == 2);  // `nickname` is stored
  CHECK(got[0] ==
        "pick.branches.0.when: trait_undeclared: 'teir' is not a declared trait (traits: in "
        "trellis.yaml) and no stored profile has it: did you mean 'tier'?");
  CHECK(got[1] ==
        "hello.text: trait_undeclared: 'frist_name' is not a declared trait (traits: in "
        "trellis.yaml) and no stored profile has it: did you mean 'first_name'?");

  dsl::KnownNames stored;
  stored.traits = {"first_name", "tier"};
  got = findings(stored);
  REQUIRE(got.size() == 3);
  CHECK(got[1] ==
        "hello.text: trait_unknown: no stored profile has the trait 'frist_name': did "
        "you mean 'first_name'?");
  CHECK(got[2] ==
        "hello.text: trait_unknown: no stored profile has the trait 'nickname'; it is "
        "empty for every user so far");
}

TEST_CASE("nothing declared or stored checks no trait") {
  CHECK(findings(dsl::KnownNames{}).empty());
}

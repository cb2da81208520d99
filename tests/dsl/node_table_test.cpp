// The table of node kinds (dsl/ir/node_table.h) and the lists derived from it.
#include "dsl/ir/node_table.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "dsl/node_schema.h"
#include "tests/dsl/flow_test_support.h"

using namespace trellis;

TEST_CASE("kind names come from the table", "[node_table]") {
  for (const ir::KindSchema& schema : ir::node_schemas()) {
    CHECK(ir::node_kind_name(schema.kind) == schema.name);
    CHECK(ir::node_kind_from_name(schema.name) == schema.kind);
    CHECK_FALSE(schema.label.empty());
  }
  CHECK_FALSE(ir::node_kind_from_name("Segment").has_value());
}

TEST_CASE("the loaders' keys of a kind are type, description and the table's fields",
          "[node_table]") {
  for (const ir::KindSchema& kind : ir::node_schemas()) {
    INFO(kind.name);
    const std::vector<dsl::FieldSpec>& keys = dsl::node_schema(kind.kind).fields;
    REQUIRE(keys.size() == kind.fields.size() + 2);
    CHECK(keys[0].name == "type");
    CHECK(keys[1].name == "description");
    for (size_t i = 0; i < kind.fields.size(); ++i) {
      CHECK(keys[i + 2].name == kind.fields[i].name);
      CHECK((keys[i + 2].requirement == dsl::Requirement::kRequired) == kind.fields[i].required);
    }
  }
}

TEST_CASE("every starting value is JSON", "[node_table]") {
  nlohmann::json table = nlohmann::json::parse(ir::node_schemas_json());
  REQUIRE(table.size() == ir::node_schemas().size());
  CHECK(table[1]["fields"][0]["initial"] == "1d");  // wait: for
}

// editor-web's model tests run against a copy of GET /v1/schema/nodes; a kind or
// field changed here must be copied there (docs/node-kinds.md).
TEST_CASE("the editor's test copy of the table is the table", "[node_table]") {
  std::string copy = test::read_text(test::source_path("editor-web/test/kinds.json"));
  REQUIRE_FALSE(copy.empty());
  CHECK(nlohmann::json::parse(copy) == nlohmann::json::parse(ir::node_schemas_json()));
}

// The flow language reference follows the table: a section per kind and a row
// per field (docs/node-kinds.md, step 7).
TEST_CASE("docs/flows.md documents every kind and field of the table", "[node_table]") {
  std::string reference = test::read_text(test::source_path("docs/flows.md"));
  REQUIRE_FALSE(reference.empty());
  for (const ir::KindSchema& kind : ir::node_schemas()) {
    INFO(kind.name);
    const size_t section = reference.find("\n### " + kind.name + "\n");
    REQUIRE(section != std::string::npos);
    const size_t end = reference.find("\n### ", section + 1);
    const std::string text = reference.substr(section, end - section);
    for (const ir::FieldSchema& field : kind.fields) {
      INFO(field.name);
      CHECK(text.find("| `" + field.name + "` |") != std::string::npos);
    }
  }
}

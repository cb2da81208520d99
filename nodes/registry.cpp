#include "nodes/registry.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "nodes/kinds.h"

namespace trellis::nodes {

namespace {

// Generic kinds' processors by NodeKind value, filled at start-up by their files.
std::vector<const NodeProcessor*>& generic_processors() {
  static std::vector<const NodeProcessor*> processors;
  return processors;
}

}  // namespace

// Refers to every generic kind's registration (node_kind_list.cpp, generated),
// so that the linker keeps their files out of the static library.
bool keep_generic_kinds();

bool register_processor(const NodeProcessor& processor) {
  const auto index = static_cast<size_t>(processor.kind());
  if (!ir::is_generic(processor.kind()) || index >= ir::all_node_kinds().size()) {
    std::fprintf(stderr, "trellis: a node kind registered at start-up is not in the table\n");
    std::abort();
  }
  auto& processors = generic_processors();
  if (processors.size() <= index) processors.resize(index + 1, nullptr);
  if (processors[index] != nullptr) {
    std::fprintf(stderr, "trellis: two processors for node kind '%s'\n",
                 std::string(ir::node_kind_name(processor.kind())).c_str());
    std::abort();
  }
  processors[index] = &processor;
  return true;
}

ir::NodeKind kind_named(std::string_view name) {
  std::optional<ir::NodeKind> kind = ir::node_kind_from_name(name);
  if (!kind) {
    std::fprintf(stderr, "trellis: node kind '%s' has no row in the table of kinds\n",
                 std::string(name).c_str());
    std::abort();
  }
  return *kind;
}

const NodeProcessor* find_processor(ir::NodeKind kind) {
  // Indexed by ir::NodeKind, which follows ir::NodeBody's alternatives.
  static const std::array<const NodeProcessor*, ir::kFirstGenericKind> kProcessors = {
      &segment_processor(), &wait_processor(),    &coupon_processor(), &sms_processor(),
      &email_processor(),   &webhook_processor(), &ab_processor(),     &exit_processor()};
  [[maybe_unused]] static const bool kKept = keep_generic_kinds();
  const auto index = static_cast<size_t>(kind);
  if (index < kProcessors.size()) return kProcessors[index];
  const auto& generic = generic_processors();
  return index < generic.size() ? generic[index] : nullptr;
}

const NodeProcessor& processor_for(ir::NodeKind kind) {
  const NodeProcessor* processor = find_processor(kind);
  if (processor == nullptr) {
    std::fprintf(stderr, "trellis: no processor for node kind '%s'\n",
                 std::string(ir::node_kind_name(kind)).c_str());
    std::abort();
  }
  return *processor;
}

}  // namespace trellis::nodes

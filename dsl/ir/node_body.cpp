#include "dsl/ir/node_body.h"

#include <utility>
#include <variant>

namespace trellis::ir {

namespace {

template <size_t... I>
NodeBody body_at(size_t index, std::index_sequence<I...>) {
  NodeBody body;
  ((I == index ? (body.emplace<I>(), true) : false) || ...);
  return body;
}

}  // namespace

// Node::kind() is the body's alternative index, so the kind names the alternative.
NodeBody empty_body(NodeKind kind) {
  if (is_generic(kind)) return GenericNode{static_cast<int>(kind), {}};
  return body_at(static_cast<size_t>(kind),
                 std::make_index_sequence<std::variant_size_v<NodeBody>>());
}

}  // namespace trellis::ir

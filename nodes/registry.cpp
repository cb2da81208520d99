#include "nodes/registry.h"

#include <array>
#include <variant>

#include "nodes/kinds.h"

namespace trellis::nodes {

const NodeProcessor& processor_for(ir::NodeKind kind) {
  // Indexed by ir::NodeKind, which follows ir::NodeBody's alternatives.
  static const std::array<const NodeProcessor*, std::variant_size_v<ir::NodeBody>> kProcessors = {
      &segment_processor(), &wait_processor(),    &coupon_processor(), &sms_processor(),
      &email_processor(),   &webhook_processor(), &ab_processor(),     &exit_processor()};
  return *kProcessors[static_cast<size_t>(kind)];
}

}  // namespace trellis::nodes

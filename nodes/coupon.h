// Coupon codes for `generate: {prefix, length}`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dsl/ir/flow.h"

namespace trellis::nodes {

// prefix + `length` characters from an unambiguous alphabet (no 0/O, 1/I/L),
// derived from a stable hash of (seed, attempt): the same inputs always give the
// same code. The coupon node uses seed = journey id + "/" + node id and attempt
// 0; the runtime retries with attempt 1, 2, ... when a code is already issued.
std::string generate_coupon_code(const ir::CouponGenerate& spec, std::string_view seed,
                                 uint32_t attempt = 0);

}  // namespace trellis::nodes

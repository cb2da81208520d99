// UTF-8 validation shared by the front ends (flow files) and the event parser
// (identifiers): text that is not valid UTF-8 is refused with its position
// rather than passed on and shown as U+FFFD.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace trellis::ir {

// Byte offset of the first byte that does not start a valid UTF-8 sequence
// (overlong forms, surrogates and code points above U+10FFFF are invalid);
// empty when the whole text is valid.
std::optional<size_t> first_invalid_utf8(std::string_view text);

}  // namespace trellis::ir

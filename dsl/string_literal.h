// Decoding of quoted string literals, shared by the expression and flow
// transformers so that both syntaxes accept exactly the same escapes.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace trellis::dsl {

enum class EscapeError { kBadUnicode, kUnknown };

// Called for each bad escape with the offset of its backslash in `quoted` and
// the character after it. Decoding goes on after a bad escape.
using EscapeErrorSink = std::function<void(EscapeError error, size_t offset, char escaped)>;

// Decodes `quoted` (the literal with its surrounding quotes): \n \t \r \" \' \\ \/
// and \uXXXX (written as UTF-8).
std::string decode_string_literal(std::string_view quoted, const EscapeErrorSink& on_error);

}  // namespace trellis::dsl

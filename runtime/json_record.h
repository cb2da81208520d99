// Conversions between JSON text (how events and profiles are stored) and
// expr::Record (what expressions read). Internal to the runtime.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "dsl/expr/value.h"

namespace trellis::runtime {

// Flattens a JSON object into a Record: nested objects become dotted names
// ("address.city"); arrays of scalars become lists; arrays holding objects are
// skipped (expressions cannot address into them). Malformed text or a
// non-object yields an empty record.
expr::Record record_from_json(std::string_view json_object);

// The same from an already parsed JSON object (a non-object gives an empty record).
expr::Record record_from_json_value(const nlohmann::json& object);

// Shallow merge of two JSON objects (identify / PUT /v1/users semantics: each
// top-level trait of `update` replaces the profile's). Non-objects are treated
// as empty.
std::string merge_json_objects(std::string_view base, std::string_view update);

}  // namespace trellis::runtime

// Secrets in the delivery configuration are references to environment
// variables, never values: `"Bearer ${SMS_TOKEN}"` in a header,
// `password_env: SMTP_PASSWORD` for SMTP. They are resolved when a provider
// opens; error messages name the variable, never its value.
#pragma once

#include <string>
#include <vector>

#include "dsl/ir/result.h"

namespace trellis::runtime::delivery {

// An environment variable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_env_name(const std::string& name);

// Checks the `${NAME}` references of a configured value: "" when well formed,
// else what is wrong ("unterminated ${", "'${}' names no variable").
std::string check_references(const std::string& value);

// `value` with every `${NAME}` replaced by the variable's value. Error (naming
// the variable only) when one is not set.
Result<std::string> resolve_references(const std::string& value);

// The values of the variables `value` references (set ones only).
std::vector<std::string> referenced_values(const std::string& value);

// The value of environment variable `name`; error when it is not set.
Result<std::string> read_env(const std::string& name);

}  // namespace trellis::runtime::delivery

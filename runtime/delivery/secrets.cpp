#include "runtime/delivery/secrets.h"

#include <cctype>
#include <cstdlib>

namespace trellis::runtime::delivery {

bool is_env_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

std::string check_references(const std::string& value) {
  for (size_t at = value.find("${"); at != std::string::npos; at = value.find("${", at + 2)) {
    const size_t close = value.find('}', at);
    if (close == std::string::npos) return "unterminated '${' (write ${NAME})";
    const std::string name = value.substr(at + 2, close - at - 2);
    if (!is_env_name(name))
      return "'${" + name + "}' does not name an environment variable (letters, digits, _)";
  }
  return "";
}

Result<std::string> read_env(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return Error::not_found("environment variable " + name + " is not set");
  return std::string(value);
}

std::vector<std::string> referenced_values(const std::string& value) {
  std::vector<std::string> out;
  if (!check_references(value).empty()) return out;
  for (size_t at = value.find("${"); at != std::string::npos; at = value.find("${", at + 2)) {
    const size_t close = value.find('}', at);
    if (const char* v = std::getenv(value.substr(at + 2, close - at - 2).c_str())) out.push_back(v);
  }
  return out;
}

Result<std::string> resolve_references(const std::string& value) {
  if (std::string problem = check_references(value); !problem.empty())
    return Error::invalid(problem);
  std::string out;
  size_t from = 0;
  for (size_t at = value.find("${"); at != std::string::npos; at = value.find("${", from)) {
    const size_t close = value.find('}', at);
    Result<std::string> resolved = read_env(value.substr(at + 2, close - at - 2));
    if (!resolved.ok()) return resolved.error();
    out += value.substr(from, at - from);
    out += resolved.value();
    from = close + 1;
  }
  out += value.substr(from);
  return out;
}

}  // namespace trellis::runtime::delivery

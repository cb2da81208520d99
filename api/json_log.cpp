#include "api/json_log.h"

#include <chrono>
#include <ctime>
#include <ostream>

namespace trellis::api {

std::string utc_timestamp_now() {
  using namespace std::chrono;
  auto now = system_clock::now();
  auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buf;
}

JsonLog::JsonLog(std::ostream& out) : out_(out) {}

void JsonLog::log(const std::string& level, nlohmann::json fields) {
  nlohmann::json line = {{"ts", utc_timestamp_now()}, {"level", level}};
  if (fields.is_object()) {
    for (auto& [k, v] : fields.items()) line[k] = v;
  } else {
    line["msg"] = std::move(fields);
  }
  // `replace` keeps a line valid JSON even when a field carries invalid UTF-8.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> lock(mu_);
  out_ << text << '\n';
  out_.flush();
}

}  // namespace trellis::api

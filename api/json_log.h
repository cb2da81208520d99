// Structured logs: one JSON object per line on stderr (or any stream, for tests),
// each with "ts" (RFC 3339, UTC, milliseconds) and "level". Log shippers read it
// without a parser per message format.
//
// Thread-safety: log() may be called from any thread; lines never interleave.
#pragma once

#include <iosfwd>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

namespace trellis::api {

class JsonLog {
 public:
  // `out` is borrowed and must outlive the log.
  explicit JsonLog(std::ostream& out);
  JsonLog(const JsonLog&) = delete;
  JsonLog& operator=(const JsonLog&) = delete;

  // Writes `fields` plus "ts" and "level" (fields' own values win) and flushes.
  void log(const std::string& level, nlohmann::json fields);
  void info(nlohmann::json fields) { log("info", std::move(fields)); }
  void warn(nlohmann::json fields) { log("warn", std::move(fields)); }
  void error(nlohmann::json fields) { log("error", std::move(fields)); }

  // Turns request lines off (the benchmark measures the engine, not stderr).
  void set_request_lines(bool on) { request_lines_ = on; }
  bool request_lines() const { return request_lines_; }

 private:
  std::mutex mu_;  // guards out_
  std::ostream& out_;
  bool request_lines_ = true;
};

// Now as "2026-11-23T10:00:00.123Z".
std::string utc_timestamp_now();

}  // namespace trellis::api

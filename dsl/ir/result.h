// Result<T>: a value or an error, for recoverable failures that cross folder
// boundaries (opening a store, reading a file). User mistakes in flows are
// Diagnostics instead, because there are usually several of them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace trellis {

// What kind of failure an Error is, so that callers decide by kind and never by
// the message's words: the HTTP API answers with a status chosen by it
// (api/http_server.h, http_status), a consumer retries what is unavailable.
enum class ErrorCode {
  kInternal,     // a failure nothing names better: a bug, an unexpected state
  kInvalid,      // the input is wrong: fix it and ask again
  kNotFound,     // what the input names does not exist
  kConflict,     // the current state forbids it (it exists already, it changed meanwhile)
  kUnavailable,  // a service or resource is down or busy: ask again later
  kCorrupt,      // stored data does not read back as it was written
  kIo,           // the file system or the network failed
};

// "internal", "invalid", "not_found", "conflict", "unavailable", "corrupt", "io".
std::string_view error_code_name(ErrorCode code);

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kInternal;

  static Error invalid(std::string message) { return {std::move(message), ErrorCode::kInvalid}; }
  static Error not_found(std::string message) { return {std::move(message), ErrorCode::kNotFound}; }
  static Error conflict(std::string message) { return {std::move(message), ErrorCode::kConflict}; }
  static Error unavailable(std::string message) {
    return {std::move(message), ErrorCode::kUnavailable};
  }
  static Error corrupt(std::string message) { return {std::move(message), ErrorCode::kCorrupt}; }
  static Error io(std::string message) { return {std::move(message), ErrorCode::kIo}; }
  // The same kind of error with `context` in front of the message ("flow x: ...").
  Error prefixed(const std::string& context) const { return {context + message, code}; }
};

// A value of T or the error E that stands for it. Result<T> below; the HTTP
// API has its own error type (api/api_error.h, ApiResult).
template <typename T, typename E>
class [[nodiscard]] BasicResult {
 public:
  BasicResult(T value) : state_(std::move(value)) {}  // NOLINT: implicit by design
  BasicResult(E error) : state_(std::move(error)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(state_); }
  explicit operator bool() const { return ok(); }
  // REQUIRES: ok()
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  // REQUIRES: !ok()
  const E& error() const { return std::get<E>(state_); }

 private:
  std::variant<T, E> state_;
};

template <typename T>
using Result = BasicResult<T, Error>;

// For operations with nothing to return.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT
  static Status ok_status() { return Status(); }
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return error_.message; }
  // REQUIRES: !ok()
  const Error& error() const { return error_; }
  ErrorCode code() const { return error_.code; }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace trellis

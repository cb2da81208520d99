// How an API route refuses a request: as a value, never an exception.
//
// A route handler returns a Reply: ok once it wrote its answer, or an
// ApiError. The server (api/http_server.h) writes an ApiError in one place:
// the status its kind maps to (http_status, the one table;
// docs/http-api.md#errors) and the body every refusal has,
// {"error": name, "detail": detail}. Exceptions are left for what nobody
// expected: the server answers them 500 and keeps serving.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

#include "dsl/ir/result.h"

namespace trellis::api {

// Why a request is refused; the HTTP status follows from it (http_status).
enum class ApiErrorKind {
  kInvalid,        // 400: the request is malformed (bad JSON, a bad parameter)
  kUnauthorized,   // 401: no credentials, or unknown ones
  kForbidden,      // 403: the token lacks the scope
  kNotFound,       // 404: what the request names does not exist
  kTimeout,        // 408: the body did not arrive in time
  kConflict,       // 409: the current state forbids it
  kTooLarge,       // 413: the body or the work asked for is over a limit
  kUnprocessable,  // 422: well-formed but refused (a flow with errors, a run's budget spent)
  kUnavailable,    // 503: the store or a service is down or busy: ask again later
  kInternal,       // 500: a failure nothing names better
};

// The one table from a refusal's kind to its HTTP status.
int http_status(ApiErrorKind kind);
// The kind an error from below is answered with: invalid 400, not_found 404,
// conflict 409, unavailable 503, everything else (internal, corrupt, io) 500.
ApiErrorKind api_error_kind(ErrorCode code);
int http_status(ErrorCode code);

struct ApiError {
  ApiErrorKind kind = ApiErrorKind::kInternal;
  std::string error;      // the name clients match on: "unknown_flow", "bad_body"
  nlohmann::json detail;  // a message, or an object ({"field", "message"}, diagnostics)

  int status() const { return http_status(kind); }
  // {"error": error, "detail": detail}: the body of every refusal.
  nlohmann::json body() const { return {{"error", error}, {"detail", detail}}; }

  // An error from below answered by its kind; its message is the detail.
  static ApiError from(const Error& e, std::string error) {
    return {api_error_kind(e.code), std::move(error), e.message};
  }
  static ApiError invalid(std::string error, nlohmann::json detail) {
    return {ApiErrorKind::kInvalid, std::move(error), std::move(detail)};
  }
  static ApiError not_found(std::string error, nlohmann::json detail) {
    return {ApiErrorKind::kNotFound, std::move(error), std::move(detail)};
  }
  static ApiError conflict(std::string error, nlohmann::json detail) {
    return {ApiErrorKind::kConflict, std::move(error), std::move(detail)};
  }
  static ApiError unprocessable(std::string error, nlohmann::json detail) {
    return {ApiErrorKind::kUnprocessable, std::move(error), std::move(detail)};
  }
  static ApiError unavailable(std::string error, nlohmann::json detail) {
    return {ApiErrorKind::kUnavailable, std::move(error), std::move(detail)};
  }
};

// A value of T or the ApiError that refuses the request.
template <typename T>
using ApiResult = BasicResult<T, ApiError>;

// What a route handler returns: ok (the default) once it wrote its answer,
// else the refusal for the server to write.
class [[nodiscard]] Reply {
 public:
  Reply() = default;
  Reply(ApiError error) : error_(std::move(error)), refused_(true) {}  // NOLINT
  bool ok() const { return !refused_; }
  explicit operator bool() const { return ok(); }
  // REQUIRES: !ok()
  const ApiError& error() const { return error_; }

 private:
  ApiError error_;
  bool refused_ = false;
};

}  // namespace trellis::api

// An httplib::Server whose connections cannot hold the server hostage
// (docs/security.md, "HTTP limits").
//
// cpp-httplib 0.11 gives every connection a worker thread for its whole life
// and only a per-read timeout, so a client sending one header byte a second,
// or a few busy keep-alive clients, occupy every worker. Here one triage
// thread polls every connection that is between requests: it reads request
// headers without a worker, under a header deadline and a size cap, and hands
// a connection to a worker only when its headers are complete. A worker
// serves exactly one request (httplib's own parser and routing), under a body
// deadline and a body byte cap, then gives the connection back to triage, so
// requests from all connections take turns in one FIFO queue. The queue is
// bounded: when it is full a request is refused with 503 at once, never left
// to hang. GET /healthz and GET /metrics go to a reserved worker of their own,
// so they answer while every general worker is busy.
//
// Thread-safety: configure before listening; close_after_response() and the
// status queries are for handlers, which run on the workers.
#pragma once

#include <httplib.h>

#include <chrono>
#include <functional>
#include <string>

namespace trellis::api {

struct ConnectionLimits {
  int workers = 16;                   // threads serving requests (plus one reserved for health)
  int queue_limit = 256;              // requests with complete headers waiting for a worker
  int max_connections = 512;          // open connections; more are refused with 503
  int header_timeout_ms = 10000;      // from a request's first byte to its last header byte
  int body_timeout_ms = 30000;        // from complete headers to the last body byte
  int idle_timeout_ms = 5000;         // keep-alive: how long a connection may wait between requests
  int write_timeout_ms = 10000;       // per write of the response
  size_t max_header_bytes = 16384;    // request line and headers; more answers 431
  size_t max_body_bytes = 16u << 20;  // bytes on the wire after the headers; more closes with 413
  int max_requests_per_connection = 1000;  // then `Connection: close`
  int max_connection_age_ms = 300000;      // likewise, after this long
};

class GuardedServer : public httplib::Server {
 public:
  // `on_refused(reason)` is told about every connection refused or cut off:
  // busy, too_many_connections, header_timeout, header_too_large.
  explicit GuardedServer(ConnectionLimits limits,
                         std::function<void(const char* reason)> on_refused = nullptr);
  ~GuardedServer() override;
  GuardedServer(const GuardedServer&) = delete;
  GuardedServer& operator=(const GuardedServer&) = delete;

  const ConnectionLimits& limits() const { return limits_; }

  // httplib listens with a backlog of 5, so a burst of connections waits for
  // SYN retransmits (1 s, 3 s, ...). Call after binding: Linux lets listen()
  // be called again to raise it.
  void widen_backlog();

  // For handlers: close the connection after this response (part of the
  // body was left unread, so the next bytes are not a request).
  static void close_after_response();
  // For the error handler: why the current request's body could not be read.
  static bool body_timed_out();
  static bool body_too_large();

 private:
  class Engine;
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace trellis::api

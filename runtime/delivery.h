// Channel adapters: where committed deliveries go. The engine's dispatcher
// reads pending rows from the outbox, calls send(), and records the outcome
// (sent, retry later, dead letter) in the store. Because a crash can fall
// between send() and that record, every adapter must tolerate a repeated send
// of the same key: the file adapter skips keys already in its file, the
// webhook adapter sends an Idempotency-Key header for the receiver to dedupe.
//
// Thread-safety: one dispatcher thread at a time (the engine serialises it).
#pragma once

#include <memory>
#include <string>

#include "dsl/ir/result.h"
#include "runtime/store.h"

namespace trellis::runtime {

class DeliveryAdapter {
 public:
  virtual ~DeliveryAdapter() = default;
  // Sends one delivery. An error means "not delivered; retry later".
  virtual Status send(const DeliveryRecord& delivery) = 0;
  // Makes everything sent so far durable (the file adapter fsyncs); the
  // dispatcher calls it before recording the deliveries as sent.
  virtual Status flush() { return Status(); }
  // False for adapters whose failures are permanent by nature (none here).
  virtual bool retries() const { return true; }
};

// The SPEC §3 record as one JSON line: {id, key, channel, user_id, flow,
// flow_version, node, at, to, subject?, body}.
std::string delivery_json(const DeliveryRecord& delivery);

// Appends JSON lines to `path`. On open it repairs a torn last line (a crash
// mid-write) and remembers the keys near the end of the file, so a delivery
// re-sent after a crash is not written twice.
Result<std::unique_ptr<DeliveryAdapter>> open_file_adapter(const std::string& path);

// POSTs delivery_json() to `url` with `Idempotency-Key: <key>`; 2xx is success.
// Webhook-node deliveries go to their own URL (`to`) with their body instead.
Result<std::unique_ptr<DeliveryAdapter>> open_webhook_adapter(const std::string& url,
                                                              int64_t timeout_ms);

}  // namespace trellis::runtime

// Ingests events from a Redis stream through a consumer group (hiredis):
// XREADGROUP a batch, hand it to an EventSink that commits it durably, then
// XACK. At least once, made exactly-once in effect by the engine's event-id
// idempotency. On start the consumer first re-reads its own pending entries
// (it crashed before XACK), then claims entries another consumer left pending
// longer than `claim_idle_ms` (XAUTOCLAIM, Redis >= 6.2), and repeats that
// claim periodically. A message the sink rejects as unparseable or
// unapplicable goes to the dead-letter stream, with its original fields
// followed by `error`, `source_id` and `source_stream`, and is acked, so one
// poison message never blocks the stream (the sink bounds what a message may
// cost before parsing it: runtime::IngestLimits); a transient failure (the store)
// leaves the batch pending and retries it after a pause.
//
// Message format: `XADD <stream> * event '<json>'`, where the JSON is one event
// or an array in any form of docs/events.md. A message with a single field of any name
// is accepted too.
//
// Thread-safety: run() blocks on one thread; stop() may be called from any other.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "api/json_log.h"
#include "api/metrics.h"
#include "dsl/ir/result.h"

namespace trellis::api {

struct RedisOptions {
  std::string url = "redis://127.0.0.1:6379/0";  // redis://[:password@]host[:port][/db]
  std::string stream = "trellis:events";
  std::string group = "trellis";
  std::string consumer = "trellis-1";  // unique per process in the group
  std::string dead_letter_stream;      // empty: `<stream>:dead`
  int batch = 500;                     // XREADGROUP COUNT: one commit per batch
  int block_ms = 500;                  // XREADGROUP BLOCK; also bounds stop() latency
  long long claim_idle_ms = 30000;     // XAUTOCLAIM min-idle-time for other consumers' entries
  int retry_pause_ms = 1000;           // after a transient sink failure or lost connection
  // An entry read this many times without an ack stopped every consumer that
  // read it (a crash while handling it): it is dead-lettered, not read again.
  int max_deliveries = 10;
};

// Parses a redis:// URL. Error on another scheme or a bad port.
struct RedisAddress {
  std::string host = "127.0.0.1";
  int port = 6379;
  int db = 0;
  std::string password;
};
Result<RedisAddress> parse_redis_url(const std::string& url);

enum class SinkVerdict { kApplied, kPoison, kRetry };

struct SinkOutcome {
  SinkVerdict verdict = SinkVerdict::kApplied;
  std::string error;  // for kPoison and kRetry
};

struct StreamMessage {
  // Where the message came from, "<stream>/<entry id>": a sink gives events
  // without an id of their own this one, so a redelivered entry stays idempotent.
  std::string source_id;
  std::string payload;  // JSON text
};

// Where the consumer hands messages.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Applies the messages durably and returns one outcome per message, in
  // order. kPoison: this message can never be applied. kRetry: a transient
  // failure; nothing of kRetry messages was applied.
  virtual std::vector<SinkOutcome> apply(const std::vector<StreamMessage>& messages) = 0;
};

class RedisConsumer {
 public:
  // `sink`, `metrics` and `log` are borrowed and must outlive the consumer.
  RedisConsumer(RedisOptions options, EventSink& sink, MetricsRegistry& metrics, JsonLog& log);
  ~RedisConsumer();
  RedisConsumer(const RedisConsumer&) = delete;
  RedisConsumer& operator=(const RedisConsumer&) = delete;

  // Connects, creates the group (MKSTREAM, from the stream's start) when
  // missing, and checks the server answers. Error when unreachable.
  Status connect();
  // Consumes until stop(); reconnects after lost connections. The batch in
  // hand when stop() is called is committed and acked before run() returns.
  void run();
  void stop() { stopping_ = true; }

  // One round (for tests): pending/claimed entries first, then new ones.
  // Returns how many messages were handled (applied or dead-lettered).
  Result<size_t> poll_once();

  // One stream entry as read.
  struct Entry {
    std::string id;
    std::string payload;  // empty with `bad` set when the message has no usable field
    std::string bad;
    std::vector<std::string> fields;  // as written: field, value, field, value...
  };

 private:
  class Connection;
  Result<size_t> handle(const std::vector<Entry>& entries);
  Result<std::vector<Entry>> read_group(const std::string& start_id, int block_ms);
  Result<std::vector<Entry>> auto_claim();
  Status mark_redelivered(std::vector<Entry>& entries);

  RedisOptions options_;
  EventSink& sink_;
  MetricsRegistry& metrics_;
  JsonLog& log_;
  std::unique_ptr<Connection> conn_;
  std::atomic<bool> stopping_{false};
  bool read_own_pending_ = true;      // after start and after a retry: re-read ID 0
  bool check_own_deliveries_ = true;  // until the pending list read at start is done
  long long last_claim_ms_ = 0;
};

}  // namespace trellis::api

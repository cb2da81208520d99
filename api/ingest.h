// The one way events enter the engine from outside: HTTP bodies and Redis
// stream messages are parsed here (docs/events.md forms, runtime/event.h), counted in
// the metrics, remembered by type for the editor, and committed through
// Engine::ingest (durable on return).
//
// Thread-safety: every member may be called from any thread.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "api/metrics.h"
#include "api/redis_consumer.h"
#include "dsl/known_names.h"
#include "runtime/engine.h"

namespace trellis::api {

struct IngestOutcome {
  // Unset: committed (202). Else 400 `invalid_event` (a bad body or a refused
  // event) or 503 `store_unavailable` (the store failed, nothing applied).
  std::optional<ApiError> refused;
  runtime::IngestSummary summary;
};

class Ingest : public EventSink {
 public:
  // Borrowed; must outlive this object. `limits` apply to HTTP bodies and
  // stream messages alike.
  Ingest(runtime::Engine& engine, MetricsRegistry& metrics, runtime::IngestLimits limits = {});

  const runtime::IngestLimits& limits() const { return limits_; }

  // One HTTP body: one event or an array, all or nothing, one commit.
  IngestOutcome ingest_body(const std::string& body, runtime::ParseContext context = {});
  // One HTTP body whose elements stand alone (Segment's /v1/batch): the good
  // elements commit together, the bad ones are listed in `errors` by index.
  // `refused` is unset even when some elements were refused; 400 when the
  // body is unusable; 503 when the store failed (nothing applied).
  struct EachOutcome {
    IngestOutcome outcome;
    size_t elements = 0;
    std::vector<runtime::ElementError> errors;
  };
  EachOutcome ingest_each(const std::string& body, runtime::ParseContext context);
  // EventSink: each message parsed alone (a bad one is poison and the rest go
  // on); the good ones share one commit. Events without an id get
  // "<source_id>#<index>", so a redelivered stream entry is a duplicate.
  std::vector<SinkOutcome> apply(const std::vector<StreamMessage>& messages) override;

  // Event types seen since start, newest first: [{type, count, last_seen}];
  // at most 1000 of them, each at most limits().max_type_bytes long.
  nlohmann::json recent_types() const;
  // Remembers the top-level trait names of a profile written (PUT /v1/users,
  // identify events), at most kMaxTypes of them.
  void note_traits(const std::string& traits_json);
  // The event types and trait names seen since start or held in the store
  // (read again at most every kStoredNamesRefresh), for POST /v1/check's
  // near-miss warnings (dsl/known_names.h).
  dsl::KnownNames known_names() const;

 private:
  std::optional<std::string> first_refusal(const std::vector<runtime::Event>& events,
                                           bool array) const;
  void note_types(const std::vector<runtime::Event>& events);
  void count_accepted(const char* source, const runtime::IngestSummary& summary);
  void count_rejected(const char* source, const char* reason, double n = 1);

  runtime::Engine& engine_;
  MetricsRegistry& metrics_;
  const runtime::IngestLimits limits_;
  struct TypeSeen {
    int64_t count = 0;
    int64_t last_seen_ms = 0;
  };
  mutable std::mutex mu_;                  // guards types_ and traits_
  std::map<std::string, TypeSeen> types_;  // bounded by kMaxTypes
  std::set<std::string> traits_;           // bounded by kMaxTypes
  // The store's names, as last read, and when (0: never).
  mutable runtime::StoredNames stored_;
  mutable int64_t stored_read_ms_ = 0;
};

}  // namespace trellis::api

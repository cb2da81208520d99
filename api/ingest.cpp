#include "api/ingest.h"

#include "runtime/stored_fields.h"

#include <algorithm>
#include <chrono>

namespace trellis::api {
namespace {

// A producer sending random type names must not grow memory without bound.
constexpr size_t kMaxTypes = 1000;
// The store's names are read at most this often: a profile stored by another
// process (an import, a second server) shows within a minute, and a check while
// typing costs no store read.
constexpr int64_t kStoredNamesRefreshMs = 60'000;
// Profiles and newest journeys read for them: a bounded read on any store size.
constexpr size_t kStoredNamesRows = 10'000;

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Ingest::Ingest(runtime::Engine& engine, MetricsRegistry& metrics, runtime::IngestLimits limits)
    : engine_(engine), metrics_(metrics), limits_(limits) {}

void Ingest::count_accepted(const char* source, const runtime::IngestSummary& summary) {
  const char* kHelp = "Events committed, by source and outcome";
  metrics_
      .counter("trellis_ingest_events_total", kHelp, {{"source", source}, {"outcome", "accepted"}})
      .inc(static_cast<double>(summary.accepted));
  metrics_
      .counter("trellis_ingest_events_total", kHelp, {{"source", source}, {"outcome", "duplicate"}})
      .inc(static_cast<double>(summary.duplicates));
}

void Ingest::count_rejected(const char* source, const char* reason, double n) {
  metrics_
      .counter("trellis_ingest_rejected_total",
               "Event bodies or stream messages rejected, by source and reason",
               {{"source", source}, {"reason", reason}})
      .inc(n);
}

void Ingest::note_types(const std::vector<runtime::Event>& events) {
  int64_t now = wall_ms();
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : events) {
    auto it = types_.find(e.type);
    if (it == types_.end()) {
      if (types_.size() >= kMaxTypes) continue;
      it = types_.emplace(e.type, TypeSeen{}).first;
    }
    ++it->second.count;
    it->second.last_seen_ms = now;
  }
  for (const auto& e : events)
    if (e.is_identify()) runtime::add_trait_names(e.properties_json, traits_, kMaxTypes);
}

void Ingest::note_traits(const std::string& traits_json) {
  std::lock_guard<std::mutex> lock(mu_);
  runtime::add_trait_names(traits_json, traits_, kMaxTypes);
}

dsl::KnownNames Ingest::known_names() const {
  const int64_t now = wall_ms();
  bool stale = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stale = stored_read_ms_ == 0 || now - stored_read_ms_ >= kStoredNamesRefreshMs;
  }
  // Read without holding mu_, so ingest never waits for the store read.
  std::optional<runtime::StoredNames> fresh;
  if (stale) fresh = engine_.stored_names(kStoredNamesRows, kMaxTypes);
  dsl::KnownNames known;
  std::lock_guard<std::mutex> lock(mu_);
  if (fresh) {
    stored_ = std::move(*fresh);
    stored_read_ms_ = now;
  }
  std::set<std::string> types(stored_.event_types.begin(), stored_.event_types.end());
  for (const auto& [type, seen] : types_) types.insert(type);
  std::set<std::string> traits(stored_.traits.begin(), stored_.traits.end());
  traits.insert(traits_.begin(), traits_.end());
  known.event_types.assign(types.begin(), types.end());
  known.traits.assign(traits.begin(), traits.end());
  return known;
}

// The first event the engine would refuse (provider feedback naming no known
// delivery), checked before anything commits so that a refused body changes
// nothing. Messages name the element as parse_events does for arrays.
std::optional<std::string> Ingest::first_refusal(const std::vector<runtime::Event>& events,
                                                 bool array) const {
  for (size_t i = 0; i < events.size(); ++i) {
    Status valid = engine_.validate_event(events[i]);
    if (valid.ok()) continue;
    return array ? "event " + std::to_string(i) + ": " + valid.message() : valid.message();
  }
  return std::nullopt;
}

IngestOutcome Ingest::ingest_body(const std::string& body, runtime::ParseContext context) {
  IngestOutcome out;
  context.limits = limits_;
  auto events = runtime::parse_events(body, context);
  if (!events.ok()) {
    count_rejected("http", "invalid");
    return {ApiError::invalid("invalid_event", events.error().message), {}};
  }
  size_t first = body.find_first_not_of(" \t\r\n");
  if (auto refusal = first_refusal(*events, first != std::string::npos && body[first] == '[')) {
    count_rejected("http", "refused");
    return {ApiError::invalid("invalid_event", *refusal), {}};
  }
  note_types(*events);
  auto summary = engine_.ingest(std::move(*events));
  if (!summary.ok()) {
    count_rejected("http", "store");
    return {ApiError::unavailable("store_unavailable", summary.error().message), {}};
  }
  count_accepted("http", *summary);
  out.summary = *summary;
  return out;
}

Ingest::EachOutcome Ingest::ingest_each(const std::string& body, runtime::ParseContext context) {
  EachOutcome out;
  context.limits = limits_;
  auto parsed = runtime::parse_events_each(body, context);
  if (!parsed.ok()) {
    count_rejected("http", "invalid");
    out.outcome = {ApiError::invalid("invalid_event", parsed.error().message), {}};
    return out;
  }
  out.elements = parsed->elements;
  out.errors = std::move(parsed->errors);
  if (!out.errors.empty())
    count_rejected("http", "invalid", static_cast<double>(out.errors.size()));
  // The engine's refusals are checked before the commit too, so a refused
  // element is reported and the rest still apply.
  std::vector<runtime::Event> accepted;
  std::vector<size_t> index_of;  // per accepted event: its element's index
  for (size_t i = 0; i < parsed->events.size(); ++i) {
    if (Status valid = engine_.validate_event(parsed->events[i]); !valid.ok()) {
      out.errors.push_back({parsed->indexes[i], valid.message()});
      count_rejected("http", "refused");
      continue;
    }
    accepted.push_back(std::move(parsed->events[i]));
    index_of.push_back(parsed->indexes[i]);
  }
  auto by_index = [](const auto& a, const auto& b) { return a.index < b.index; };
  std::sort(out.errors.begin(), out.errors.end(), by_index);
  if (accepted.empty()) return out;
  note_types(accepted);
  auto summary = engine_.ingest(std::move(accepted));
  if (!summary.ok()) {
    count_rejected("http", "store");
    out.outcome = {ApiError::unavailable("store_unavailable", summary.error().message), {}};
    return out;
  }
  count_accepted("http", *summary);
  for (const auto& refusal : summary->refused)
    out.errors.push_back({index_of[refusal.index], refusal.message});
  std::sort(out.errors.begin(), out.errors.end(), by_index);
  out.outcome.summary = *summary;
  return out;
}

std::vector<SinkOutcome> Ingest::apply(const std::vector<StreamMessage>& messages) {
  std::vector<SinkOutcome> out(messages.size());
  std::vector<runtime::Event> batch;
  std::vector<size_t> message_of;  // per event of `batch`: its message's index
  runtime::ParseContext context;   // Segment calls' sentAt is corrected as over HTTP
  context.received_at = wall_ms();
  context.limits = limits_;
  for (size_t i = 0; i < messages.size(); ++i) {
    auto events = runtime::parse_events(messages[i].payload, context);
    if (!events.ok()) {
      out[i] = {SinkVerdict::kPoison, events.error().message};
      count_rejected("redis", "invalid");
      continue;
    }
    if (auto refusal = first_refusal(*events, events->size() > 1)) {
      out[i] = {SinkVerdict::kPoison, *refusal};
      count_rejected("redis", "refused");
      continue;
    }
    for (size_t j = 0; j < events->size(); ++j) {
      auto& e = (*events)[j];
      if (e.id.empty()) e.id = messages[i].source_id + "#" + std::to_string(j);
      batch.push_back(std::move(e));
      message_of.push_back(i);
    }
  }
  if (batch.empty()) return out;
  note_types(batch);
  auto summary = engine_.ingest(std::move(batch));
  if (!summary.ok()) {
    for (auto& o : out)
      if (o.verdict == SinkVerdict::kApplied) o = {SinkVerdict::kRetry, summary.error().message};
    count_rejected("redis", "store");
    return out;
  }
  count_accepted("redis", *summary);
  // Every event was checked before the commit, so the engine should refuse
  // none; one it refuses anyway had no effect, and its message goes to the
  // dead letters with the reason rather than being acked as applied.
  for (const auto& refusal : summary->refused) {
    out[message_of[refusal.index]] = {SinkVerdict::kPoison, refusal.message};
    count_rejected("redis", "refused");
  }
  return out;
}

nlohmann::json Ingest::recent_types() const {
  std::vector<std::pair<std::string, TypeSeen>> seen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    seen.assign(types_.begin(), types_.end());
  }
  std::stable_sort(seen.begin(), seen.end(), [](const auto& a, const auto& b) {
    return a.second.last_seen_ms > b.second.last_seen_ms;
  });
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [type, s] : seen) {
    out.push_back({{"type", type},
                   {"count", s.count},
                   {"last_seen", runtime::format_rfc3339(s.last_seen_ms)}});
  }
  return out;
}

}  // namespace trellis::api

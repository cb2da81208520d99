#include "api/redis_consumer.h"

#include <hiredis/hiredis.h>

#include <chrono>
#include <map>
#include <thread>

namespace trellis::api {
namespace {

long long steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

std::string str_of(const redisReply* r) {
  if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS ||
            r->type == REDIS_REPLY_ERROR))
    return std::string(r->str, r->len);
  return "";
}

}  // namespace

Result<RedisAddress> parse_redis_url(const std::string& url) {
  const std::string kScheme = "redis://";
  if (url.rfind(kScheme, 0) != 0)
    return Error::invalid("redis URL must start with redis://: " + url);
  RedisAddress addr;
  std::string rest = url.substr(kScheme.size());
  auto at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string auth = rest.substr(0, at);
    auto colon = auth.find(':');
    addr.password = colon == std::string::npos ? auth : auth.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size()) {
    try {
      addr.db = std::stoi(rest.substr(slash + 1));
    } catch (...) {
      return Error::invalid("bad database number in redis URL: " + url);
    }
  }
  auto colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    try {
      addr.port = std::stoi(hostport.substr(colon + 1));
    } catch (...) {
      return Error::invalid("bad port in redis URL: " + url);
    }
    hostport = hostport.substr(0, colon);
  }
  if (!hostport.empty()) addr.host = hostport;
  if (addr.port <= 0 || addr.port > 65535) return Error::invalid("bad port in redis URL: " + url);
  return addr;
}

// An error reply as a typed error. Redis starts an error's text with a word
// naming its kind (BUSYGROUP, NOGROUP, LOADING...): what already exists is a conflict, what is missing is not found, a server
// still loading or busy is unavailable; the rest is a command Redis refused.
Error redis_error(const std::string& command, const std::string& text) {
  const std::string word = text.substr(0, text.find(' '));
  ErrorCode code = ErrorCode::kInvalid;
  if (word == "BUSYGROUP") code = ErrorCode::kConflict;
  if (word == "NOGROUP") code = ErrorCode::kNotFound;
  if (word == "LOADING" || word == "BUSY" || word == "TRYAGAIN" || word == "MASTERDOWN" ||
      word == "CLUSTERDOWN" || word == "OOM")
    code = ErrorCode::kUnavailable;
  return Error{"redis " + command + ": " + text, code};
}

// One hiredis connection; commands are argv vectors so payloads need no quoting.
class RedisConsumer::Connection {
 public:
  ~Connection() {
    if (ctx_) redisFree(ctx_);
  }

  Status open(const RedisAddress& addr, int command_timeout_ms) {
    timeval connect_tv{2, 0};
    ctx_ = redisConnectWithTimeout(addr.host.c_str(), addr.port, connect_tv);
    if (!ctx_ || ctx_->err)
      return Error::unavailable("cannot connect to redis at " + addr.host + ":" +
                                std::to_string(addr.port) + ": " +
                                (ctx_ ? ctx_->errstr : "out of memory"));
    timeval tv{command_timeout_ms / 1000, (command_timeout_ms % 1000) * 1000};
    redisSetTimeout(ctx_, tv);
    if (!addr.password.empty()) {
      auto r = command({"AUTH", addr.password});
      if (!r.ok()) return r.error();
    }
    if (addr.db != 0) {
      auto r = command({"SELECT", std::to_string(addr.db)});
      if (!r.ok()) return r.error();
    }
    return {};
  }

  // Error for a lost connection or an error reply.
  Result<Reply> command(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    Reply reply(static_cast<redisReply*>(
        redisCommandArgv(ctx_, static_cast<int>(argv.size()), argv.data(), lens.data())));
    if (!reply) {
      broken_ = true;
      return Error::unavailable(std::string("redis connection: ") + ctx_->errstr);
    }
    if (reply->type == REDIS_REPLY_ERROR) return redis_error(args[0], str_of(reply.get()));
    return reply;
  }

  bool broken() const { return broken_; }

 private:
  redisContext* ctx_ = nullptr;
  bool broken_ = false;
};

RedisConsumer::RedisConsumer(RedisOptions options, EventSink& sink, MetricsRegistry& metrics,
                             JsonLog& log)
    : options_(std::move(options)), sink_(sink), metrics_(metrics), log_(log) {
  if (options_.dead_letter_stream.empty()) options_.dead_letter_stream = options_.stream + ":dead";
}

RedisConsumer::~RedisConsumer() = default;

Status RedisConsumer::connect() {
  auto addr = parse_redis_url(options_.url);
  if (!addr.ok()) return addr.error();
  auto conn = std::make_unique<Connection>();
  Status opened = conn->open(*addr, options_.block_ms + 5000);
  if (!opened.ok()) return opened;
  // "0": a new group starts at the stream's beginning, so events written before
  // the first `serve` are not lost; event ids make a replay harmless.
  auto created =
      conn->command({"XGROUP", "CREATE", options_.stream, options_.group, "0", "MKSTREAM"});
  if (!created.ok() && created.error().code != ErrorCode::kConflict)  // kConflict: it exists
    return created.error();
  conn_ = std::move(conn);
  read_own_pending_ = true;
  check_own_deliveries_ = true;
  last_claim_ms_ = 0;
  return {};
}

namespace {

// Parses one stream entry `[id, [field, value, ...]]` (fields nil: deleted).
void add_entry(const redisReply* e, std::vector<RedisConsumer::Entry>* out) {
  if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 1) return;
  RedisConsumer::Entry entry;
  entry.id = str_of(e->element[0]);
  const redisReply* fields = e->elements > 1 ? e->element[1] : nullptr;
  if (!fields || fields->type != REDIS_REPLY_ARRAY) {
    entry.bad = "deleted";
  } else {
    for (size_t i = 0; i < fields->elements; ++i)
      entry.fields.push_back(str_of(fields->element[i]));
    if (entry.fields.size() == 2) {
      entry.payload = entry.fields[1];
    } else {
      bool found = false;
      for (size_t i = 0; i + 1 < entry.fields.size(); i += 2)
        if (entry.fields[i] == "event") entry.payload = entry.fields[i + 1], found = true;
      if (!found) entry.bad = "message has no `event` field";
    }
  }
  out->push_back(std::move(entry));
}

}  // namespace

Result<std::vector<RedisConsumer::Entry>> RedisConsumer::read_group(const std::string& start_id,
                                                                    int block_ms) {
  std::vector<std::string> args = {"XREADGROUP",      "GROUP", options_.group,
                                   options_.consumer, "COUNT", std::to_string(options_.batch)};
  if (block_ms > 0) {
    args.push_back("BLOCK");
    args.push_back(std::to_string(block_ms));
  }
  args.insert(args.end(), {"STREAMS", options_.stream, start_id});
  auto reply = conn_->command(args);
  if (!reply.ok()) return reply.error();
  std::vector<Entry> out;
  const redisReply* r = reply->get();
  if (r->type != REDIS_REPLY_ARRAY) return out;  // nil: BLOCK timed out
  for (size_t s = 0; s < r->elements; ++s) {
    const redisReply* stream = r->element[s];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements < 2) continue;
    const redisReply* entries = stream->element[1];
    for (size_t i = 0; i < entries->elements; ++i) add_entry(entries->element[i], &out);
  }
  return out;
}

Result<std::vector<RedisConsumer::Entry>> RedisConsumer::auto_claim() {
  std::vector<Entry> out;
  std::string cursor = "0-0";
  // Bounded: at most 100 pages of `batch` entries per round.
  for (int page = 0; page < 100; ++page) {
    auto reply = conn_->command({"XAUTOCLAIM", options_.stream, options_.group, options_.consumer,
                                 std::to_string(options_.claim_idle_ms), cursor, "COUNT",
                                 std::to_string(options_.batch)});
    if (!reply.ok()) return reply.error();
    const redisReply* r = reply->get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 2) break;
    cursor = str_of(r->element[0]);
    const redisReply* entries = r->element[1];
    for (size_t i = 0; i < entries->elements; ++i) add_entry(entries->element[i], &out);
    if (cursor == "0-0" || out.size() >= static_cast<size_t>(options_.batch)) break;
  }
  if (!out.empty()) {
    metrics_
        .counter("trellis_redis_reclaimed_total",
                 "Stream entries claimed from other consumers (XAUTOCLAIM)")
        .inc(static_cast<double>(out.size()));
    log_.info({{"msg", "reclaimed pending stream entries"},
               {"count", out.size()},
               {"stream", options_.stream}});
  }
  return out;
}

// Redis counts each delivery of a pending entry (XREADGROUP of the history,
// XAUTOCLAIM). Entries in hand when a consumer died are read again at the next
// start, so an entry that crashes the consumer itself shows a growing count;
// past max_deliveries it is poison. REQUIRES: entries in ascending id order.
Status RedisConsumer::mark_redelivered(std::vector<Entry>& entries) {
  if (entries.empty() || options_.max_deliveries <= 0) return {};
  auto reply =
      conn_->command({"XPENDING", options_.stream, options_.group, entries.front().id,
                      entries.back().id, std::to_string(entries.size()), options_.consumer});
  if (!reply.ok()) return reply.error();
  std::map<std::string, long long> deliveries;
  const redisReply* r = reply->get();
  for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i < r->elements; ++i) {
    const redisReply* row = r->element[i];
    if (row->type == REDIS_REPLY_ARRAY && row->elements >= 4 &&
        row->element[3]->type == REDIS_REPLY_INTEGER)
      deliveries[str_of(row->element[0])] = row->element[3]->integer;
  }
  for (Entry& e : entries) {
    auto it = deliveries.find(e.id);
    if (!e.bad.empty() || it == deliveries.end() || it->second <= options_.max_deliveries) continue;
    e.bad = "read " + std::to_string(it->second) +
            " times without being acknowledged: handling it stopped every consumer";
  }
  return {};
}

Result<size_t> RedisConsumer::handle(const std::vector<Entry>& entries) {
  if (entries.empty()) return size_t{0};
  std::vector<StreamMessage> payloads;
  std::vector<size_t> index;  // payload i belongs to entries[index[i]]
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].bad.empty()) {
      payloads.push_back({options_.stream + "/" + entries[i].id, entries[i].payload});
      index.push_back(i);
    }
  }
  std::vector<SinkOutcome> outcomes(entries.size());
  for (size_t i = 0; i < entries.size(); ++i)
    if (!entries[i].bad.empty()) outcomes[i] = {SinkVerdict::kPoison, entries[i].bad};
  if (!payloads.empty()) {
    std::vector<SinkOutcome> applied = sink_.apply(payloads);
    for (size_t i = 0; i < applied.size() && i < index.size(); ++i) outcomes[index[i]] = applied[i];
  }

  std::vector<std::string> ack = {"XACK", options_.stream, options_.group};
  size_t handled = 0, retry = 0, dead = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const SinkOutcome& o = outcomes[i];
    if (o.verdict == SinkVerdict::kRetry) {
      ++retry;
      continue;
    }
    // A deleted entry has nothing to dead-letter; it only leaves the pending list.
    if (o.verdict == SinkVerdict::kPoison && e.bad != "deleted") {
      // The original fields as written, so the message can be fixed and re-sent.
      std::vector<std::string> xadd = {"XADD", options_.dead_letter_stream, "*"};
      xadd.insert(xadd.end(), e.fields.begin(), e.fields.end());
      xadd.insert(xadd.end(),
                  {"error", o.error, "source_id", e.id, "source_stream", options_.stream});
      auto added = conn_->command(xadd);
      if (!added.ok()) return added.error();
      ++dead;
      log_.warn({{"msg", "dead-lettered stream message"},
                 {"id", e.id},
                 {"error", o.error},
                 {"dead_letter_stream", options_.dead_letter_stream}});
    }
    ack.push_back(e.id);
    ++handled;
  }
  if (ack.size() > 3) {
    auto acked = conn_->command(ack);
    if (!acked.ok()) return acked.error();
  }
  auto count = [this](const char* outcome, size_t n) {
    if (n)
      metrics_
          .counter("trellis_redis_messages_total", "Stream messages by outcome",
                   {{"outcome", outcome}})
          .inc(static_cast<double>(n));
  };
  count("applied", handled - dead);
  count("dead_letter", dead);
  count("retry", retry);
  if (retry) {
    read_own_pending_ = true;
    log_.warn({{"msg", "stream batch left pending for retry"},
               {"count", retry},
               {"error", outcomes[0].error}});
    return Error{"sink asked to retry " + std::to_string(retry) + " messages"};
  }
  return handled;
}

Result<size_t> RedisConsumer::poll_once() {
  if (!conn_) {
    Status connected = connect();
    if (!connected.ok()) return connected.error();
  }
  if (read_own_pending_) {
    auto own = read_group("0", 0);
    if (!own.ok()) return own.error();
    if (!own->empty()) {
      if (check_own_deliveries_)
        if (Status marked = mark_redelivered(*own); !marked.ok()) return marked.error();
      return handle(*own);
    }
    read_own_pending_ = false;
    check_own_deliveries_ = false;
  }
  long long now = steady_ms();
  if (last_claim_ms_ == 0 || now - last_claim_ms_ >= std::max(options_.claim_idle_ms, 1000LL)) {
    last_claim_ms_ = now;
    auto claimed = auto_claim();
    if (!claimed.ok()) return claimed.error();
    if (!claimed->empty()) {
      if (Status marked = mark_redelivered(*claimed); !marked.ok()) return marked.error();
      return handle(*claimed);
    }
  }
  auto fresh = read_group(">", options_.block_ms);
  if (!fresh.ok()) return fresh.error();
  return handle(*fresh);
}

void RedisConsumer::run() {
  while (!stopping_) {
    auto handled = poll_once();
    if (handled.ok()) continue;
    if (!conn_ || conn_->broken()) {
      conn_.reset();
      metrics_.counter("trellis_redis_errors_total", "Redis connection or command failures").inc();
    }
    log_.warn({{"msg", "redis consumer"}, {"error", handled.error().message}});
    // Pause in short slices so stop() stays prompt.
    for (int waited = 0; waited < options_.retry_pause_ms && !stopping_; waited += 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace trellis::api

#include "runtime/delivery.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <unordered_set>

namespace trellis::runtime {

namespace {

using nlohmann::json;

// How much of the file's end is read on open to find keys of a batch that may
// have been written just before a crash. The dispatcher sends at most
// kDispatchBatch deliveries between flushes, far less than this.
constexpr off_t kTailBytes = 8 << 20;

class FileAdapter final : public DeliveryAdapter {
 public:
  FileAdapter(int fd, std::unordered_set<std::string> recent)
      : fd_(fd), recent_(std::move(recent)) {}
  ~FileAdapter() override { ::close(fd_); }

  Status send(const DeliveryRecord& d) override {
    if (recent_.count(d.key)) return Status();  // written before a crash
    std::string line = delivery_json(d);
    line += '\n';
    const char* p = line.data();
    size_t left = line.size();
    while (left > 0) {
      ssize_t n = ::write(fd_, p, left);
      if (n < 0) return Error{std::string("write deliveries file: ") + std::strerror(errno)};
      p += n;
      left -= static_cast<size_t>(n);
    }
    return Status();
  }

  Status flush() override {
    if (::fdatasync(fd_) != 0)
      return Error{std::string("fsync deliveries file: ") + std::strerror(errno)};
    return Status();
  }

 private:
  int fd_;
  std::unordered_set<std::string> recent_;
};

// Cuts a partial last line and returns the keys of the lines in the tail.
Result<std::unordered_set<std::string>> recover_tail(int fd) {
  std::unordered_set<std::string> keys;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0) return keys;
  const off_t start = size > kTailBytes ? size - kTailBytes : 0;
  std::string tail(static_cast<size_t>(size - start), '\0');
  if (::pread(fd, tail.data(), tail.size(), start) != static_cast<ssize_t>(tail.size()))
    return Error{"cannot read deliveries file"};
  const size_t last_newline = tail.rfind('\n');
  const off_t keep =
      last_newline == std::string::npos ? start : start + static_cast<off_t>(last_newline) + 1;
  if (keep < size && ::ftruncate(fd, keep) != 0) return Error{"cannot repair deliveries file"};
  tail.resize(static_cast<size_t>(keep - start));
  size_t pos = start == 0 ? 0 : tail.find('\n') + 1;  // the first line may be cut
  while (pos < tail.size()) {
    size_t end = tail.find('\n', pos);
    if (end == std::string::npos) break;
    json line = json::parse(tail.begin() + static_cast<long>(pos),
                            tail.begin() + static_cast<long>(end), nullptr, false);
    if (line.is_object() && line.contains("key") && line["key"].is_string())
      keys.insert(line["key"].get<std::string>());
    pos = end + 1;
  }
  return keys;
}

class WebhookAdapter final : public DeliveryAdapter {
 public:
  WebhookAdapter(std::string url, int64_t timeout_ms)
      : url_(std::move(url)), timeout_ms_(timeout_ms) {}

  Status send(const DeliveryRecord& d) override {
    const bool own_url = d.channel == "webhook" && d.to.rfind("http", 0) == 0;
    const std::string& target = own_url ? d.to : url_;
    std::string base, path;
    split_url(target, &base, &path);
    httplib::Client client(base);
    client.set_connection_timeout(std::chrono::milliseconds(timeout_ms_));
    client.set_read_timeout(std::chrono::milliseconds(timeout_ms_));
    client.set_write_timeout(std::chrono::milliseconds(timeout_ms_));
    httplib::Headers headers = {{"Idempotency-Key", d.key}};
    auto res = client.Post(path, headers, own_url ? d.body : delivery_json(d), "application/json");
    if (!res) return Error{"webhook: " + httplib::to_string(res.error())};
    if (res->status < 200 || res->status >= 300)
      return Error{"webhook: HTTP " + std::to_string(res->status)};
    return Status();
  }

 private:
  static void split_url(const std::string& url, std::string* base, std::string* path) {
    const size_t scheme = url.find("://");
    const size_t slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    *base = slash == std::string::npos ? url : url.substr(0, slash);
    *path = slash == std::string::npos ? "/" : url.substr(slash);
  }

  std::string url_;
  int64_t timeout_ms_;
};

}  // namespace

std::string delivery_json(const DeliveryRecord& d) {
  json j = json::object();
  j["id"] = d.id;
  j["key"] = d.key;
  j["channel"] = d.channel;
  j["user_id"] = d.user_id;
  j["flow"] = d.flow;
  j["flow_version"] = d.flow_version;
  j["node"] = d.node;
  j["at"] = format_rfc3339(d.at);
  j["to"] = d.to;
  if (!d.subject.empty()) j["subject"] = d.subject;
  j["body"] = d.body;
  // Replace, never throw, on invalid UTF-8: a bad byte must not fail a whole batch.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::unique_ptr<DeliveryAdapter>> open_file_adapter(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  Result<std::unordered_set<std::string>> keys = recover_tail(fd);
  if (!keys.ok()) {
    ::close(fd);
    return Error{path + ": " + keys.error().message};
  }
  return std::unique_ptr<DeliveryAdapter>(
      std::make_unique<FileAdapter>(fd, std::move(keys.value())));
}

Result<std::unique_ptr<DeliveryAdapter>> open_webhook_adapter(const std::string& url,
                                                              int64_t timeout_ms) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Error{"webhook adapter needs an http:// or https:// URL, got '" + url + "'"};
  return std::unique_ptr<DeliveryAdapter>(std::make_unique<WebhookAdapter>(url, timeout_ms));
}

}  // namespace trellis::runtime

// The file provider: deliveries as JSON lines appended to a file, shared by
// every channel that names the same path (one writer per path).
#include "runtime/delivery/file_provider.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "runtime/clock.h"
#include "runtime/delivery/provider.h"

namespace trellis::runtime::delivery {

namespace {

using nlohmann::json;

// How much of the file's end is read on open to find keys of a batch that may
// have been written just before a crash: far more than the deliveries that
// all workers send between two flushes.
constexpr off_t kTailBytes = 8 << 20;
constexpr size_t kFileBatch = 256;

// Cuts a partial last line and returns the keys of the lines in the tail.
Result<std::unordered_set<std::string>> recover_tail(int fd) {
  std::unordered_set<std::string> keys;
  const off_t size = ::lseek(fd, 0, SEEK_END);
  if (size <= 0) return keys;
  const off_t start = size > kTailBytes ? size - kTailBytes : 0;
  std::string tail(static_cast<size_t>(size - start), '\0');
  if (::pread(fd, tail.data(), tail.size(), start) != static_cast<ssize_t>(tail.size()))
    return Error::io("cannot read deliveries file");
  const size_t last_newline = tail.rfind('\n');
  const off_t keep =
      last_newline == std::string::npos ? start : start + static_cast<off_t>(last_newline) + 1;
  if (keep < size && ::ftruncate(fd, keep) != 0) return Error::io("cannot repair deliveries file");
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

// A worker's handle on the shared writer.
class FileProvider final : public Provider {
 public:
  explicit FileProvider(std::shared_ptr<FileWriter> writer) : writer_(std::move(writer)) {}
  SendOutcome send(const DeliveryRecord& d) override {
    Status written = writer_->append(d);
    return written ? SendOutcome::ok() : SendOutcome::retry(written.message());
  }
  Status flush() override { return writer_->flush(); }
  size_t batch_size() const override { return kFileBatch; }

 private:
  std::shared_ptr<FileWriter> writer_;
};

}  // namespace

Result<std::shared_ptr<FileWriter>> FileWriter::open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Error::io("cannot open " + path + ": " + std::strerror(errno));
  Result<std::unordered_set<std::string>> keys = recover_tail(fd);
  if (!keys.ok()) {
    ::close(fd);
    return keys.error().prefixed(path + ": ");
  }
  return std::shared_ptr<FileWriter>(new FileWriter(fd, std::move(keys.value())));
}

FileWriter::FileWriter(int fd, std::unordered_set<std::string> recent)
    : fd_(fd), recent_(std::move(recent)) {}

FileWriter::~FileWriter() { ::close(fd_); }

Status FileWriter::append(const DeliveryRecord& d) {
  std::string line = delivery_json(d);
  line += '\n';
  std::lock_guard<std::mutex> l(mu_);
  if (recent_.count(d.key)) return Status();  // written before a crash
  const char* p = line.data();
  size_t left = line.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::io(std::string("write deliveries file: ") + std::strerror(errno));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status();
}

Status FileWriter::flush() {
  if (::fdatasync(fd_) != 0)
    return Error::io(std::string("fsync deliveries file: ") + std::strerror(errno));
  return Status();
}

std::unique_ptr<Provider> make_file_provider(std::shared_ptr<FileWriter> writer) {
  return std::make_unique<FileProvider>(std::move(writer));
}

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

}  // namespace trellis::runtime::delivery

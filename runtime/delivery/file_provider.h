// Internal to trellis_delivery: the JSON-lines file behind the file provider.
// One writer per path, shared by the channels and workers that write there.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_set>

#include "dsl/ir/result.h"
#include "runtime/store.h"

namespace trellis::runtime::delivery {

class Provider;

// Appends JSON lines. On open it repairs a torn last line (a crash mid-write)
// and remembers the keys near the end of the file, so a delivery re-sent
// after a crash is not written twice. Thread-safe.
class FileWriter {
 public:
  static Result<std::shared_ptr<FileWriter>> open(const std::string& path);
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  Status append(const DeliveryRecord& delivery);
  Status flush();  // fdatasync

 private:
  FileWriter(int fd, std::unordered_set<std::string> recent);
  std::mutex mu_;
  int fd_;
  std::unordered_set<std::string> recent_;  // guarded by mu_
};

std::unique_ptr<Provider> make_file_provider(std::shared_ptr<FileWriter> writer);

}  // namespace trellis::runtime::delivery

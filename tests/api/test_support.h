// Helpers shared by the api tests: temporary folders, raw HTTP over a socket
// (for requests a well-behaved client refuses to send), free loopback ports.
#pragma once

#include <string>

namespace trellis::api::testing {

// A fresh folder under /tmp, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void write_file(const std::string& path, const std::string& text);
std::string read_file(const std::string& path);

// Sends `request` verbatim to 127.0.0.1:port and returns the whole response
// (status line, headers, body); empty on connection failure. Bounded by a 5 s timeout.
std::string raw_http(int port, const std::string& request);

// A TCP port on 127.0.0.1 that was free a moment ago.
int free_port();

}  // namespace trellis::api::testing

// Helpers shared by the api tests: temporary folders, raw HTTP over a socket
// (for requests a well-behaved client refuses to send), free loopback ports,
// `trellis serve` and redis-server as child processes.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

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

namespace trellis::api::testing {

// A real redis-server on a free loopback port, without persistence, stopped
// (SIGTERM, then SIGKILL) by the destructor.
class RedisServer {
 public:
  RedisServer();
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;
  int port() const { return port_; }
  std::string url() const { return "redis://127.0.0.1:" + std::to_string(port_) + "/0"; }
  // Runs one command and returns the reply flattened to strings (arrays
  // depth-first; nil as "<nil>"; integers in decimal). Error replies as "ERR...".
  std::vector<std::string> command(const std::vector<std::string>& args);

 private:
  int port_ = 0;
  int pid_ = -1;
  TempDir dir_;
};

}  // namespace trellis::api::testing

namespace trellis::api::testing {

// `trellis serve` (TRELLIS_BINARY) as a child process, for the tests that kill
// it: its output appended to a log file, SIGKILLed by the destructor if it
// still runs.
class ServeProcess {
 public:
  ServeProcess() = default;
  // Starts `trellis serve <args>` at once.
  ServeProcess(const std::vector<std::string>& args, const std::string& log) { start(args, log); }
  ~ServeProcess();
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;

  // Forks and runs `trellis serve <args>`, stdout and stderr appended to `log`.
  // REQUIRES: not running.
  void start(const std::vector<std::string>& args, const std::string& log);
  void kill_now();
  // SIGTERM, then waits up to `seconds`; SIGKILL after that. Returns the exit
  // status, or -1 when it had to be killed.
  int terminate(int seconds);

 private:
  pid_t pid_ = -1;
};

// True once GET /healthz on 127.0.0.1:port answers 200, polled every 50 ms for
// up to `seconds`.
bool wait_healthy(int port, int seconds);

}  // namespace trellis::api::testing

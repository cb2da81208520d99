// Real servers on loopback for the provider and dispatcher tests: an HTTP
// receiver (cpp-httplib) whose answer each test chooses, and an SMTP server
// (Debian's aiosmtpd) writing each message it receives to a JSON file.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace trellis::testing {

// A port nobody listens on right now (the kernel's choice).
inline int free_port() {
  const int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof addr;
  bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  getsockname(s, reinterpret_cast<sockaddr*>(&addr), &length);
  close(s);
  return ntohs(addr.sin_port);
}

// Polls `done` every 10 ms for at most `seconds`; true once it holds.
inline bool eventually(const std::function<bool()>& done, double seconds = 10) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
  while (std::chrono::steady_clock::now() < until) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// What an HTTP receiver saw of one request.
struct Received {
  std::string path, body, idempotency_key, authorization;
  std::chrono::steady_clock::time_point at;
};

// POST /... answered by `answer` (status and headers); every request recorded.
class HttpReceiver {
 public:
  using Answer = std::function<void(const httplib::Request&, httplib::Response&, int index)>;

  explicit HttpReceiver(Answer answer) : answer_(std::move(answer)) {
    server_.set_keep_alive_max_count(100000);
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      int index = 0;
      {
        std::lock_guard<std::mutex> l(mu_);
        index = static_cast<int>(received_.size());
        received_.push_back({req.path, req.body, req.get_header_value("Idempotency-Key"),
                             req.get_header_value("Authorization"),
                             std::chrono::steady_clock::now()});
      }
      res.status = 200;
      answer_(req, res, index);
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ~HttpReceiver() {
    server_.stop();
    thread_.join();
  }

  std::string url(const std::string& path = "/messages") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<Received> received() const {
    std::lock_guard<std::mutex> l(mu_);
    return received_;
  }
  size_t count() const {
    std::lock_guard<std::mutex> l(mu_);
    return received_.size();
  }

 private:
  Answer answer_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<Received> received_;
};

// aiosmtpd on a free port; messages land in `out_dir` as JSON files. With
// `cert`/`key` it offers STARTTLS; with a user and password it requires AUTH.
class SmtpServer {
 public:
  SmtpServer(const std::string& out_dir, const std::string& cert = "", const std::string& key = "",
             const std::string& user = "", const std::string& password = "")
      : out_dir_(out_dir), port_(free_port()) {
    std::vector<std::string> args = {
        "/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:" + std::to_string(port_)};
    if (!cert.empty()) args.insert(args.end(), {"--tlscert", cert, "--tlskey", key});
    args.insert(args.end(), {"-c", "smtp_sink.Sink", out_dir});
    if (!user.empty()) args.insert(args.end(), {user, password});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_text = {std::string("PYTHONPATH=") + TRELLIS_DELIVERY_TEST_DIR};
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("PYTHONPATH=", 0) != 0) env_text.push_back(*e);
    std::vector<char*> envp;
    for (std::string& e : env_text) envp.push_back(e.data());
    envp.push_back(nullptr);
    // The server's log (TLS handshakes the tests refuse on purpose) goes to a file.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = out_dir + "/server.log";
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int spawned = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(spawned == 0);
    // Ready once it answers a connection with its 220 greeting.
    ready_ = eventually([&] { return greets(); }, 20);
  }
  ~SmtpServer() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string url(const std::string& scheme = "smtp") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }

  // The messages received so far, in order.
  std::vector<nlohmann::json> messages() const {
    std::vector<std::string> files;
    for (const auto& entry : std::filesystem::directory_iterator(out_dir_))
      if (entry.path().extension() == ".json") files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    std::vector<nlohmann::json> out;
    for (const std::string& f : files) {
      std::ifstream in(f);
      out.push_back(nlohmann::json::parse(in));
    }
    return out;
  }

 private:
  bool greets() const {
    const int s = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (ok) {
      char buf[4] = {};
      ok = recv(s, buf, 3, 0) == 3 && std::string(buf, 3) == "220";
    }
    close(s);
    return ok;
  }

  std::string out_dir_;
  int port_;
  pid_t pid_ = 0;
  bool ready_ = false;
};

// A self-signed certificate for 127.0.0.1, made with openssl in `dir`.
// Returns false when openssl is missing.
inline bool make_certificate(const std::string& dir, std::string* cert, std::string* key) {
  *cert = dir + "/cert.pem";
  *key = dir + "/key.pem";
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
      "-addext subjectAltName=IP:127.0.0.1 -keyout " +
      *key + " -out " + *cert + " >/dev/null 2>&1";
  return std::system(command.c_str()) == 0;
}

}  // namespace trellis::testing

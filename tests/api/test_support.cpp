#include "tests/api/test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace trellis::api::testing {

TempDir::TempDir() {
  char tmpl[] = "/tmp/trellis_api_XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

void write_file(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string raw_http(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  send(fd, request.data(), request.size(), 0);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace trellis::api::testing

#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

namespace trellis::api::testing {
namespace {

void flatten(const redisReply* r, std::vector<std::string>* out) {
  switch (r->type) {
    case REDIS_REPLY_ARRAY:
      for (size_t i = 0; i < r->elements; ++i) flatten(r->element[i], out);
      break;
    case REDIS_REPLY_INTEGER:
      out->push_back(std::to_string(r->integer));
      break;
    case REDIS_REPLY_NIL:
      out->push_back("<nil>");
      break;
    default:
      out->push_back(std::string(r->str, r->len));
  }
}

}  // namespace

RedisServer::RedisServer() : port_(free_port()) {
  pid_ = fork();
  if (pid_ == 0) {
    std::string port = std::to_string(port_);
    std::string logfile = dir_.file("redis.log");
    execlp("redis-server", "redis-server", "--port", port.c_str(), "--bind", "127.0.0.1", "--save",
           "", "--appendonly", "no", "--dir", dir_.path().c_str(), "--logfile", logfile.c_str(),
           static_cast<char*>(nullptr));
    _exit(127);
  }
  // Bounded wait for the server to answer PING (5 s).
  for (int i = 0; i < 500; ++i) {
    auto reply = command({"PING"});
    if (!reply.empty() && reply[0] == "PONG") return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw std::runtime_error("redis-server did not start");
}

RedisServer::~RedisServer() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  for (int i = 0; i < 300; ++i) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

std::vector<std::string> RedisServer::command(const std::vector<std::string>& args) {
  timeval tv{2, 0};
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port_, tv);
  std::vector<std::string> out;
  if (!c || c->err) {
    if (c) redisFree(c);
    return out;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  auto* r = static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
  if (r) {
    flatten(r, &out);
    freeReplyObject(r);
  }
  redisFree(c);
  return out;
}

}  // namespace trellis::api::testing

namespace trellis::api::testing {

ServeProcess::~ServeProcess() {
  if (pid_ > 0) kill_now();
}

void ServeProcess::start(const std::vector<std::string>& args, const std::string& log) {
  std::vector<std::string> argv_strings = {TRELLIS_BINARY, "serve"};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ != 0) return;
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  dup2(fd, 1);
  dup2(fd, 2);
  std::vector<char*> argv;
  for (std::string& a : argv_strings) argv.push_back(a.data());
  argv.push_back(nullptr);
  execv(TRELLIS_BINARY, argv.data());
  _exit(127);
}

void ServeProcess::kill_now() {
  if (pid_ <= 0) return;  // kill(-1) would signal every process of ours
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int ServeProcess::terminate(int seconds) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  for (int i = 0; i < seconds * 20; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill_now();
  return -1;
}

bool wait_healthy(int port, int seconds) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, 200000);
  for (int i = 0; i < seconds * 20; ++i) {
    auto r = client.Get("/healthz");
    if (r && r->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace trellis::api::testing

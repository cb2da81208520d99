// The HTTP server under hostile clients, on real loopback sockets: chunked
// bodies over the limit, slow headers, stalled bodies, busy keep-alive
// clients and a full queue. Every wait is bounded; the only time limits are
// generous ones that fail on a hang, never on a slow machine.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/http_server.h"

namespace api = trellis::api;
using nlohmann::json;

namespace {

struct Fixture {
  explicit Fixture(api::ServerOptions options = {}) : log(log_text) {
    options.port = 0;
    server = std::make_unique<api::HttpServer>(options, metrics, log);
    server->post("/v1/echo", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(req.body, "text/plain");
    });
    server->get("/v1/hello", [](const httplib::Request&, httplib::Response& res) {
      api::reply_json(res, 200, {{"hello", true}});
    });
    server->get("/v1/block", [this](const httplib::Request&, httplib::Response& res) {
      std::unique_lock<std::mutex> lock(mutex);
      ++blocked;
      changed.notify_all();
      changed.wait_for(lock, std::chrono::seconds(20), [&] { return released; });
      api::reply_json(res, 200, {{"released", released}});
    });
    REQUIRE(server->start().ok());
  }
  ~Fixture() {
    release();
    server->stop();
  }
  void release() {
    std::lock_guard<std::mutex> lock(mutex);
    released = true;
    changed.notify_all();
  }
  bool wait_blocked(int n) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, std::chrono::seconds(20), [&] { return blocked >= n; });
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server->port());
    c.set_read_timeout(20, 0);
    c.set_connection_timeout(20, 0);
    return c;
  }

  std::ostringstream log_text;
  api::MetricsRegistry metrics;
  api::JsonLog log;
  std::unique_ptr<api::HttpServer> server;
  std::mutex mutex;
  std::condition_variable changed;
  int blocked = 0;
  bool released = false;
};

// A connected loopback socket whose sends and receives give up after 20 s.
int connect_to(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval tv{20, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

bool send_text(int fd, const std::string& text) {
  return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

// Everything the server sends until it closes (or 20 s pass).
std::string read_until_closed(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

bool readable_now(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

}  // namespace

TEST_CASE("a chunked body over --max-body is refused with 413 without reading the rest") {
  api::ServerOptions options;
  options.max_body_bytes = 1024;
  Fixture f(options);
  int fd = connect_to(f.server->port());
  REQUIRE(send_text(fd,
                    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "1000\r\n" + std::string(4096, 'a') + "\r\n";
  size_t sent = 0;
  // Up to 256 MiB, as in the report; the server must answer long before.
  while (sent < (256u << 20) && !readable_now(fd) && send_text(fd, chunk)) sent += chunk.size();
  std::string response = read_until_closed(fd);
  ::close(fd);
  CHECK(response.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(response.find("payload_too_large") != std::string::npos);
  CHECK(sent < (16u << 20));  // the server stopped reading: the sender was cut off early

  auto health = f.client().Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("a chunked body within the limit is read whole") {
  api::ServerOptions options;
  options.max_body_bytes = 1024;
  Fixture f(options);
  int fd = connect_to(f.server->port());
  REQUIRE(send_text(fd,
                    "POST /v1/echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  std::string response = read_until_closed(fd);
  ::close(fd);
  CHECK(response.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(response.find("hello world") != std::string::npos);
}

TEST_CASE("a declared Content-Length over the limit answers 413 before any body byte") {
  api::ServerOptions options;
  options.max_body_bytes = 1024;
  Fixture f(options);
  int fd = connect_to(f.server->port());
  REQUIRE(send_text(fd, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 268435456\r\n\r\n"));
  std::string response = read_until_closed(fd);  // no body sent: a hang would time out here
  ::close(fd);
  CHECK(response.rfind("HTTP/1.1 413", 0) == 0);
}

TEST_CASE("slow-header clients hold no worker: /healthz and the API answer meanwhile") {
  api::ServerOptions options;
  options.threads = 2;
  options.header_timeout_ms = 60000;  // they stay for the whole test
  Fixture f(options);
  std::vector<int> slow;
  for (int i = 0; i < 40; ++i) {
    slow.push_back(connect_to(f.server->port()));
    REQUIRE(send_text(slow.back(), "GET /v1/hello HTTP/1.1\r\nHost: x\r\n"));
  }
  auto client = f.client();
  for (int i = 0; i < 5; ++i) {
    auto health = client.Get("/healthz");
    REQUIRE(health);
    CHECK(health->status == 200);
    auto hello = client.Get("/v1/hello");
    REQUIRE(hello);
    CHECK(hello->status == 200);
  }
  for (int fd : slow) ::close(fd);
}

TEST_CASE("headers that do not arrive within the header deadline are cut off with 408") {
  api::ServerOptions options;
  options.header_timeout_ms = 300;
  Fixture f(options);
  int fd = connect_to(f.server->port());
  REQUIRE(send_text(fd, "GET /v1/hello HTTP/1.1\r\n"));
  std::string response;
  // One header line at a time, as slowloris does; the server closes well before 20 lines.
  for (int i = 0; i < 20 && !readable_now(fd); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!send_text(fd, "X-Slow: " + std::to_string(i) + "\r\n")) break;
  }
  response = read_until_closed(fd);
  ::close(fd);
  CHECK(response.rfind("HTTP/1.1 408", 0) == 0);
}

TEST_CASE("a client that stalls mid-body is cut off with 408 and the server keeps serving") {
  api::ServerOptions options;
  options.body_timeout_ms = 300;
  options.threads = 1;
  Fixture f(options);
  int fd = connect_to(f.server->port());
  REQUIRE(
      send_text(fd, "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789"));
  std::string response = read_until_closed(fd);  // stalls: only the deadline ends this
  ::close(fd);
  CHECK(response.rfind("HTTP/1.1 408", 0) == 0);
  auto hello = f.client().Get("/v1/hello");
  REQUIRE(hello);
  CHECK(hello->status == 200);
}

TEST_CASE("busy keep-alive clients do not starve a new client") {
  api::ServerOptions options;
  options.threads = 2;
  Fixture f(options);
  std::atomic<bool> stop{false};
  std::atomic<int> busy_requests{0};
  std::vector<std::thread> busy;
  for (int i = 0; i < 12; ++i) {
    busy.emplace_back([&] {
      auto client = f.client();
      client.set_keep_alive(true);
      for (int n = 0; n < 100000 && !stop; ++n)
        if (client.Post("/v1/echo", "{\"busy\":true}", "application/json")) ++busy_requests;
    });
  }
  for (int i = 0; i < 2000 && busy_requests < 200; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  CHECK(busy_requests >= 200);
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    auto client = f.client();  // a new connection each time
    auto r = client.Get("/v1/hello");
    if (r && r->status == 200) ++answered;
  }
  stop = true;
  for (auto& t : busy) t.join();
  CHECK(answered == 20);
}

TEST_CASE("a full queue refuses with 503 at once, and /healthz has a worker of its own") {
  api::ServerOptions options;
  options.threads = 1;
  options.queue_limit = 1;
  Fixture f(options);
  std::thread holder([&] { f.client().Get("/v1/block"); });  // takes the only worker
  REQUIRE(f.wait_blocked(1));
  // Two more requests: one waits in the queue, the other is refused at once.
  int first = connect_to(f.server->port()), second = connect_to(f.server->port());
  REQUIRE(send_text(first, "GET /v1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  REQUIRE(send_text(second, "GET /v1/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  pollfd both[2] = {{first, POLLIN, 0}, {second, POLLIN, 0}};
  REQUIRE(::poll(both, 2, 20000) > 0);  // a hang here means nobody was refused
  int refused = both[0].revents ? first : second;
  int queued = refused == first ? second : first;
  std::string refusal = read_until_closed(refused);
  ::close(refused);
  CHECK(refusal.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refusal.find("Retry-After: 1") != std::string::npos);

  auto health = f.client().Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto metrics = f.client().Get("/metrics");
  REQUIRE(metrics);
  CHECK(metrics->body.find(R"(trellis_http_refused_total{reason="busy"} 1)") != std::string::npos);

  f.release();
  holder.join();
  std::string queued_answer = read_until_closed(queued);
  ::close(queued);
  CHECK(queued_answer.rfind("HTTP/1.1 200", 0) == 0);
}

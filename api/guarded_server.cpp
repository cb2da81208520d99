#include "api/guarded_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace trellis::api {
namespace {

using Clock = std::chrono::steady_clock;

struct Connection {
  int fd = -1;
  std::string buffer;  // bytes received and not yet consumed by a request
  Clock::time_point opened = Clock::now();
  Clock::time_point deadline;  // idle deadline, or header deadline once a byte arrived
  bool started = false;        // a byte of the next request has arrived
  int requests = 0;
};

// What the current worker's request is doing; read by the static queries.
struct RequestState {
  bool close_requested = false;
  bool timed_out = false;
  bool too_large = false;
};
thread_local RequestState* t_request = nullptr;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

bool wait_for(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  int n;
  do {
    n = ::poll(&p, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  return n > 0;
}

bool headers_complete(const std::string& buffer) {
  return buffer.find("\r\n\r\n") != std::string::npos;
}

std::string address_of(const sockaddr_storage& addr, int* port) {
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    *port = ntohs(in->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof text);
    *port = ntohs(in6->sin6_port);
  }
  return text;
}

// A canned answer written without blocking by the triage thread, which must
// never wait on one client.
void send_canned(int fd, int status, const char* reason, const std::string& error,
                 const std::string& detail) {
  std::string body = "{\"error\":\"" + error + "\",\"detail\":\"" + detail + "\"}";
  std::string text =
      "HTTP/1.1 " + std::to_string(status) + " " + reason +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n" + (status == 503 ? "Retry-After: 1\r\n" : "") + "Connection: close\r\n\r\n" + body;
  (void)::send(fd, text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

// httplib's Stream over a connection: first the bytes triage already read,
// then the socket, every read bounded by the request's body deadline and the
// whole request by a byte budget.
class GuardedStream : public httplib::Stream {
 public:
  GuardedStream(Connection& conn, const ConnectionLimits& limits, RequestState& state)
      : conn_(conn),
        state_(state),
        deadline_(Clock::now() + std::chrono::milliseconds(limits.body_timeout_ms)),
        write_timeout_ms_(limits.write_timeout_ms),
        budget_(conn.buffer.size() + limits.max_body_bytes) {}

  ~GuardedStream() override { conn_.buffer.erase(0, offset_); }

  bool is_readable() const override {
    return offset_ < conn_.buffer.size() || wait_for(conn_.fd, POLLIN, remaining_ms(deadline_));
  }
  bool is_writable() const override { return wait_for(conn_.fd, POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (offset_ == conn_.buffer.size() && !fill()) return -1;
    size_t n = std::min(size, conn_.buffer.size() - offset_);
    std::copy_n(conn_.buffer.data() + offset_, n, ptr);
    offset_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = ::send(conn_.fd, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getpeername(conn_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      ip = address_of(addr, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(conn_.fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
      ip = address_of(addr, &port);
  }
  socket_t socket() const override { return conn_.fd; }

 private:
  // Reads more from the socket into the buffer; false on deadline, budget, EOF or error.
  bool fill() {
    conn_.buffer.erase(0, offset_);
    offset_ = 0;
    if (received_ >= budget_) {
      state_.too_large = true;
      return false;
    }
    char chunk[16384];
    for (;;) {
      if (!wait_for(conn_.fd, POLLIN, remaining_ms(deadline_))) {
        state_.timed_out = true;
        return false;
      }
      ssize_t n = ::recv(conn_.fd, chunk, sizeof chunk, 0);
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      if (n <= 0) return false;
      received_ += static_cast<size_t>(n);
      conn_.buffer.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  Connection& conn_;
  RequestState& state_;
  Clock::time_point deadline_;
  int write_timeout_ms_;
  size_t budget_;
  size_t received_ = 0;
  size_t offset_ = 0;
};

}  // namespace

// The triage thread, the general workers and the reserved health worker.
class GuardedServer::Engine {
 public:
  Engine(GuardedServer& server, const ConnectionLimits& limits,
         std::function<void(const char*)> on_refused)
      : server_(server), limits_(limits), on_refused_(std::move(on_refused)) {
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    triage_ = std::thread([this] { triage_loop(); });
    for (int i = 0; i < std::max(1, limits_.workers); ++i)
      workers_.emplace_back([this] { worker_loop(general_); });
    workers_.emplace_back([this] { worker_loop(health_); });
  }

  ~Engine() { stop(); }

  // Called on the accept thread for every new connection.
  void accept(int fd) {
    if (open_ >= limits_.max_connections) {
      refuse(fd, "too_many_connections");
      return;
    }
    ++open_;
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    Connection conn;
    conn.fd = fd;
    conn.deadline = Clock::now() + std::chrono::milliseconds(limits_.header_timeout_ms);
    hand_to_triage(std::move(conn));
  }

  // Stops accepting work; workers finish the requests already queued.
  void stop() {
    if (stopping_.exchange(true)) return;
    wake();
    if (triage_.joinable()) triage_.join();
    general_.close();
    health_.close();
    for (auto& t : workers_) t.join();
    workers_.clear();
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    for (auto& c : inbox_) close_connection(c);
    inbox_.clear();
    if (wake_fd_ >= 0) ::close(wake_fd_);
    wake_fd_ = -1;
  }

 private:
  struct Queue {
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Connection> items;
    bool closed = false;
    void close() {
      std::lock_guard<std::mutex> lock(mutex);
      closed = true;
      ready.notify_all();
    }
  };

  void refuse(int fd, const char* reason) {
    send_canned(fd, 503, "Service Unavailable", "unavailable",
                std::string("the server is at capacity (") + reason + "); retry shortly");
    ::close(fd);
    if (on_refused_) on_refused_(reason);
  }

  void close_connection(Connection& conn) {
    if (conn.fd < 0) return;
    ::close(conn.fd);
    conn.fd = -1;
    --open_;
  }

  void wake() {
    uint64_t one = 1;
    if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
  }

  void hand_to_triage(Connection conn) {
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      inbox_.push_back(std::move(conn));
    }
    wake();
  }

  // ---- triage: read headers of every connection without a worker ----------

  void triage_loop() {
    std::list<Connection> waiting;
    std::vector<pollfd> fds;
    while (!stopping_) {
      fds.assign(1, pollfd{wake_fd_, POLLIN, 0});
      Clock::time_point next = Clock::now() + std::chrono::seconds(1);
      for (const auto& c : waiting) {
        fds.push_back(pollfd{c.fd, POLLIN, 0});
        next = std::min(next, c.deadline);
      }
      int n = ::poll(fds.data(), fds.size(), remaining_ms(next) + 1);
      if (n < 0 && errno != EINTR) break;
      if (fds[0].revents) {
        uint64_t count;
        (void)!::read(wake_fd_, &count, sizeof count);
      }
      size_t i = 1;
      for (auto it = waiting.begin(); it != waiting.end(); ++i) {
        bool done = fds[i].revents ? read_headers(*it) : expire(*it);
        it = done ? waiting.erase(it) : std::next(it);
      }
      take_inbox(waiting);
    }
    for (auto& c : waiting) close_connection(c);
  }

  void take_inbox(std::list<Connection>& waiting) {
    std::deque<Connection> arrived;
    {
      std::lock_guard<std::mutex> lock(inbox_mutex_);
      arrived.swap(inbox_);
    }
    for (auto& c : arrived) {
      if (headers_complete(c.buffer))
        dispatch(std::move(c));
      else
        waiting.push_back(std::move(c));
    }
  }

  // True when the connection left the waiting list (dispatched or closed).
  bool read_headers(Connection& conn) {
    char chunk[4096];
    ssize_t n = ::recv(conn.fd, chunk, sizeof chunk, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
    if (n <= 0) {
      close_connection(conn);
      return true;
    }
    if (!conn.started) {
      conn.started = true;
      conn.deadline = Clock::now() + std::chrono::milliseconds(limits_.header_timeout_ms);
    }
    conn.buffer.append(chunk, static_cast<size_t>(n));
    if (headers_complete(conn.buffer)) {
      dispatch(std::move(conn));
      return true;
    }
    if (conn.buffer.size() > limits_.max_header_bytes) {
      send_canned(conn.fd, 431, "Request Header Fields Too Large", "headers_too_large",
                  "the request line and headers exceed " +
                      std::to_string(limits_.max_header_bytes) + " bytes");
      close_connection(conn);
      if (on_refused_) on_refused_("header_too_large");
      return true;
    }
    return false;
  }

  bool expire(Connection& conn) {
    if (Clock::now() < conn.deadline) return false;
    if (conn.started) {  // an idle keep-alive connection just closes
      send_canned(conn.fd, 408, "Request Timeout", "request_timeout",
                  "the request headers did not arrive in time");
      if (on_refused_) on_refused_("header_timeout");
    }
    close_connection(conn);
    return true;
  }

  static bool is_health_request(const std::string& buffer) {
    for (const char* prefix : {"GET /healthz ", "GET /healthz?", "GET /metrics ", "GET /metrics?"})
      if (buffer.rfind(prefix, 0) == 0) return true;
    return false;
  }

  void dispatch(Connection conn) {
    Queue& queue = is_health_request(conn.buffer) ? health_ : general_;
    std::unique_lock<std::mutex> lock(queue.mutex);
    if (queue.items.size() >= static_cast<size_t>(limits_.queue_limit)) {
      lock.unlock();
      int fd = conn.fd;
      conn.fd = -1;
      --open_;
      refuse(fd, "busy");
      return;
    }
    queue.items.push_back(std::move(conn));
    queue.ready.notify_one();
  }

  // ---- workers: one request each, then back to triage ----------------------

  void worker_loop(Queue& queue) {
    for (;;) {
      Connection conn;
      {
        std::unique_lock<std::mutex> lock(queue.mutex);
        queue.ready.wait(lock, [&] { return queue.closed || !queue.items.empty(); });
        if (queue.items.empty()) return;
        conn = std::move(queue.items.front());
        queue.items.pop_front();
      }
      serve_one(conn);
    }
  }

  void serve_one(Connection& conn) {
    RequestState state;
    t_request = &state;
    bool last =
        stopping_ || conn.requests + 1 >= limits_.max_requests_per_connection ||
        Clock::now() - conn.opened >= std::chrono::milliseconds(limits_.max_connection_age_ms);
    bool client_closes = false;
    bool written;
    {
      GuardedStream stream(conn, limits_, state);
      written =
          server_.process_request(stream, last || state.close_requested, client_closes, nullptr);
    }
    t_request = nullptr;
    ++conn.requests;
    if (state.close_requested || state.timed_out || state.too_large) {
      linger_close(conn);
    } else if (!written || last || client_closes || stopping_) {
      close_connection(conn);
    } else {
      conn.started = !conn.buffer.empty();
      conn.deadline =
          Clock::now() + std::chrono::milliseconds(conn.started ? limits_.header_timeout_ms
                                                                : limits_.idle_timeout_ms);
      hand_to_triage(std::move(conn));
    }
  }

  // The response went out but the client may still be sending a body we
  // refused: closing now would reset the connection and could destroy the
  // response before the client reads it. Stop writing, discard what arrives
  // for a short bounded while, then close.
  void linger_close(Connection& conn) {
    ::shutdown(conn.fd, SHUT_WR);
    char sink[16384];
    size_t discarded = 0;
    Clock::time_point until = Clock::now() + std::chrono::milliseconds(500);
    while (discarded < (1u << 20) && wait_for(conn.fd, POLLIN, remaining_ms(until))) {
      ssize_t n = ::recv(conn.fd, sink, sizeof sink, 0);
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) break;
      discarded += static_cast<size_t>(n);
    }
    close_connection(conn);
  }

  GuardedServer& server_;
  const ConnectionLimits limits_;
  std::function<void(const char*)> on_refused_;
  int wake_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_{0};
  std::mutex inbox_mutex_;
  std::deque<Connection> inbox_;
  Queue general_, health_;
  std::thread triage_;
  std::vector<std::thread> workers_;
};

namespace {

// httplib's accept loop hands each connection to its task queue; this one
// passes it straight to the triage thread and stops the engine on shutdown.
class TriageQueue : public httplib::TaskQueue {
 public:
  explicit TriageQueue(std::function<void()> on_shutdown) : on_shutdown_(std::move(on_shutdown)) {}
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override { on_shutdown_(); }

 private:
  std::function<void()> on_shutdown_;
};

}  // namespace

GuardedServer::GuardedServer(ConnectionLimits limits, std::function<void(const char*)> on_refused)
    : limits_(limits) {
  set_payload_max_length(limits_.max_body_bytes);
  new_task_queue = [this, on_refused] {
    engine_ = std::make_unique<Engine>(*this, limits_, on_refused);
    return new TriageQueue([this] { engine_->stop(); });
  };
}

GuardedServer::~GuardedServer() {
  stop();
  if (engine_) engine_->stop();
}

void GuardedServer::widen_backlog() {
  socket_t fd = svr_sock_;
  if (fd != INVALID_SOCKET) ::listen(fd, SOMAXCONN);
}

bool GuardedServer::process_and_close_socket(socket_t sock) {
  engine_->accept(sock);
  return true;
}

void GuardedServer::close_after_response() {
  if (t_request) t_request->close_requested = true;
}
bool GuardedServer::body_timed_out() { return t_request && t_request->timed_out; }
bool GuardedServer::body_too_large() { return t_request && t_request->too_large; }

}  // namespace trellis::api

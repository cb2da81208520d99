// Wake-ups between nodes: LISTEN trellis_wake on a connection of its own,
// on a thread of its own; Writer::commit sends the NOTIFY (writer.cpp).
#include <libpq-fe.h>
#include <poll.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "runtime/postgres/writer.h"

namespace trellis::runtime::postgres {
namespace {

class PgWakeListener final : public WakeListener {
 public:
  PgWakeListener(std::string conninfo, std::function<void()> on_wake)
      : conninfo_(std::move(conninfo)), on_wake_(std::move(on_wake)), thread_([this] { run(); }) {}
  ~PgWakeListener() override {
    stop_ = true;
    thread_.join();
    if (conn_) PQfinish(conn_);
  }

 private:
  // Until stopped: (re)connect and LISTEN, then wait on the socket. The
  // stop flag is looked at every kTickMs, so destruction waits that long at most.
  void run() {
    while (!stop_) {
      if (!conn_ && !connect()) {
        pause(kRetryMs);
        continue;
      }
      pollfd fd{PQsocket(conn_), POLLIN, 0};
      if (::poll(&fd, 1, kTickMs) < 0 || (fd.revents & POLLIN) == 0) continue;
      if (PQconsumeInput(conn_) == 0) {  // the connection is gone: connect again
        PQfinish(conn_);
        conn_ = nullptr;
        continue;
      }
      bool woken = false;
      while (PGnotify* n = PQnotifies(conn_)) {
        woken = woken || schema_ == n->extra;
        PQfreemem(n);
      }
      if (woken) on_wake_();
    }
  }

  bool connect() {
    conn_ = PQconnectdb(conninfo_.c_str());
    PGresult* r = PQstatus(conn_) == CONNECTION_OK
                      ? PQexec(conn_, "LISTEN trellis_wake; SELECT current_schema()")
                      : nullptr;
    const bool ok = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1;
    if (ok) schema_ = PQgetvalue(r, 0, 0);
    if (r) PQclear(r);
    if (!ok) {
      PQfinish(conn_);
      conn_ = nullptr;
      return false;
    }
    on_wake_();  // what was notified while not listening is not lost
    return true;
  }

  void pause(int ms) {
    for (int waited = 0; waited < ms && !stop_; waited += kTickMs)
      std::this_thread::sleep_for(std::chrono::milliseconds(kTickMs));
  }

  static constexpr int kTickMs = 100;
  static constexpr int kRetryMs = 1000;
  const std::string conninfo_;
  const std::function<void()> on_wake_;
  PGconn* conn_ = nullptr;  // the listener thread's only
  std::string schema_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace

std::unique_ptr<WakeListener> Writer::listen_for_wakes(std::function<void()> on_wake) {
  return std::make_unique<PgWakeListener>(conninfo_, std::move(on_wake));
}

}  // namespace trellis::runtime::postgres

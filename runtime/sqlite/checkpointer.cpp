#include "runtime/sqlite/checkpointer.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/sqlite/statement.h"

namespace trellis::runtime::sqlite {

Checkpointer::Checkpointer(const std::string& path) {
  Result<sqlite3*> db = open_db(path, /*read_only=*/false);
  if (!db.ok()) return;
  db_ = db.value();
  // A connection learns that the file is in WAL mode when it first reads it;
  // until then sqlite3_wal_checkpoint_v2 does nothing and says so only by
  // returning -1 frames. Read the schema once, and check that it worked.
  int wal_frames = 0;
  if (!exec(db_, "SELECT count(*) FROM sqlite_master") ||
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, nullptr) !=
          SQLITE_OK ||
      wal_frames < 0) {
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return;
  }
  thread_ = std::thread([this] { loop(); });
}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (db_) sqlite3_close_v2(db_);
}

void Checkpointer::finish_checkpoint_if_long(sqlite3* writer) {
  if (wal_pages_.load() < kWalRestartPages) return;
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait(l, [this] { return !checkpointing_; });
  sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

int Checkpointer::on_commit(void* self, sqlite3*, const char*, int pages) {
  static_cast<Checkpointer*>(self)->wal_pages_ = pages;
  if (pages >= kWalPages) {
    auto* c = static_cast<Checkpointer*>(self);
    {
      std::lock_guard<std::mutex> l(c->mu_);
      c->pending_ = true;
    }
    c->cv_.notify_all();
  }
  return SQLITE_OK;
}

void Checkpointer::loop() {
  // Background work: on a busy machine the writer, which callers wait on,
  // should get the CPU first.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 10);
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [this] { return pending_ || stop_; });
    if (stop_) return;
    pending_ = false;
    checkpointing_ = true;
    l.unlock();
    sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    l.lock();
    checkpointing_ = false;
    cv_.notify_all();  // a writer may wait to restart the WAL
  }
}

}  // namespace trellis::runtime::sqlite

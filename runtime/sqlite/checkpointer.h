// The SQLite store's WAL checkpointer thread.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace trellis::runtime::sqlite {

// Checkpoints the WAL on its own thread and connection, so that the writer
// never stalls on copying pages into the database file and fsyncing it (which
// is what made timer lateness spike when the writer checkpointed itself). The
// writer's wal_hook reports the WAL size after each commit; past kWalPages the
// checkpointer runs a PASSIVE checkpoint, which never blocks the writer. It
// runs at a lower CPU priority: on a busy machine the writer goes first.
class Checkpointer {
 public:
  static constexpr int kWalPages = 1000;  // SQLite's own default threshold
  // The WAL starts over from its beginning only when a writer begins with every
  // frame copied back, and the checkpointer is always one transaction behind a
  // writer that never pauses: under a sustained burst the WAL grew past a
  // gigabyte, and growing the file cost the writer a fifth of its time. Past
  // this size the writer, between two transactions, copies that last
  // transaction itself, and its next transaction starts the WAL over (as soon
  // as no reader still reads from it: SQLite checks without waiting).
  static constexpr int kWalRestartPages = 8 * kWalPages;

  explicit Checkpointer(const std::string& path);
  ~Checkpointer();
  bool running() const { return db_ != nullptr; }

  // Called by the writer after a commit, on its own connection: when the WAL
  // has grown past kWalRestartPages, waits for the checkpoint in progress (two
  // checkpoints cannot run at once), then copies what is left, so that the next
  // transaction can start the WAL over. The passive runs have copied most of it
  // by then, so the writer pauses for about one transaction's pages. PASSIVE,
  // not RESTART: a RESTART would also wait for every reader, and a long /metrics
  // scan would then stall the writer.
  void finish_checkpoint_if_long(sqlite3* writer);

  static int on_commit(void* self, sqlite3*, const char*, int pages);

 private:
  void loop();

  sqlite3* db_ = nullptr;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;           // guarded by mu_
  bool checkpointing_ = false;     // guarded by mu_
  bool stop_ = false;              // guarded by mu_
  std::atomic<int> wal_pages_{0};  // WAL size after the writer's last commit
};

}  // namespace trellis::runtime::sqlite

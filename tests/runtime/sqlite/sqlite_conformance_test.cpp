// The store conformance suite (store_conformance.h) on SQLite: a new file per
// fresh(), reopened by reopen().
#include <catch2/catch.hpp>
#include <memory>

#include "runtime/sqlite/sqlite_store.h"
#include "store_conformance.h"
#include "temp_dir.h"

namespace {

class SqliteBackend final : public trellis::testing::StoreBackend {
 public:
  std::unique_ptr<trellis::runtime::Store> fresh() override {
    dir_ = std::make_unique<trellis::testing::TempDir>();
    return reopen();
  }
  std::unique_ptr<trellis::runtime::Store> reopen() override {
    auto store = trellis::runtime::open_sqlite_store({dir_->file("trellis.db")});
    REQUIRE(store.ok());
    return std::move(store.value());
  }

 private:
  std::unique_ptr<trellis::testing::TempDir> dir_;
};

SqliteBackend sqlite_backend;

}  // namespace

TRELLIS_STORE_CONFORMANCE("sqlite", "[store]", sqlite_backend)

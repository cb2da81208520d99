// The store conformance suite (store_conformance.h) on PostgreSQL: a new
// schema of the binary's private cluster per fresh(). Tagged [.postgres]: CTest
// runs these in one process (runtime.postgres), so that one cluster serves all.
#include <catch2/catch.hpp>
#include <memory>

#include "postgres/pg_cluster.h"
#include "runtime/postgres/postgres_store.h"
#include "store_conformance.h"

namespace {

class PostgresBackend final : public trellis::testing::StoreBackend {
 public:
  std::unique_ptr<trellis::runtime::Store> fresh() override {
    url_ = trellis::testing::PgCluster::shared().fresh_url();
    return reopen();
  }
  std::unique_ptr<trellis::runtime::Store> reopen() override {
    auto store = trellis::runtime::open_postgres_store({url_});
    INFO((store.ok() ? std::string() : store.error().message));
    REQUIRE(store.ok());
    return std::move(store.value());
  }

 private:
  std::string url_;
};

PostgresBackend postgres_backend;

}  // namespace

TRELLIS_STORE_CONFORMANCE("postgresql", "[.postgres]", postgres_backend)

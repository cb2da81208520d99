// A private PostgreSQL cluster for the tests of one test binary: started on
// first use by scripts/pg-cluster.sh (initdb in a temp dir, a free loopback
// port, the socket in the temp dir; as the `postgres` user when run as root),
// stopped with `-m immediate` when the binary exits. Every fresh_url() is a
// new empty schema in it, so tests share one cluster (a start costs 2-6 s)
// without seeing each other's rows.
#pragma once

#include <string>

namespace trellis::testing {

class PgCluster {
 public:
  // The binary's cluster, started by the first call. REQUIRE-fails the test
  // when it cannot start.
  static PgCluster& shared();
  ~PgCluster();

  // The cluster's conninfo URL (database `postgres`).
  const std::string& url() const { return url_; }
  // A URL whose search_path is a new, empty schema.
  std::string fresh_url();

 private:
  PgCluster() = default;
  std::string dir_;
  std::string url_;
  int schemas_ = 0;
};

}  // namespace trellis::testing

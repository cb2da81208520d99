#include "postgres/pg_cluster.h"

#include <libpq-fe.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>

namespace trellis::testing {

PgCluster& PgCluster::shared() {
  static std::unique_ptr<PgCluster> cluster = [] {
    std::unique_ptr<PgCluster> c(new PgCluster());
    const std::string command = std::string("bash ") + TRELLIS_PG_CLUSTER_SCRIPT + " start";
    if (FILE* out = popen(command.c_str(), "r")) {
      char line[1024] = {0};
      if (std::fgets(line, sizeof line, out)) {
        std::string text(line);
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
        const size_t space = text.find(' ');
        if (space != std::string::npos) {
          c->dir_ = text.substr(0, space);
          c->url_ = text.substr(space + 1);
        }
      }
      pclose(out);
    }
    return c;
  }();
  REQUIRE_FALSE(cluster->url_.empty());  // scripts/pg-cluster.sh printed why
  return *cluster;
}

PgCluster::~PgCluster() {
  if (dir_.empty()) return;
  const std::string command =
      std::string("bash ") + TRELLIS_PG_CLUSTER_SCRIPT + " stop '" + dir_ + "'";
  if (std::system(command.c_str()) != 0) std::fprintf(stderr, "pg-cluster: stop failed\n");
}

std::string PgCluster::fresh_url() {
  const std::string schema = "t" + std::to_string(++schemas_);
  PGconn* conn = PQconnectdb(url_.c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* r = PQexec(conn, ("CREATE SCHEMA " + schema).c_str());
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  PQfinish(conn);
  REQUIRE(ok);
  return url_ + "?options=-csearch_path%3D" + schema;
}

}  // namespace trellis::testing

// The store conformance suite: what runtime/store.h promises, checked against
// a backend. Every backend runs all of it (sqlite/sqlite_conformance_test.cpp,
// postgres/postgres_conformance_test.cpp).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/store.h"

namespace trellis::testing {

class StoreBackend {
 public:
  virtual ~StoreBackend() = default;
  // A store on a new, empty database: each call a database of its own.
  virtual std::unique_ptr<runtime::Store> fresh() = 0;
  // Another store on the database of the last fresh(): a restart, or a
  // second process sharing it.
  virtual std::unique_ptr<runtime::Store> reopen() = 0;
};

using ConformanceCheck = std::function<void(StoreBackend&)>;
// Every check, by name: the backend's test case runs each as a SECTION.
const std::vector<std::pair<std::string, ConformanceCheck>>& conformance_checks();

}  // namespace trellis::testing

// One test case per backend, one section per check.
#define TRELLIS_STORE_CONFORMANCE(name, tags, backend)                               \
  TEST_CASE("store conformance: " name, tags) {                                      \
    for (const auto& [check_name, check] : trellis::testing::conformance_checks()) { \
      SECTION(check_name) { check(backend); }                                        \
    }                                                                                \
  }

// Internal to trellis_delivery: libcurl easy handles for the smtp and http
// providers. One handle per worker, kept for its life so connections are reused.
#pragma once

#include <curl/curl.h>

#include <atomic>
#include <memory>
#include <string>

namespace trellis::runtime::delivery {

// curl_global_init, once per process, before the first handle.
void init_curl_once();

struct CurlDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

// A new easy handle with the settings both providers share: timeouts, no
// signals (worker threads), and a progress callback that aborts the call when
// `cancel` becomes true (the dispatcher is stopping).
// `ca_file` (may be empty: the system's store) verifies the server's certificate.
CurlPtr new_curl_handle(long timeout_ms, long connect_timeout_ms, const std::string& ca_file,
                        const std::atomic<bool>* cancel);

// Whether a failed call may succeed later (a network or server problem).
bool is_transient(CURLcode code);

}  // namespace trellis::runtime::delivery

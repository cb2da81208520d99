// The http provider on libcurl: a JSON POST per delivery (a webhook node's
// own body to its own url), one kept-alive connection per worker.
#include <cctype>
#include <ctime>
#include <sys/socket.h>

#include "runtime/delivery/curl_handle.h"
#include "runtime/delivery/providers.h"
#include "nodes/webhook_target.h"

namespace trellis::runtime::delivery {

namespace {

using nodes::host_allowed;
using nodes::internal_address;
using nodes::internal_host;

constexpr size_t kMaxErrorBody = 200;  // bytes of a failed answer kept in its error

struct Response {
  std::string body;  // the first bytes, for error messages
  std::optional<std::string> retry_after;
};

size_t keep_body_start(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const size_t bytes = size * count;
  if (response->body.size() < kMaxErrorBody)
    response->body.append(data, std::min(bytes, kMaxErrorBody - response->body.size()));
  return bytes;
}

size_t find_retry_after(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<Response*>(user);
  const size_t bytes = size * count;
  std::string line(data, bytes);
  const std::string name = "retry-after:";
  if (line.size() > name.size()) {
    std::string head = line.substr(0, name.size());
    for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name) {
      std::string value = line.substr(name.size());
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back())))
        value.pop_back();
      while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front())))
        value.erase(0, 1);
      response->retry_after = value;
    }
  }
  return bytes;
}

// The host of `url` as curl reads it; empty when it has none.
std::string url_host(const std::string& url) {
  CURLU* parsed = curl_url();
  std::string host;
  char* part = nullptr;
  if (parsed && curl_url_set(parsed, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
      curl_url_get(parsed, CURLUPART_HOST, &part, 0) == CURLUE_OK) {
    host = part;
    curl_free(part);
  }
  curl_url_cleanup(parsed);
  return host;
}

// Opens each connection's socket only when its address is public: called with
// the address curl is about to connect to, after resolution, so neither an
// internal IP literal nor a name resolving (or rebound) to one gets through.
curl_socket_t open_public_socket(void* refusal, curlsocktype, curl_sockaddr* address) {
  if (auto internal = internal_address(&address->addr)) {
    *static_cast<std::string*>(refusal) = *internal;
    return CURL_SOCKET_BAD;
  }
  return socket(address->family, address->socktype, address->protocol);
}

class HttpProvider final : public Provider {
 public:
  HttpProvider(const HttpSettings& settings, const std::atomic<bool>* cancel)
      : settings_(settings),
        curl_(new_curl_handle(static_cast<long>(settings.timeout_ms),
                              static_cast<long>(settings.connect_timeout_ms), settings.ca_file,
                              cancel)) {}

  SendOutcome send(const DeliveryRecord& d) override {
    if (!curl_) return SendOutcome::retry("http: cannot create a curl handle");
    const bool own_url = d.channel == "webhook" && d.to.rfind("http", 0) == 0;
    const std::string& url = own_url ? d.to : settings_.url;
    if (url.empty()) return SendOutcome::permanent("http: no url for channel " + d.channel);
    const std::string body = own_url ? d.body : delivery_json(d);

    SlistPtr headers(curl_slist_append(nullptr, "Content-Type: application/json"));
    curl_slist_append(headers.get(), ("Idempotency-Key: " + d.key).c_str());
    for (const Header& h : settings_.headers)
      curl_slist_append(headers.get(), (h.name + ": " + h.value).c_str());

    Response response;
    CURL* h = curl_.get();
    // A webhook node's url is the flow author's choice: internal targets are
    // refused unless the configuration allows the host (nodes/webhook_target.h).
    std::string refusal;
    const std::string host = own_url ? url_host(url) : std::string();
    const bool guarded = own_url && !host_allowed(host, settings_.webhook_allow_hosts);
    if (guarded) {
      if (auto internal = internal_host(host)) return refused(*internal);
      curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_public_socket);
      curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &refusal);
      // A connection kept alive from an earlier call was opened under the same check.
    } else {
      curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, nullptr);
      curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, nullptr);
    }
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body_start);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, find_retry_after);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &response);
    const CURLcode code = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);  // `headers` dies here
    if (guarded) {
      curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, nullptr);
      curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, nullptr);  // `refusal` dies here
    }
    if (!refusal.empty()) return refused(refusal);
    if (code != CURLE_OK) {
      // curl's own text: it names the failure, never the request's headers.
      const std::string error = std::string("http: ") + curl_easy_strerror(code);
      return is_transient(code) ? SendOutcome::retry(error) : SendOutcome::permanent(error);
    }
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    SendOutcome outcome = classify(status, response);
    outcome.error = redact(std::move(outcome.error), settings_.secrets);
    return outcome;
  }

 private:
  // Never retried: the target will not become public by waiting.
  static SendOutcome refused(const std::string& why) {
    return SendOutcome::permanent("webhook: refused to send to " + why +
                                  " (internal targets need webhooks.allow_hosts in the delivery "
                                  "configuration)");
  }

  static SendOutcome classify(long status, const Response& response) {
    if (status >= 200 && status < 300) return SendOutcome::ok();
    const std::string error = "http: HTTP " + std::to_string(status);
    if (status == 429 || status == 503)
      return SendOutcome::retry(
          error, response.retry_after ? parse_retry_after(*response.retry_after) : std::nullopt);
    if (status >= 400 && status < 500 && status != 408)
      return SendOutcome::permanent(error + answer_excerpt(response.body));
    return SendOutcome::retry(error);
  }

  static std::string answer_excerpt(const std::string& body) {
    if (body.empty()) return "";
    std::string text;
    for (char c : body) text += (c == '\n' || c == '\r') ? ' ' : c;
    return ": " + text;
  }

  HttpSettings settings_;
  CurlPtr curl_;
};

}  // namespace

std::string redact(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), "[redacted]");
  }
  return text;
}

std::optional<Millis> parse_retry_after(const std::string& value) {
  if (value.empty()) return std::nullopt;
  bool digits = true;
  for (char c : value) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (digits)
    return value.size() > 9 ? std::nullopt : std::optional<Millis>(std::stoll(value) * 1000);
  const time_t at = curl_getdate(value.c_str(), nullptr);
  if (at < 0) return std::nullopt;
  const time_t now = std::time(nullptr);
  return at <= now ? 0 : static_cast<Millis>(at - now) * 1000;
}

std::unique_ptr<Provider> make_http_provider(const HttpSettings& settings,
                                             const std::atomic<bool>* cancel) {
  return std::make_unique<HttpProvider>(settings, cancel);
}

}  // namespace trellis::runtime::delivery

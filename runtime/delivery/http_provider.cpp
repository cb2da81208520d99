// The http provider on libcurl: a JSON POST per delivery (a webhook node's
// own body to its own url), one kept-alive connection per worker.
#include <cctype>
#include <ctime>

#include "runtime/delivery/curl_handle.h"
#include "runtime/delivery/providers.h"

namespace trellis::runtime::delivery {

namespace {

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

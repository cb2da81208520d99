// The smtp provider on libcurl: smtp:// with STARTTLS, smtps://, AUTH from
// the environment; the message itself is built by mail_message.h.
#include <chrono>
#include <cstring>

#include "runtime/delivery/curl_handle.h"
#include "runtime/delivery/mail_message.h"
#include "runtime/delivery/providers.h"

namespace trellis::runtime::delivery {

namespace {

struct Upload {
  const std::string* data;
  size_t sent = 0;
};

size_t read_upload(char* buffer, size_t size, size_t count, void* user) {
  auto* upload = static_cast<Upload*>(user);
  const size_t n = std::min(size * count, upload->data->size() - upload->sent);
  std::memcpy(buffer, upload->data->data() + upload->sent, n);
  upload->sent += n;
  return n;
}

TimeMs wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class SmtpProvider final : public Provider {
 public:
  SmtpProvider(const SmtpSettings& settings, const std::atomic<bool>* cancel)
      : settings_(settings),
        curl_(new_curl_handle(static_cast<long>(settings.timeout_ms),
                              static_cast<long>(settings.connect_timeout_ms), settings.ca_file,
                              cancel)) {
    if (!curl_) return;
    CURL* h = curl_.get();
    curl_easy_setopt(h, CURLOPT_URL, settings_.url.c_str());
    const bool plain_smtp = settings_.url.rfind("smtp://", 0) == 0;
    curl_easy_setopt(h, CURLOPT_USE_SSL,
                     plain_smtp && !settings_.starttls ? CURLUSESSL_NONE : CURLUSESSL_ALL);
    if (!settings_.username.empty()) {
      curl_easy_setopt(h, CURLOPT_USERNAME, settings_.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, settings_.password.c_str());
    }
    sender_ = "<" + mailbox_address(settings_.from) + ">";
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, sender_.c_str());
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, read_upload);
  }

  SendOutcome send(const DeliveryRecord& d) override {
    if (!curl_) return SendOutcome::retry("smtp: cannot create a curl handle");
    if (d.to.empty() || d.to.find_first_of("\r\n<>") != std::string::npos)
      return SendOutcome::permanent("smtp: not an email address: '" + d.to + "'");
    const std::string message = build_mail(d, settings_.from, wall_clock_ms());
    SlistPtr recipients(curl_slist_append(nullptr, ("<" + d.to + ">").c_str()));
    Upload upload{&message};
    CURL* h = curl_.get();
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, recipients.get());
    curl_easy_setopt(h, CURLOPT_READDATA, &upload);
    curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
    const CURLcode code = curl_easy_perform(h);
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, nullptr);  // `recipients` dies here
    if (code == CURLE_OK) return SendOutcome::ok();
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    std::string error = std::string("smtp: ") + curl_easy_strerror(code);
    if (reply > 0) error += " (reply " + std::to_string(reply) + ")";
    // 5xx to MAIL, RCPT or DATA: the server refuses this message for good.
    // Authentication failures retry: credentials get fixed, the circuit opens meanwhile.
    error = redact(std::move(error), {settings_.username, settings_.password});
    const bool refused = reply >= 500 && reply < 600 && code != CURLE_LOGIN_DENIED;
    if (refused || !is_transient(code)) return SendOutcome::permanent(error);
    return SendOutcome::retry(error);
  }

 private:
  SmtpSettings settings_;
  CurlPtr curl_;
  std::string sender_;
};

}  // namespace

std::unique_ptr<Provider> make_smtp_provider(const SmtpSettings& settings,
                                             const std::atomic<bool>* cancel) {
  return std::make_unique<SmtpProvider>(settings, cancel);
}

}  // namespace trellis::runtime::delivery

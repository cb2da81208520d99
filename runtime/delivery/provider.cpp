#include "runtime/delivery/provider.h"

#include "runtime/delivery/file_provider.h"
#include "runtime/delivery/providers.h"
#include "runtime/delivery/secrets.h"

namespace trellis::runtime::delivery {

namespace {

std::string where(const ChannelConfig& channel) { return "channel " + channel.name + ": "; }

Result<ProviderFactory> open_http(const ChannelConfig& channel, ProviderContext& context) {
  HttpSettings settings;
  settings.url = channel.url;
  settings.ca_file = channel.ca_file;
  settings.timeout_ms = channel.timeout_ms;
  settings.connect_timeout_ms = channel.connect_timeout_ms;
  settings.webhook_allow_hosts = channel.webhook_allow_hosts;
  for (const Header& header : channel.headers) {
    Result<std::string> value = resolve_references(header.value);
    if (!value.ok())
      return Error{where(channel) + "header " + header.name + ": " + value.error().message};
    settings.headers.push_back({header.name, value.value()});
    for (std::string& secret : referenced_values(header.value)) settings.secrets.push_back(secret);
  }
  const std::atomic<bool>* cancel = &context.cancel();
  return ProviderFactory([settings, cancel] { return make_http_provider(settings, cancel); });
}

Result<ProviderFactory> open_smtp(const ChannelConfig& channel, ProviderContext& context) {
  SmtpSettings settings;
  settings.url = channel.url;
  settings.from = channel.from;
  settings.starttls = channel.starttls;
  settings.ca_file = channel.ca_file;
  settings.timeout_ms = channel.timeout_ms;
  settings.connect_timeout_ms = channel.connect_timeout_ms;
  if (!channel.username_env.empty()) {
    Result<std::string> user = read_env(channel.username_env);
    if (!user.ok()) return Error{where(channel) + user.error().message};
    Result<std::string> password = read_env(channel.password_env);
    if (!password.ok()) return Error{where(channel) + password.error().message};
    settings.username = user.value();
    settings.password = password.value();
  }
  const std::atomic<bool>* cancel = &context.cancel();
  return ProviderFactory([settings, cancel] { return make_smtp_provider(settings, cancel); });
}

Result<ProviderFactory> open_file(const ChannelConfig& channel, ProviderContext& context) {
  const std::string& path = channel.url.empty() ? context.default_path() : channel.url;
  Result<std::shared_ptr<FileWriter>> writer = context.file_writer(path);
  if (!writer.ok()) return Error{where(channel) + writer.error().message};
  std::shared_ptr<FileWriter> shared = writer.value();
  return ProviderFactory([shared] { return make_file_provider(shared); });
}

}  // namespace

ProviderContext::~ProviderContext() = default;

Result<std::shared_ptr<FileWriter>> ProviderContext::file_writer(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = writers_.find(path);
  if (it != writers_.end()) return it->second;
  Result<std::shared_ptr<FileWriter>> opened = FileWriter::open(path);
  if (opened.ok()) writers_[path] = opened.value();
  return opened;
}

namespace {

struct Registered {
  std::mutex mu;
  std::map<std::string, ProviderOpener> openers;
};

Registered& registered() {
  static Registered instance;
  return instance;
}

}  // namespace

void register_provider(const std::string& name, ProviderOpener open) {
  std::lock_guard<std::mutex> l(registered().mu);
  registered().openers[name] = std::move(open);
}

bool is_registered_provider(const std::string& name) {
  std::lock_guard<std::mutex> l(registered().mu);
  return registered().openers.count(name) > 0;
}

Result<ProviderFactory> open_provider(const ChannelConfig& channel, ProviderContext& context) {
  ProviderOpener opener;
  {
    std::lock_guard<std::mutex> l(registered().mu);
    auto it = registered().openers.find(channel.provider);
    if (it != registered().openers.end()) opener = it->second;
  }
  if (opener) return opener(channel, context);
  if (channel.provider == "http") return open_http(channel, context);
  if (channel.provider == "smtp") return open_smtp(channel, context);
  if (channel.provider == "file") return open_file(channel, context);
  return Error{where(channel) + "unknown provider '" + channel.provider + "'"};
}

}  // namespace trellis::runtime::delivery

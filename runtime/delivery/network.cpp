#include "runtime/delivery/network.h"

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

// Linking this library is what makes the two providers available: its object
// files are linked into each program that names it (an OBJECT library), and
// this registers them before main.
const bool kRegistered = (register_network_providers(), true);

}  // namespace

void register_network_providers() {
  register_provider("http", open_http);
  register_provider("smtp", open_smtp);
}

}  // namespace trellis::runtime::delivery

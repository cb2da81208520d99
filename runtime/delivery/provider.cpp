#include "runtime/delivery/provider.h"

#include "runtime/delivery/file_provider.h"

namespace trellis::runtime::delivery {

namespace {

std::string where(const ChannelConfig& channel) { return "channel " + channel.name + ": "; }

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
  if (channel.provider == "file") return open_file(channel, context);
  if (channel.provider == "http" || channel.provider == "smtp")
    return Error{where(channel) + "provider '" + channel.provider +
                 "' is not linked into this program (link trellis_delivery_network)"};
  return Error{where(channel) + "unknown provider '" + channel.provider + "'"};
}

}  // namespace trellis::runtime::delivery

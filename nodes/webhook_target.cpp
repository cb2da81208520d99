#include "nodes/webhook_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstring>

namespace trellis::nodes {

namespace {

struct Range4 {
  uint32_t network;
  int prefix;
  const char* what;
};

constexpr uint32_t ip4(int a, int b, int c, int d) {
  return static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 |
         static_cast<uint32_t>(c) << 8 | static_cast<uint32_t>(d);
}

// Addresses that are not the public internet (IANA special-purpose registry).
constexpr Range4 kInternal4[] = {
    {ip4(0, 0, 0, 0), 8, "unspecified address"},
    {ip4(10, 0, 0, 0), 8, "private address"},
    {ip4(100, 64, 0, 0), 10, "shared (carrier-grade NAT) address"},
    {ip4(127, 0, 0, 0), 8, "loopback address"},
    {ip4(169, 254, 169, 254), 32, "cloud metadata address"},
    {ip4(169, 254, 0, 0), 16, "link-local address"},
    {ip4(172, 16, 0, 0), 12, "private address"},
    {ip4(192, 0, 0, 0), 24, "IETF protocol address"},
    {ip4(192, 168, 0, 0), 16, "private address"},
    {ip4(198, 18, 0, 0), 15, "benchmarking address"},
    {ip4(224, 0, 0, 0), 4, "multicast address"},
    {ip4(240, 0, 0, 0), 4, "reserved address"},
};

std::optional<std::string> internal_v4(uint32_t host_order, const std::string& text) {
  for (const Range4& r : kInternal4) {
    const uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix);
    if ((host_order & mask) == r.network) return std::string(r.what) + " " + text;
  }
  return std::nullopt;
}

std::optional<std::string> internal_v6(const in6_addr& a) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(AF_INET6, &a, text, sizeof text);
  const uint8_t* b = a.s6_addr;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, kMappedPrefix, 12) == 0) {  // ::ffff:a.b.c.d is that IPv4 address
    return internal_v4(ip4(b[12], b[13], b[14], b[15]), text);
  }
  static constexpr uint8_t kZero[15] = {};
  if (std::memcmp(b, kZero, 15) == 0) {
    if (b[15] == 1) return "loopback address " + std::string(text);
    if (b[15] == 0) return "unspecified address " + std::string(text);
  }
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local address " + std::string(text);
  if ((b[0] & 0xfe) == 0xfc)
    return "unique local address " + std::string(text);  // fc00::/7, with AWS's fd00:ec2::254
  if (b[0] == 0xff) return "multicast address " + std::string(text);
  return std::nullopt;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::optional<std::string> internal_address(const sockaddr* address) {
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &in->sin_addr, text, sizeof text);
    return internal_v4(ntohl(in->sin_addr.s_addr), text);
  }
  if (address->sa_family == AF_INET6)
    return internal_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  return "address family " + std::to_string(address->sa_family);  // neither IPv4 nor IPv6
}

std::optional<std::string> internal_host(std::string_view host) {
  std::string name = lower(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) == 1) return internal_v4(ntohl(v4.s_addr), name);
  in6_addr v6{};
  if (inet_pton(AF_INET6, name.c_str(), &v6) == 1) return internal_v6(v6);
  if (!name.empty() && name.back() == '.') name.pop_back();
  if (name == "localhost" || ends_with(name, ".localhost")) return "loopback name " + name;
  if (name == "metadata.google.internal" || name == "metadata")
    return "cloud metadata name " + name;
  return std::nullopt;
}

bool host_allowed(std::string_view host, const std::vector<std::string>& allow_hosts) {
  std::string name = lower(host);
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']')
    name = name.substr(1, name.size() - 2);
  return std::any_of(allow_hosts.begin(), allow_hosts.end(),
                     [&](const std::string& allowed) { return lower(allowed) == name; });
}

}  // namespace trellis::nodes

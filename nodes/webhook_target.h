// Where a flow's webhook node may send (docs/delivery.md, "Webhook targets").
// Whoever can save a flow chooses its webhook URLs, so without a guard a flow
// could aim Trellis at services only the server can reach: loopback, private
// ranges, link-local addresses and the cloud metadata endpoint
// (169.254.169.254). Those are refused unless the delivery configuration
// names the host in `webhooks: {allow_hosts: [...]}`. The http provider checks
// the address each connection actually uses (after DNS resolution, so a name
// that resolves to an internal address, or is rebound to one, is refused too).
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trellis::nodes {

// Why `address` (an IPv4 or IPv6 socket address) is not a public target, e.g.
// "loopback address 127.0.0.1"; nullopt for a public address.
std::optional<std::string> internal_address(const sockaddr* address);

// The same for a host as written in a URL: an IP literal (`10.0.0.7`,
// `[::1]`) or a name that always means this machine or the metadata service
// (`localhost`, `*.localhost`, `metadata.google.internal`); nullopt for any
// other name (its addresses are checked when it is sent to).
std::optional<std::string> internal_host(std::string_view host);

// Whether `host` (as in the URL, without brackets) is one `allow_hosts` names
// (case-insensitive).
bool host_allowed(std::string_view host, const std::vector<std::string>& allow_hosts);

}  // namespace trellis::nodes

// The providers that need the network, http and smtp on libcurl
// (docs/delivery.md), in a library of their own (trellis_delivery_network) so
// that the engine and the rest of delivery link without libcurl. A program that
// links trellis_delivery_network has both registered (provider.h,
// register_provider) before main; without it, a channel on them fails to open.
#pragma once

namespace trellis::runtime::delivery {

// Registers "http" and "smtp". Runs by itself when the library is linked;
// calling it again is harmless.
void register_network_providers();

}  // namespace trellis::runtime::delivery

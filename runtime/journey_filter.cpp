#include "runtime/journey_filter.h"

#include <algorithm>
#include <functional>

namespace trellis::runtime {

namespace {

constexpr size_t kBitsPerPair = 10;
constexpr size_t kMinCapacity = 1 << 16;

// SplitMix64's finaliser: spreads a hash into an independent second one.
uint64_t remix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

JourneyFilter::JourneyFilter(size_t capacity) : capacity_(std::max(capacity, kMinCapacity)) {
  bits_ = static_cast<uint64_t>(capacity_) * kBitsPerPair;
  words_.assign((bits_ + 63) / 64, 0);
}

// Double hashing (Kirsch and Mitzenmacher): probe i is h1 + i * h2.
JourneyFilter::Probes JourneyFilter::probes(std::string_view user, std::string_view flow) const {
  const std::hash<std::string_view> hash;
  const uint64_t h1 = hash(user) ^ remix(hash(flow));
  return Probes{h1, remix(h1) | 1};
}

void JourneyFilter::add(std::string_view user, std::string_view flow) {
  const Probes p = probes(user, flow);
  for (int i = 0; i < kProbes; ++i) {
    const uint64_t bit = p.bit(i, bits_);
    words_[bit / 64] |= uint64_t{1} << (bit % 64);
  }
  ++size_;
}

bool JourneyFilter::may_contain(std::string_view user, std::string_view flow) const {
  const Probes p = probes(user, flow);
  for (int i = 0; i < kProbes; ++i) {
    const uint64_t bit = p.bit(i, bits_);
    if (!((words_[bit / 64] >> (bit % 64)) & 1)) return false;
  }
  return true;
}

}  // namespace trellis::runtime

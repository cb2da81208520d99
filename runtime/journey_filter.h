// Which (user, flow) pairs may have journeys: a Bloom filter, so that an event
// of a user with no journey in a flow (the trigger of every new journey) skips
// the store lookup. A false positive costs one lookup; there are no false
// negatives as long as every journey is added when it is created, which the
// processor does. About 10 bits per journey, never an object per journey.
//
// Thread-safety: none; the engine's single writer owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace trellis::runtime {

class JourneyFilter {
 public:
  // Sized for `capacity` pairs at a false-positive rate under 1%.
  explicit JourneyFilter(size_t capacity = 0);

  void add(std::string_view user, std::string_view flow);
  bool may_contain(std::string_view user, std::string_view flow) const;

  // Pairs added. Past capacity() the false-positive rate climbs: the owner
  // rebuilds a larger filter.
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

 private:
  static constexpr int kProbes = 7;  // optimal for 10 bits per pair
  struct Probes {
    uint64_t h1, h2;
    uint64_t bit(int i, uint64_t bits) const { return (h1 + static_cast<uint64_t>(i) * h2) % bits; }
  };
  Probes probes(std::string_view user, std::string_view flow) const;

  std::vector<uint64_t> words_;
  uint64_t bits_ = 0;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace trellis::runtime

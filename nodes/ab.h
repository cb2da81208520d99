// The A/B split's hash, public so tests and the runtime's stats can reproduce
// an assignment. It must never change: a user's variant has to stay the same
// across restarts, builds, machines and flow versions, which std::hash does
// not promise.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace trellis::nodes {

// FNV-1a (64-bit) over the parts with a 0 byte after each, then the
// MurmurHash3 fmix64 finaliser so that near-identical keys ("u1", "u2")
// spread over the whole range.
uint64_t stable_hash(std::initializer_list<std::string_view> parts);

// A point in [0, 1) for (flow, node, user), from stable_hash.
double ab_point(std::string_view flow, std::string_view node, std::string_view user);

// Index of the variant whose cumulative weight first exceeds point * total.
// `cumulative` are running sums of the weights; returns -1 when empty or the
// total is not positive.
int pick_variant(const std::vector<double>& cumulative, double point);

}  // namespace trellis::nodes

// Hourly results of flows (docs/results.md#rollups): what the step function
// counts while it runs, added up in memory for one commit batch and written by
// the store once per key in the same transaction as the steps that caused
// them, so they survive a crash with the steps and never count twice.
//
// Keys: (hour, flow, version, node, variant). `node` "" is the flow itself
// (journeys entered, ended, converted, revenue); a node's row counts its
// entries, the journeys that ended there and the conversions attributed to it
// (the last message before the conversion). `variant` is the journey's A/B
// assignments when it happened ("ab=b;ab2=x"; "" before any).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "runtime/clock.h"

namespace trellis::runtime {

inline constexpr TimeMs kHourMs = 3600 * 1000;
// The all-time rows of the rollup tables have this hour (no hour starts at -1 ms).
inline constexpr TimeMs kAllTimeHour = -1;
// The node of a held-out user's journey and of the holdout's rollup rows
// (docs/results.md#global-holdout); `~` starts no node id.
inline constexpr const char* kHoldoutNode = "~holdout";

struct RollupKey {
  TimeMs hour = 0;  // start of the UTC hour
  std::string flow;
  int version = 0;
  std::string node;
  std::string variant;

  bool operator<(const RollupKey& o) const {
    return std::tie(hour, flow, version, node, variant) <
           std::tie(o.hour, o.flow, o.version, o.node, o.variant);
  }
};

struct RollupCounts {
  int64_t entered = 0, exited = 0, converted = 0;
  double revenue = 0, revenue_sq = 0;  // sum of conversion values and of their squares

  RollupCounts& operator+=(const RollupCounts& o) {
    entered += o.entered;
    exited += o.exited;
    converted += o.converted;
    revenue += o.revenue;
    revenue_sq += o.revenue_sq;
    return *this;
  }
};

// An arrow a journey took (funnel): all time, per flow version.
struct EdgeKey {
  std::string flow;
  int version = 0;
  std::string from, to;

  bool operator<(const EdgeKey& o) const {
    return std::tie(flow, version, from, to) < std::tie(o.flow, o.version, o.from, o.to);
  }
};

// Messages made, by the hour, flow version, node, channel, the journey's A/B
// assignments and the status they were inserted with.
struct MessageKey {
  TimeMs hour = 0;
  std::string flow;
  int version = 0;
  std::string node, channel, variant;
  int status = 0;  // DeliveryStatus

  bool operator<(const MessageKey& o) const {
    return std::tie(hour, flow, version, node, channel, variant, status) <
           std::tie(o.hour, o.flow, o.version, o.node, o.channel, o.variant, o.status);
  }
};

inline TimeMs hour_of(TimeMs t) { return t - ((t % kHourMs) + kHourMs) % kHourMs; }

// One batch's counts; the engine hands it to Store::add_rollups before commit.
// Later status changes of a message (sent, released, failed) are the store's
// to count, whichever path makes them.
struct RollupBatch {
  std::map<RollupKey, RollupCounts> rows;
  std::map<EdgeKey, int64_t> edges;
  std::map<MessageKey, int64_t> messages;

  bool empty() const { return rows.empty() && edges.empty() && messages.empty(); }
  void clear() {
    rows.clear();
    edges.clear();
    messages.clear();
  }
  RollupCounts& at(TimeMs now, const std::string& flow, int version, const std::string& node,
                   const std::string& variant) {
    return rows[RollupKey{hour_of(now), flow, version, node, variant}];
  }
};

// A row as read back, for the stats endpoint.
struct RollupRow {
  RollupKey key;  // hour is 0 in all-time totals
  RollupCounts counts;
};

// Messages by the hour they were made, their node and channel, and status now.
struct MessageRollupRow {
  TimeMs hour = 0;
  int version = 0;
  std::string node, channel, variant;
  int status = 0;  // DeliveryStatus; -1: the feedback counts below
  int64_t messages = 0;
  int64_t delivered = 0, opened = 0, clicked = 0, bounced = 0, complained = 0;
};

// Messages made in an hour, by channel and the status they have now (>= 0):
// what the series over time counts, one row per stored row of the range
// (summed by the caller, which buckets them anyway).
struct MessageHour {
  TimeMs hour = 0;
  std::string channel;
  int status = 0;  // DeliveryStatus
  int64_t messages = 0;
};

struct EdgeRow {
  EdgeKey key;
  int64_t journeys = 0;
};

}  // namespace trellis::runtime

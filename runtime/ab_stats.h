// A/B statistics for flow results (docs/results.md#ab-results): conversion
// rates with Wilson intervals, the two-proportion z-test against the control,
// Holm's correction over several variants, the relative uplift with a Katz
// (log risk ratio) interval, and Welch's t-test for revenue per journey.
//
// Pure functions over counts and sums, so the stats endpoint can compute them
// from rollups without reading a journey.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace trellis::runtime::ab {

using Interval = std::pair<double, double>;

// 95% Wilson score interval of `successes` out of `trials` ({0, 0} when trials is 0).
Interval wilson_interval(int64_t successes, int64_t trials, double z = 1.959963984540054);

// Two-sided p-value of the pooled two-proportion z-test; nullopt when it is
// undefined (a group without trials, or no variance: all or none converted).
std::optional<double> two_proportion_p(int64_t x1, int64_t n1, int64_t x2, int64_t n2);

// The relative uplift p1/p2 - 1 and its 95% interval from the log risk ratio
// (Katz); nullopt when p2 is 0 (the interval also needs x1 > 0).
struct Uplift {
  double value = 0;
  std::optional<Interval> interval;
};
std::optional<Uplift> relative_uplift(int64_t x1, int64_t n1, int64_t x2, int64_t n2,
                                      double z = 1.959963984540054);

// Newcombe's hybrid score interval (method 10) for p1 - p2.
Interval newcombe_difference(int64_t x1, int64_t n1, int64_t x2, int64_t n2,
                             double z = 1.959963984540054);

// A sample of values summarised by its size, sum and sum of squares.
struct Moments {
  int64_t n = 0;
  double sum = 0, sum_sq = 0;
  double mean() const { return n > 0 ? sum / static_cast<double>(n) : 0; }
  double variance() const;  // unbiased; 0 when n < 2
};

// Two-sided p-value of Welch's unequal-variance t-test; nullopt when undefined
// (fewer than 2 values in a group, or no variance in either).
std::optional<double> welch_p(const Moments& a, const Moments& b);

// Holm's step-down adjustment: adjusted p-values in the input's order.
std::vector<double> holm(const std::vector<double>& p_values);

// One variant's counts, as the stats endpoint has them.
struct VariantInput {
  std::string variant;
  int64_t journeys = 0;
  int64_t conversions = 0;
  Moments revenue;  // revenue per journey: n = journeys, non-converters count 0
};

struct VariantResult {
  std::string variant;
  int64_t journeys = 0, conversions = 0;
  double rate = 0;
  Interval rate_ci{0, 0};
  double revenue = 0, revenue_per_journey = 0;
  std::optional<double> uplift;
  std::optional<Interval> uplift_ci;
  std::optional<double> p_value, p_adjusted, revenue_p_value;
};

enum class Verdict { kNotEnoughData, kWinner, kNoDifference };
const char* verdict_name(Verdict verdict);  // "not_enough_data", "winner", "no_difference"

struct Comparison {
  std::string control;
  int64_t min_sample = 0;
  Verdict verdict = Verdict::kNotEnoughData;
  std::optional<std::string> winner;
  std::string summary;  // a plain sentence
  std::vector<VariantResult> variants;
};

// Compares every variant with the control (the one named `control`, else the
// first), at significance 0.05 after Holm, once each has `min_sample` journeys.
Comparison compare(const std::vector<VariantInput>& variants, int64_t min_sample);

}  // namespace trellis::runtime::ab

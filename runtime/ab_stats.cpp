#include "runtime/ab_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace trellis::runtime::ab {
namespace {

double two_sided_normal_p(double z) {
  static const boost::math::normal standard;
  return 2 * boost::math::cdf(boost::math::complement(standard, std::fabs(z)));
}

double ratio(int64_t x, int64_t n) { return n > 0 ? static_cast<double>(x) / n : 0; }

}  // namespace

Interval wilson_interval(int64_t successes, int64_t trials, double z) {
  if (trials <= 0) return {0, 0};
  const double n = static_cast<double>(trials);
  const double p = successes / n;
  const double z2 = z * z;
  const double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::optional<double> two_proportion_p(int64_t x1, int64_t n1, int64_t x2, int64_t n2) {
  if (n1 <= 0 || n2 <= 0) return std::nullopt;
  const double pooled = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  const double se = std::sqrt(pooled * (1 - pooled) * (1.0 / n1 + 1.0 / n2));
  if (!(se > 0)) return std::nullopt;
  return two_sided_normal_p((ratio(x1, n1) - ratio(x2, n2)) / se);
}

std::optional<Uplift> relative_uplift(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double z) {
  if (n1 <= 0 || n2 <= 0 || x2 <= 0) return std::nullopt;
  Uplift out;
  const double rr = ratio(x1, n1) / ratio(x2, n2);
  out.value = rr - 1;
  if (x1 > 0) {
    const double se = std::sqrt(1.0 / x1 - 1.0 / n1 + 1.0 / x2 - 1.0 / n2);
    out.interval =
        Interval{std::exp(std::log(rr) - z * se) - 1, std::exp(std::log(rr) + z * se) - 1};
  }
  return out;
}

Interval newcombe_difference(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double z) {
  const double p1 = ratio(x1, n1), p2 = ratio(x2, n2);
  const auto [l1, u1] = wilson_interval(x1, n1, z);
  const auto [l2, u2] = wilson_interval(x2, n2, z);
  const double d = p1 - p2;
  const double lower = d - std::sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
  const double upper = d + std::sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
  return {lower, upper};
}

double Moments::variance() const {
  if (n < 2) return 0;
  const double m = mean();
  return std::max(0.0, (sum_sq - n * m * m) / static_cast<double>(n - 1));
}

std::optional<double> welch_p(const Moments& a, const Moments& b) {
  if (a.n < 2 || b.n < 2) return std::nullopt;
  const double va = a.variance() / a.n, vb = b.variance() / b.n;
  const double se2 = va + vb;
  if (!(se2 > 0)) return std::nullopt;
  const double t = (a.mean() - b.mean()) / std::sqrt(se2);
  const double df = se2 * se2 / (va * va / (a.n - 1) + vb * vb / (b.n - 1));
  const boost::math::students_t dist(df);
  return 2 * boost::math::cdf(boost::math::complement(dist, std::fabs(t)));
}

std::vector<double> holm(const std::vector<double>& p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> adjusted(m);
  double running = 0;  // adjusted p-values never decrease along the order
  for (size_t rank = 0; rank < m; ++rank) {
    const double p = std::min(1.0, static_cast<double>(m - rank) * p_values[order[rank]]);
    running = std::max(running, p);
    adjusted[order[rank]] = running;
  }
  return adjusted;
}

const char* verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kNotEnoughData:
      return "not_enough_data";
    case Verdict::kWinner:
      return "winner";
    case Verdict::kNoDifference:
      return "no_difference";
  }
  return "not_enough_data";
}

namespace {

std::string percent(double rate) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f%%", rate * 100);
  return text;
}

}  // namespace

Comparison compare(const std::vector<VariantInput>& variants, int64_t min_sample) {
  Comparison out;
  out.min_sample = min_sample;
  if (variants.empty()) {
    out.summary = "No journeys have reached this test yet.";
    return out;
  }
  size_t control = 0;
  for (size_t i = 0; i < variants.size(); ++i)
    if (variants[i].variant == "control") control = i;
  const VariantInput& c = variants[control];
  out.control = c.variant;

  std::vector<double> raw;
  std::vector<size_t> tested;  // indexes of variants with a p-value
  for (size_t i = 0; i < variants.size(); ++i) {
    const VariantInput& v = variants[i];
    VariantResult r;
    r.variant = v.variant;
    r.journeys = v.journeys;
    r.conversions = v.conversions;
    r.rate = ratio(v.conversions, v.journeys);
    r.rate_ci = wilson_interval(v.conversions, v.journeys);
    r.revenue = v.revenue.sum;
    r.revenue_per_journey = v.journeys > 0 ? v.revenue.sum / static_cast<double>(v.journeys) : 0;
    if (i != control) {
      if (auto u = relative_uplift(v.conversions, v.journeys, c.conversions, c.journeys)) {
        r.uplift = u->value;
        r.uplift_ci = u->interval;
      }
      r.p_value = two_proportion_p(v.conversions, v.journeys, c.conversions, c.journeys);
      r.revenue_p_value = welch_p(v.revenue, c.revenue);
      if (r.p_value) {
        raw.push_back(*r.p_value);
        tested.push_back(i);
      }
    }
    out.variants.push_back(std::move(r));
  }
  const std::vector<double> adjusted = holm(raw);
  for (size_t k = 0; k < tested.size(); ++k) out.variants[tested[k]].p_adjusted = adjusted[k];

  int64_t smallest = variants[0].journeys;
  for (const VariantInput& v : variants) smallest = std::min(smallest, v.journeys);
  if (variants.size() < 2 || smallest < min_sample) {
    out.verdict = Verdict::kNotEnoughData;
    out.summary = "Not enough data yet: " + std::to_string(smallest) + " of " +
                  std::to_string(min_sample) + " journeys per variant.";
    return out;
  }
  // The best rate among the variants that differ from the control; the
  // control wins when only worse ones differ.
  std::optional<size_t> best;
  bool any_differs = false;
  for (size_t i = 0; i < out.variants.size(); ++i) {
    const VariantResult& r = out.variants[i];
    if (i == control || !r.p_adjusted || *r.p_adjusted >= 0.05) continue;
    any_differs = true;
    if (r.rate > out.variants[control].rate && (!best || r.rate > out.variants[*best].rate))
      best = i;
  }
  if (!any_differs) {
    out.verdict = Verdict::kNoDifference;
    out.summary = "No clear difference: no variant converts differently from '" + c.variant +
                  "' (" + percent(out.variants[control].rate) + ") at 95% confidence.";
    return out;
  }
  const size_t w = best.value_or(control);
  out.verdict = Verdict::kWinner;
  out.winner = out.variants[w].variant;
  out.summary = w == control
                    ? "'" + c.variant + "' wins: the other variants convert less (" +
                          percent(out.variants[control].rate) + " for '" + c.variant + "')."
                    : "'" + out.variants[w].variant + "' wins: " + percent(out.variants[w].rate) +
                          " against " + percent(out.variants[control].rate) + " for '" + c.variant +
                          "'.";
  return out;
}

}  // namespace trellis::runtime::ab

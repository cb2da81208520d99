#!/usr/bin/python3
"""Reference values for tests/runtime/ab_stats_test.cpp, computed with SciPy
(Debian python3-scipy 1.10.1) independently of Trellis's code:

  Wilson interval       scipy.stats.binomtest(k, n).proportion_ci(method="wilson")
  two-proportion z-test scipy.stats.chi2_contingency(table, correction=False)
                        (the uncorrected chi-square test of a 2x2 table is the
                        pooled two-proportion z-test: chi2 = z^2)
  uplift interval       scipy.stats.contingency.relative_risk(...).confidence_interval()
                        (Katz's log method)
  Welch's t-test        scipy.stats.ttest_ind_from_stats(..., equal_var=False)

Run it to print the values the test holds: python3 tests/runtime/ab_reference.py
"""
import math
from scipy import stats
from scipy.stats.contingency import relative_risk

def wilson(k, n):
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return ci.low, ci.high

def z_test(x1, n1, x2, n2):
    return stats.chi2_contingency([[x1, n1 - x1], [x2, n2 - x2]], correction=False).pvalue

def uplift(x1, n1, x2, n2):
    rr = relative_risk(x1, n1, x2, n2)
    ci = rr.confidence_interval(confidence_level=0.95)
    return rr.relative_risk - 1, ci.low - 1, ci.high - 1

def welch(values_a, values_b):
    def moments(v):
        n = len(v); m = sum(v) / n
        sd = math.sqrt(sum((x - m) ** 2 for x in v) / (n - 1))
        return m, sd, n
    ma, sa, na = moments(values_a)
    mb, sb, nb = moments(values_b)
    return stats.ttest_ind_from_stats(ma, sa, na, mb, sb, nb, equal_var=False).pvalue

print("wilson(40, 100)", wilson(40, 100))
print("wilson(0, 25)", wilson(0, 25))
print("wilson(51, 1000)", wilson(51, 1000))
print("z(51, 1000, 47, 1000)", z_test(51, 1000, 47, 1000))
print("z(120, 1000, 90, 1000)", z_test(120, 1000, 90, 1000))
print("uplift(120, 1000, 90, 1000)", uplift(120, 1000, 90, 1000))
# Revenue per journey: 10 journeys each, converters' values, the rest 0.
a = [30.0, 45.0, 12.5, 80.0] + [0.0] * 6
b = [20.0, 15.0] + [0.0] * 8
print("welch(a, b)", welch(a, b))

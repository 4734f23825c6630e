// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Summary statistics and curve arithmetic for comparing runs: plain C++, no Qt, no LibTorch.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

namespace mode {

double mean(const std::vector<double>& v);      // NaN for an empty vector
double sampleStd(const std::vector<double>& v); // n - 1 in the denominator; 0 for n < 2

// Exponential moving average with bias correction, in the units of the keys: a point `dx` after
// the previous one keeps weight^dx of the running average, so runs that log at different
// densities (every step, every 10th step) are smoothed alike. With keys 1, 2, 3, ... it is
// TensorBoard's debiased EMA. weight in [0, 1); 0 returns the values unchanged.
std::vector<double> emaSmooth(const std::vector<double>& keys, const std::vector<double>& values,
                              double weight);

// Several curves on one set of keys: mean and sample standard deviation at every key that all
// curves have (keys compared exactly; curves are sorted by key).
struct Band {
    std::vector<double> keys, mean, std;
    std::size_t curves = 0;
};
Band meanBand(const std::vector<std::vector<double>>& keys,
              const std::vector<std::vector<double>>& values);

} // namespace mode

namespace mode {

// Student's t distribution with df degrees of freedom (Boost.Math): P(T <= t), and the t with
// P(T <= t) = p.
double studentTCdf(double t, double df);
double studentTQuantile(double p, double df);

// Paired two-sided tests of a against b (same length, pairs by position, e.g. by seed).
struct PairedTest {
    std::size_t n = 0;
    double meanDifference = 0; // mean of a - b
    double statistic = 0;      // t, or Wilcoxon's W+ (sum of the ranks of positive differences)
    double pValue = 1;         // two-sided; 1 when the test cannot tell (n < 2, all differences 0)
};
// `resolution` is the metric's grid where it has one: an accuracy over n test rows moves in steps
// of 1/n, so its paired differences are multiples of 1/n, and the tests round them to that grid
// (45/86 - 44/86 and 80/86 - 79/86 are the same difference, though not the same double). With
// resolution 0 the differences are taken as they are, and two of them tie where they agree to
// 1e-9 of their size.
// The paired differences a - b, on the grid of `resolution` where it is > 0.
std::vector<double> pairedDifferences(const std::vector<double>& a, const std::vector<double>& b,
                                      double resolution = 0);
// The t-test's p is 0 when every difference is the same non-zero value (t is infinite).
PairedTest pairedTTest(const std::vector<double>& a, const std::vector<double>& b,
                       double resolution = 0);
// Exact Wilcoxon signed-rank test (zero differences dropped, ties get mid-ranks), n <= 200.
PairedTest wilcoxonSignedRank(const std::vector<double>& a, const std::vector<double>& b,
                              double resolution = 0);

// A two-sided confidence interval; NaN bounds where it cannot be computed (too few values).
struct Interval {
    double lower = std::numeric_limits<double>::quiet_NaN();
    double upper = std::numeric_limits<double>::quiet_NaN();
    bool known() const { return lower == lower && upper == upper; }
};

// The mean's interval from Student's t: mean +- t(1 - (1 - level)/2, n - 1) * sd / sqrt(n); n >= 2.
Interval tInterval(const std::vector<double>& x, double level = 0.95);
// Percentile bootstrap interval of the mean: `resamples` resamples with replacement from a
// generator seeded with `seed`, so the same values always give the same interval; n >= 2.
Interval bootstrapInterval(const std::vector<double>& x, double level = 0.95, int resamples = 5000,
                           std::uint64_t seed = 1);

// A share with its interval.
struct Proportion {
    double estimate = std::numeric_limits<double>::quiet_NaN();
    double successes = 0; // ties count one half
    std::size_t n = 0;
    Interval interval; // Wilson's score interval
};
// The probability of improvement: the share of pairs whose difference is positive, a zero
// difference counting one half (a tie is neither a win nor a loss), with Wilson's interval.
Proportion probabilityOfImprovement(const std::vector<double>& differences, double level = 0.95);
Interval wilsonInterval(double successes, std::size_t n, double level = 0.95);

// Holm's step-down adjustment of a family of p-values (controls the family-wise error rate):
// returned in the order given; NaN entries are left out of the family and stay NaN.
std::vector<double> holmAdjust(const std::vector<double>& p);

// The smallest true mean difference that a two-sided paired t-test at `significance` detects
// with probability `power`, from n pairs whose differences have standard deviation sd:
// (t(1 - significance/2, n - 1) + t(power, n - 1)) * sd / sqrt(n). NaN for n < 2.
double minimalDetectableEffect(double sd, std::size_t n, double significance = 0.05,
                               double power = 0.8);
// The fewest pairs (>= 2) whose minimal detectable effect is at most `effect`, for paired
// differences of standard deviation sd: what a study must run to see that effect. 0 where no
// n up to 100,000 is enough, or the inputs are not finite and positive.
std::size_t pairsNeeded(double sd, double effect, double significance = 0.05, double power = 0.8);

// Everything the project reports about a paired comparison (treatment - control, pairs by
// position, e.g. runs matched by seed).
struct PairedComparison {
    std::size_t n = 0;
    double meanDifference = std::numeric_limits<double>::quiet_NaN();
    double sdDifference = std::numeric_limits<double>::quiet_NaN();
    double level = 0.95;
    std::vector<double> differences; // treatment - control, by pair
    Interval tInterval;              // of the mean difference
    // The percentile bootstrap interval of the mean difference (bootstrapInterval with its fixed
    // seed), worked out when asked: it costs 5000 resamples, and most comparisons (a report's
    // verdicts, a sweep's rule) never show it.
    Interval bootstrap() const;
    PairedTest tTest, wilcoxon;
    Proportion improvement; // share of pairs where the treatment is higher
    double minimalDetectable = std::numeric_limits<double>::quiet_NaN(); // at 0.05, power 0.8
};
PairedComparison comparePaired(const std::vector<double>& treatment,
                               const std::vector<double>& control, double level = 0.95,
                               double resolution = 0);

} // namespace mode

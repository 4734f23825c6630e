#pragma once
// Summary statistics and curve arithmetic for comparing runs: plain C++, no Qt, no LibTorch.

#include <cstddef>
#include <optional>
#include <vector>

namespace mode {

double mean(const std::vector<double>& v);                 // NaN for an empty vector
double sampleStd(const std::vector<double>& v);            // n - 1 in the denominator; 0 for n < 2

// Exponential moving average with bias correction, in the units of the keys: a point `dx` after
// the previous one keeps weight^dx of the running average, so runs that log at different
// densities (every step, every 10th step) are smoothed alike. With keys 1, 2, 3, ... it is
// TensorBoard's debiased EMA. weight in [0, 1); 0 returns the values unchanged.
std::vector<double> emaSmooth(const std::vector<double>& keys, const std::vector<double>& values, double weight);

// Several curves on one set of keys: mean and sample standard deviation at every key that all
// curves have (keys compared exactly; curves are sorted by key).
struct Band {
    std::vector<double> keys, mean, std;
    std::size_t curves = 0;
};
Band meanBand(const std::vector<std::vector<double>>& keys, const std::vector<std::vector<double>>& values);

} // namespace mode

namespace mode {

// Student's t distribution: P(T <= t) with df degrees of freedom (regularised incomplete beta).
double studentTCdf(double t, double df);

// Paired two-sided tests of a against b (same length, pairs by position, e.g. by seed).
struct PairedTest {
    std::size_t n = 0;
    double meanDifference = 0; // mean of a - b
    double statistic = 0;      // t, or Wilcoxon's W+ (sum of the ranks of positive differences)
    double pValue = 1;         // two-sided; 1 when the test cannot tell (n < 2, all differences 0)
};
PairedTest pairedTTest(const std::vector<double>& a, const std::vector<double>& b);
// Exact Wilcoxon signed-rank test (zero differences dropped, ties get mean ranks), n <= 25.
PairedTest wilcoxonSignedRank(const std::vector<double>& a, const std::vector<double>& b);

} // namespace mode

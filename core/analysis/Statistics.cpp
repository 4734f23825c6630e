// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/Statistics.h"

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

namespace mode {

double mean(const std::vector<double>& v) {
    if (v.empty()) return std::nan("");
    double s = 0;
    for (double x : v)
        s += x;
    return s / static_cast<double>(v.size());
}

double sampleStd(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    const double m = mean(v);
    double ss = 0;
    for (double x : v)
        ss += (x - m) * (x - m);
    return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

std::vector<double> emaSmooth(const std::vector<double>& keys, const std::vector<double>& values,
                              double weight) {
    if (keys.size() != values.size())
        throw std::invalid_argument("emaSmooth: keys and values differ in length");
    if (!(weight >= 0 && weight < 1))
        throw std::invalid_argument("emaSmooth: the weight must be in [0, 1)");
    std::vector<double> out(values.size());
    double m = 0, w = 0;
    for (std::size_t i = 0; i < values.size(); ++i) {
        const double dx = i == 0 ? 1.0 : std::max(0.0, keys[i] - keys[i - 1]);
        const double d = weight == 0 ? 0.0 : std::pow(weight, dx);
        m = d * m + (1 - d) * values[i];
        w = d * w + (1 - d);
        out[i] = w > 0 ? m / w : values[i];
    }
    return out;
}

Band meanBand(const std::vector<std::vector<double>>& keys,
              const std::vector<std::vector<double>>& values) {
    if (keys.size() != values.size())
        throw std::invalid_argument("meanBand: keys and values differ in count");
    Band b;
    b.curves = keys.size();
    if (keys.empty()) return b;
    std::map<double, std::vector<double>> at;
    for (std::size_t c = 0; c < keys.size(); ++c) {
        if (keys[c].size() != values[c].size())
            throw std::invalid_argument("meanBand: a curve's keys and values differ in length");
        for (std::size_t i = 0; i < keys[c].size(); ++i)
            at[keys[c][i]].push_back(values[c][i]);
    }
    for (const auto& [k, v] : at) {
        if (v.size() != keys.size()) continue; // not every curve has this key
        b.keys.push_back(k);
        b.mean.push_back(mean(v));
        b.std.push_back(sampleStd(v));
    }
    return b;
}

} // namespace mode

namespace mode {

double studentTCdf(double t, double df) {
    if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
    return boost::math::cdf(boost::math::students_t(df), t);
}

double studentTQuantile(double p, double df) {
    return boost::math::quantile(boost::math::students_t(df), p);
}

std::vector<double> pairedDifferences(const std::vector<double>& a, const std::vector<double>& b,
                                      double resolution) {
    if (a.size() != b.size())
        throw std::invalid_argument("paired test: the samples differ in length");
    std::vector<double> d(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        d[i] = a[i] - b[i];
        if (resolution > 0)
            d[i] = static_cast<double>(std::llround(d[i] / resolution)) * resolution;
    }
    return d;
}

PairedTest pairedTTest(const std::vector<double>& a, const std::vector<double>& b,
                       double resolution) {
    const auto d = pairedDifferences(a, b, resolution);
    PairedTest r;
    r.n = d.size();
    if (d.empty()) return r;
    r.meanDifference = mean(d);
    const double sd = sampleStd(d);
    if (d.size() < 2 || r.meanDifference == 0) return r;
    if (sd == 0) { // every pair moved by the same amount: t is infinite
        r.statistic = r.meanDifference > 0 ? HUGE_VAL : -HUGE_VAL;
        r.pValue = 0;
        return r;
    }
    r.statistic = r.meanDifference / (sd / std::sqrt(static_cast<double>(d.size())));
    const double df = static_cast<double>(d.size() - 1);
    r.pValue = 2 * (1 - studentTCdf(std::abs(r.statistic), df));
    return r;
}

namespace {
// Two sizes of differences tie where they agree to 1e-9 of their size (on a grid they are equal).
bool sameSize(double x, double y) {
    return std::abs(x - y) <= 1e-9 * std::max(std::abs(x), std::abs(y));
}
} // namespace

PairedTest wilcoxonSignedRank(const std::vector<double>& a, const std::vector<double>& b,
                              double resolution) {
    PairedTest r;
    std::vector<double> d;
    for (double x : pairedDifferences(a, b, resolution)) {
        r.meanDifference += x / static_cast<double>(a.size());
        if (x != 0) d.push_back(x);
    }
    r.n = d.size();
    if (d.empty()) return r;
    if (d.size() > 200)
        throw std::invalid_argument("wilcoxonSignedRank: the exact test is for at most 200 pairs");
    // Ranks of |d|, ties sharing their mid-rank; doubled to keep them integral.
    std::vector<std::size_t> order(d.size());
    for (std::size_t i = 0; i < order.size(); ++i)
        order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](auto x, auto y) { return std::abs(d[x]) < std::abs(d[y]); });
    std::vector<int> rank2(d.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && sameSize(std::abs(d[order[j + 1]]), std::abs(d[order[i]])))
            ++j;
        const int shared = static_cast<int>(i + j + 2); // 2 * mean of ranks i+1 .. j+1
        for (std::size_t k = i; k <= j; ++k)
            rank2[order[k]] = shared;
        i = j + 1;
    }
    int wPlus2 = 0, total2 = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        total2 += rank2[i];
        if (d[i] > 0) wPlus2 += rank2[i];
    }
    r.statistic = wPlus2 / 2.0;
    // Exact null distribution of 2 W+ over the 2^n sign patterns (index: 2 W+).
    std::vector<double> dist(static_cast<std::size_t>(total2) + 1, 0.0);
    dist[0] = 1.0;
    int reach = 0;
    for (int rk : rank2) {
        for (int w = reach; w >= 0; --w) {
            const double p = dist[static_cast<std::size_t>(w)] / 2;
            dist[static_cast<std::size_t>(w)] = p;
            dist[static_cast<std::size_t>(w + rk)] += p;
        }
        reach += rk;
    }
    const int lo = std::min(wPlus2, total2 - wPlus2);
    double tail = 0;
    for (int w = 0; w <= lo; ++w)
        tail += dist[static_cast<std::size_t>(w)];
    r.pValue = std::min(1.0, 2 * tail);
    return r;
}

Interval tInterval(const std::vector<double>& x, double level) {
    if (x.size() < 2) return {};
    const double n = static_cast<double>(x.size());
    const double half = studentTQuantile(1 - (1 - level) / 2, n - 1) * sampleStd(x) / std::sqrt(n);
    const double m = mean(x);
    return {m - half, m + half};
}

Interval bootstrapInterval(const std::vector<double>& x, double level, int resamples,
                           std::uint64_t seed) {
    if (x.size() < 2 || resamples < 1) return {};
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<std::size_t> pick(0, x.size() - 1);
    std::vector<double> means(static_cast<std::size_t>(resamples));
    for (auto& m : means) {
        double s = 0;
        for (std::size_t i = 0; i < x.size(); ++i)
            s += x[pick(rng)];
        m = s / static_cast<double>(x.size());
    }
    std::sort(means.begin(), means.end());
    // The empirical quantiles at (1 - level)/2 and (1 + level)/2 (the order statistics that
    // leave that share of resamples outside on each side).
    auto at = [&](double q) {
        const double pos = q * static_cast<double>(means.size() - 1);
        const auto lo = static_cast<std::size_t>(std::floor(pos));
        const auto hi = std::min(lo + 1, means.size() - 1);
        return means[lo] + (pos - static_cast<double>(lo)) * (means[hi] - means[lo]);
    };
    return {at((1 - level) / 2), at((1 + level) / 2)};
}

Interval wilsonInterval(double successes, std::size_t n, double level) {
    if (n == 0) return {};
    const double z = boost::math::quantile(boost::math::normal(), 1 - (1 - level) / 2);
    const double nn = static_cast<double>(n), p = successes / nn, z2 = z * z;
    const double centre = (p + z2 / (2 * nn)) / (1 + z2 / nn);
    const double half = z / (1 + z2 / nn) * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
    return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

Proportion probabilityOfImprovement(const std::vector<double>& d, double level) {
    Proportion p;
    p.n = d.size();
    for (double x : d)
        p.successes += x > 0 ? 1.0 : x == 0 ? 0.5 : 0.0;
    if (p.n == 0) return p;
    p.estimate = p.successes / static_cast<double>(p.n);
    p.interval = wilsonInterval(p.successes, p.n, level);
    return p;
}

std::vector<double> holmAdjust(const std::vector<double>& p) {
    std::vector<std::size_t> order;
    for (std::size_t i = 0; i < p.size(); ++i)
        if (!std::isnan(p[i])) order.push_back(i);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return p[a] < p[b]; });
    std::vector<double> out(p.size(), std::nan(""));
    const std::size_t m = order.size();
    double running = 0; // adjusted p-values never decrease along the sorted order
    for (std::size_t k = 0; k < m; ++k) {
        running = std::max(running, std::min(1.0, static_cast<double>(m - k) * p[order[k]]));
        out[order[k]] = running;
    }
    return out;
}

double minimalDetectableEffect(double sd, std::size_t n, double significance, double power) {
    if (n < 2 || !std::isfinite(sd)) return std::nan("");
    const double df = static_cast<double>(n - 1);
    return (studentTQuantile(1 - significance / 2, df) + studentTQuantile(power, df)) * sd /
           std::sqrt(static_cast<double>(n));
}

std::size_t pairsNeeded(double sd, double effect, double significance, double power) {
    if (!(sd > 0) || !(effect > 0) || !std::isfinite(sd) || !std::isfinite(effect)) return 0;
    // The detectable effect falls with n: bisect for the first n that reaches `effect`.
    std::size_t lo = 2, hi = 100000;
    if (minimalDetectableEffect(sd, hi, significance, power) > effect) return 0;
    while (lo < hi) {
        const std::size_t mid = lo + (hi - lo) / 2;
        if (minimalDetectableEffect(sd, mid, significance, power) <= effect)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

Interval PairedComparison::bootstrap() const {
    return bootstrapInterval(differences, level);
}

PairedComparison comparePaired(const std::vector<double>& treatment,
                               const std::vector<double>& control, double level,
                               double resolution) {
    const auto d = pairedDifferences(treatment, control, resolution);
    PairedComparison c;
    c.n = treatment.size();
    if (c.n == 0) return c;
    c.meanDifference = mean(d);
    c.sdDifference = c.n >= 2 ? sampleStd(d) : std::nan("");
    c.tInterval = tInterval(d, level);
    c.level = level;
    c.differences = d;
    c.tTest = pairedTTest(treatment, control, resolution);
    c.wilcoxon = c.n <= 200 ? wilcoxonSignedRank(treatment, control, resolution) : PairedTest{};
    c.improvement = probabilityOfImprovement(d, level);
    c.minimalDetectable = minimalDetectableEffect(c.sdDifference, c.n);
    return c;
}

} // namespace mode

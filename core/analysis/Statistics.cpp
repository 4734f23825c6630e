#include "analysis/Statistics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace mode {

double mean(const std::vector<double>& v) {
    if (v.empty()) return std::nan("");
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
}

double sampleStd(const std::vector<double>& v) {
    if (v.size() < 2) return 0;
    const double m = mean(v);
    double ss = 0;
    for (double x : v) ss += (x - m) * (x - m);
    return std::sqrt(ss / static_cast<double>(v.size() - 1));
}

std::vector<double> emaSmooth(const std::vector<double>& keys, const std::vector<double>& values, double weight) {
    if (keys.size() != values.size()) throw std::invalid_argument("emaSmooth: keys and values differ in length");
    if (!(weight >= 0 && weight < 1)) throw std::invalid_argument("emaSmooth: the weight must be in [0, 1)");
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

Band meanBand(const std::vector<std::vector<double>>& keys, const std::vector<std::vector<double>>& values) {
    if (keys.size() != values.size()) throw std::invalid_argument("meanBand: keys and values differ in count");
    Band b;
    b.curves = keys.size();
    if (keys.empty()) return b;
    std::map<double, std::vector<double>> at;
    for (std::size_t c = 0; c < keys.size(); ++c) {
        if (keys[c].size() != values[c].size()) throw std::invalid_argument("meanBand: a curve's keys and values differ in length");
        for (std::size_t i = 0; i < keys[c].size(); ++i) at[keys[c][i]].push_back(values[c][i]);
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

namespace {
// Continued fraction of the incomplete beta function (Lentz's method).
double betaContinuedFraction(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (std::abs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 300; ++m) {
        const double m2 = 2.0 * m;
        double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
        d = 1 + aa * d;
        if (std::abs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
        d = 1 + aa * d;
        if (std::abs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (std::abs(c) < tiny) c = tiny;
        d = 1 / d;
        const double delta = d * c;
        h *= delta;
        if (std::abs(delta - 1) < 1e-15) break;
    }
    return h;
}

double regularizedIncompleteBeta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    const double front = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x));
    if (x < (a + 1) / (a + b + 2)) return front * betaContinuedFraction(a, b, x) / a;
    return 1 - front * betaContinuedFraction(b, a, 1 - x) / b;
}
} // namespace

double studentTCdf(double t, double df) {
    const double x = df / (df + t * t);
    const double tail = 0.5 * regularizedIncompleteBeta(df / 2, 0.5, x); // P(T > |t|)
    return t >= 0 ? 1 - tail : tail;
}

PairedTest pairedTTest(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) throw std::invalid_argument("pairedTTest: the samples differ in length");
    PairedTest r;
    r.n = a.size();
    std::vector<double> d;
    for (std::size_t i = 0; i < a.size(); ++i) d.push_back(a[i] - b[i]);
    if (d.empty()) return r;
    r.meanDifference = mean(d);
    const double sd = sampleStd(d);
    if (d.size() < 2 || sd == 0) return r;
    r.statistic = r.meanDifference / (sd / std::sqrt(static_cast<double>(d.size())));
    const double df = static_cast<double>(d.size() - 1);
    r.pValue = 2 * (1 - studentTCdf(std::abs(r.statistic), df));
    return r;
}

PairedTest wilcoxonSignedRank(const std::vector<double>& a, const std::vector<double>& b) {
    if (a.size() != b.size()) throw std::invalid_argument("wilcoxonSignedRank: the samples differ in length");
    PairedTest r;
    std::vector<double> d;
    for (std::size_t i = 0; i < a.size(); ++i) {
        r.meanDifference += (a[i] - b[i]) / static_cast<double>(a.size());
        if (a[i] != b[i]) d.push_back(a[i] - b[i]);
    }
    r.n = d.size();
    if (d.empty()) return r;
    if (d.size() > 25) throw std::invalid_argument("wilcoxonSignedRank: the exact test is for at most 25 pairs");
    // Ranks of |d|, ties sharing their mean rank; doubled to keep them integral.
    std::vector<std::size_t> order(d.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](auto x, auto y) { return std::abs(d[x]) < std::abs(d[y]); });
    std::vector<int> rank2(d.size());
    for (std::size_t i = 0; i < order.size();) {
        std::size_t j = i;
        while (j + 1 < order.size() && std::abs(d[order[j + 1]]) == std::abs(d[order[i]])) ++j;
        const int shared = static_cast<int>(i + j + 2); // 2 * mean of ranks i+1 .. j+1
        for (std::size_t k = i; k <= j; ++k) rank2[order[k]] = shared;
        i = j + 1;
    }
    int wPlus2 = 0, total2 = 0;
    for (std::size_t i = 0; i < d.size(); ++i) {
        total2 += rank2[i];
        if (d[i] > 0) wPlus2 += rank2[i];
    }
    r.statistic = wPlus2 / 2.0;
    // Exact null distribution of 2 W+ over the 2^n sign patterns.
    std::map<int, double> dist{{0, 1.0}};
    for (int rk : rank2) {
        std::map<int, double> next;
        for (const auto& [w, p] : dist) {
            next[w] += p / 2;
            next[w + rk] += p / 2;
        }
        dist = std::move(next);
    }
    const int lo = std::min(wPlus2, total2 - wPlus2);
    double tail = 0;
    for (const auto& [w, p] : dist)
        if (w <= lo) tail += p;
    r.pValue = std::min(1.0, 2 * tail);
    return r;
}

} // namespace mode

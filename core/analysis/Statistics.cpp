#include "analysis/Statistics.h"

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

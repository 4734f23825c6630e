// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/SampleProfile.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace mode {

std::vector<double> meanOfRows(const std::vector<float>& rows, std::size_t cols,
                               const std::vector<std::size_t>& group) {
    std::vector<double> mean(cols, 0.0);
    for (std::size_t r : group)
        for (std::size_t c = 0; c < cols; ++c)
            mean[c] += rows[r * cols + c];
    if (!group.empty())
        for (double& m : mean)
            m /= static_cast<double>(group.size());
    return mean;
}

std::vector<FeatureDifference> standardisedMeanDifferences(const std::vector<float>& rows,
                                                           std::size_t cols,
                                                           const std::vector<std::size_t>& group) {
    if (group.empty() || cols == 0) return {};
    const std::size_t n = rows.size() / cols;
    std::vector<std::size_t> all(n);
    for (std::size_t r = 0; r < n; ++r)
        all[r] = r;
    const auto allMean = meanOfRows(rows, cols, all), groupMean = meanOfRows(rows, cols, group);
    std::vector<double> variance(cols, 0.0);
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t c = 0; c < cols; ++c) {
            const double d = rows[r * cols + c] - allMean[c];
            variance[c] += d * d;
        }
    std::vector<FeatureDifference> out(cols);
    for (std::size_t c = 0; c < cols; ++c) {
        FeatureDifference& f = out[c];
        f.feature = c;
        f.groupMean = groupMean[c];
        f.allMean = allMean[c];
        f.allSd = std::sqrt(variance[c] / static_cast<double>(n)); // the population's
        f.smd = f.allSd > 0 ? (f.groupMean - f.allMean) / f.allSd : 0.0;
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return std::abs(a.smd) > std::abs(b.smd);
    });
    return out;
}

std::vector<WordScore> overRepresentedWords(const std::vector<float>& texts, std::size_t length,
                                            const std::vector<std::size_t>& group, std::size_t top,
                                            double priorStrength, std::int64_t ignoreBelow) {
    if (length == 0) return {};
    const std::size_t n = texts.size() / length;
    std::vector<char> inGroup(n, 0);
    for (std::size_t r : group)
        if (r < n) inGroup[r] = 1;
    std::unordered_map<std::int64_t, std::pair<std::int64_t, std::int64_t>> counts;
    std::int64_t groupTotal = 0, otherTotal = 0;
    for (std::size_t r = 0; r < n; ++r)
        for (std::size_t t = 0; t < length; ++t) {
            const auto id = static_cast<std::int64_t>(texts[r * length + t]);
            if (id == 0 || id < ignoreBelow) continue;
            auto& c = counts[id];
            if (inGroup[r]) {
                ++c.first;
                ++groupTotal;
            } else {
                ++c.second;
                ++otherTotal;
            }
        }
    if (groupTotal == 0 || otherTotal == 0) return {};
    const double total = static_cast<double>(groupTotal + otherTotal), a0 = priorStrength;
    std::vector<WordScore> out;
    out.reserve(counts.size());
    for (const auto& [id, c] : counts) {
        const double a = a0 * static_cast<double>(c.first + c.second) / total;
        const double yg = static_cast<double>(c.first), yo = static_cast<double>(c.second);
        WordScore w;
        w.word = id;
        w.inGroup = c.first;
        w.inOthers = c.second;
        w.logOdds = std::log((yg + a) / (static_cast<double>(groupTotal) + a0 - yg - a)) -
                    std::log((yo + a) / (static_cast<double>(otherTotal) + a0 - yo - a));
        w.zScore = w.logOdds / std::sqrt(1.0 / (yg + a) + 1.0 / (yo + a));
        if (std::isfinite(w.zScore)) out.push_back(w); // one word alone: nothing to compare
    }
    std::sort(out.begin(), out.end(), [](const WordScore& a, const WordScore& b) {
        return a.zScore != b.zScore ? a.zScore > b.zScore : a.word < b.word;
    });
    if (out.size() > top) out.resize(top);
    return out;
}

} // namespace mode

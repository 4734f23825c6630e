#include "data/Dataset.h"

#include "util/Random.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace mode {

std::string Dataset::fingerprint() const { return std::to_string(sizeBytes) + ":" + contentHash; }

std::string fnv1a64Hex(const void* data, std::size_t size, std::uint64_t h) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

Split stratifiedSplit(const Dataset& d, double valFraction, double testFraction, std::uint64_t seed) {
    Rng rng(seed ^ 0x5eedULL);
    Split s;
    std::vector<bool> fixedTest;
    if (!d.presetTest.empty()) {
        fixedTest.assign(static_cast<std::size_t>(d.rows), false);
        for (auto r : d.presetTest) fixedTest[static_cast<std::size_t>(r)] = true;
        s.test = d.presetTest;
        const double pool = static_cast<double>(d.rows - static_cast<std::int64_t>(d.presetTest.size()));
        valFraction = pool > 0 ? std::min(1.0, valFraction * static_cast<double>(d.rows) / pool) : 0;
        testFraction = 0;
    }
    // Group rows by stratum: the class for classification, one stratum for regression.
    std::map<std::int64_t, std::vector<std::int64_t>> strata;
    for (std::int64_t r = 0; r < d.rows; ++r)
        if (fixedTest.empty() || !fixedTest[static_cast<std::size_t>(r)])
            strata[d.task == TaskType::Classification ? d.labels[r] : 0].push_back(r);
    for (auto& [key, rows] : strata) {
        rng.shuffle(rows);
        const auto n = static_cast<double>(rows.size());
        auto nTest = static_cast<std::size_t>(std::llround(n * testFraction));
        auto nVal = static_cast<std::size_t>(std::llround(n * valFraction));
        if (nTest + nVal > rows.size()) nVal = rows.size() - std::min(nTest, rows.size());
        nTest = std::min(nTest, rows.size());
        s.test.insert(s.test.end(), rows.begin(), rows.begin() + nTest);
        s.val.insert(s.val.end(), rows.begin() + nTest, rows.begin() + nTest + nVal);
        s.train.insert(s.train.end(), rows.begin() + nTest + nVal, rows.end());
    }
    // Interleave the classes again so that minibatches are not sorted by class.
    rng.shuffle(s.train);
    std::sort(s.val.begin(), s.val.end());
    std::sort(s.test.begin(), s.test.end());
    if (s.train.empty()) throw DataError(d.name + ": too few rows (" + std::to_string(d.rows) +
                                         ") to leave any for training");
    if (s.test.empty()) throw DataError(d.name + ": too few rows (" + std::to_string(d.rows) +
                                        ") for a test split");
    return s;
}

void standardiseWithTrainingStats(Dataset& d, const std::vector<std::int64_t>& trainRows) {
    for (std::int64_t c = 0; c < d.cols; ++c) {
        if (!d.standardise[c]) continue;
        double sum = 0, sq = 0;
        for (auto r : trainRows) sum += d.features[r * d.cols + c];
        const double mean = sum / static_cast<double>(trainRows.size());
        for (auto r : trainRows) {
            const double x = d.features[r * d.cols + c] - mean;
            sq += x * x;
        }
        double sd = std::sqrt(sq / static_cast<double>(trainRows.size()));
        if (!(sd > 1e-12)) sd = 1.0;
        for (std::int64_t r = 0; r < d.rows; ++r) {
            float& x = d.features[r * d.cols + c];
            x = static_cast<float>((x - mean) / sd);
        }
    }
}

} // namespace mode

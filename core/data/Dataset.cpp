// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/Dataset.h"

#include "util/Format.h"
#include "util/Random.h"
#include "util/Utf8.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>

namespace mode {

std::uint64_t availableMemoryBytes() {
    std::ifstream in("/proc/meminfo");
    std::string key;
    std::uint64_t kib = 0;
    std::string unit;
    while (in >> key >> kib >> unit)
        if (key == "MemAvailable:") return kib * 1024;
    return 0;
}

namespace {
std::string gib(double bytes) {
    char text[32];
    std::snprintf(text, sizeof text, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    return text;
}
} // namespace

std::uint64_t checkDataFile(const std::string& path, double memoryPerByte) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw DataError(path + ": is a folder, not a data file");
    // Refused before it is opened: opening a FIFO waits for a writer, a device never ends.
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
        throw DataError(path + ": is not a regular file (a device, pipe or socket)");
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path + ": cannot open the file (" + std::strerror(errno) + ")");
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec) {
        const double need = static_cast<double>(size) * memoryPerByte;
        const auto available = availableMemoryBytes();
        if (available > 0 && need > static_cast<double>(available))
            throw DataError(
                path + ": the file is " + gib(static_cast<double>(size)) +
                "; loading it takes about " + gib(need) + " of memory and " +
                gib(static_cast<double>(available)) +
                " are available: use a part of it (e.g. head -n) or a machine with more memory");
    }
    std::string head(64 * 1024, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    if (const auto nul = head.find('\0'); nul != std::string::npos)
        throw DataError(path + ": binary data (a NUL byte at offset " + std::to_string(nul) +
                        "): this is not a text data file");
    return ec ? 0 : static_cast<std::uint64_t>(size);
}

std::string readDataFile(const std::string& path, double memoryPerByte,
                         const LoadProgress& progress) {
    const std::uint64_t size = checkDataFile(path, memoryPerByte);
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path + ": cannot open the file (" + std::strerror(errno) + ")");
    // In large blocks (the size may be unknown, e.g. a file still growing).
    std::string text;
    std::vector<char> block(4 << 20);
    text.reserve(static_cast<std::size_t>(size));
    while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
        text.append(block.data(), static_cast<std::size_t>(in.gcount()));
        if (progress && !progress(text.size(), size))
            throw LoadStopped(path + ": loading was stopped");
    }
    return text;
}

void requireUtf8Text(const std::string& text, const std::string& source) {
    const auto bad = invalidUtf8Offset(text);
    if (bad == std::string::npos) return;
    const auto lineStart = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    const std::size_t column =
        bad - (lineStart == std::string::npos || text[lineStart] != '\n' ? 0 : lineStart + 1) + 1;
    const auto line =
        1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n');
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", static_cast<unsigned char>(text[bad]));
    throw DataError(source + ":" + std::to_string(line) + ": column " + std::to_string(column) +
                    ": byte " + hex + " is not valid UTF-8; save the file as UTF-8");
}

std::string Dataset::fingerprint() const {
    return std::to_string(sizeBytes) + ":" + contentHash;
}

std::uint64_t fnv1a64(const void* data, std::size_t size, std::uint64_t h) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < size; ++i) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

std::string hex16(std::uint64_t value) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(value));
    return buf;
}

std::string fnv1a64Hex(const void* data, std::size_t size, std::uint64_t seed) {
    return hex16(fnv1a64(data, size, seed));
}

namespace {
// How many of each stratum's `pool` rows a cap of `cap` rows keeps: in proportion, the rows
// left by rounding down going to the largest remainders (the first strata on ties).
std::vector<std::size_t> cappedCounts(const std::vector<std::size_t>& pool, std::int64_t cap) {
    std::size_t total = 0;
    for (auto n : pool)
        total += n;
    std::vector<std::size_t> keep(pool);
    if (cap <= 0 || static_cast<std::size_t>(cap) >= total) return keep;
    std::vector<std::pair<double, std::size_t>> remainders; // (-remainder, stratum)
    std::size_t kept = 0;
    for (std::size_t i = 0; i < pool.size(); ++i) {
        const double exact =
            static_cast<double>(pool[i]) * static_cast<double>(cap) / static_cast<double>(total);
        keep[i] = static_cast<std::size_t>(std::floor(exact));
        kept += keep[i];
        remainders.push_back({-(exact - std::floor(exact)), i});
    }
    std::stable_sort(remainders.begin(), remainders.end());
    for (std::size_t k = 0; kept < static_cast<std::size_t>(cap); ++k, ++kept)
        ++keep[remainders[k % remainders.size()].second];
    return keep;
}
} // namespace

Split stratifiedSplit(const Dataset& d, double valFraction, double testFraction, std::uint64_t seed,
                      std::int64_t maxTrainRows) {
    Rng rng(seed ^ 0x5eedULL);
    Split s;
    std::vector<bool> fixedTest;
    if (!d.presetTest.empty()) {
        fixedTest.assign(static_cast<std::size_t>(d.rows), false);
        for (auto r : d.presetTest)
            fixedTest[static_cast<std::size_t>(r)] = true;
        s.test = d.presetTest;
        testFraction = 0;
    }
    // Group rows by stratum: the class for classification, one stratum for regression.
    std::map<std::int64_t, std::vector<std::int64_t>> strata;
    for (std::int64_t r = 0; r < d.rows; ++r)
        if (fixedTest.empty() || !fixedTest[static_cast<std::size_t>(r)])
            strata[d.task == TaskType::Classification ? d.labels[r] : 0].push_back(r);
    // Each stratum shuffled, its test rows taken first; the rest is the pool that training and
    // validation share (capped to maxTrainRows over all strata).
    std::vector<std::size_t> pool;
    std::vector<std::size_t> tests;
    for (auto& [key, rows] : strata) {
        rng.shuffle(rows);
        const auto nTest =
            std::min(rows.size(), static_cast<std::size_t>(std::llround(
                                      static_cast<double>(rows.size()) * testFraction)));
        tests.push_back(nTest);
        pool.push_back(rows.size() - nTest);
    }
    const auto kept = cappedCounts(pool, maxTrainRows);
    // The validation share: of all rows where no test split is preset (as the test share is),
    // of the rows that are not test rows where one is. Of capped rows, the same proportion of
    // validation to training rows as without the cap.
    const bool preset = !fixedTest.empty();
    const bool capped = std::accumulate(kept.begin(), kept.end(), std::size_t{0}) <
                        std::accumulate(pool.begin(), pool.end(), std::size_t{0});
    const double poolShare = preset             ? valFraction
                             : testFraction < 1 ? valFraction / (1.0 - testFraction)
                                                : 0.0;
    std::size_t i = 0;
    for (auto& [key, rows] : strata) {
        const auto nTest = tests[i], nPool = kept[i++];
        const double base = preset || capped ? static_cast<double>(nPool) * poolShare
                                             : static_cast<double>(rows.size()) * valFraction;
        const auto nVal = std::min(nPool, static_cast<std::size_t>(std::llround(base)));
        const auto first = rows.begin() + static_cast<std::ptrdiff_t>(nTest);
        s.test.insert(s.test.end(), rows.begin(), first);
        s.val.insert(s.val.end(), first, first + static_cast<std::ptrdiff_t>(nVal));
        s.train.insert(s.train.end(), first + static_cast<std::ptrdiff_t>(nVal),
                       first + static_cast<std::ptrdiff_t>(nPool));
    }
    // Interleave the classes again so that minibatches are not sorted by class.
    rng.shuffle(s.train);
    std::sort(s.val.begin(), s.val.end());
    std::sort(s.test.begin(), s.test.end());
    if (s.test.empty())
        throw DataError(d.name + ": too few rows (" + std::to_string(d.rows) +
                        ") for a test split");
    const auto train = static_cast<std::int64_t>(s.train.size()),
               val = static_cast<std::int64_t>(s.val.size());
    const std::string counts =
        std::to_string(train) + " training and " + std::to_string(val) + " validation rows of " +
        std::to_string(train + val) + " (validation share " + formatNumber(valFraction) +
        (maxTrainRows > 0 ? ", data.max_train_rows " + std::to_string(maxTrainRows)
                          : std::string()) +
        "; " + std::to_string(s.test.size()) + " test rows)";
    if (train < kMinTrainingRows)
        throw DataError(d.name + ": the split leaves " + counts + ": at least " +
                        std::to_string(kMinTrainingRows) + " training rows are needed");
    if (train < val)
        throw DataError(d.name + ": the split leaves " + counts +
                        ": fewer training rows than validation rows; lower data.val_fraction");
    return s;
}

float standardised(float x, double mean, double scale) {
    return static_cast<float>((x - mean) / scale);
}

namespace {
// Drops the one-hot columns that `keep` says no training row has.
void dropColumns(Dataset& d, const std::vector<bool>& keep) {
    auto at = [&](std::int64_t r, std::int64_t c) -> float& {
        return d.features[static_cast<std::size_t>(r * d.cols + c)];
    };
    std::vector<std::int64_t> kept;
    for (std::int64_t c = 0; c < d.cols; ++c)
        if (keep[static_cast<std::size_t>(c)]) kept.push_back(c);
    const auto cols = static_cast<std::int64_t>(kept.size());
    std::vector<float> features(static_cast<std::size_t>(d.rows * cols));
    for (std::int64_t r = 0; r < d.rows; ++r)
        for (std::int64_t j = 0; j < cols; ++j)
            features[static_cast<std::size_t>(r * cols + j)] =
                at(r, kept[static_cast<std::size_t>(j)]);
    std::vector<std::string> names;
    std::vector<bool> standardise;
    std::vector<float> fills;
    for (auto c : kept) {
        names.push_back(d.featureNames[static_cast<std::size_t>(c)]);
        standardise.push_back(d.standardise[static_cast<std::size_t>(c)]);
        fills.push_back(d.featureFill[static_cast<std::size_t>(c)]);
    }
    std::vector<Dataset::Categorical> groups;
    for (const auto& g : d.categoricals) {
        Dataset::Categorical n{g.column, 0, {}, -1};
        n.first = static_cast<std::int64_t>(std::lower_bound(kept.begin(), kept.end(), g.first) -
                                            kept.begin());
        for (std::size_t k = 0; k < g.levels.size(); ++k) {
            if (!keep[static_cast<std::size_t>(g.first) + k]) continue;
            if (static_cast<std::int64_t>(k) == g.fill)
                n.fill = static_cast<std::int64_t>(n.levels.size()); // the mode is always kept
            n.levels.push_back(g.levels[k]);
        }
        groups.push_back(std::move(n));
    }
    d.features = std::move(features);
    d.featureNames = std::move(names);
    d.standardise = std::move(standardise);
    d.featureFill = std::move(fills);
    d.categoricals = std::move(groups);
    d.cols = cols;
}
} // namespace

void fitOnTrainingRows(Dataset& d, const std::vector<std::int64_t>& trainRows) {
    auto at = [&](std::int64_t r, std::int64_t c) -> float& {
        return d.features[static_cast<std::size_t>(r * d.cols + c)];
    };
    std::vector<bool> categorical(static_cast<std::size_t>(d.cols), false);
    for (const auto& g : d.categoricals)
        for (std::size_t k = 0; k < g.levels.size(); ++k)
            categorical[static_cast<std::size_t>(g.first) + k] = true;
    d.featureFill.assign(static_cast<std::size_t>(d.cols), std::nanf(""));
    if (d.hasMissing)
        for (std::int64_t c = 0; c < d.cols; ++c) {
            if (categorical[static_cast<std::size_t>(c)]) continue;
            bool missing = false;
            for (std::int64_t r = 0; r < d.rows && !missing; ++r)
                missing = std::isnan(at(r, c));
            if (!missing) continue;
            double sum = 0;
            std::size_t n = 0;
            for (auto r : trainRows)
                if (!std::isnan(at(r, c))) sum += at(r, c), ++n;
            if (n == 0)
                throw DataError(
                    d.name + ": column '" + d.featureNames[static_cast<std::size_t>(c)] +
                    "' has no value in the training rows to impute from; drop it (drop_columns)");
            const float fill = static_cast<float>(sum / static_cast<double>(n));
            d.featureFill[static_cast<std::size_t>(c)] = fill;
            for (std::int64_t r = 0; r < d.rows; ++r)
                if (std::isnan(at(r, c))) at(r, c) = fill;
        }
    std::vector<bool> keep(static_cast<std::size_t>(d.cols), true);
    for (auto& g : d.categoricals) {
        const auto L = static_cast<std::int64_t>(g.levels.size());
        std::vector<std::size_t> count(g.levels.size(), 0);
        for (auto r : trainRows)
            for (std::int64_t k = 0; k < L; ++k)
                if (at(r, g.first + k) == 1.0f) ++count[static_cast<std::size_t>(k)];
        const auto mode =
            static_cast<std::int64_t>(std::max_element(count.begin(), count.end()) - count.begin());
        if (count[static_cast<std::size_t>(mode)] == 0)
            throw DataError(d.name + ": column '" + g.column +
                            "' has no value in the training rows; drop it (drop_columns)");
        g.fill = mode;
        for (std::int64_t r = 0; r < d.rows; ++r)
            if (std::isnan(at(r, g.first)))
                for (std::int64_t k = 0; k < L; ++k)
                    at(r, g.first + k) = k == mode ? 1.0f : 0.0f;
        for (std::int64_t k = 0; k < L; ++k)
            if (count[static_cast<std::size_t>(k)] == 0)
                keep[static_cast<std::size_t>(g.first + k)] = false;
    }
    d.hasMissing = false;
    if (!std::all_of(keep.begin(), keep.end(), [](bool k) { return k; })) dropColumns(d, keep);
}

void standardiseWithTrainingStats(Dataset& d, const std::vector<std::int64_t>& trainRows) {
    d.featureMean.assign(static_cast<std::size_t>(d.cols), 0.0);
    d.featureScale.assign(static_cast<std::size_t>(d.cols), 1.0);
    for (std::int64_t c = 0; c < d.cols; ++c) {
        if (!d.standardise[c]) continue;
        double sum = 0, sq = 0;
        for (auto r : trainRows)
            sum += d.features[r * d.cols + c];
        const double mean = sum / static_cast<double>(trainRows.size());
        for (auto r : trainRows) {
            const double x = d.features[r * d.cols + c] - mean;
            sq += x * x;
        }
        double sd = std::sqrt(sq / static_cast<double>(trainRows.size()));
        if (!(sd > 1e-12)) sd = 1.0;
        d.featureMean[static_cast<std::size_t>(c)] = mean;
        d.featureScale[static_cast<std::size_t>(c)] = sd;
        for (std::int64_t r = 0; r < d.rows; ++r) {
            float& x = d.features[r * d.cols + c];
            x = standardised(x, mean, sd);
        }
    }
}

} // namespace mode

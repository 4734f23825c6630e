// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/RegimesDataset.h"

#include "util/Random.h"

#include <cmath>
#include <string>

namespace mode {

Dataset makeRegimesDataset(const RegimesOptions& o) {
    const std::uint64_t seed = o.seed;
    Rng rng(seed * 0x2545F4914F6CDD1DULL + 17);
    const int K = o.subtasks, D = o.features, C = o.classes;

    std::vector<double> centre(static_cast<std::size_t>(K) * D),
        rule(static_cast<std::size_t>(K) * C * D);
    for (int k = 0; k < K; ++k) {
        double norm = 0;
        for (int j = 0; j < D; ++j) {
            double v = rng.normal();
            centre[k * D + j] = v;
            norm += v * v;
        }
        norm = std::sqrt(norm);
        for (int j = 0; j < D; ++j)
            centre[k * D + j] *= o.separation / (norm > 0 ? norm : 1);
        for (int i = 0; i < C * D; ++i)
            rule[static_cast<std::size_t>(k) * C * D + i] = rng.normal();
    }

    Dataset d;
    d.name = "regimes";
    d.source = "built-in: " + std::to_string(K) + " sub-tasks, " + std::to_string(D) +
               " features, " + std::to_string(C) + " classes, seed " + std::to_string(seed);
    d.task = TaskType::Classification;
    d.rows = o.samples;
    d.cols = D;
    d.features.resize(static_cast<std::size_t>(d.rows) * D);
    d.labels.resize(d.rows);
    d.subtasks.resize(d.rows);
    for (int j = 0; j < D; ++j) {
        d.featureNames.push_back("x" + std::to_string(j));
        d.standardise.push_back(true);
    }
    for (int c = 0; c < C; ++c)
        d.classNames.push_back("class " + std::to_string(c));
    for (int k = 0; k < K; ++k)
        d.subtaskNames.push_back("regime " + std::to_string(k));

    std::vector<double> offset(D);
    for (std::int64_t r = 0; r < d.rows; ++r) {
        const int k = static_cast<int>(r % K); // balanced sub-tasks
        for (int j = 0; j < D; ++j) {
            offset[j] = rng.normal();
            d.features[r * D + j] = static_cast<float>(centre[k * D + j] + offset[j]);
        }
        int best = 0;
        double bestScore = -1e300;
        for (int c = 0; c < C; ++c) {
            double s = 0;
            const double* w = &rule[(static_cast<std::size_t>(k) * C + c) * D];
            for (int j = 0; j < D; ++j)
                s += w[j] * offset[j];
            if (s > bestScore) {
                bestScore = s;
                best = c;
            }
        }
        if (rng.uniform() < o.labelNoise) best = static_cast<int>(rng.below(C));
        d.labels[r] = best;
        d.subtasks[r] = k;
    }
    d.sizeBytes = d.features.size() * sizeof(float) + d.labels.size() * sizeof(std::int64_t);
    std::string h = fnv1a64Hex(d.features.data(), d.features.size() * sizeof(float));
    d.contentHash = fnv1a64Hex(d.labels.data(), d.labels.size() * sizeof(std::int64_t),
                               std::stoull(h, nullptr, 16));
    return d;
}

} // namespace mode

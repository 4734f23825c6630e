// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Assignment.h"

#include <algorithm>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace mode {

std::vector<int> maxWeightAssignment(const std::vector<double>& scores, int rows, int cols) {
    if (rows < 0 || cols < 0 || scores.size() != static_cast<std::size_t>(rows) * cols)
        throw std::invalid_argument("maxWeightAssignment: scores must have rows * cols entries");
    std::vector<int> result(rows, -1);
    if (rows == 0 || cols == 0) return result;
    // Square cost matrix (minimisation) padded with zeros; O(n^3) Hungarian with potentials.
    const int n = std::max(rows, cols);
    double maxScore = *std::max_element(scores.begin(), scores.end());
    auto cost = [&](int i, int j) { // 1-based
        if (i > rows || j > cols) return 0.0;
        return maxScore - scores[static_cast<std::size_t>(i - 1) * cols + (j - 1)];
    };
    const double inf = std::numeric_limits<double>::infinity();
    std::vector<double> u(n + 1, 0), v(n + 1, 0);
    std::vector<int> p(n + 1, 0), way(n + 1, 0);
    for (int i = 1; i <= n; ++i) {
        p[0] = i;
        int j0 = 0;
        std::vector<double> minv(n + 1, inf);
        std::vector<char> used(n + 1, 0);
        do {
            used[j0] = 1;
            int i0 = p[j0], j1 = 0;
            double delta = inf;
            for (int j = 1; j <= n; ++j) {
                if (used[j]) continue;
                double cur = cost(i0, j) - u[i0] - v[j];
                if (cur < minv[j]) {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if (minv[j] < delta) {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for (int j = 0; j <= n; ++j) {
                if (used[j]) {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else
                    minv[j] -= delta;
            }
            j0 = j1;
        } while (p[j0] != 0);
        do {
            int j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        } while (j0);
    }
    for (int j = 1; j <= n; ++j)
        if (p[j] >= 1 && p[j] <= rows && j <= cols) result[p[j] - 1] = j - 1;
    return result;
}

double gateRoutingAccuracy(const std::vector<std::int64_t>& counts, int subtasks, int experts) {
    std::vector<double> scores(counts.begin(), counts.end());
    auto owner = maxWeightAssignment(scores, subtasks, experts);
    std::int64_t total = std::accumulate(counts.begin(), counts.end(), std::int64_t{0}),
                 matched = 0;
    for (int s = 0; s < subtasks; ++s)
        if (owner[s] >= 0) matched += counts[static_cast<std::size_t>(s) * experts + owner[s]];
    return total ? static_cast<double>(matched) / static_cast<double>(total) : 0.0;
}

} // namespace mode

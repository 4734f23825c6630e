// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

using namespace mode;

namespace {
// Best total over all injective maps rows -> cols (rows <= cols), by enumeration.
double bruteForceBest(const std::vector<double>& s, int rows, int cols) {
    std::vector<int> perm(cols);
    std::iota(perm.begin(), perm.end(), 0);
    double best = -1e300;
    do {
        double t = 0;
        for (int r = 0; r < rows; ++r)
            t += s[r * cols + perm[r]];
        best = std::max(best, t);
    } while (std::next_permutation(perm.begin(), perm.end()));
    return best;
}
} // namespace

TEST(Assignment, PicksTheBestPermutationOnAHandExample) {
    // Greedy takes 9 (row 0 -> col 0) and ends at 9 + 2 + 2 = 13; the best of the six
    // permutations is row 0 -> 1, row 1 -> 0, row 2 -> 2: 8 + 7 + 2 = 17.
    std::vector<double> s{9, 8, 1, 7, 2, 1, 6, 1, 2};
    auto a = maxWeightAssignment(s, 3, 3);
    EXPECT_EQ(a, (std::vector<int>{1, 0, 2}));
    EXPECT_DOUBLE_EQ(bruteForceBest(s, 3, 3), 17.0);
}

TEST(Assignment, MatchesBruteForceOnRandomRectangularMatrices) {
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> v(0, 50);
    for (int trial = 0; trial < 200; ++trial) {
        const int rows = 1 + trial % 4, cols = rows + trial % 3;
        std::vector<double> s(rows * cols);
        for (auto& x : s)
            x = v(rng);
        auto a = maxWeightAssignment(s, rows, cols);
        double total = 0;
        std::vector<int> used;
        for (int r = 0; r < rows; ++r) {
            ASSERT_GE(a[r], 0);
            total += s[r * cols + a[r]];
            used.push_back(a[r]);
        }
        std::sort(used.begin(), used.end());
        EXPECT_EQ(std::unique(used.begin(), used.end()), used.end()) << "a column was used twice";
        EXPECT_DOUBLE_EQ(total, bruteForceBest(s, rows, cols)) << "trial " << trial;
    }
}

TEST(Assignment, MoreRowsThanColumnsLeavesRowsOut) {
    std::vector<double> s{1, 0, 0, 5, 4, 0};
    auto a = maxWeightAssignment(s, 3, 2);
    EXPECT_EQ(a[1], 1);
    EXPECT_EQ(a[2], 0);
    EXPECT_EQ(a[0], -1);
}

TEST(GateRoutingAccuracy, CountsSamplesRoutedToTheOwnerOfTheirSubtask) {
    // 2 sub-tasks x 3 experts. Sub-task 0 mostly goes to expert 2 (40 of 50), sub-task 1 to
    // expert 0 (30 of 50): 70 of 100 samples reach the owner.
    std::vector<std::int64_t> counts{5, 5, 40, 30, 10, 10};
    EXPECT_DOUBLE_EQ(gateRoutingAccuracy(counts, 2, 3), 0.70);
}

TEST(GateRoutingAccuracy, TwoSubtasksCannotShareOneOwner) {
    // Both sub-tasks prefer expert 0; only one may own it: 60 + 10 = 70 of 120.
    std::vector<std::int64_t> counts{60, 0, 50, 10};
    EXPECT_NEAR(gateRoutingAccuracy(counts, 2, 2), 70.0 / 120.0, 1e-12);
}

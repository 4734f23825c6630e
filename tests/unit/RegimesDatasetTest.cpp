// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/RegimesDataset.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

using namespace mode;

TEST(RegimesDataset, HasTheRequestedShapeAndBalancedSubtasks) {
    RegimesOptions o;
    o.samples = 1000;
    o.subtasks = 4;
    o.features = 6;
    o.classes = 3;
    auto d = makeRegimesDataset(o);
    EXPECT_EQ(d.rows, 1000);
    EXPECT_EQ(d.cols, 6);
    EXPECT_EQ(d.features.size(), 6000u);
    EXPECT_EQ(d.classes(), 3);
    ASSERT_TRUE(d.hasSubtasks());
    std::map<std::int64_t, int> perSubtask;
    for (auto s : d.subtasks)
        ++perSubtask[s];
    ASSERT_EQ(perSubtask.size(), 4u);
    for (auto& [s, n] : perSubtask)
        EXPECT_EQ(n, 250);
    for (auto y : d.labels) {
        EXPECT_GE(y, 0);
        EXPECT_LT(y, 3);
    }
}

TEST(RegimesDataset, SameSeedSameDataOtherSeedOtherData) {
    RegimesOptions o;
    auto a = makeRegimesDataset(o), b = makeRegimesDataset(o);
    EXPECT_EQ(a.features, b.features);
    EXPECT_EQ(a.labels, b.labels);
    EXPECT_EQ(a.fingerprint(), b.fingerprint());
    o.seed = 2;
    auto c = makeRegimesDataset(o);
    EXPECT_NE(a.features, c.features);
    EXPECT_NE(a.fingerprint(), c.fingerprint());
}

TEST(RegimesDataset, SubtasksOccupyTheirOwnRegions) {
    // Each sample lies closer to its own sub-task's centre than to any other: the centres are
    // `separation` = 8 from the origin and the noise is unit Gaussian, so misplacement is rare.
    RegimesOptions o;
    o.separation = 8;
    o.samples = 800;
    auto d = makeRegimesDataset(o);
    std::vector<std::vector<double>> centre(o.subtasks, std::vector<double>(d.cols, 0.0));
    std::vector<int> n(o.subtasks, 0);
    for (std::int64_t r = 0; r < d.rows; ++r) {
        ++n[d.subtasks[r]];
        for (std::int64_t j = 0; j < d.cols; ++j)
            centre[d.subtasks[r]][j] += d.features[r * d.cols + j];
    }
    for (int k = 0; k < o.subtasks; ++k)
        for (auto& v : centre[k])
            v /= n[k];
    int nearestOwn = 0;
    for (std::int64_t r = 0; r < d.rows; ++r) {
        int best = -1;
        double bestD = 1e300;
        for (int k = 0; k < o.subtasks; ++k) {
            double dist = 0;
            for (std::int64_t j = 0; j < d.cols; ++j) {
                double x = d.features[r * d.cols + j] - centre[k][j];
                dist += x * x;
            }
            if (dist < bestD) {
                bestD = dist;
                best = k;
            }
        }
        nearestOwn += best == d.subtasks[r];
    }
    EXPECT_GE(nearestOwn, 0.97 * d.rows);
}

TEST(StratifiedSplit, KeepsClassProportionsAndPartitionsTheRows) {
    RegimesOptions o;
    o.samples = 1200;
    auto d = makeRegimesDataset(o);
    auto s = stratifiedSplit(d, 0.2, 0.25, 7);
    EXPECT_EQ(s.train.size() + s.val.size() + s.test.size(), 1200u);
    std::vector<int> seen(1200, 0);
    for (auto* part : {&s.train, &s.val, &s.test})
        for (auto r : *part)
            ++seen[r];
    for (int c : seen)
        ASSERT_EQ(c, 1);
    std::map<std::int64_t, int> all, test;
    for (auto y : d.labels)
        ++all[y];
    for (auto r : s.test)
        ++test[d.labels[r]];
    for (auto& [y, n] : all)
        EXPECT_NEAR(test[y], 0.25 * n, 1.0) << "class " << y;
    auto again = stratifiedSplit(d, 0.2, 0.25, 7);
    EXPECT_EQ(again.train, s.train);
}

TEST(Standardise, UsesTrainingStatisticsOnly) {
    Dataset d;
    d.name = "t";
    d.rows = 4;
    d.cols = 2;
    d.features = {1, 5, 3, 5, 100, 5, -100, 5}; // column 1 is constant
    d.standardise = {true, true};
    standardiseWithTrainingStats(d, {0, 1}); // training rows: x0 = 1 and 3 -> mean 2, sd 1
    EXPECT_FLOAT_EQ(d.features[0], -1.0f);
    EXPECT_FLOAT_EQ(d.features[2], 1.0f);
    EXPECT_FLOAT_EQ(d.features[4], 98.0f);
    EXPECT_FLOAT_EQ(d.features[6], -102.0f);
    EXPECT_FLOAT_EQ(d.features[1], 0.0f); // constant column: centred only
}

// data.max_train_rows on data without a preset test split (CSV, text): the test split is
// testFraction of all rows as without the cap, and the cap draws that many of the other rows,
// stratified, validation taking the share of them it has without the cap (0.15 / 0.8 = 0.1875).
// Worked by hand: 1,000 rows of 3 classes (500, 300, 200); test 0.2: 100 + 60 + 40.
TEST(StratifiedSplit, ACapOnTrainingRowsKeepsTheWholeTestSplit) {
    Dataset d;
    d.name = "rows";
    d.rows = 1000;
    d.task = TaskType::Classification;
    for (std::int64_t r = 0; r < d.rows; ++r)
        d.labels.push_back(r < 500 ? 0 : r < 800 ? 1 : 2);
    const auto count = [&](const std::vector<std::int64_t>& rows, std::int64_t label) {
        return std::count_if(rows.begin(), rows.end(),
                             [&](std::int64_t r) { return d.labels[r] == label; });
    };
    auto s = stratifiedSplit(d, 0.15, 0.2, 3);
    EXPECT_EQ(s.test.size(), 200u);
    EXPECT_EQ(s.val.size(), 150u) << "0.15 of all rows: 75 + 45 + 30";
    EXPECT_EQ(s.train.size(), 650u);

    const auto capped = stratifiedSplit(d, 0.15, 0.2, 3, 100);
    EXPECT_EQ(capped.test, s.test) << "the same test rows, all of them";
    // 100 of the 800: 50, 30 and 20; validation 9 (9.375), 6 (5.625) and 4 (3.75).
    EXPECT_EQ(capped.val.size(), 19u);
    EXPECT_EQ(capped.train.size(), 81u);
    EXPECT_EQ(count(capped.train, 0) + count(capped.val, 0), 50);
    EXPECT_EQ(count(capped.train, 1) + count(capped.val, 1), 30);
    EXPECT_EQ(count(capped.train, 2) + count(capped.val, 2), 20);
    // 101: 50.5, 30.3 and 20.2; the extra row goes to the largest remainder (class 0).
    const auto odd = stratifiedSplit(d, 0.15, 0.2, 3, 101);
    EXPECT_EQ(count(odd.train, 0) + count(odd.val, 0), 51);
    EXPECT_EQ(odd.train.size() + odd.val.size(), 101u);
    EXPECT_EQ(odd.val.size(), 20u) << "10 (9.5625), 6 and 4";
    // A cap at or above the rows there are changes nothing.
    EXPECT_EQ(stratifiedSplit(d, 0.15, 0.2, 3, 800).train, s.train);
}

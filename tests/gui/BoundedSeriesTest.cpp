// SPDX-License-Identifier: GPL-3.0-or-later
// The plots' bounded memory: a long series is halved into means of neighbours, by hand.

#include "plots/BoundedSeries.h"

#include <gtest/gtest.h>

using mode::BoundedSeries;

TEST(BoundedSeries, KeepsEveryPointUpToTheLimit) {
    BoundedSeries s(4);
    for (int i = 1; i <= 4; ++i)
        s.add(i, 10 * i);
    EXPECT_EQ(s.keys(), (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(s.values(), (std::vector<double>{10, 20, 30, 40}));
    EXPECT_EQ(s.stride(), 1u);
}

TEST(BoundedSeries, HalvesIntoMeansOfNeighboursPastTheLimit) {
    BoundedSeries s(4);
    for (int i = 1; i <= 10; ++i)
        s.add(i, i);
    // 1..5: five points > 4, so (1,2)->1.5, (3,4)->3.5, 5 kept; then stride 2: (6,7)->6.5,
    // (8,9)->8.5: five again -> (1.5,3.5)->2.5, (5,6.5)->5.75, 8.5 kept; stride 4; 10 waits.
    EXPECT_EQ(s.keys(), (std::vector<double>{2.5, 5.75, 8.5}));
    EXPECT_EQ(s.values(), (std::vector<double>{2.5, 5.75, 8.5}));
    EXPECT_EQ(s.stride(), 4u);
    for (int i = 11; i <= 13; ++i)
        s.add(i, i);
    EXPECT_EQ(s.keys().back(), 11.5) << "10..13 averaged into one point";
}

TEST(BoundedSeries, MemoryStaysBoundedForAMillionPoints) {
    BoundedSeries s(1000);
    for (int i = 0; i < 1000000; ++i)
        s.add(i, 1.0);
    EXPECT_LE(s.size(), 1000u);
    EXPECT_GE(s.size(), 500u);
    for (double v : s.values())
        EXPECT_DOUBLE_EQ(v, 1.0);
}

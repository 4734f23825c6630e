// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/SampleProfile.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

using namespace mode;

// Four rows, three features, worked out by hand:
//   f0 = 1 2 3 6: mean 3, population variance (4 + 1 + 0 + 9) / 4 = 3.5
//   f1 = 10 10 10 10: no spread, SMD 0
//   f2 = 0 0 4 0: mean 1, variance (1 + 1 + 9 + 1) / 4 = 3
// Rows {0, 1}: f0 mean 1.5, SMD -1.5 / sqrt(3.5); f2 mean 0, SMD -1 / sqrt(3).
TEST(SampleProfile, StandardisedMeanDifferencesOfATinyTable) {
    const std::vector<float> rows{1, 10, 0, 2, 10, 0, 3, 10, 4, 6, 10, 0};
    const auto d = standardisedMeanDifferences(rows, 3, {0, 1});
    ASSERT_EQ(d.size(), 3u);
    EXPECT_EQ(d[0].feature, 0u);
    EXPECT_NEAR(d[0].smd, -1.5 / std::sqrt(3.5), 1e-12);
    EXPECT_NEAR(d[0].groupMean, 1.5, 1e-12);
    EXPECT_NEAR(d[0].allMean, 3.0, 1e-12);
    EXPECT_EQ(d[1].feature, 2u);
    EXPECT_NEAR(d[1].smd, -1.0 / std::sqrt(3.0), 1e-12);
    EXPECT_EQ(d[2].feature, 1u);
    EXPECT_EQ(d[2].smd, 0.0);
    const auto last = standardisedMeanDifferences(rows, 3, {3});
    EXPECT_NEAR(last[0].smd, 3.0 / std::sqrt(3.5), 1e-12);
    EXPECT_TRUE(standardisedMeanDifferences(rows, 3, {}).empty());
    EXPECT_EQ(meanOfRows(rows, 3, {1, 2}), (std::vector<double>{2.5, 10, 2}));
}

// Texts of 3 tokens (0 pads, 1 is the unknown word): words a=2, b=3, c=4.
//   r0: a a     r1: a b     r2: b c c     r3: c <unk>
// Group {r0, r1}: a 3, b 1 (4 words); the others: b 1, c 3 (4 words; <unk> is not counted).
// With a prior of strength a0 = 8, a_w = 8 * count_w / 8 = a 3, b 2, c 3:
//   a: log(6 / 6) - log(3 / 9) = log 3, variance 1/6 + 1/3 = 1/2, z = log 3 / sqrt(1/2)
//   b: log(3 / 9) - log(3 / 9) = 0
//   c: log(3 / 9) - log(6 / 6) = -log 3
TEST(SampleProfile, OverRepresentedWordsOfATinyCorpus) {
    const std::vector<float> texts{2, 2, 0, 2, 3, 0, 3, 4, 4, 4, 1, 0};
    const auto w = overRepresentedWords(texts, 3, {0, 1}, 10, 8.0);
    ASSERT_EQ(w.size(), 3u);
    EXPECT_EQ(w[0].word, 2);
    EXPECT_EQ(w[0].inGroup, 3);
    EXPECT_EQ(w[0].inOthers, 0);
    EXPECT_NEAR(w[0].logOdds, std::log(3.0), 1e-12);
    EXPECT_NEAR(w[0].zScore, std::log(3.0) / std::sqrt(0.5), 1e-12);
    EXPECT_EQ(w[1].word, 3);
    EXPECT_NEAR(w[1].logOdds, 0.0, 1e-12);
    EXPECT_EQ(w[2].word, 4);
    EXPECT_NEAR(w[2].logOdds, -std::log(3.0), 1e-12);
    EXPECT_EQ(w[2].inOthers, 3) << "the unknown word is not counted";
    EXPECT_EQ(overRepresentedWords(texts, 3, {0, 1}, 2, 8.0).size(), 2u);
    EXPECT_TRUE(overRepresentedWords(texts, 3, {0, 1, 2, 3}, 10, 8.0).empty()) << "no others";
}

// A planted word in every text of the group comes first; a word seen once, in the group alone,
// does not outrank it (the prior keeps rare words down); with nothing planted, no word stands out.
TEST(SampleProfile, APlantedWordLeadsAndARareOneDoesNot) {
    std::mt19937 rng(5);
    auto common = [](std::mt19937& g) { return static_cast<int>(2 + g() % 10); }; // portable
    const std::size_t length = 8, n = 200;
    auto corpus = [&](bool plant) {
        std::vector<float> texts(n * length, 0);
        for (std::size_t r = 0; r < n; ++r)
            for (std::size_t t = 0; t < length; ++t)
                texts[r * length + t] = static_cast<float>(common(rng));
        if (plant)
            for (std::size_t r = 0; r < 50; ++r)
                texts[r * length] = 12;
        texts[0 * length + 1] = 13; // once, in the group
        return texts;
    };
    std::vector<std::size_t> group(50);
    for (std::size_t r = 0; r < 50; ++r)
        group[r] = r;
    const auto planted = overRepresentedWords(corpus(true), length, group);
    ASSERT_FALSE(planted.empty());
    EXPECT_EQ(planted[0].word, 12);
    EXPECT_GT(planted[0].zScore, 5.0);
    const auto rare = std::find_if(planted.begin(), planted.end(),
                                   [](const WordScore& w) { return w.word == 13; });
    ASSERT_NE(rare, planted.end());
    EXPECT_EQ(rare->inGroup, 1);
    EXPECT_LT(rare->zScore, 2.0) << "a single occurrence";
    const auto flat = overRepresentedWords(corpus(false), length, group);
    ASSERT_FALSE(flat.empty());
    EXPECT_LT(flat[0].zScore, 3.5)
        << "no word stands out in a flat corpus (word " << flat[0].word << ")";
}

// SPDX-License-Identifier: GPL-3.0-or-later
// Smoothing, bands and comparison tables against values worked out by hand.

#include "analysis/Statistics.h"
#include "analysis/RunComparison.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <random>

using namespace mode;

TEST(Statistics, MeanAndSampleStandardDeviation) {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32/7.
    std::vector<double> v{2, 4, 4, 4, 5, 5, 7, 9};
    EXPECT_DOUBLE_EQ(mean(v), 5.0);
    EXPECT_DOUBLE_EQ(sampleStd(v), std::sqrt(32.0 / 7.0));
    EXPECT_EQ(sampleStd({3.0}), 0.0);
    EXPECT_TRUE(std::isnan(mean({})));
}

TEST(Statistics, EmaWithBiasCorrectionByHand) {
    // weight 0.5 on 1, 2, 3: running sums m = 0.5, 1.25, 2.125 and weights 0.5, 0.75, 0.875.
    auto s = emaSmooth({1, 2, 3}, {1, 2, 3}, 0.5);
    ASSERT_EQ(s.size(), 3u);
    EXPECT_DOUBLE_EQ(s[0], 1.0) << "the first point is itself: no pull towards zero";
    EXPECT_DOUBLE_EQ(s[1], 1.25 / 0.75);
    EXPECT_DOUBLE_EQ(s[2], 2.125 / 0.875);
    EXPECT_EQ(emaSmooth({1, 2}, {5, 7}, 0.0), (std::vector<double>{5, 7}));
    EXPECT_THROW(emaSmooth({1}, {1}, 1.0), std::invalid_argument);
}

TEST(Statistics, EmaSmoothsRunsLoggingAtDifferentDensitiesAlike) {
    // A step change from 0 to 1 at step 200, logged every step and every 4th step.
    std::vector<double> k1, v1, k4, v4;
    for (int s = 1; s <= 400; ++s) {
        const double y = s < 200 ? 0.0 : 1.0;
        k1.push_back(s);
        v1.push_back(y);
        if (s % 4 == 0) {
            k4.push_back(s);
            v4.push_back(y);
        }
    }
    auto dense = emaSmooth(k1, v1, 0.95), sparse = emaSmooth(k4, v4, 0.95);
    // At step 220, by hand: dense: 21 ones each kept 0.95 per step, weight 1 - 0.95^220;
    // sparse: 6 ones each kept 0.95^4 per point, weight 1 - 0.95^217 (the first point's dx is 1).
    const double d = (1 - std::pow(0.95, 21)) / (1 - std::pow(0.95, 220));
    const double s4 = (1 - std::pow(0.95, 24)) / (1 - std::pow(0.95, 217));
    EXPECT_NEAR(dense[219], d, 1e-12);
    EXPECT_NEAR(sparse[54], s4, 1e-12);
    EXPECT_LT(std::abs(d - s4), 0.06)
        << "alike, up to the sparse run's coarser record of the change";
    // A per-point EMA (TensorBoard's) would have smoothed the sparse run four times harder.
    std::vector<double> ordinal(k4.size());
    for (std::size_t i = 0; i < ordinal.size(); ++i)
        ordinal[i] = static_cast<double>(i + 1);
    EXPECT_GT(std::abs(emaSmooth(ordinal, v4, 0.95)[54] - d), 0.3);
}

TEST(Statistics, MeanBandOverTheKeysAllCurvesShare) {
    auto b = meanBand({{1, 2, 3}, {1, 2, 3, 4}, {2, 3}}, {{1, 2, 3}, {3, 4, 5, 6}, {6, 9}});
    ASSERT_EQ(b.keys, (std::vector<double>{2, 3}));
    EXPECT_DOUBLE_EQ(b.mean[0], 4.0); // 2, 4, 6
    EXPECT_DOUBLE_EQ(b.std[0], 2.0);
    EXPECT_DOUBLE_EQ(b.mean[1], 17.0 / 3); // 3, 5, 9
    EXPECT_DOUBLE_EQ(b.std[1],
                     std::sqrt(((3 - 17.0 / 3) * (3 - 17.0 / 3) + (5 - 17.0 / 3) * (5 - 17.0 / 3) +
                                (9 - 17.0 / 3) * (9 - 17.0 / 3)) /
                               2));
    EXPECT_EQ(b.curves, 3u);
}

namespace {
RunRecord run(std::int64_t id, double alpha, int seed, double testAcc) {
    ExperimentConfig c;
    c.loss.alpha = alpha;
    c.train.seed = static_cast<std::uint64_t>(seed);
    RunRecord r;
    r.id = id;
    r.alpha = alpha;
    r.seed = seed;
    r.configJson = c.toJson().dump();
    r.testAccuracy = testAcc;
    r.name = "r" + std::to_string(id);
    return r;
}
} // namespace

TEST(RunComparison, ConfigTableShowsOnlyDifferencesWhenAsked) {
    std::vector<RunRecord> runs{run(1, 0.0, 1, 0.8), run(2, 0.1, 1, 0.85)};
    auto all = configTable(runs, false);
    auto diff = configTable(runs, true);
    EXPECT_GT(all.size(), 20u);
    ASSERT_EQ(diff.size(), 1u);
    EXPECT_EQ(diff[0].field, "loss.alpha");
    EXPECT_EQ(diff[0].values, (std::vector<std::string>{"0.0", "0.1"}));
    EXPECT_EQ(all.front().field, "loss.alpha") << "what differs comes first";
    EXPECT_FALSE(all[1].differs);
}

namespace {
// Rows (classes) x experts of mean gate weights, row-major.
RoutingMatrix routing(std::vector<std::string> rows, int experts, std::vector<double> gate) {
    RoutingMatrix m;
    m.rowNames = std::move(rows);
    m.experts = experts;
    m.meanGate = std::move(gate);
    m.rowCounts.assign(m.rowNames.size(), 100);
    return m;
}
} // namespace

// Two runs that learnt the same routing with the experts numbered otherwise: aligned, each of
// the second run's experts stands under the first run's expert that routes alike (a planted
// permutation, recovered); rows are matched by name, whatever their order.
TEST(RunComparison, AlignExpertsRecoversAPlantedPermutation) {
    const auto first = routing({"a", "b", "c"}, 3,
                               {0.8, 0.1, 0.1, //
                                0.1, 0.7, 0.2, //
                                0.2, 0.1, 0.7});
    // The second run: its expert 2 routes like expert 0 above, 0 like 1, 1 like 2; rows c, a, b.
    const auto second = routing({"c", "a", "b"}, 3,
                                {0.1, 0.7, 0.2, //
                                 0.1, 0.1, 0.8, //
                                 0.7, 0.2, 0.1});
    EXPECT_EQ(alignExperts(first, second), (std::vector<int>{2, 0, 1}));
    EXPECT_EQ(alignExperts(first, first), (std::vector<int>{0, 1, 2})) << "itself: unchanged";
    // A run with a fourth expert: the three matched first, the spare one last.
    const auto wider = routing({"a", "b", "c"}, 4,
                               {0.0, 0.1, 0.1, 0.8,   //
                                0.05, 0.7, 0.2, 0.05, //
                                0.0, 0.1, 0.7, 0.2});
    EXPECT_EQ(alignExperts(first, wider), (std::vector<int>{3, 1, 2, 0}));
}

TEST(RunComparison, GroupsByAFieldAndByEverythingButTheSeed) {
    std::vector<RunRecord> runs{run(1, 0.0, 1, 0.8), run(2, 0.1, 1, 0.85), run(3, 0.0, 2, 0.82),
                                run(4, 0.1, 2, 0.87)};
    auto byAlpha = groupRuns(runs, "loss.alpha");
    ASSERT_EQ(byAlpha.size(), 2u);
    EXPECT_EQ(byAlpha[0].label, "loss.alpha = 0.0");
    EXPECT_EQ(byAlpha[0].members, (std::vector<std::size_t>{0, 2}));
    auto bySeed = groupRuns(runs, "all but seed");
    ASSERT_EQ(bySeed.size(), 2u) << "runs 1 and 3 differ only in the seed, as do 2 and 4";
    EXPECT_EQ(bySeed[1].members, (std::vector<std::size_t>{1, 3}));
    EXPECT_EQ(bySeed[0].label, "\u03b1 0.0, seeds 1, 2")
        << "named by what it shares, and its seeds";
    std::vector<RunRecord> more{run(1, 0.1, 1, 0.8), run(2, 0.1, 2, 0.8), run(3, 0.1, 3, 0.8),
                                run(4, 0.1, 5, 0.8)};
    EXPECT_EQ(groupRuns(more, "all but seed").at(0).label, "seeds 1-3, 5")
        << "nothing sets it apart";
}

namespace {
// A second implementation of the t distribution's upper tail: Simpson's rule on its density.
double tTailBySimpson(double t, double df) {
    auto pdf = [df](double x) {
        return std::exp(std::lgamma((df + 1) / 2) - std::lgamma(df / 2)) / std::sqrt(df * M_PI) *
               std::pow(1 + x * x / df, -(df + 1) / 2);
    };
    const double hi = 2000;
    const int n = 2000000;
    const double h = (hi - t) / n;
    double s = pdf(t) + pdf(hi);
    for (int i = 1; i < n; ++i)
        s += pdf(t + i * h) * (i % 2 ? 4 : 2);
    return s * h / 3;
}
} // namespace

TEST(Statistics, StudentTDistributionAgainstClosedFormsAndIntegration) {
    EXPECT_NEAR(studentTCdf(0, 5), 0.5, 1e-12);
    EXPECT_NEAR(studentTCdf(1, 1), 0.75, 1e-12) << "df 1 is Cauchy: 1/2 + atan(1)/pi";
    EXPECT_NEAR(studentTCdf(2, 2), 0.5 + 2 / (2 * std::sqrt(6.0)), 1e-12)
        << "df 2: 1/2 + t / (2 sqrt(2 + t^2))";
    EXPECT_NEAR(studentTCdf(-2, 2), 0.5 - 2 / (2 * std::sqrt(6.0)), 1e-12);
    EXPECT_NEAR(1 - studentTCdf(3.2071, 4), tTailBySimpson(3.2071, 4), 1e-7);
    EXPECT_NEAR(1 - studentTCdf(1.3, 17), tTailBySimpson(1.3, 17), 1e-7);
}

TEST(Statistics, PairedTTestByHand) {
    // d = 1, 1, 2, 0, 2: mean 1.2, sd sqrt(0.7), t = 1.2 / (sqrt(0.7) / sqrt(5)), df 4.
    auto r = pairedTTest({5, 7, 8, 6, 9}, {4, 6, 6, 6, 7});
    EXPECT_EQ(r.n, 5u);
    EXPECT_DOUBLE_EQ(r.meanDifference, 1.2);
    const double t = 1.2 / (std::sqrt(0.7) / std::sqrt(5.0));
    EXPECT_NEAR(r.statistic, t, 1e-12);
    EXPECT_NEAR(r.pValue, 2 * tTailBySimpson(t, 4), 1e-7);
    EXPECT_NEAR(r.pValue, 0.0327, 5e-4) << "the tabled value";
    EXPECT_EQ(pairedTTest({1, 2}, {1, 2}).pValue, 1.0) << "no differences: nothing to tell";
}

TEST(Statistics, WilcoxonSignedRankExactByHand) {
    // Differences 1, 1, 2, 0, 2: the zero is dropped, ranks 1.5, 1.5, 3.5, 3.5, all positive:
    // W+ = 10, reached by 1 of the 16 sign patterns (and its mirror 0): p = 2/16.
    auto r = wilcoxonSignedRank({5, 7, 8, 6, 9}, {4, 6, 6, 6, 7});
    EXPECT_EQ(r.n, 4u);
    EXPECT_DOUBLE_EQ(r.statistic, 10.0);
    EXPECT_DOUBLE_EQ(r.pValue, 0.125);
    // Five distinct positive differences: p = 2/32.
    EXPECT_DOUBLE_EQ(wilcoxonSignedRank({1, 2, 3, 4, 5}, {0, 0, 0, 0, 0}).pValue, 0.0625);
    // Differences -1, 2, 3: ranks 1, 2, 3, W+ = 5; P(W+ <= 1) = 2/8 (0 and {1}): p = 0.5.
    auto mixed = wilcoxonSignedRank({0, 2, 3}, {1, 0, 0});
    EXPECT_DOUBLE_EQ(mixed.statistic, 5.0);
    EXPECT_DOUBLE_EQ(mixed.pValue, 0.5);
}

TEST(Statistics, WilcoxonAgainstScipysExactValue) {
    // Differences 1..9 and -10: W+ = 45; scipy.stats.wilcoxon gives the exact p 0.083984375.
    std::vector<double> a{1, 2, 3, 4, 5, 6, 7, 8, 9, -10};
    auto r = wilcoxonSignedRank(a, std::vector<double>(a.size(), 0.0));
    EXPECT_DOUBLE_EQ(r.statistic, 45.0);
    EXPECT_NEAR(r.pValue, 0.083984375, 1e-12);
}

TEST(Statistics, WilcoxonTiesDifferencesOfOneTestSampleByTheirMidRank) {
    // Accuracies over 86 test rows: the differences are +1, +1, +1, -1, +2, +2, +3 test samples
    // (k/86), taken from different accuracies, so equal differences are different doubles.
    // Mid-ranks: the four 1s share 2.5, the two 2s share 5.5, the 3 is 7: W+ = 3 * 2.5 + 2 * 5.5
    // + 7 = 25.5, W- = 2.5. Of the 128 sign patterns, 5 give W- <= 2.5 (none, or one of the
    // four 1s): p = 2 * 5/128 = 0.078125. Broken by the doubles, the -1 ranks 4th (its double is
    // the largest |d| of the four) and p is 2 * 7/128.
    const std::vector<std::pair<int, int>> counts{{1, 0}, {23, 22}, {46, 45}, {13, 14},
                                                  {2, 0}, {3, 1},   {13, 10}};
    std::vector<double> a, b;
    for (auto [x, y] : counts) {
        a.push_back(x / 86.0);
        b.push_back(y / 86.0);
    }
    ASSERT_GT(std::abs(a[3] - b[3]), a[0] - b[0]) << "the -1 must be the largest double of the 1s";
    ASSERT_NE(a[1] - b[1], a[2] - b[2]) << "the 1s must differ as doubles for this test to bite";
    for (double resolution : {0.0, 1.0 / 86}) {
        auto r = wilcoxonSignedRank(a, b, resolution);
        EXPECT_EQ(r.n, 7u);
        EXPECT_DOUBLE_EQ(r.statistic, 25.5) << "resolution " << resolution;
        EXPECT_DOUBLE_EQ(r.pValue, 10.0 / 128) << "resolution " << resolution;
    }
    // On the grid, differences that equal one test sample give an infinite t (p 0), not a huge
    // finite one from rounding noise.
    EXPECT_EQ(
        pairedTTest({1 / 86.0, 23 / 86.0, 46 / 86.0}, {0, 22 / 86.0, 45 / 86.0}, 1.0 / 86).pValue,
        0.0);
    EXPECT_EQ(comparePaired({1 / 86.0, 23 / 86.0}, {0, 22 / 86.0}, 0.95, 1.0 / 86).sdDifference,
              0.0);
}

TEST(Statistics, PairsNeededByHandFromTheTables) {
    // sd 0.01 and an effect of 0.01 at 0.05, power 0.8: (t(0.975, n-1) + t(0.8, n-1)) / sqrt(n)
    // is (2.306 + 0.889) / 3 = 1.065 at n = 9 and (2.262 + 0.883) / sqrt(10) = 0.995 at n = 10.
    EXPECT_EQ(pairsNeeded(0.01, 0.01), 10u);
    // Half the effect needs about four times the pairs: at n = 34, (2.035 + 0.853) / 5.831 =
    // 0.4953 <= 0.5; at n = 33, (2.037 + 0.853) / 5.745 = 0.5031.
    EXPECT_EQ(pairsNeeded(0.01, 0.005), 34u);
    // A stricter level (0.05 / 6, Holm's first step over six alphas) needs more.
    EXPECT_GT(pairsNeeded(0.01, 0.01, 0.05 / 6), 10u);
    EXPECT_EQ(pairsNeeded(0, 0.01), 0u) << "no spread measured: nothing to plan from";
    EXPECT_EQ(pairsNeeded(1.0, 1e-6), 0u) << "out of reach";
}

TEST(Statistics, TIntervalAndQuantilesAgainstTables) {
    EXPECT_NEAR(studentTQuantile(0.975, 9), 2.2621571627, 1e-8) << "the tabled t(0.975, 9)";
    EXPECT_NEAR(studentTQuantile(0.8, 9), 0.8834038597, 1e-8);
    // d = 1, 1, 2, 0, 2: mean 1.2, sd sqrt(0.7); half width t(0.975, 4) sqrt(0.7) / sqrt(5)
    // = 1.03885063.
    auto i = tInterval({1, 1, 2, 0, 2});
    EXPECT_NEAR(i.lower, 1.2 - 1.0388506337, 1e-8);
    EXPECT_NEAR(i.upper, 1.2 + 1.0388506337, 1e-8);
    EXPECT_FALSE(tInterval({3.0}).known()) << "one value has no interval";
    EXPECT_TRUE(studentTCdf(HUGE_VAL, 3) == 1.0);
}

TEST(Statistics, PairedTTestWithIdenticalNonZeroDifferencesIsCertain) {
    // Every seed moved by exactly +0.5 (representable, so the differences are bitwise equal): t is
    // infinite, p is 0. No differences at all: p is 1.
    auto t = pairedTTest({1.5, 2.5, 3.5}, {1, 2, 3});
    EXPECT_EQ(t.meanDifference, 0.5);
    EXPECT_TRUE(std::isinf(t.statistic));
    EXPECT_EQ(t.pValue, 0.0);
    EXPECT_EQ(pairedTTest({0.8, 0.7}, {0.8, 0.7}).pValue, 1.0);
}

TEST(Statistics, HolmByHand) {
    // Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> monotone 0.06.
    auto adj = holmAdjust({0.01, 0.04, 0.03, 0.005});
    ASSERT_EQ(adj.size(), 4u);
    EXPECT_NEAR(adj[0], 0.03, 1e-15);
    EXPECT_NEAR(adj[1], 0.06, 1e-15);
    EXPECT_NEAR(adj[2], 0.06, 1e-15);
    EXPECT_NEAR(adj[3], 0.02, 1e-15);
    // A NaN is outside the family (m = 2) and stays NaN; adjusted values are capped at 1.
    auto withNan = holmAdjust({0.3, std::nan(""), 0.8});
    EXPECT_NEAR(withNan[0], 0.6, 1e-15);
    EXPECT_TRUE(std::isnan(withNan[1]));
    EXPECT_NEAR(withNan[2], 0.8, 1e-15);
    EXPECT_EQ(holmAdjust({0.7, 0.6})[1], 1.0);
}

TEST(Statistics, ProbabilityOfImprovementWithWilsonInterval) {
    // 7 wins of 10: Wilson's 95% interval [0.39677815, 0.89220873] (scipy's binomtest agrees).
    auto p = probabilityOfImprovement({1, 1, 1, 1, 1, 1, 1, -1, -1, -1});
    EXPECT_DOUBLE_EQ(p.estimate, 0.7);
    EXPECT_NEAR(p.interval.lower, 0.3967781475, 1e-9);
    EXPECT_NEAR(p.interval.upper, 0.8922087326, 1e-9);
    // Ties count one half: 2 wins, 2 ties, 1 loss of 5 -> 3 / 5.
    EXPECT_DOUBLE_EQ(probabilityOfImprovement({0.1, 0.2, 0, 0, -0.1}).estimate, 0.6);
    EXPECT_DOUBLE_EQ(probabilityOfImprovement({0, 0, 0}).estimate, 0.5) << "all ties: no side wins";
}

TEST(Statistics, BootstrapIntervalMatchesItsExactDistributionAndTheory) {
    // Two values 0 and 1: a resample's mean is 0, 0.5 or 1 with probability 1/4, 1/2, 1/4, so
    // the 2.5% quantile is 0 and the 97.5% quantile 1.
    auto two = bootstrapInterval({0, 1});
    EXPECT_EQ(two.lower, 0.0);
    EXPECT_EQ(two.upper, 1.0);
    // 40 values: the resampled mean is close to normal with sd = (population sd) / sqrt(n).
    std::vector<double> x;
    for (int i = 0; i < 40; ++i)
        x.push_back(std::sin(i * 1.7) + 0.05 * i);
    double m = mean(x), ss = 0;
    for (double v : x)
        ss += (v - m) * (v - m);
    const double se = std::sqrt(ss / 40) / std::sqrt(40.0);
    auto b = bootstrapInterval(x);
    EXPECT_NEAR(b.lower, m - 1.959964 * se, 0.08 * 1.96 * se);
    EXPECT_NEAR(b.upper, m + 1.959964 * se, 0.08 * 1.96 * se);
    auto again = bootstrapInterval(x);
    EXPECT_EQ(b.lower, again.lower) << "seeded: the same values give the same interval";
}

TEST(Statistics, MinimalDetectableEffectHasThePowerItStates) {
    // (t(0.975, 9) + t(0.8, 9)) / sqrt(10) = 0.99471373 for sd 1 and 10 pairs.
    const double mde = minimalDetectableEffect(1.0, 10);
    EXPECT_NEAR(mde, 0.9947137350, 1e-8);
    // Simulated: paired t-tests on 10 normal differences with that mean detect it about 80% of
    // the time (the noncentral t gives 0.799).
    std::mt19937_64 rng(7);
    std::normal_distribution<double> noise(0, 1);
    int detected = 0;
    const int trials = 4000;
    for (int t = 0; t < trials; ++t) {
        std::vector<double> d(10);
        for (auto& v : d)
            v = mde + noise(rng);
        detected += pairedTTest(d, std::vector<double>(10, 0.0)).pValue < 0.05;
    }
    EXPECT_NEAR(detected / static_cast<double>(trials), 0.80, 0.03);
    EXPECT_TRUE(std::isnan(minimalDetectableEffect(1.0, 1)));
}

TEST(RunComparison, TheBaselineIsTheFirstPlainMoe) {
    std::vector<RunRecord> runs(3);
    runs[0].alpha = 0.1;
    runs[1].alpha = 0;
    runs[2].alpha = 0;
    EXPECT_EQ(baselineRun(runs), 1u);
    runs[1].alpha = runs[2].alpha = 0.3;
    EXPECT_EQ(baselineRun(runs), 0u) << "no plain MoE: the first run";
}

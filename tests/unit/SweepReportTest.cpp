// SPDX-License-Identifier: GPL-3.0-or-later
// The alpha study and the claim verdicts on runs with a known truth: a flat curve (noise only)
// must rarely pass, a planted effect must pass, too few seeds must say "not established", ties
// must not decide, and configurations must never be pooled.

#include "report/SweepReport.h"
#include "analysis/AlphaStudy.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

using namespace mode;
using namespace mode::test;

namespace {

const std::vector<double> kAlphas{0, 0.01, 0.03, 0.1, 0.3, 1, 3};

// What a synthetic run scores: its accuracies, probing of each expert, routing, similarity.
struct Outcome {
    double test = 0.8, val = 0.8;
    std::vector<double> probing{0.7, 0.7, 0.7, 0.7};
    std::optional<double> routing;
    double similarity = 0.5;
};

StudyRun makeRun(std::int64_t id, double alpha, int seed, const Outcome& o, int experts = 4,
                 const std::string& dataset = "synthetic") {
    ExperimentConfig c;
    c.name = "run " + std::to_string(id);
    c.loss.alpha = alpha;
    c.train.seed = static_cast<std::uint64_t>(seed);
    c.model.experts = experts;
    c.data.dataset = dataset;
    StudyRun r;
    r.record.id = id;
    r.record.name = c.name;
    r.record.status = RunStatus::Finished;
    r.record.alpha = alpha;
    r.record.seed = seed;
    r.record.experts = experts;
    r.record.dataset = dataset;
    r.record.datasetFingerprint = "1000:feed";
    r.record.configJson = c.toJson().dump();
    r.record.testAccuracy = o.test;
    r.record.valAccuracy = o.val;
    r.record.gateRoutingAccuracy = o.routing;
    r.record.wallSeconds = 1;
    EpochMetrics e;
    e.testAccuracy = o.test;
    e.valAccuracy = o.val;
    e.expertSimilarity = o.similarity;
    e.gateRoutingAccuracy = o.routing;
    for (std::size_t k = 0; k < o.probing.size(); ++k) {
        ExpertMetrics x;
        x.expert = static_cast<int>(k);
        x.allocated = 25;
        x.probingAccuracy = o.probing[k];
        e.experts.push_back(x);
    }
    r.last = e;
    return r;
}

// A sweep of every alpha x seeds. Each seed has its own model quality (shared by its alphas,
// as paired runs share the split and the initial weights), each run its own training noise
// shared by validation and test (a lucky model scores well on both), and each split its own
// evaluation noise. `gain(alpha)` is the true effect on accuracy and probing.
struct Noise {
    double seed = 0.02, run = 0.006, split = 0.004;
};
template <class Gain>
std::vector<StudyRun> sweep(std::mt19937_64& rng, int seeds, Gain gain, Noise n = {},
                            double routingGain = 0) {
    std::normal_distribution<double> z(0, 1);
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= seeds; ++s) {
        const double quality = n.seed * z(rng);
        std::vector<double> expertQuality;
        for (int k = 0; k < 4; ++k)
            expertQuality.push_back(n.seed * z(rng));
        for (double a : kAlphas) {
            const double model = n.run * z(rng);
            Outcome o;
            o.test = 0.8 + quality + model + gain(a) + n.split * z(rng);
            o.val = 0.8 + quality + model + gain(a) + n.split * z(rng);
            for (int k = 0; k < 4; ++k)
                o.probing[k] = 0.7 + expertQuality[k] + gain(a) + n.run * z(rng);
            o.routing = 0.9 + quality + (a > 0 ? routingGain : 0) + n.run * z(rng);
            o.similarity = 0.5 + 0.4 * a / (a + 0.1) + 0.01 * z(rng);
            runs.push_back(makeRun(id++, a, s, o));
        }
    }
    std::reverse(runs.begin(), runs.end()); // newest first, as a store lists them
    return runs;
}

std::vector<Verdict> verdicts(const std::vector<StudyRun>& runs, const ReportOptions& o = {}) {
    auto reports = buildSweepReport(runs);
    EXPECT_EQ(reports.size(), 1u);
    std::vector<Verdict> v;
    for (const auto& j : judgeSection(reports.at(0), o))
        v.push_back(j.verdict);
    return v;
}

} // namespace

TEST(AlphaStudy, PairsRunsBySeedWithValuesWorkedOutByHand) {
    // alpha 0: seeds 1, 2, 3 at 0.80, 0.70, 0.90; alpha 0.1: seeds 1, 2 at 0.83, 0.74 (seed 3
    // missing).
    std::vector<StudyRun> runs{makeRun(1, 0, 1, {0.80}), makeRun(2, 0, 2, {0.70}),
                               makeRun(3, 0, 3, {0.90}), makeRun(4, 0.1, 1, {0.83}),
                               makeRun(5, 0.1, 2, {0.74})};
    auto studies = groupStudies(runs);
    ASSERT_EQ(studies.size(), 1u);
    auto effects = alphaEffects(studies[0], runs, "test_accuracy");
    ASSERT_EQ(effects.size(), 2u);
    EXPECT_NEAR(effects[0].mean, 0.8, 1e-12);
    EXPECT_NEAR(effects[0].std, 0.1, 1e-12);
    ASSERT_TRUE(effects[1].vsZero);
    EXPECT_EQ(effects[1].vsZero->n, 2u) << "seed 3 has no partner at alpha 0.1";
    EXPECT_NEAR(effects[1].vsZero->meanDifference, 0.035, 1e-12); // (0.03 + 0.04) / 2
    EXPECT_NEAR(effects[1].vsZero->sdDifference, std::sqrt(0.00005), 1e-12);
    // t = 0.035 / (sqrt(0.00005) / sqrt(2)) = 7 with 1 degree of freedom (Cauchy): p = 1 - (2/pi)
    // atan(7).
    EXPECT_NEAR(effects[1].vsZero->tTest.pValue, 1 - 2 / M_PI * std::atan(7.0), 1e-6);
    EXPECT_NEAR(effects[1].holmP, 1 - 2 / M_PI * std::atan(7.0), 1e-6)
        << "a family of one: Holm changes nothing";
    EXPECT_DOUBLE_EQ(effects[1].vsZero->improvement.estimate, 1.0);
}

TEST(AlphaStudy, PoolsOnlyRunsThatDifferInAlphaAndSeed) {
    std::vector<StudyRun> runs;
    for (int s = 1; s <= 3; ++s) {
        runs.push_back(makeRun(s, 0, s, {0.8}, 4));
        runs.push_back(makeRun(10 + s, 0.1, s, {0.9}, 4));
        runs.push_back(makeRun(20 + s, 0, s, {0.5}, 8)); // another configuration of the same data
    }
    // Name, device and threads change no science; the same file at another path neither.
    auto same = makeRun(31, 0.3, 1, {0.85}, 4);
    auto c = nlohmann::json::parse(same.record.configJson);
    c["train"]["threads"] = 1;
    c["train"]["device"] = "cpu";
    c["name"] = "from the workbench";
    same.record.configJson = c.dump();
    runs.push_back(same);
    auto otherData = makeRun(32, 0.1, 1, {0.1}, 4);
    otherData.record.datasetFingerprint = "999:beef";
    runs.push_back(otherData);

    auto studies = groupStudies(runs);
    ASSERT_EQ(studies.size(), 3u);
    EXPECT_EQ(studies[0].runs(), 7u) << "the 4-expert runs, the workbench run among them";
    // Two 4-expert configurations that differ in their data: the fingerprint tells them apart.
    EXPECT_EQ(studies[0].distinguishing,
              (std::vector<std::string>{"data.fingerprint=1000:feed", "model.experts=4"}));
    EXPECT_EQ(studies[1].runs(), 3u);
    EXPECT_EQ(studies[1].distinguishing, (std::vector<std::string>{"model.experts=8"}))
        << "unique without the fingerprint";
    EXPECT_EQ(studies[2].distinguishing,
              (std::vector<std::string>{"data.fingerprint=999:beef", "model.experts=4"}))
        << "without its fingerprint it would read like the first";
    EXPECT_NE(studies[0].label(), studies[2].label());
    EXPECT_EQ(studies[2].runs(), 1u);
    EXPECT_NE(studies[0].signature, studies[1].signature);
    // The 8-expert runs (accuracy 0.5) never enter the 4-expert alpha = 0 mean (0.8).
    auto reports = buildSweepReport(runs);
    ASSERT_EQ(reports.size(), 3u);
    EXPECT_NEAR(reports[0].rows[0].testAccuracy.mean, 0.8, 1e-12);
    EXPECT_NEAR(reports[1].rows[0].testAccuracy.mean, 0.5, 1e-12);
    EXPECT_NE(figureFile("f", reports[0], "x"), figureFile("f", reports[1], "x"));
}

TEST(AlphaStudy, TheNewestRunOfAnAlphaAndSeedCounts) {
    std::vector<StudyRun> runs{makeRun(9, 0, 1, {0.9}), makeRun(2, 0, 1, {0.1})}; // newest first
    auto studies = groupStudies(runs);
    ASSERT_EQ(studies.size(), 1u);
    EXPECT_EQ(studies[0].duplicates, 1u);
    EXPECT_NEAR(alphaEffects(studies[0], runs, "test_accuracy")[0].mean, 0.9, 1e-12);
}

TEST(AlphaStudy, OutcomeMetricsAreDeclaredOnce) {
    auto r = makeRun(1, 0, 1, {0.9, 0.8, {0.6, 1.0, 0.7, 0.7}});
    r.last->experts[1].allocated = 75; // weights 25, 75, 25, 25: (15 + 75 + 17.5 + 17.5) / 150
    EXPECT_NEAR(*outcomeValue(r, "probing_accuracy"), 125.0 / 150, 1e-12);
    EXPECT_NEAR(*outcomeValue(r, "mixture_minus_probing"), 0.9 - 125.0 / 150, 1e-12);
    EXPECT_NEAR(*outcomeValue(r, "val_accuracy"), 0.8, 1e-12);
    EXPECT_FALSE(outcomeValue(r, "gate_routing_accuracy").has_value());
    EXPECT_THROW(outcomeMetric("accuracy"), std::invalid_argument);
}

TEST(SweepReport, AFlatCurveRarelyPassesAnyClaim) {
    // No alpha differs from alpha = 0. Over 200 draws, each claim may pass by chance at most
    // about 5% of the time (binomial(200, 0.05) exceeds 18 with probability < 0.3%).
    std::mt19937_64 rng(2024);
    int held[3] = {0, 0, 0}, refuted = 0;
    const Noise quiet{0.02, 0.003, 0.002}; // paired sd about 0.005
    for (int draw = 0; draw < 200; ++draw) {
        auto v = verdicts(sweep(
            rng, 10, [](double) { return 0.0; }, draw % 2 ? Noise{} : quiet));
        for (int c = 0; c < 3; ++c)
            held[c] += v[static_cast<std::size_t>(c)] == Verdict::Held;
        refuted += draw % 2 == 0 && v[0] == Verdict::DidNotHold;
    }
    EXPECT_LE(held[0], 18) << "claim 1 held on noise";
    EXPECT_LE(held[1], 18) << "claim 2 held on noise";
    EXPECT_LE(held[2], 18) << "claim 3 held on noise";
    // With quiet runs (paired sd about 0.005) 10 seeds detect 0.01 at 0.05/6 (detectable
    // about 0.007): the flat curve is mostly refuted, not left open.
    std::printf("flat curve, 200 draws: claim 1 held %d, claim 2 held %d, claim 3 held %d; quiet "
                "draws refuted %d of 100\n",
                held[0], held[1], held[2], refuted);
    EXPECT_GE(refuted, 80) << "with enough seeds a null result is a result";
}

TEST(SweepReport, APlantedRiseAndFallIsFound) {
    // +0.03 at alpha 0.1 and 0.3, -0.03 at alpha 3; probing rises with it.
    auto gain = [](double a) { return a == 0.1 || a == 0.3 ? 0.03 : a == 3 ? -0.03 : 0.0; };
    std::mt19937_64 rng(99);
    int held[4] = {0, 0, 0, 0};
    for (int draw = 0; draw < 50; ++draw) {
        auto v = verdicts(sweep(rng, 10, gain));
        for (int c = 0; c < 4; ++c)
            held[c] += v[static_cast<std::size_t>(c)] == Verdict::Held;
    }
    EXPECT_GE(held[0], 45);
    EXPECT_GE(held[1], 45);
    EXPECT_GE(held[2], 45);
    EXPECT_GE(held[3], 45) << "routing unchanged: non-inferior within the margin";
    auto reports = buildSweepReport(sweep(rng, 10, gain));
    ASSERT_TRUE(reports[0].selectedAlpha);
    EXPECT_TRUE(*reports[0].selectedAlpha == 0.1 || *reports[0].selectedAlpha == 0.3);
    EXPECT_EQ(reports[0].family, 6u);
    EXPECT_EQ(reports[0].experts.size(), 4u) << "expert i against expert i";
}

TEST(SweepReport, TooFewSeedsIsNotEstablished) {
    // A true gain of 0.01, three seeds, noisy runs: no test can see it, and none may refute it.
    std::mt19937_64 rng(5);
    int open = 0;
    for (int draw = 0; draw < 40; ++draw) {
        auto v = verdicts(sweep(
            rng, 3, [](double a) { return a > 0 ? 0.01 : 0.0; }, Noise{0.03, 0.02, 0.01}));
        open += v[0] == Verdict::NotEstablished;
    }
    EXPECT_GE(open, 34);
    auto reports = buildSweepReport(sweep(
        rng, 3, [](double) { return 0.0; }, Noise{0.03, 0.02, 0.01}));
    const auto j = judgeSection(reports[0]);
    EXPECT_NE(j[0].evidence.find("the seeds could detect a true difference of"), std::string::npos)
        << j[0].evidence;
}

TEST(SweepReport, TiesDecideNoVerdict) {
    // Every run scores exactly the same: no alpha differs, with certainty.
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 10; ++s)
        for (double a : kAlphas)
            runs.push_back(makeRun(id++, a, s, {0.9535, 0.9535}));
    auto v = verdicts(runs);
    EXPECT_EQ(v[0], Verdict::DidNotHold);
    EXPECT_NE(v[1], Verdict::Held);
    EXPECT_NE(v[2], Verdict::Held);
    // Equal validation means: the smaller alpha is chosen whatever the order of the runs.
    auto reports = buildSweepReport(runs);
    EXPECT_EQ(*reports[0].selectedAlpha, 0.01);
    std::reverse(runs.begin(), runs.end());
    EXPECT_EQ(*buildSweepReport(runs)[0].selectedAlpha, 0.01);
    EXPECT_EQ(verdicts(runs), v);
}

TEST(SweepReport, AFewIdenticalDifferencesDecideNothing) {
    // Two seeds, every alpha > 0 exactly one test sample (1/86) better than alpha 0: the t-test's
    // p is 0 (t is infinite), but two seeds cannot establish a claim, nor refute it.
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 2; ++s)
        for (double a : kAlphas) {
            auto r =
                makeRun(id++, a, s, {a > 0 ? 0.5 + 1.0 / 86 : 0.5, a > 0 ? 0.5 + 1.0 / 86 : 0.5});
            r.record.start.testRows = 86;
            runs.push_back(r);
        }
    auto v = verdicts(runs);
    EXPECT_EQ(v[0], Verdict::NotEstablished);
    EXPECT_EQ(v[1], Verdict::NotEstablished);
}

TEST(SweepReport, AGainThatCouldStillMatterIsNotRefuted) {
    // alpha 0.1: mean gain +0.007 with sd 0.007 over 10 seeds. Not significant after Holm over 6
    // alphas (raw p about 0.012), but its upper bound (+0.011) includes the effect that matters
    // (0.01): "not established", never "did not hold".
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    const double step = 0.007 / std::sqrt(10.0 / 9.0); // +-step alternating has sample sd 0.007
    for (int s = 1; s <= 10; ++s)
        for (double a : kAlphas) {
            const double sign = s % 2 ? 1.0 : -1.0;
            double test = 0.8, val = 0.8;
            if (a == 0.1)
                test += 0.007 + sign * step, val += 0.02;
            else if (a > 0)
                test += 0.0001 * sign * s, val += 0.0001 * s;
            runs.push_back(makeRun(id++, a, s, {test, val}));
        }
    auto r = buildSweepReport(runs)[0];
    ASSERT_EQ(*r.selectedAlpha, 0.1);
    const auto j = judgeSection(r);
    EXPECT_EQ(j[0].verdict, Verdict::NotEstablished) << j[0].evidence;
    EXPECT_NE(j[0].evidence.find("not below the effect that matters"), std::string::npos)
        << j[0].evidence;
}

TEST(SweepReport, AlphaIsChosenOnThePairedValidationDifference) {
    // alpha 0.1 ran on seeds 1-3 only, whose alpha = 0 runs happen to be strong (0.90): its raw
    // validation mean 0.88 is the highest, but it is 0.02 WORSE than alpha 0 on those seeds.
    // alpha 0.3 ran on all 10 seeds, 0.01 better than alpha 0 on each.
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 10; ++s) {
        const double base = s <= 3 ? 0.90 : 0.77;
        runs.push_back(makeRun(id++, 0, s, {base, base}));
        if (s <= 3) runs.push_back(makeRun(id++, 0.1, s, {base - 0.02, base - 0.02}));
        runs.push_back(makeRun(id++, 0.3, s, {base + 0.01, base + 0.01}));
    }
    auto r = buildSweepReport(runs)[0];
    EXPECT_NEAR(r.rows[1].valAccuracy.mean, 0.88, 1e-12);
    EXPECT_GT(r.rows[1].valAccuracy.mean, r.rows[2].valAccuracy.mean)
        << "a raw mean would pick alpha 0.1";
    EXPECT_EQ(*r.selectedAlpha, 0.3);
}

TEST(SweepReport, APlateauIsNoRiseAndFall) {
    // +0.03 at every alpha > 0 up to the largest: there is no fall to find.
    std::mt19937_64 rng(21);
    int held = 0;
    for (int draw = 0; draw < 40; ++draw)
        held += verdicts(sweep(rng, 10, [](double a) { return a > 0 ? 0.03 : 0.0; }))[1] ==
                Verdict::Held;
    EXPECT_LE(held, 3) << "claim 2 held on a plateau";
}

TEST(SweepReport, AlphaIsChosenOnValidationNotOnTest) {
    // alpha 0.1 is best on validation, alpha 1 on test: the report measures alpha 0.1 and shows
    // alpha 1 only as the optimistic oracle.
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 5; ++s) {
        runs.push_back(makeRun(id++, 0, s, {0.80, 0.80}));
        runs.push_back(makeRun(id++, 0.1, s, {0.81 + 0.001 * s, 0.85}));
        runs.push_back(makeRun(id++, 1, s, {0.90 + 0.001 * s, 0.79}));
    }
    auto r = buildSweepReport(runs)[0];
    EXPECT_EQ(*r.selectedAlpha, 0.1);
    EXPECT_EQ(*r.oracleAlpha, 1.0);
    const auto j = judgeSection(r);
    EXPECT_NE(j[0].evidence.find("alpha 0.1 (chosen on validation accuracy)"), std::string::npos)
        << j[0].evidence;
    EXPECT_NE(j[0].evidence.find("the test-selected alpha 1 (optimistic)"), std::string::npos)
        << j[0].evidence;
}

TEST(SweepReport, RoutingNonInferiorityHasThreeOutcomes) {
    std::mt19937_64 rng(11);
    auto flat = [](double) { return 0.0; };
    EXPECT_EQ(verdicts(sweep(rng, 10, flat, {}, 0.0))[3], Verdict::Held)
        << "unchanged within the 0.02 margin";
    EXPECT_EQ(verdicts(sweep(rng, 10, flat, {}, -0.06))[3], Verdict::DidNotHold)
        << "worse by three margins";
    EXPECT_EQ(verdicts(sweep(rng, 3, flat, Noise{0.02, 0.05, 0.004}, -0.02))[3],
              Verdict::NotEstablished)
        << "too noisy to tell either way";
}

TEST(SweepReport, HomogenisationIsShownBesideProbing) {
    std::mt19937_64 rng(3);
    auto r = buildSweepReport(sweep(rng, 10, [](double a) { return a > 0 ? 0.02 : 0.0; }))[0];
    ASSERT_TRUE(r.gapChange && r.similarityChange);
    const auto j = judgeSection(r);
    EXPECT_NE(j[2].evidence.find("mixture minus probing"), std::string::npos);
    EXPECT_NE(j[2].evidence.find("expert similarity"), std::string::npos);
    const auto md = sweepReportMarkdown({r}, "figures", "# t\n");
    EXPECT_NE(md.find("| expert | seeds | MoE (alpha 0) | MoDE |"), std::string::npos);
    EXPECT_NE(md.find("95% CI (bootstrap)"), std::string::npos);
    EXPECT_NE(md.find("Distillation: mse-mean with 4 experts: alpha pulls 1.00 times"),
              std::string::npos)
        << "what alpha means in this configuration";
}

TEST(SweepReport, AStoreWithTwoConfigurationsGivesTwoSections) {
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    {
        RunStore store(path);
        for (int experts : {2, 6})
            for (int seed = 1; seed <= 3; ++seed)
                for (double alpha : {0.0, 0.1}) {
                    ExperimentConfig c;
                    c.model.experts = experts;
                    c.loss.alpha = alpha;
                    c.train.seed = static_cast<std::uint64_t>(seed);
                    RunStart s;
                    s.datasetName = "regimes";
                    s.datasetFingerprint = "10:ab";
                    s.experts = experts;
                    const auto id = store.beginRun(c, s, "");
                    EpochMetrics e;
                    e.epoch = 1;
                    e.testAccuracy = experts == 2 ? 0.6 : 0.9;
                    e.valAccuracy = e.testAccuracy;
                    store.appendEpoch(id, e);
                    RunResult r;
                    r.epochsCompleted = 1;
                    r.final = e;
                    store.finishRun(id, r);
                }
    }
    RunStore store(path, RunStore::Mode::ReadOnly);
    auto reports = buildSweepReport(store);
    ASSERT_EQ(reports.size(), 2u);
    for (const auto& r : reports) {
        ASSERT_EQ(r.rows.size(), 2u);
        EXPECT_EQ(r.rows[0].runs, 3u);
        const double expected =
            r.study.label().find("model.experts=2") != std::string::npos ? 0.6 : 0.9;
        EXPECT_NEAR(r.rows[0].testAccuracy.mean, expected, 1e-12) << r.study.label();
        EXPECT_NEAR(r.rows[1].testAccuracy.mean, expected, 1e-12) << r.study.label();
    }
    EXPECT_NE(reports[0].study.label(), reports[1].study.label());
}

namespace {
// Seeds 1..n of alpha 0 and alpha 0.1 whose paired differences are 0.02 + deviation[s].
std::vector<StudyRun> pairedRuns(int n, const std::vector<double>& deviation) {
    std::vector<StudyRun> runs;
    std::int64_t id = 1000;
    for (int s = n; s >= 1; --s) { // newest first
        const double base = 0.7 + 0.01 * s;
        runs.push_back(makeRun(id--, 0.1, s, {base + 0.02 + deviation[s - 1]}));
        runs.push_back(makeRun(id--, 0, s, {base}));
    }
    return runs;
}
// The seeds the adaptive rule settles at, from 2 seeds adding one at a time.
int settledSeeds(const std::vector<double>& deviation, double width, int maximum) {
    int seeds = 2;
    for (;;) {
        const auto runs = pairedRuns(seeds, deviation);
        const auto studies = groupStudies(runs);
        const int next = nextSeedCount(alphaEffects(studies.at(0), runs, "test_accuracy"), width,
                                       seeds, 1, maximum);
        if (next == seeds) return seeds;
        seeds = next;
    }
}
} // namespace

// The adaptive-seeds rule: with a planted gain of 0.02 and small deviations, the 95% t interval
// of the paired difference, 2 t(0.975, n-1) sd / sqrt(n), worked out here with a printed t table,
// first falls under 0.01 at n = 5 (widths 0.1017, 0.0207, 0.0116, 0.0085); with deviations of
// +-0.05 it never does, and the sweep runs to its maximum.
TEST(AdaptiveSeeds, StopWhenTheIntervalIsNarrowAndRunToTheMaximumWhenNot) {
    const std::vector<double> small{0.004, -0.004, 0.002, -0.002, 0.003, -0.003, 0.001, -0.001};
    const double t975[] = {0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306};
    int expected = 0;
    for (int n = 2; n <= 8 && !expected; ++n) {
        double mean = 0, squares = 0;
        for (int s = 0; s < n; ++s)
            mean += (0.02 + small[s]) / n;
        for (int s = 0; s < n; ++s)
            squares += std::pow(0.02 + small[s] - mean, 2);
        const double width = 2 * t975[n - 1] * std::sqrt(squares / (n - 1)) / std::sqrt(n);
        if (width < 0.01) expected = n;
    }
    ASSERT_EQ(expected, 5);
    EXPECT_EQ(settledSeeds(small, 0.01, 8), expected);
    const std::vector<double> large{0.05, -0.05, 0.05, -0.05, 0.05, -0.05, 0.05, -0.05};
    EXPECT_EQ(settledSeeds(large, 0.01, 8), 8) << "a flat, noisy effect runs to the maximum";
    EXPECT_EQ(settledSeeds(small, 0.01, 3), 3) << "never past the maximum";
    const std::vector<double> none(8, 0.0); // identical differences: width 0 from two seeds on
    EXPECT_EQ(settledSeeds(none, 0.01, 8), 3) << "the rule judges from three seeds";
}

namespace {
// A sweep scored on finite test and validation sets, as a real one is: each run's accuracy is a
// count of right answers over its rows (binomial around the model's true accuracy), so paired
// differences come in whole samples and tie. A seed's model quality is shared by its alphas, and
// the training noise of neighbouring alphas is correlated (an AR(1) walk along the grid: runs at
// 0.1 and 0.3 are more alike than at 0.01 and 3). Validation and test measure the same model (a
// lucky model scores well on both), so choosing alpha on validation biases its test difference:
// what Holm's correction is for. Probing: four experts of 125 test rows each, counted likewise.
struct CountWorld {
    int testRows = 10000, valRows = 10000;
    double seedSd = 0.02, modelSd = 0.01, rho = 0.3;
    std::vector<double> alphas{0, 0.01, 0.03, 0.1, 0.3, 1, 3};
};
template <class Gain, class ProbingGain, class Similarity>
std::vector<StudyRun> countSweep(std::mt19937_64& rng, int seeds, const CountWorld& w, Gain gain,
                                 ProbingGain probingGain, Similarity similarity) {
    std::normal_distribution<double> z(0, 1);
    auto count = [&](int n, double p) {
        return std::binomial_distribution<int>(n, std::clamp(p, 0.0, 1.0))(rng);
    };
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= seeds; ++s) {
        const double quality = w.seedSd * z(rng);
        double walk = z(rng);
        for (double a : w.alphas) {
            walk = w.rho * walk + std::sqrt(1 - w.rho * w.rho) * z(rng);
            const double p = 0.8 + quality + w.modelSd * walk + gain(a);
            Outcome o;
            o.test = count(w.testRows, p) / static_cast<double>(w.testRows);
            o.val = count(w.valRows, p) / static_cast<double>(w.valRows);
            for (auto& x : o.probing)
                x = count(125, 0.75 + quality + w.modelSd * walk + probingGain(a)) / 125.0;
            o.similarity = similarity(a) + 0.005 * z(rng);
            auto r = makeRun(id++, a, s, o);
            r.last->experts.clear();
            for (int k = 0; k < 4; ++k) {
                ExpertMetrics x;
                x.expert = k;
                x.allocated = 125;
                x.probingAccuracy = o.probing[static_cast<std::size_t>(k)];
                r.last->experts.push_back(x);
            }
            r.record.start.testRows = w.testRows;
            r.record.start.valRows = w.valRows;
            r.best = r.last;
            runs.push_back(std::move(r));
        }
    }
    std::reverse(runs.begin(), runs.end());
    return runs;
}
double none(double) {
    return 0.0;
}
const AlphaRow* rowAt(const DatasetReport& r, double alpha) {
    for (const auto& row : r.rows)
        if (row.alpha == alpha) return &row;
    return nullptr;
}
double mildSimilarity(double a) {
    return 0.5 + 0.3 * a / (a + 1);
}
// The report with Holm's correction switched off: every adjusted p replaced by the raw one.
DatasetReport withoutHolm(DatasetReport r) {
    for (auto& row : r.rows) {
        if (row.testVsZero) row.holmP = row.testVsZero->tTest.pValue;
        if (row.probingVsZero) row.probingHolmP = row.probingVsZero->tTest.pValue;
    }
    return r;
}
} // namespace

// The family-wise error of claim 1 on a flat curve, over 2,000 sweeps of 10 seeds. "Held" is a
// one-sided question (significant AND positive), so its nominal level is 2.5%: binomial(2000,
// 0.025) has mean 50 and sd 7, and 71 is three sds above. The same rule without Holm's correction
// exceeds that bound (the alpha chosen on validation is the luckiest of six), so this test catches
// the correction's loss.
TEST(SweepReport, ANullSweepOfCountsHoldsAtTheNominalLevelOnlyWithHolm) {
    std::mt19937_64 rng(7);
    const CountWorld world;
    int held = 0, heldUncorrected = 0, probingHeld = 0;
    const int draws = 2000;
    for (int draw = 0; draw < draws; ++draw) {
        const auto r = buildSweepReport(countSweep(rng, 10, world, none, none, mildSimilarity))[0];
        held += judgeSection(r)[0].verdict == Verdict::Held;
        probingHeld += judgeSection(r)[2].verdict == Verdict::Held;
        heldUncorrected += judgeSection(withoutHolm(r))[0].verdict == Verdict::Held;
    }
    std::printf("null sweep of counts, %d draws: claim 1 held %d with Holm, %d without; claim 3 "
                "held %d\n",
                draws, held, heldUncorrected, probingHeld);
    EXPECT_LE(held, 71) << "claim 1's family-wise error above the nominal level";
    EXPECT_LE(probingHeld, 71) << "claim 3's family-wise error above the nominal level";
    EXPECT_GT(heldUncorrected, 71) << "the bound is too loose to see a missing correction";
}

// A real gain of exactly the effect that matters (0.01) at one alpha of six, with a small, noisy
// validation split that often chooses another alpha: "did not hold" must stay at the nominal 5%
// (binomial(1000, 0.05): mean 50, sd 6.9, bound 71), which only the intersection-union rule
// (every alpha's bound below the effect) keeps. The bound at the chosen alpha alone, worked out
// here, refutes the real gain far more often.
TEST(SweepReport, ARealGainAtOneAlphaIsRarelyRefuted) {
    std::mt19937_64 rng(17);
    CountWorld world;
    world.valRows = 200;
    const auto atOne = [](double a) { return a == 0.1 ? 0.01 : 0.0; };
    int refuted = 0, refutedAtChosen = 0;
    const int draws = 1000;
    for (int draw = 0; draw < draws; ++draw) {
        const auto r = buildSweepReport(countSweep(rng, 10, world, atOne, none, mildSimilarity))[0];
        const auto verdict = judgeSection(r)[0].verdict;
        refuted += verdict == Verdict::DidNotHold;
        const auto& c = *rowAt(r, *r.selectedAlpha)->testVsZero;
        const double bound =
            c.meanDifference + studentTQuantile(0.95, static_cast<double>(c.n - 1)) *
                                   std::max(c.sdDifference, 1.0 / world.testRows) /
                                   std::sqrt(static_cast<double>(c.n));
        refutedAtChosen += verdict != Verdict::Held && bound < 0.01;
    }
    std::printf("a gain of 0.01 at one alpha, %d draws: refuted %d (the chosen alpha's bound alone "
                "would refute %d)\n",
                draws, refuted, refutedAtChosen);
    EXPECT_LE(refuted, 71);
    EXPECT_GT(refutedAtChosen, 71) << "the test no longer tells the two rules apart";
}

// A planted gain of about one standard deviation of the paired differences (d about 1) at two
// alphas, 20 seeds: claim 1 holds in most draws (the paired t-test's power at 0.05/6 is about
// 0.8 for d = 1 and n = 20).
TEST(SweepReport, APlantedGainOfOneStandardDeviationIsFound) {
    std::mt19937_64 rng(23);
    const CountWorld world;
    const auto gain = [](double a) { return a == 0.1 || a == 0.3 ? 0.014 : 0.0; };
    int held = 0;
    double d = 0;
    const int draws = 200;
    for (int draw = 0; draw < draws; ++draw) {
        const auto r = buildSweepReport(countSweep(rng, 20, world, gain, none, mildSimilarity))[0];
        held += judgeSection(r)[0].verdict == Verdict::Held;
        const auto& c = *rowAt(r, 0.1)->testVsZero;
        d += c.meanDifference / c.sdDifference / draws;
    }
    std::printf("a planted gain of 0.014 (mean d %.2f over %d draws): held %d\n", d, draws, held);
    EXPECT_NEAR(d, 1.0, 0.3) << "the planted effect is not the size this test is about";
    EXPECT_GE(held, 120);
}

// Experts that converge on the mixture: with any distillation, probing rises by 0.03 while the
// experts' similarity reaches 0.98 and the mixture stays flat. That is homogenisation, never
// "held".
TEST(SweepReport, ExpertsThatConvergeWhileTheMixtureIsFlatAreHomogenisation) {
    std::mt19937_64 rng(29);
    const CountWorld world;
    const auto rise = [](double a) { return a > 0 ? 0.03 : 0.0; };
    const auto converge = [](double a) { return a > 0 ? 0.98 : 0.6; };
    int held = 0, homogenised = 0;
    const int draws = 200;
    for (int draw = 0; draw < draws; ++draw) {
        const auto r = buildSweepReport(countSweep(rng, 10, world, none, rise, converge))[0];
        const auto j = judgeSection(r)[2];
        held += j.verdict == Verdict::Held;
        homogenised += j.verdict == Verdict::Homogenised;
        if (j.verdict == Verdict::Homogenised && homogenised == 1)
            EXPECT_NE(j.evidence.find("homogenisation:"), std::string::npos) << j.evidence;
    }
    std::printf("experts converge, mixture flat, %d draws: claim 3 held %d, homogenisation %d\n",
                draws, held, homogenised);
    EXPECT_EQ(held, 0);
    EXPECT_GE(homogenised, 100) << "the probing rise is seen, and named";
}

// Experts are compared one by one as routing matches them, not by number: at alpha 0.1 each seed's
// run gives class k to expert perm[k] instead of expert k, and every expert is 0.02 better on its
// classes. Matched by routing, every expert shows +0.02; by number the differences would be the
// gaps between unrelated experts (-0.08 to +0.12).
TEST(SweepReport, ExpertsAreMatchedByRoutingWithHolmAcrossThem) {
    const std::vector<int> perm{2, 0, 3, 1};
    auto routing = [](const std::vector<int>& owner) {
        RoutingMatrix m;
        m.rowNames = {"a", "b", "c", "d"};
        m.experts = 4;
        m.meanGate.assign(16, 0.1 / 3);
        m.rowCounts.assign(4, 25);
        for (int k = 0; k < 4; ++k)
            m.meanGate[static_cast<std::size_t>(k * 4 + owner[static_cast<std::size_t>(k)])] = 0.9;
        return m;
    };
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 6; ++s) {
        const double jitter = 0.001 * (s % 3);
        Outcome zero{0.8, 0.8, {0.60 + jitter, 0.65 + jitter, 0.70 + jitter, 0.75 + jitter}};
        Outcome mode{0.81, 0.81, {0, 0, 0, 0}};
        for (int k = 0; k < 4; ++k)
            mode.probing[static_cast<std::size_t>(perm[static_cast<std::size_t>(k)])] =
                zero.probing[static_cast<std::size_t>(k)] + 0.02 + 0.002 * (s % 2);
        auto r0 = makeRun(id++, 0, s, zero);
        r0.last->routingByClass = routing({0, 1, 2, 3});
        auto r1 = makeRun(id++, 0.1, s, mode);
        r1.last->routingByClass = routing(perm);
        runs.push_back(r0);
        runs.push_back(r1);
    }
    std::reverse(runs.begin(), runs.end());
    const auto r = buildSweepReport(runs, ScoringEpoch::Last)[0];
    ASSERT_TRUE(r.expertsMatchedByRouting);
    ASSERT_EQ(r.experts.size(), 4u);
    std::vector<double> raw;
    for (const auto& x : r.experts) {
        EXPECT_NEAR(x.difference->meanDifference, 0.021, 1e-9) << "expert " << x.expert;
        EXPECT_NEAR(x.moe, 0.60 + 0.05 * x.expert + 0.001, 1e-9) << "expert " << x.expert;
        raw.push_back(x.difference->tTest.pValue);
    }
    const auto holm = holmAdjust(raw);
    for (std::size_t k = 0; k < 4; ++k)
        EXPECT_DOUBLE_EQ(r.experts[k].holmP, holm[k]);
    EXPECT_NE(sweepReportMarkdown({r}, "f", "").find("matched with the expert of the same seed's"),
              std::string::npos);
}

// Claim 2's fall is Bonferroni-corrected over the alphas that could have been the peak: those
// strictly between 0 and the largest (5 of kAlphas' 6), whose raw p here (about 0.0092) lies
// between 0.05/6 and 0.05/5, so counting the largest alpha as a candidate would lose the fall.
TEST(SweepReport, TheFallIsCorrectedOverTheCandidatePeaksOnly) {
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    const double m = 0.0112, delta = 0.01; // fall per seed: m +- delta, all positive
    for (int s = 1; s <= 10; ++s)
        for (double a : kAlphas) {
            const double base = 0.7 + 0.005 * s;
            double test = base, val = base;
            if (a == 0.1) test = base + 0.03, val = base + 0.05;
            if (a == 3) test = base + 0.03 - (m + (s % 2 ? delta : -delta));
            runs.push_back(makeRun(id++, a, s, {test, val}));
        }
    std::reverse(runs.begin(), runs.end());
    const auto r = buildSweepReport(runs)[0];
    ASSERT_EQ(*r.selectedAlpha, 0.1);
    ASSERT_TRUE(r.fall);
    const double p = r.fall->tTest.pValue;
    ASSERT_GT(p, 0.05 / 6) << "the fall must straddle the two corrections";
    ASSERT_LT(p, 0.05 / 5);
    EXPECT_EQ(r.fallCandidates.size(), 5u) << "0.01, 0.03, 0.1, 0.3 and 1 could have been chosen";
    const auto j = judgeSection(r)[1];
    EXPECT_NE(j.evidence.find("): held, "), std::string::npos) << j.evidence;
    EXPECT_NE(j.evidence.find("over 5 candidate peaks"), std::string::npos) << j.evidence;
    EXPECT_EQ(j.verdict, Verdict::Held) << j.evidence;
}

// Runs of two versions of the trainer never pool: each version is a section of its own.
TEST(SweepReport, TwoVersionsOfTheTrainerAreTwoSections) {
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (const char* version : {"0.1.0", "0.2.0"})
        for (int s = 1; s <= 3; ++s)
            for (double a : {0.0, 0.1}) {
                auto r = makeRun(id++, a, s, {std::string(version) == "0.1.0" ? 0.6 : 0.9});
                r.record.modeVersion = version;
                runs.push_back(r);
            }
    const auto reports = buildSweepReport(runs);
    ASSERT_EQ(reports.size(), 2u);
    for (const auto& r : reports) {
        ASSERT_EQ(r.versions.size(), 1u);
        EXPECT_NEAR(r.rows[0].testAccuracy.mean, r.versions[0] == "0.1.0" ? 0.6 : 0.9, 1e-12);
        EXPECT_NE(r.study.label().find("mode.version=" + r.versions[0]), std::string::npos)
            << r.study.label();
    }
    EXPECT_NE(sweepReportMarkdown(reports, "f", "").find("runs of mode-workbench 0.2.0"),
              std::string::npos);
}

// A run is scored at its best validation epoch by default (early stopping without retraining), or
// at its last epoch; a run without validation rows has no best to choose, so its last counts.
TEST(SweepReport, RunsAreScoredAtTheBestValidationEpochOrTheLast) {
    auto epoch = [](int n, double val, double test) {
        EpochMetrics e;
        e.epoch = n;
        e.valAccuracy = val;
        e.testAccuracy = test;
        return e;
    };
    auto record = makeRun(1, 0, 1, {0.80, 0.80}).record;
    record.start.valRows = 50;
    const std::vector<EpochMetrics> epochs{epoch(1, 0.70, 0.71), epoch(2, 0.90, 0.85),
                                           epoch(3, 0.90, 0.86), epoch(4, 0.80, 0.80)};
    const auto run = studyRun(record, epochs);
    ASSERT_TRUE(run.best && run.last);
    EXPECT_EQ(run.best->epoch, 2) << "the first of the best";
    EXPECT_EQ(run.last->epoch, 4);
    const auto best = scoredAt({run}, ScoringEpoch::BestValidation)[0];
    EXPECT_DOUBLE_EQ(*best.record.testAccuracy, 0.85);
    EXPECT_DOUBLE_EQ(*best.record.valAccuracy, 0.90);
    EXPECT_EQ(best.last->epoch, 2);
    EXPECT_DOUBLE_EQ(*scoredAt({run}, ScoringEpoch::Last)[0].record.testAccuracy, 0.80);
    record.start.valRows = 0;
    EXPECT_EQ(studyRun(record, epochs).best->epoch, 4) << "no validation rows: the last epoch";

    // In a report: alpha 0.1 peaks early (epoch 1 best on validation) and then overfits.
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 3; ++s) {
        auto r0 = makeRun(id++, 0, s, {0.80, 0.80}).record;
        r0.start.valRows = 50;
        runs.push_back(studyRun(r0, {epoch(1, 0.80, 0.80), epoch(2, 0.80, 0.80)}));
        auto r1 = makeRun(id++, 0.1, s, {0.78, 0.78}).record;
        r1.start.valRows = 50;
        runs.push_back(studyRun(r1, {epoch(1, 0.84, 0.83), epoch(2, 0.78, 0.78)}));
    }
    std::reverse(runs.begin(), runs.end());
    EXPECT_NEAR(buildSweepReport(runs)[0].rows[1].testAccuracy.mean, 0.83, 1e-12);
    EXPECT_NEAR(buildSweepReport(runs, ScoringEpoch::Last)[0].rows[1].testAccuracy.mean, 0.78,
                1e-12);
    EXPECT_EQ(buildSweepReport(runs)[0].scoring, ScoringEpoch::BestValidation);
}

namespace {
StudyRun baselineRun(std::int64_t id, const std::string& kind, int seed, double test) {
    auto r = makeRun(id, 0, seed, {test, test});
    auto c = nlohmann::json::parse(r.record.configJson);
    c["model"]["kind"] = kind;
    r.record.configJson = c.dump();
    return r;
}
// 8 seeds of the mixture at alpha 0 and 0.1 (0.1 is 0.02 better), and of each baseline at alpha
// 0, whose test accuracy is the mixture's alpha 0 plus `dense` and `ensemble`.
std::vector<StudyRun> withBaselines(double dense, double ensemble) {
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int s = 1; s <= 8; ++s) {
        const double base = 0.7 + 0.01 * s, wobble = 0.002 * (s % 3);
        runs.push_back(makeRun(id++, 0, s, {base, base}));
        runs.push_back(makeRun(id++, 0.1, s, {base + 0.02 + wobble, base + 0.02}));
        runs.push_back(baselineRun(id++, "dense", s, base + dense - wobble));
        runs.push_back(baselineRun(id++, "ensemble", s, base + ensemble + wobble / 2));
    }
    std::reverse(runs.begin(), runs.end());
    return runs;
}
} // namespace

// The baselines a reviewer asks for sit beside the mixture they belong to (same data and settings
// but the model), each paired by seed with the chosen alpha and alpha 0; claim 5 holds only where
// MoDE beats every one.
TEST(SweepReport, BaselinesSitBesideTheirMixtureAndDecideClaimFive) {
    auto reports = buildSweepReport(withBaselines(-0.03, -0.02));
    ASSERT_EQ(reports.size(), 1u) << "the baselines are not sections of their own";
    const auto& r = reports[0];
    ASSERT_EQ(r.baselines.size(), 2u);
    EXPECT_EQ(r.baselines[0].kind, "dense");
    EXPECT_EQ(r.baselines[0].testAccuracy.runs, 8u);
    ASSERT_TRUE(r.baselines[0].modeVsBaseline);
    // alpha 0.1 - dense = (base + 0.02 + w) - (base - 0.03 - w) = 0.05 + 2w, with w = 0.002 (s %
    // 3): s % 3 over s = 1..8 sums to 9, so mean w = 0.00225: 0.0545; alpha 0 - dense = 0.03225.
    EXPECT_NEAR(r.baselines[0].modeVsBaseline->meanDifference, 0.0545, 1e-12);
    EXPECT_NEAR(r.baselines[0].moeVsBaseline->meanDifference, 0.03225, 1e-12);
    std::vector<double> raw{r.baselines[0].modeVsBaseline->tTest.pValue,
                            r.baselines[1].modeVsBaseline->tTest.pValue};
    EXPECT_DOUBLE_EQ(r.baselines[1].holmP, holmAdjust(raw)[1]);
    const auto j = judgeSection(r);
    ASSERT_EQ(j.size(), 5u);
    EXPECT_EQ(j[4].verdict, Verdict::Held) << j[4].evidence;
    const auto md = sweepReportMarkdown(reports, "f", "");
    EXPECT_NE(md.find("| dense | 8 |"), std::string::npos) << md;
    EXPECT_NE(md.find("5. The chosen MoDE beats the baselines"), std::string::npos);
    EXPECT_NE(md.find("This report judges 32 finished runs in 1 configuration"), std::string::npos)
        << "the baselines' 16 runs are counted beside the mixture's 16";

    // An ensemble 0.03 better than alpha 0 is 0.01 better than the chosen MoDE: refuted.
    const auto beaten = buildSweepReport(withBaselines(-0.03, 0.03));
    EXPECT_EQ(judgeSection(beaten[0])[4].verdict, Verdict::DidNotHold)
        << judgeSection(beaten[0])[4].evidence;
    // Without a mixture of their family, baselines are sections of their own, and claim 5 is
    // not measured where no baseline was trained.
    std::vector<StudyRun> alone{baselineRun(1, "dense", 1, 0.8), baselineRun(2, "dense", 2, 0.8)};
    EXPECT_EQ(buildSweepReport(alone).size(), 1u);
    std::mt19937_64 rng(1);
    EXPECT_EQ(verdicts(sweep(rng, 3, [](double) { return 0.0; })).at(4), Verdict::NotMeasured);
}

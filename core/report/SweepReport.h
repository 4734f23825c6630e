// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The reproduction report from a store of sweep runs, one section per dataset and configuration
// (runs differing in anything but alpha and the seed are never pooled): each metric against
// alpha, every alpha's paired difference against alpha = 0 over the seeds (95% CI, t-test,
// Wilcoxon, probability of improvement, Holm across the alphas), the alpha chosen on the
// VALIDATION split and measured on the test split (with the test-selected "oracle" alpha shown
// apart, as optimistic), expert probing expert by expert, and a verdict on each claim of the
// method: held, did not hold, or not established (with the smallest effect the seeds could have
// shown). How a claim is judged: ../shared/design/mode-method.md, "Judging a claim".
// Plain C++: the program that draws the figures is mode-report.

#include "analysis/AlphaStudy.h"

#include <optional>
#include <string>
#include <vector>

namespace mode {

struct ReportOptions {
    double significance = 0.05;
    // The smallest effect that matters (accuracy units, 0.01 = one point). A claim whose test is
    // not significant "did not hold" only where the seeds could have detected an effect this size
    // (power 0.8); otherwise it is "not established".
    double meaningfulEffect = 0.01;
    // Claim 4 (routing does not get worse): non-inferiority margin, and the one-sided level.
    double routingMargin = 0.02;
    // Claim 3: a probing rise is homogenisation, not "held", where the experts' mean similarity at
    // the chosen alpha reaches this, or the mixture gains nothing (its mean difference <= 0).
    // "Held" also needs the mixture non-inferior: its one-sided lower bound above
    // -meaningfulEffect.
    double homogenisedSimilarity = 0.95;
};

struct MetricSummary {
    double mean = 0, std = 0;
    std::size_t runs = 0;
};

struct AlphaRow {
    double alpha = 0;
    std::size_t runs = 0;
    MetricSummary testAccuracy, valAccuracy, similarity, probing, gap; // gap: mixture minus probing
    std::optional<MetricSummary> routing;                              // where sub-tasks are known
    std::optional<PairedComparison> testVsZero;                        // alpha - 0, paired by seed
    double holmP =
        std::numeric_limits<double>::quiet_NaN(); // testVsZero's p, Holm across the alphas
    // Claim 3's estimand: allocation-weighted probing, alpha - 0 paired by seed, Holm across the
    // alphas.
    std::optional<PairedComparison> probingVsZero;
    double probingHolmP = std::numeric_limits<double>::quiet_NaN();
};

// One expert of the alpha = 0 run against the expert of the same seed's run at the selected alpha
// that the gate uses for the same classes (matched by routing, the Hungarian alignment of their
// routing matrices; by number where the runs stored no routing).
struct ExpertProbing {
    int expert = 0;           // its number in the alpha = 0 runs
    double moe = 0, mode = 0; // mean over the seeds where both runs allocated the expert samples
    std::optional<PairedComparison> difference;
    double holmP = std::numeric_limits<double>::quiet_NaN(); // Holm across the experts
};

// A baseline trained beside the mixture (same data, same settings but the model, alpha 0): a
// dense network of about the mixture's size, or the experts trained independently (ensemble).
struct BaselineComparison {
    std::string kind; // "dense", "ensemble"
    std::string signature;
    std::size_t runs = 0;   // its finished runs (every seed)
    double wallSeconds = 0; // their training time
    MetricSummary testAccuracy;
    std::optional<PairedComparison> modeVsBaseline; // the chosen alpha - the baseline, by seed
    std::optional<PairedComparison> moeVsBaseline;  // alpha 0 - the baseline, by seed
    double holmP = std::numeric_limits<double>::quiet_NaN(); // modeVsBaseline, Holm over baselines
};

struct DatasetReport {
    std::string dataset;
    AlphaStudy study; // which runs; its label names the configuration
    ScoringEpoch scoring = ScoringEpoch::BestValidation; // the epoch each run is scored at
    std::vector<std::string> versions; // the trainer versions of its runs (one: they never pool)
    // What its alpha means: "mse-pairwise, 4 experts: alpha pulls 2.67 times as hard as
    // mse-mean's" (distillationScale); empty where the runs' settings cannot be read.
    std::string distillation;
    std::vector<AlphaRow> rows; // by alpha, 0 first
    std::size_t family = 0;     // alphas > 0 tested against alpha = 0 (Holm's m)
    // The alpha > 0 with the best paired validation difference against alpha = 0 (last epoch,
    // over the seeds run at both); equal differences: the smaller alpha. The test split only
    // measures it.
    std::optional<double> selectedAlpha;
    std::optional<double> oracleAlpha; // best mean TEST accuracy: optimistic, shown for reference
    std::optional<double> largestAlpha;
    double resolution = 0; // one test sample's share of the accuracy (1 / test rows); 0 if unknown
    std::optional<PairedComparison> fall; // test accuracy, selected - largest alpha
    // Every alpha that could have been chosen as the peak (0 < alpha < largest) against the
    // largest: "no fall" is decided over all of them (intersection-union), the fall's p is
    // Bonferroni-corrected over their number.
    std::vector<std::pair<double, PairedComparison>> fallCandidates;
    // Claim 3 reads the selected alpha's row (probingVsZero, probingHolmP).
    std::size_t probingFamily = 0; // alphas in probing's Holm family
    std::optional<PairedComparison> gapChange, similarityChange, routingChange; // selected - 0
    std::vector<ExpertProbing> experts;
    bool expertsMatchedByRouting = false;      // else by number (no routing stored)
    std::vector<BaselineComparison> baselines; // by kind
    bool classification = true;
    double wallSeconds = 0;
};

// One report section per study of the store's finished runs, each run scored at `scoring`.
std::vector<DatasetReport> buildSweepReport(const RunStore& store,
                                            const std::vector<std::string>& datasets = {},
                                            ScoringEpoch scoring = ScoringEpoch::BestValidation);
std::vector<DatasetReport> buildSweepReport(const std::vector<StudyRun>& runs,
                                            ScoringEpoch scoring = ScoringEpoch::BestValidation);

// Homogenised: claim 3's probing rose, but as the experts became copies of the mixture (their
// similarity near 1, or a mixture that gained nothing), which is not the claim.
enum class Verdict { Held, DidNotHold, NotEstablished, NotMeasured, Homogenised };
// "held", "did not hold", "not established", "not measured", "homogenisation (not held)"
std::string toString(Verdict v);

struct ClaimJudgement {
    Verdict verdict = Verdict::NotMeasured;
    std::string evidence;
};
// Claims 1-4 of the method on one section, and 5: the chosen MoDE beats the baselines trained
// beside it (not measured where none were).
std::vector<ClaimJudgement> judgeSection(const DatasetReport& report,
                                         const ReportOptions& options = {});

// Claims 1-5 over all sections: "held", "did not hold" or "not established" where every section
// measured says so, else counted out ("held on 2 of 4; did not hold on 1 of 4; not established on
// 1 of 4").
struct ClaimVerdict {
    std::string claim, verdict, evidence;
};
std::vector<ClaimVerdict> judgeClaims(const std::vector<DatasetReport>& reports,
                                      const ReportOptions& options = {});

// How many seeds the section's study needs to detect the effect that matters on test accuracy
// at the first step of Holm's correction over its alphas, with power 0.8, planned from the
// largest spread of its alphas' paired differences (a pilot). Empty without two paired seeds.
std::string seedPlan(const DatasetReport& report, const ReportOptions& options = {});

// Where a figure of a section's metric goes: <folder>/<dataset>[-<signature>]-<metric>.png.
std::string figureFile(const std::string& folder, const DatasetReport& report,
                       const std::string& metric);

// Markdown: figures are named by figureFile in figureFolder (relative to the report). Where
// `otherScoring` holds the same sections scored at the other epoch, the claims table shows their
// verdicts beside.
std::string sweepReportMarkdown(const std::vector<DatasetReport>& reports,
                                const std::string& figureFolder, const std::string& preamble,
                                const ReportOptions& options = {},
                                const std::vector<DatasetReport>& otherScoring = {});

} // namespace mode

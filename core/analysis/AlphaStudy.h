// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The question a MoDE user asks of a store: does distillation help on this data, and at which
// alpha? Runs are pooled by configuration (every setting but alpha and the seed), paired by seed
// against alpha = 0 (for a given seed both share the split, the initial weights and the
// minibatch order), and each alpha's paired difference is measured with the statistics module,
// Holm-corrected across the alphas of the configuration. mode-report, the Compare view and
// mode-runs all read their answers from here.

#include "analysis/Statistics.h"
#include "store/RunStore.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mode {

// A run as a study sees it: its record, its last stored epoch and the epoch with the best
// validation accuracy (none if it stored none; the last where it has no validation rows).
struct StudyRun {
    RunRecord record;
    std::optional<EpochMetrics> last;
    std::optional<EpochMetrics> best;
};
// A run with its stored epochs (in epoch order): the last, and the first of the best on
// validation (early stopping without retraining: an epoch's test figures are already stored).
StudyRun studyRun(RunRecord record, std::vector<EpochMetrics> epochs);
// The finished runs of a store (newest first), with their last and best epochs, in one read.
std::vector<StudyRun> loadStudyRuns(const RunStore& store,
                                    const std::vector<std::string>& datasets = {});

// Which epoch of a run a study scores: the one with the best validation accuracy (what a
// reviewer expects: the model is chosen on validation, the test split only measures it), or the
// last one.
enum class ScoringEpoch { BestValidation, Last };
std::string toString(ScoringEpoch e); // "best validation epoch", "last epoch"
// The runs as scored at that epoch: for BestValidation, each run's record carries the best
// epoch's test, validation and routing accuracies and `last` is that epoch, so every outcome
// metric reads it; Last returns the runs as they are.
std::vector<StudyRun> scoredAt(std::vector<StudyRun> runs, ScoringEpoch epoch);

// The settings that define a run's experiment, flattened ("model.experts" -> "4"), without
// alpha and the seed, and without what changes neither the data nor the model (the name, the
// device, the thread count). A data file counts by its content fingerprint, not its path; the
// program's version counts too ("mode.version"), so runs of two versions of the trainer are
// never pooled.
std::map<std::string, std::string> comparableSettings(const RunRecord& run);
// 16 hex digits over comparableSettings: runs with equal signatures differ only in alpha and seed.
std::string configSignature(const RunRecord& run);
// The model a run trains: "moe" (the gated mixture; MoDE with alpha > 0), or a baseline it must
// beat ("dense", "ensemble"); "moe" for runs stored before the setting existed.
std::string modelKind(const RunRecord& run);
// 16 hex digits over comparableSettings without the model kind: the mixture and its baselines
// trained on the same data with the same settings share it (the report sets them side by side).
std::string familySignature(const RunRecord& run);

// The outcome measures of a run, declared once: a name (the key in files and on the command
// line), a label for people, and how to read it from a run and its last epoch.
struct OutcomeMetric {
    const char* name;
    const char* label;
    std::optional<double> (*value)(const RunRecord& run, const EpochMetrics* last);
    bool perRunOnly = false; // a cost or count (wall time, epochs), not an outcome to test
    // The metric's grid on a run: a share of n rows moves in steps of 1/n, which the paired
    // tests round differences to (0: continuous).
    double (*resolution)(const RunRecord& run) = nullptr;
};
const std::vector<OutcomeMetric>& outcomeMetrics();
// Throws std::invalid_argument naming the known metrics for an unknown name.
const OutcomeMetric& outcomeMetric(const std::string& name);
std::optional<double> outcomeValue(const StudyRun& run, const std::string& metric);
// The metric's grid over a set of runs (the coarsest of theirs); 0 for a continuous metric.
double outcomeResolution(const OutcomeMetric& m, const std::vector<const RunRecord*>& runs);

// Expert by expert (indexed by expert number): its accuracy alone on its allocated test samples.
std::vector<std::optional<double>> probingByExpert(const EpochMetrics& epoch);
// The allocation-weighted mean of probingByExpert; none where no expert has allocated samples.
std::optional<double> weightedProbing(const EpochMetrics& epoch);

// The runs of one dataset with one configuration: alpha -> seed -> index into the runs given.
struct AlphaStudy {
    std::string dataset, signature;
    std::string kind = "moe"; // modelKind of its runs
    std::string family;       // familySignature of its runs
    // "model.experts=8": where this configuration differs from the dataset's others (empty when
    // the dataset has one configuration; the data fingerprint only where needed to tell it apart).
    std::vector<std::string> distinguishing;
    std::map<double, std::map<std::int64_t, std::size_t>> cells;
    std::size_t duplicates = 0; // older runs of an (alpha, seed) already filled; not counted
    std::size_t runs() const;
    std::vector<double> alphas() const; // ascending, 0 first where present
    std::string label() const;          // the dataset, with its distinguishing settings
};
// Studies by dataset, then configuration (the one with most runs first), of the finished runs
// (others are left out). The first run given of an (alpha, seed) counts: give runs newest first
// (as RunStore::listRuns does).
std::vector<AlphaStudy> groupStudies(const std::vector<StudyRun>& runs);

// One alpha of a study on one metric.
struct AlphaEffect {
    double alpha = 0;
    std::vector<std::int64_t> seeds;
    std::vector<double> values;             // per seed, where the metric is known
    double mean = 0, std = 0;               // over the seeds
    std::optional<PairedComparison> vsZero; // alpha > 0: alpha - alpha 0 over the seeds run at both
    double holmP = std::numeric_limits<double>::quiet_NaN(); // the t-test's p, Holm-adjusted across
                                                             // the alphas > 0
};
// Every alpha of the study (ascending) on the metric.
std::vector<AlphaEffect> alphaEffects(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                                      const std::string& metric, double level = 0.95);
// The adaptive-seeds rule of a sweep ("add seeds until the 95% CI of the paired difference
// against alpha = 0 is narrower than W"): true when every alpha > 0 of `effects` has a paired
// comparison over at least three seeds whose t interval is narrower than `width`.
bool intervalsNarrowerThan(const std::vector<AlphaEffect>& effects, double width);
// How many seeds the sweep runs next under that rule: `current` where the intervals are narrow
// enough or `maximum` is reached, else `step` more, at most `maximum`.
int nextSeedCount(const std::vector<AlphaEffect>& effects, double width, int current, int step,
                  int maximum);

// Holm-adjusts the alphas' t-test p-values (those with a comparison) as one family, in place.
void holmAcrossAlphas(std::vector<AlphaEffect>& effects);
// treatment - control on a metric, over the seeds run at both alphas; none if no seed is.
std::optional<PairedComparison> compareAlphas(const AlphaStudy& study,
                                              const std::vector<StudyRun>& runs,
                                              const std::string& metric, double treatment,
                                              double control, double level = 0.95);
// The same across two studies (a mixture and a baseline trained beside it): treatment's runs at
// treatmentAlpha - control's at controlAlpha, paired by seed.
std::optional<PairedComparison> compareAcross(const AlphaStudy& treatment, double treatmentAlpha,
                                              const AlphaStudy& control, double controlAlpha,
                                              const std::vector<StudyRun>& runs,
                                              const std::string& metric, double level = 0.95);

} // namespace mode

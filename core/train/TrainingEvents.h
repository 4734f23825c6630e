// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What a run reports while it trains, as plain structs (no tensors, no Qt): they cross threads
// and go to the store, the terminal and the GUI.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mode {

enum class RunStatus { Running, Finished, Stopped, Failed, Diverged, Interrupted };
std::string toString(RunStatus s);
RunStatus runStatusFromString(const std::string& s); // throws std::invalid_argument

struct RunStart {
    std::string device; // "cpu", "cuda:0"
    std::string libtorchVersion;
    std::string datasetName;
    std::string datasetFingerprint;
    std::int64_t trainRows = 0, valRows = 0, testRows = 0;
    std::int64_t features = 0;
    std::int64_t parameters = 0;
    std::int64_t stepsPerEpoch = 0;
    int epochs = 0;
    int experts = 0;
    bool classification = true;
    std::vector<std::string> classNames;
    std::vector<std::string> subtaskNames;
    std::vector<std::string> vocabulary; // text: token id -> word, kept with the run
    std::string preprocessing; // JSON of the data's FeatureRecipe: what new rows need (predict)
    int resumedFromEpoch = 0;  // > 0: a resumed run, continuing after this epoch
    std::int64_t resumedFromStep = 0;
};

struct StepMetrics {
    int epoch = 0;                // 1-based
    std::int64_t step = 0;        // global, 1-based
    std::int64_t stepInEpoch = 0; // 1-based
    double total = 0, task = 0, distill = 0, balance = 0;
    double samplesPerSecond = 0;
    double wallSeconds = 0; // since the run started
};

struct ExpertMetrics {
    int expert = 0;
    std::int64_t allocated = 0; // test samples whose largest gate weight is this expert's
    std::optional<double>
        probingAccuracy; // its own accuracy on them (classification); none if 0 allocated
    std::optional<double> probingError; // its own MSE on them (regression)
    double load = 0;                    // mean gate weight on the test split
    double share = 0;                   // allocated / test rows
    double similarity = 0; // mean cosine similarity of its outputs to the other experts'
};

// A rows x experts matrix: rows are classes (or sub-tasks), row-major.
struct RoutingMatrix {
    std::vector<std::string> rowNames;
    int experts = 0;
    std::vector<double> meanGate;    // mean gate weight of the row's samples for each expert
    std::vector<double> argmaxShare; // share of the row's samples whose top expert it is
    std::vector<std::int64_t> rowCounts;
};

// Each test row's routing at an epoch, in the test split's order: the row of the dataset, its
// label (class id; regression: the value), its top expert and that expert's gate weight, the
// mixture's prediction and the top expert's own (class ids, or values for regression). What
// the routing explorer shows sample by sample; stored for a thinned set of epochs.
struct SampleRouting {
    bool classification = true;
    int experts = 0;
    std::vector<std::int64_t> row;
    std::vector<float> label;
    std::vector<std::uint8_t> topExpert;
    std::vector<float> topWeight;
    std::vector<float> prediction, expertPrediction;
    // experts x experts, row-major: the cosine similarity of each pair of experts' centred
    // outputs on these rows (the measure whose mean off the diagonal is the epoch's
    // expert_similarity, the report's homogenisation figure). Empty where not computed.
    std::vector<float> similarity;
    // Top-k gates: each row's k experts with non-zero gate weight and their weights, largest
    // first (rows x k, row-major); k = 0 for a dense gate.
    int k = 0;
    std::vector<std::uint8_t> gateExperts;
    std::vector<float> gateWeights;
    std::size_t size() const { return topExpert.size(); }
};

struct EpochMetrics {
    int epoch = 0;
    std::int64_t step = 0;
    double wallSeconds = 0;
    double trainLoss = 0, trainTaskLoss = 0, trainDistillLoss = 0;
    double trainAccuracy = 0; // classification: accuracy; regression: R^2
    double valLoss = 0, valAccuracy = 0;
    double testLoss = 0, testAccuracy = 0;
    std::optional<double> testRmse, testR2;    // regression
    double gateEntropy = 0;                    // mean entropy of the gate (nats)
    double expertSimilarity = 0;               // mean pairwise cosine similarity of expert outputs
    std::optional<double> gateRoutingAccuracy; // where sub-tasks are known
    std::map<std::string, double> extra; // metrics declared with addEpochMetric (train/Metrics.h)
    RoutingMatrix routingByClass;
    std::optional<RoutingMatrix> routingBySubtask;
    std::vector<ExpertMetrics> experts;
    std::shared_ptr<const SampleRouting> samples; // the test rows' routing, where it is kept
};

struct RunResult {
    RunStatus status = RunStatus::Finished;
    std::string message; // why it stopped, for failed and diverged runs
    int epochsCompleted = 0;
    std::int64_t steps = 0;
    double wallSeconds = 0;
    double trainSamplesPerSecond = 0;  // training steps only (no evaluation, no pauses)
    std::optional<EpochMetrics> final; // the last completed epoch
};

// The state a run can be resumed from after an epoch: model, optimiser and generators, as a
// LibTorch archive (opaque bytes to everyone but the trainer).
struct Checkpoint {
    int epoch = 0;
    std::int64_t step = 0;
    double wallSeconds = 0;
    std::string state; // what a resumed run needs: an archive holding "model", "optimizer", ...
    std::string model; // the model alone: an archive holding "model" (what a prediction needs);
                       // empty where no observer wantsModels()
};

// Receives a run's events on the trainer's thread. Implementations must be quick or hand the
// data to another thread; they must not throw for ordinary conditions.
class TrainingObserver {
  public:
    virtual ~TrainingObserver() = default;
    virtual void onRunStart(const RunStart&) {}
    virtual void onStep(const StepMetrics&) {}
    virtual void onEpoch(const EpochMetrics&) {}
    // Checkpoints cost a serialisation each epoch: made only when some observer wants them.
    virtual bool wantsCheckpoints() const { return false; }
    // Checkpoint::model costs a second serialisation: made only where an observer keeps models.
    virtual bool wantsModels() const { return false; }
    virtual void onCheckpoint(const Checkpoint&) {}
    virtual void onRunEnd(const RunResult&) {}
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What a model scores on one split: the mixture's loss and accuracy (RMSE and R^2 for a
// regression target) and, for the epoch's report, how the gate routes the rows (by class and by
// known sub-task), each expert's own accuracy on the rows routed to it (probing), the gate's
// entropy and how alike the experts' outputs are. Internal to core/train (LibTorch types): the
// trainer and the tests use it, the public headers do not.

#include "model/MoDEModel.h"
#include "train/TrainingEvents.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace mode {

// One split on the device: features, targets (int64 class labels or float32 values) and, where
// known, each row's sub-task (int64; undefined otherwise).
struct SplitTensors {
    torch::Tensor x, y, subtask;
    std::int64_t rows() const { return x.defined() ? x.size(0) : 0; }
};

// The mixture's scores on a split. accuracy is R^2 for a regression target.
struct Scores {
    double loss = 0, accuracy = 0, rmse = 0, r2 = 0;
};

// The shape of the task, which the metrics' tables are laid out by.
struct EvaluationTask {
    bool classification = true;
    int experts = 0;
    std::vector<std::string> classNames;   // one routing row per class (regression: one row)
    std::vector<std::string> subtaskNames; // the sub-task routing's rows, where they are known
    int topK = 0; // a top-k gate's k (per-sample routing keeps each row's k experts); 0: dense
    // false for the baselines (model.kind dense or ensemble), which have no gate and so no
    // routing: the routing tables, gate routing accuracy, each expert's allocation and probing
    // are left absent (empty, none, 0 allocated), the gate entropy 0; the load is the constant
    // mixing weight (1/E) and the similarity is measured as for a mixture.
    bool gated = true;
};

// Calls work(first, rows) for each chunk of at most chunkRows of `rows` rows. On the CPU, where
// there are at least as many chunks as LibTorch threads, the chunks run on those threads, each on
// one, with the caller's thread-local state (grad mode, inference mode); otherwise one after
// another, each op using the threads itself. work must be safe to call from several threads.
void forEachChunk(std::int64_t rows, std::int64_t chunkRows, bool cpu,
                  const std::function<void(std::int64_t first, std::int64_t rows)>& work);

class Evaluator {
  public:
    // The model's forward pass in evaluation mode (the caller switches the model's mode);
    // it is run on at most chunkRows rows at a time, without gradient, through forEachChunk, so
    // it must be safe to call from several threads at once (a model in evaluation mode is);
    // the chunks' sums are added in chunk order.
    using Forward = std::function<MoDEOutput(const torch::Tensor& x)>;
    // Sees each chunk's outputs (first row of the split, outputs), on the thread that made them.
    using ChunkOutputs = std::function<void(std::int64_t firstRow, const MoDEOutput& out)>;

    Evaluator(EvaluationTask task, Forward forward, std::int64_t chunkRows = 4096);
    void onChunk(ChunkOutputs seen) { seen_ = std::move(seen); }

    // The mixture's loss and score (an empty split scores 0).
    Scores score(const SplitTensors& split) const;
    // The same, and into `metrics`: routing by class and sub-task, gate routing accuracy,
    // per-expert allocation, share, load, probing and similarity, gate entropy.
    // `samples`, where given, gets each row's routing (SampleRouting; its `row` is left to the
    // caller, who knows the rows of the split).
    Scores scoreWithDiagnostics(const SplitTensors& split, EpochMetrics& metrics,
                                SampleRouting* samples = nullptr) const;

  private:
    struct Sums;
    Scores run(const SplitTensors& split, EpochMetrics* metrics, SampleRouting* samples) const;
    Scores mixtureScores(const SplitTensors& split, const Sums& sums) const;
    void report(const Sums& sums, std::int64_t rows, EpochMetrics& metrics) const;

    EvaluationTask task_;
    Forward forward_;
    std::int64_t chunkRows_;
    ChunkOutputs seen_;
};

} // namespace mode

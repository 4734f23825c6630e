// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Predicting with a stored run, from the store's file to the table of predictions: the rows
// (the run's own split, its data file read again and prepared as in training; or a new file
// prepared with the run's stored preprocessing), the model restored from the run's checkpoint,
// and the predictions and scores. mode-predict and the workbench's "Predict on a file" share it.

#include "data/FeatureRecipe.h"
#include "predict/Predictor.h"
#include "store/RunStore.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace mode {

// Rows ready for the model, and what was found out while reading them.
struct PredictionInput {
    Dataset data;
    FeatureRecipe recipe;
    bool hasTarget = false;
    std::vector<std::string> ignored;           // columns of the file the model does not read
    std::map<std::string, std::int64_t> unseen; // column -> cells with a category never seen
    std::string what;                           // "its test split (600 rows)", "new.csv"
};

struct PredictionRequest {
    std::string data;  // a file in the run's format, or
    std::string split; // "train", "val" or "test": the run's own rows
    int epoch = 0;     // 0: the last; else one whose model the store keeps
};

struct StoredPrediction {
    RunRecord record;
    PredictionInput input;
    Predictions predictions;
    std::optional<PredictionScores> score; // where the rows have the target
    int epoch = 0;                         // the model's
    // Wall time of reading (the store, the rows and their preparation, the model's restore)
    // and of predicting (the forward pass and, with a target, the scoring).
    double readSeconds = 0, predictSeconds = 0;
};

// Throws DataError, RunStoreError, CheckpointError or ConfigError saying what is wrong.
StoredPrediction predictStoredRun(const std::string& storePath, std::int64_t run,
                                  const PredictionRequest& request,
                                  const LoadProgress& progress = {});

// The rows of a run's own split ("train", "val" or "test"), its data file read again and
// prepared as in training (refused where the file changed since); for "test", in the order of
// the run's per-sample routing. The second form reads the run's config from the store.
PredictionInput runSplitRows(const ExperimentConfig& config, const RunStart& start,
                             const std::string& split, const LoadProgress& progress = {});
PredictionInput runSplitRows(const std::string& storePath, std::int64_t run,
                             const std::string& split, const LoadProgress& progress = {});

// The predictions as per-sample routing (the routing explorer's rows): row i of the input,
// its label (NaN where the file has no target), top expert and its weight, the mixture's and
// the top expert's own prediction. No similarity matrix (the outputs are probabilities).
SampleRouting sampleRoutingOf(const StoredPrediction& s);

// The table: row, prediction, target (where known), p_<class> (classification), top_expert,
// gate_<e>, expert_<e>_prediction.
std::vector<std::string> predictionHeader(const Predictions& p, const FeatureRecipe& recipe,
                                          bool target);
std::vector<std::string> predictionFields(const Predictions& p, const PredictionInput& in,
                                          std::int64_t row);
// Written row by row, as they are made: CSV, or one JSON object whose "rows" hold an object a
// line (with run_id, epoch, ignored_columns, unseen_categories and, with a target, score).
void writePredictionsCsv(std::ostream& out, const StoredPrediction& s);
void writePredictionsJson(std::ostream& out, const StoredPrediction& s);
std::string predictionsCsv(const StoredPrediction& s);

// The model of a run's epoch (0: the last) as the store keeps it; DataError naming the epochs
// it keeps where it does not keep that one.
Checkpoint storedModel(const RunStore& store, std::int64_t run, int epoch = 0);

// The run's model of `epoch` (0: the last) as TorchScript at `path` and its sidecar (the
// preprocessing) beside it, `path` with .json; returns the sidecar's path and the epoch of the
// model.
std::pair<std::string, int> exportStoredModel(const std::string& storePath, std::int64_t run,
                                              const std::string& path, int epoch = 0);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A stored run's model, restored from its checkpoint, applied to rows prepared with the run's
// own preprocessing (data/FeatureRecipe.h): each row's prediction, class probabilities (or
// value), gate weights and every expert's own output; and, for rows with targets, the scores
// the run reports (the same evaluation: accuracy, probing of each expert). Plain types only: the
// command-line tools include it without <torch/torch.h>.

#include "config/ExperimentConfig.h"
#include "data/Dataset.h"
#include "data/FeatureRecipe.h"
#include "train/TrainingEvents.h"

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mode {

struct Predictions {
    std::int64_t rows = 0;
    int experts = 0, outputs = 0; // outputs: classes, or 1 for regression
    bool classification = true;
    // false for the baselines (model.kind dense, ensemble): no gate, so no top expert; gate holds
    // the constant mixing weight 1/E.
    bool gated = true;
    std::vector<float> output;       // rows x outputs: class probabilities, or the value
    std::vector<float> gate;         // rows x experts
    std::vector<float> expertOutput; // rows x experts x outputs: each expert's own
    std::int64_t predictedClass(std::int64_t row) const;
    int topExpert(std::int64_t row) const;
    std::int64_t expertClass(std::int64_t row, int expert) const;
};

struct PredictionScores {
    double accuracy = 0, loss = 0, rmse = 0, r2 = 0; // accuracy: R^2 for regression
    std::vector<ExpertMetrics> experts;              // allocation, probing, load, similarity
};

class Predictor {
  public:
    // Throws CheckpointError for a checkpoint that does not fit the run's model.
    Predictor(const ExperimentConfig& config, const FeatureRecipe& recipe,
              const Checkpoint& checkpoint);
    ~Predictor();
    Predictor(const Predictor&) = delete;
    Predictor& operator=(const Predictor&) = delete;

    // Each row's prediction, in one forward pass over the rows; where `scores` is given and the
    // rows have labels or values, it gets the run's evaluation of the same outputs (the
    // mixture's scores and the probing table, as the run reports a split).
    Predictions predict(const Dataset& ready,
                        std::optional<PredictionScores>* scores = nullptr) const;
    const FeatureRecipe& recipe() const;

    // The model as a TorchScript module, built in C++ from TorchScript source (no Python needed
    // to write it): forward(x) takes the preprocessed inputs [B, D] (float32) and returns
    // (mixture [B, C], gate weights [B, E], expert outputs [B, E, C]); the mixture and the
    // experts' outputs are logits for classification (softmax gives the probabilities). Every
    // backbone is scripted, the Transformer's included.
    void exportTorchScript(const std::string& path) const;
    // The sidecar that goes with it: the preprocessing (FeatureRecipe's JSON) and what the
    // outputs mean.
    nlohmann::json sidecar() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

} // namespace mode

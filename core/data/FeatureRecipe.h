// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// How a run turned its data into the model's inputs, learnt from its training rows and kept with
// the run (mode-predict, the exported model's sidecar): the inputs' names, the values missing
// cells got, the standardisation, the category levels, the text vocabulary, the image shape.
// New rows prepared with it get bit for bit what the training rows got.

#include "config/Choices.h"
#include "data/Dataset.h"

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mode {

struct FeatureRecipe {
    std::int64_t inputCount = 0;           // the model's inputs
    std::vector<std::string> featureNames; // their names, in order (tables)
    std::vector<double> mean, scale;       // per input: x -> (x - mean) / scale
    std::vector<float> fill;               // per numeric input: a missing cell's value (NaN: none)
    std::vector<Dataset::Categorical> categoricals; // one-hot groups, with their fill level
    bool imputes = false;                           // the run filled missing cells (impute = mean)
    std::string target;                             // the target column of a CSV file
    bool classification = true;
    std::vector<std::string> classNames;
    std::vector<std::int64_t> imageShape; // images: {channels, height, width}
    std::vector<std::string> vocabulary;  // text: id -> word (0 pads, 1 unknown)
    std::int64_t textLength = 0;          // text: tokens per row

    // The recipe of a dataset prepared for training (fitOnTrainingRows, standardise, encodeText).
    static FeatureRecipe of(const Dataset& prepared, ImputeKind impute);
    nlohmann::json toJson() const;
    // Throws DataError for a recipe that does not hold together (a foreign or damaged store).
    static FeatureRecipe fromJson(const nlohmann::json& j);
    static FeatureRecipe fromJsonText(const std::string& text); // as stored with a run
    bool empty() const { return featureNames.empty() && vocabulary.empty(); }
    std::int64_t inputs() const { return inputCount; }
    bool isText() const { return !vocabulary.empty(); }
};

// New rows of a CSV file as the recipe's inputs. Columns are found by name, in any order; the
// others are ignored (and named). A category the run never saw gets all zeros in its group (an
// unseen category, counted); a missing cell is filled as in training, or refused where the run
// refused missing cells. The target column, where the file has it, becomes labels (a class the
// run does not know is refused) or values. Every refusal names the file, line and column.
struct RecipeRows {
    Dataset data; // features ready for the model; labels or values when hasTarget
    bool hasTarget = false;
    std::vector<std::string> ignored;           // columns the model does not read
    std::map<std::string, std::int64_t> unseen; // column -> cells with a level the run never saw
};
RecipeRows applyRecipeToCsv(const std::string& path, const FeatureRecipe& recipe,
                            const LoadProgress& progress = {});

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The metrics vocabulary: one declaration per metric a run reports, step by step or epoch by
// epoch (its name, which is also the store's column, the exports' header and the JSON key; its
// label; how many decimals it is shown with; how it is read from and written to the event
// structs). The store's SQL, the CSV and JSON exports and the Compare view's metric list are
// made from it: a metric is added with one line here plus the code that computes it.

#include "train/TrainingEvents.h"

#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mode {

struct StepMetric {
    std::string name;  // "loss": the column of the store's steps table
    std::string label; // "loss (total)"
    int decimals = 4;
    std::function<double(const StepMetrics&)> get;
    std::function<void(StepMetrics&, double)> set;
};

struct EpochMetric {
    std::string name;  // "val_accuracy": the column of the store's epochs table
    std::string label; // "validation accuracy"
    int decimals = 4;
    // Both or neither: without them (a metric declared by addEpochMetric), the value lives in
    // EpochMetrics::extra under the metric's name.
    std::function<std::optional<double>(const EpochMetrics&)> get;
    std::function<void(EpochMetrics&, std::optional<double>)> set;
};

const std::vector<StepMetric>& stepMetrics();
// A deque: addEpochMetric never moves the metrics already declared (the store keeps pointers).
const std::deque<EpochMetric>& epochMetrics();
const StepMetric* findStepMetric(const std::string& name);   // nullptr if none
const EpochMetric* findEpochMetric(const std::string& name); // nullptr if none

// Declares one more epoch metric, e.g. in a test or an extension. Its name must be a new
// lower_snake_case word (it becomes a column: stores opened for writing afterwards gain it).
// Throws std::invalid_argument otherwise. Call before any store is opened, on one thread.
void addEpochMetric(EpochMetric metric);

} // namespace mode

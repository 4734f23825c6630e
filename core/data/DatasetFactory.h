#pragma once
// Turns the data section of an experiment into a Dataset: a built-in by name or a user's file.

#include "config/ExperimentConfig.h"
#include "data/Dataset.h"

#include <string>
#include <vector>

namespace mode {

Dataset loadDataset(const DataConfig& data);
std::vector<std::string> builtinDatasets();

} // namespace mode

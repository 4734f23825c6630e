// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Turns the data section of an experiment into a Dataset: a built-in by name or a user's file.

#include "config/ExperimentConfig.h"
#include "data/CsvLoader.h"
#include "data/Dataset.h"

#include <string>
#include <vector>

namespace mode {

// `progress` hears how far a file's load has come and may stop it (LoadStopped).
Dataset loadDataset(const DataConfig& data, const LoadProgress& progress = {});
std::vector<std::string> builtinDatasets();
// What keeps the built-in dataset `data` names from loading on this machine (not installed, not
// built yet), or "" (also for a user's file: dataPathProblem checks those). Validation knows
// the names only; this knows the machine.
std::string builtinDatasetProblem(const DataConfig& data);
// A data file the setup builds (debian-descriptions.tsv): looked for in $MODE_DATA_DIR, the
// build's data/ folder, the user's data directory (mode-workbench/datasets), then
// /usr/share/mode-workbench/datasets. Empty if none has it.
std::string builtinDataFile(const std::string& name);
// How the data section reads a CSV file (target, task, sub-task, impute, dropped columns).
// Throws ConfigError for an unknown choice.
CsvOptions csvOptionsOf(const DataConfig& data);
// What a run does to its data before training, all of it learnt from the training rows only:
// the split (stratified, by the seed), the text vocabulary, the imputed values and category
// levels, the standardisation. Returns the split.
Split prepareForTraining(Dataset& d, const ExperimentConfig& c);
// .tsv, or a first line with a TAB and no comma.
bool looksLikeTsv(const std::string& path);

} // namespace mode

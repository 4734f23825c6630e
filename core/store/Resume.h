// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What continuing a stored run needs, read from the store and checked: its experiment, its
// latest checkpoint and the metrics of the epoch that checkpoint closed. Shared by
// `mode-train --resume` and the workbench's Continue action.

#include "config/ExperimentConfig.h"
#include "data/Dataset.h"
#include "store/RunStore.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace mode {

class Trainer;

struct ResumePlan {
    std::int64_t run = 0;
    std::string name;
    ExperimentConfig config;
    Checkpoint checkpoint;
    std::optional<EpochMetrics> lastEpoch;
    std::string datasetFingerprint; // of the data the run started on
};

// Throws RunStoreError saying why the run cannot be continued: unknown, finished, still being
// trained by a live process, or without a checkpoint (ended before its first epoch did).
ResumePlan planResume(const RunStore& store, std::int64_t run);

// Throws DataError if `data` is not the data the run started on (its fingerprint differs).
void requireSameData(const ResumePlan& plan, const Dataset& data);

// Whether the store's record says the run can be continued (for enabling a button).
bool canResume(const RunRecord& record);

// The trainer that continues the plan's run: its experiment (with `threads` LibTorch threads),
// its data checked against the run's (requireSameData), restored from the checkpoint. Throws
// DataError, ConfigError or CheckpointError saying what is wrong.
std::unique_ptr<Trainer> resumedTrainer(const ResumePlan& plan, int threads,
                                        const LoadProgress& progress = {});

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/Resume.h"

#include "data/DatasetFactory.h"
#include "train/Trainer.h"

namespace mode {

bool canResume(const RunRecord& r) {
    return r.hasCheckpoint && r.status != RunStatus::Finished && r.status != RunStatus::Running;
}

ResumePlan planResume(const RunStore& store, std::int64_t run) {
    const RunRecord record = store.run(run);
    const std::string which = "run " + std::to_string(run);
    if (record.status == RunStatus::Finished)
        throw RunStoreError(which + " finished; there is nothing to resume");
    if (record.status == RunStatus::Running)
        throw RunStoreError(which + " is still being trained by another process; stop it first");
    ResumePlan plan;
    plan.run = run;
    plan.name = record.name;
    try {
        plan.config = record.config();
    } catch (const std::exception& e) {
        throw RunStoreError(which + ": its stored experiment cannot be read: " + e.what());
    }
    std::optional<Checkpoint> checkpoint;
    try {
        checkpoint = store.checkpoint(run);
    } catch (const RunStoreError& e) {
        // A damaged checkpoint is never trained on: the run is refused, what it stored stays.
        throw RunStoreError(which + " cannot be resumed: " + e.what() + ". Its " +
                            std::to_string(record.epochsCompleted) +
                            " stored epochs stay as they are (mode-runs show " +
                            std::to_string(run) + "); start the experiment again to train it");
    }
    if (!checkpoint)
        throw RunStoreError(
            which +
            " has no checkpoint (it ended before its first epoch did); start it again instead");
    plan.checkpoint = std::move(*checkpoint);
    for (auto& e : store.epochs(run))
        if (e.epoch == plan.checkpoint.epoch) plan.lastEpoch = e;
    plan.datasetFingerprint = record.datasetFingerprint;
    return plan;
}

void requireSameData(const ResumePlan& plan, const Dataset& data) {
    if (!plan.datasetFingerprint.empty() && data.fingerprint() != plan.datasetFingerprint)
        throw DataError(plan.config.datasetLabel() + ": the data changed since run " +
                        std::to_string(plan.run) + " started (fingerprint " + data.fingerprint() +
                        ", stored " + plan.datasetFingerprint +
                        "); a resumed run needs the same data");
}

std::unique_ptr<Trainer> resumedTrainer(const ResumePlan& plan, int threads,
                                        const LoadProgress& progress) {
    ExperimentConfig c = plan.config;
    c.name = plan.name;
    c.train.threads = threads;
    Dataset data = loadDataset(c.data, progress);
    requireSameData(plan, data);
    auto trainer = std::make_unique<Trainer>(c, std::move(data));
    trainer->resumeFrom(plan.checkpoint, plan.lastEpoch);
    return trainer;
}

} // namespace mode

#pragma once
// Writes a run into a RunStore as it trains: steps are buffered and flushed in one transaction
// every `flushSteps` steps or `flushInterval`, whichever comes first; each epoch, its metrics
// and the checkpoint. A write that fails (disk full, file gone read-only) is kept as error()
// and asks the trainer to stop: the run ends cleanly and what was stored stays intact.

#include "store/RunStore.h"
#include "train/TrainerControl.h"
#include "train/TrainingEvents.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mode {

struct RecorderOptions {
    int flushSteps = 256;
    std::chrono::milliseconds flushInterval{500};
    bool checkpoints = true;
};

class RunRecorder : public TrainingObserver {
public:
    RunRecorder(RunStore& store, ExperimentConfig config, std::string name, TrainerControl* control,
                RecorderOptions options = {});

    void onRunStart(const RunStart& start) override;
    void onStep(const StepMetrics& step) override;
    void onEpoch(const EpochMetrics& epoch) override;
    bool wantsCheckpoints() const override { return options_.checkpoints && runId_.has_value(); }
    void onCheckpoint(const Checkpoint& checkpoint) override;
    void onRunEnd(const RunResult& result) override;

    std::optional<std::int64_t> runId() const { return runId_; }
    // The first write that failed, with the file and the reason; the run was asked to stop.
    const std::optional<std::string>& error() const { return error_; }

private:
    void flush();
    template <typename F> void write(F&& f);

    RunStore& store_;
    ExperimentConfig config_;
    std::string name_;
    TrainerControl* control_;
    RecorderOptions options_;
    std::optional<std::int64_t> runId_;
    std::optional<std::string> error_;
    std::vector<StepMetrics> pending_;
    std::chrono::steady_clock::time_point lastFlush_;
};

} // namespace mode

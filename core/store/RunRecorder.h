// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Writes a run into a RunStore as it trains, on a writer thread of its own so that the trainer
// never waits on the disk: steps are buffered and handed over every `flushSteps` steps or
// `flushInterval`, whichever comes first, and written in one transaction; each epoch, its
// metrics and the checkpoint. The trainer runs at most one epoch ahead of the epoch being
// written: at an epoch's end it waits until the previous epoch is in the store. A write that finds
// the store locked by another program is tried again until `lockWait` has passed (the training
// waits meanwhile); a write that fails for good (disk full, file read-only, locked too long) is
// kept as error() and asks the trainer to stop: the run ends cleanly, what was stored stays intact,
// and the run's row counts only what was stored. After onRunEnd returns, everything has been
// written.
//
// The RunStore is used by the writer thread only, from onRunStart to onRunEnd.

#include "config/Choices.h"
#include "store/RunStore.h"
#include "train/TrainerControl.h"
#include "train/TrainingEvents.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace mode {

struct RecorderOptions {
    int flushSteps = 256;
    std::chrono::milliseconds flushInterval{500};
    bool checkpoints = true;
    KeepModels models = KeepModels::Best; // with checkpoints only
    std::size_t maxQueued = 64; // writes waiting; beyond it the trainer waits (a very slow disk)
    std::chrono::milliseconds lockWait{
        60000}; // how long a write may wait for another program's lock
};

class RunRecorder : public TrainingObserver {
  public:
    RunRecorder(RunStore& store, ExperimentConfig config, std::string name, TrainerControl* control,
                RecorderOptions options = {});
    // Stores the run's end if that failed before (e.g. the file was locked): once more.
    ~RunRecorder() override;

    // Continue the stored run `run` (see RunStore::resumeRun) instead of starting a new one; call
    // before the trainer starts, with the trainer resumed from the same checkpoint.
    void resumeRun(std::int64_t run) { resumeId_ = run; }

    void onRunStart(const RunStart& start) override;
    void onStep(const StepMetrics& step) override;
    void onEpoch(const EpochMetrics& epoch) override;
    bool wantsCheckpoints() const override { return options_.checkpoints && runId_.has_value(); }
    bool wantsModels() const override {
        return wantsCheckpoints() && keptModels() != KeepModels::Last;
    }
    void onCheckpoint(const Checkpoint& checkpoint) override;
    void onRunEnd(const RunResult& result) override;

    std::optional<std::int64_t> runId() const { return runId_; }
    // The first write that failed, with the file and the reason; the run was asked to stop.
    std::optional<std::string> error() const;
    // The run's result as it is stored: failed, naming the store's error, if a write failed.
    RunResult storedResult(RunResult result) const;

  private:
    // The models kept: as asked, but the last only without validation rows (no best epoch).
    KeepModels keptModels() const;
    void post(std::function<void()> write);
    void writerLoop();
    void fail(const std::string& what);
    void stopWriter();

    RunStore& store_;
    ExperimentConfig config_;
    std::string name_;
    TrainerControl* control_;
    RecorderOptions options_;
    std::optional<std::int64_t> runId_;
    std::optional<std::int64_t> resumeId_;
    std::int64_t validationRows_ = 0;
    std::vector<StepMetrics> pending_;
    std::chrono::steady_clock::time_point lastFlush_;
    std::optional<RunResult> unstoredEnd_;
    int epochsPosted_ = 0;  // epochs handed to the writer (trainer thread; read under m_)
    int epochsWritten_ = 0; // epochs in the store (under m_)
    int lastStoredEpoch_ = 0;

    mutable std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> queue_;
    bool closing_ = false;
    std::optional<std::string> error_;
    std::thread writer_;
};

} // namespace mode

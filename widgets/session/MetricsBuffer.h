// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The hand-over from the trainer's thread to the GUI thread: the trainer appends under a lock,
// the GUI takes everything at once on a timer. Plain structs only; no tensors, no Qt.

#include "train/TrainingEvents.h"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mode {

struct MetricsBatch {
    std::optional<RunStart> start;
    std::optional<std::int64_t> runId;
    std::vector<StepMetrics> steps;
    std::vector<EpochMetrics> epochs;
    std::optional<RunResult> end;
    std::optional<std::string> startError; // the run could not start (bad file, bad store)
    bool stoppedBeforeStart = false;       // ... because the user stopped the data's load
    // Bytes of the data file read so far and its size (0 when unknown), while it loads.
    std::optional<std::pair<std::uint64_t, std::uint64_t>> loaded;
    std::int64_t droppedSteps = 0; // steps not kept because the GUI fell far behind

    bool empty() const {
        return !start && steps.empty() && epochs.empty() && !end && !startError && !loaded;
    }
};

class MetricsBuffer : public TrainingObserver {
  public:
    // At most this many steps wait for the GUI; older ones are dropped beyond it (they are in
    // the store), so a stalled GUI cannot grow memory without bound.
    explicit MetricsBuffer(std::size_t maxPendingSteps = 200000)
        : maxPendingSteps_(maxPendingSteps) {}

    void onRunStart(const RunStart& start) override;
    void onStep(const StepMetrics& step) override;
    void onEpoch(const EpochMetrics& epoch) override;

    void setRunId(std::int64_t id);
    void finish(const RunResult& result);
    void failToStart(const std::string& message, bool stopped = false);
    void setLoaded(std::uint64_t done, std::uint64_t total);

    // Everything since the last call.
    MetricsBatch take();

  private:
    std::mutex m_;
    MetricsBatch pending_;
    std::size_t maxPendingSteps_;
};

} // namespace mode

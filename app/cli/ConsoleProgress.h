// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Progress of a run on a terminal: a redrawn bar with samples/s and ETA on a TTY, one line per
// epoch otherwise (logs of batch jobs stay readable).

#include "train/TrainingEvents.h"

#include <chrono>
#include <ostream>

namespace mode {

class ConsoleProgress : public TrainingObserver {
  public:
    ConsoleProgress(std::ostream& out, bool enabled, bool terminal);
    void onRunStart(const RunStart& s) override;
    void onStep(const StepMetrics& m) override;
    void onEpoch(const EpochMetrics& m) override;
    void onRunEnd(const RunResult& r) override;

  private:
    void clearBar();
    std::ostream& out_;
    bool enabled_, terminal_;
    bool barShown_ = false;
    RunStart start_;
    std::chrono::steady_clock::time_point lastDraw_{};
};

} // namespace mode

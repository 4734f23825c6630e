// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Progress of a run on a terminal: a redrawn bar with samples/s and ETA on a TTY, one line per
// epoch otherwise (logs of batch jobs stay readable).

#include "train/TrainingEvents.h"

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

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

// A long data load: "loading FILE: 45% (70.3 of 155 MiB)" redrawn on a terminal, one line every
// 10 s otherwise; nothing for a load shorter than a second.
class LoadProgressLine {
  public:
    LoadProgressLine(std::ostream& out, bool enabled, bool terminal, std::string what);
    ~LoadProgressLine() { finish(); }
    bool operator()(std::uint64_t done, std::uint64_t total); // always true: go on
    void finish();                                            // clears the line

  private:
    std::ostream& out_;
    bool enabled_, terminal_;
    std::string what_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_, lastDraw_{};
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// How far a sweep is, read from the store: each point of the grid, matched to the runs of its
// experiment (the config hash mode-sweep matches by), is waiting, running, finished, failed
// (or diverged) or stopped (or interrupted: mode-sweep resumes it). The workbench's sweep view
// shows it as the queue.

#include "store/RunStore.h"
#include "sweep/Sweep.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mode {

enum class PointState { Waiting, Running, Finished, Failed, Stopped };
const char* toString(PointState s);

struct PointStatus {
    std::size_t index = 0;
    std::string name;
    PointState state = PointState::Waiting;
    std::int64_t run = 0; // the run that decides the state (0: none)
};

// `threads`: the LibTorch threads each run was given (mode-sweep --threads), part of the config
// the store matches. A finished run of a point counts first, else its newest run.
std::vector<PointStatus> sweepStatus(const Sweep& sweep, int threads,
                                     const std::vector<RunRecord>& runs);

} // namespace mode

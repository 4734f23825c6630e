// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/TrainingEvents.h"

#include <stdexcept>

namespace mode {

std::string toString(RunStatus s) {
    switch (s) {
    case RunStatus::Running:
        return "running";
    case RunStatus::Finished:
        return "finished";
    case RunStatus::Stopped:
        return "stopped";
    case RunStatus::Failed:
        return "failed";
    case RunStatus::Diverged:
        return "diverged";
    case RunStatus::Interrupted:
        return "interrupted";
    }
    return "failed";
}

RunStatus runStatusFromString(const std::string& s) {
    for (auto st : {RunStatus::Running, RunStatus::Finished, RunStatus::Stopped, RunStatus::Failed,
                    RunStatus::Diverged, RunStatus::Interrupted})
        if (toString(st) == s) return st;
    throw std::invalid_argument("unknown run status '" + s + "'");
}

} // namespace mode

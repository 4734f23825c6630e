// SPDX-License-Identifier: GPL-3.0-or-later
#include "sweep/SweepProgress.h"

#include <map>

namespace mode {

const char* toString(PointState s) {
    switch (s) {
    case PointState::Waiting:
        return "waiting";
    case PointState::Running:
        return "running";
    case PointState::Finished:
        return "finished";
    case PointState::Failed:
        return "failed";
    case PointState::Stopped:
        return "stopped";
    }
    return "?";
}

namespace {
PointState stateOf(RunStatus s) {
    switch (s) {
    case RunStatus::Running:
        return PointState::Running;
    case RunStatus::Finished:
        return PointState::Finished;
    case RunStatus::Failed:
    case RunStatus::Diverged:
        return PointState::Failed;
    default:
        return PointState::Stopped;
    }
}
} // namespace

std::vector<PointStatus> sweepStatus(const Sweep& sweep, int threads,
                                     const std::vector<RunRecord>& runs) {
    std::map<std::string, const RunRecord*> byHash; // the finished one, else the newest
    for (const auto& r : runs) {
        auto& seen = byHash[r.configHash];
        const bool finished = r.status == RunStatus::Finished;
        if (!seen || (finished && seen->status != RunStatus::Finished) ||
            (finished == (seen->status == RunStatus::Finished) && r.id > seen->id))
            seen = &r;
    }
    std::vector<PointStatus> out;
    for (const auto& p : sweep.points()) {
        ExperimentConfig c = p.config;
        c.train.threads = threads;
        PointStatus s;
        s.index = p.index;
        s.name = c.name;
        const auto it = byHash.find(configHash(c));
        if (it != byHash.end() && it->second) {
            s.state = stateOf(it->second->status);
            s.run = it->second->id;
        }
        out.push_back(std::move(s));
    }
    return out;
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A finished (or stopped, or failed) run as JSON and as a terminal summary: the keys scripts
// rely on (run_id, test_accuracy, experts[].expert/allocated/probing_accuracy,
// gate_routing_accuracy) are produced here, once, for every tool.

#include "config/ExperimentConfig.h"
#include "train/EventsJson.h"
#include "train/TrainingEvents.h"

#include <nlohmann/json.hpp>

#include <ostream>

namespace mode {

// Remembers what the run announced at its start.
class RunStartRecorder : public TrainingObserver {
  public:
    void onRunStart(const RunStart& s) override { start = s; }
    RunStart start;
};

// runId: the store's id of the run, or null.
nlohmann::json runResultJson(const ExperimentConfig& config, const RunStart& start,
                             const RunResult& result, const nlohmann::json& runId);

void printRunSummary(std::ostream& out, const ExperimentConfig& config, const RunStart& start,
                     const RunResult& result);
// The probing table: each expert's allocation, share, probing accuracy (MSE), load, similarity,
// headed by which rows it is on ("the test split").
void printExpertTable(std::ostream& out, bool classification,
                      const std::vector<ExpertMetrics>& experts, const std::string& rows);

} // namespace mode

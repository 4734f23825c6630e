// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The runs behind a report as one CSV file, one row per run: what a reader re-analyses in
// pandas or R, and what mode-report rebuilds the same report from, byte for byte, without the
// store. Each run is kept at both epochs a report may score it at (its best validation epoch and
// its last), with the figures the verdicts read; the experiment's settings, the experts' probing
// and the routing by class are JSON cells.
//
// Columns: run_id, dataset, config_signature, mode_version, alpha, seed, test_rows, val_rows,
// classification, wall_seconds, then for best_ and last_: epoch, test_accuracy, val_accuracy,
// gate_routing_accuracy, probing_accuracy, expert_similarity; then data_fingerprint, config,
// best_experts, last_experts, best_routing, last_routing. An empty cell is a missing value.

#include "analysis/AlphaStudy.h"

#include <ostream>
#include <string>
#include <vector>

namespace mode {

// The finished runs given (in their order: newest first, as a study wants them).
void writeStudyCsv(std::ostream& out, const std::vector<StudyRun>& runs);
// The runs of a file written by writeStudyCsv, in its order. Throws DataError naming the file,
// the line and the column for a file that is not one.
std::vector<StudyRun> readStudyCsv(const std::string& path);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Best one-to-one assignment (Hungarian method) and gate routing accuracy: how many samples
// the gate sends to the expert that owns their sub-task, with owners chosen to match best.

#include <cstdint>
#include <vector>

namespace mode {

// For a rows x cols matrix of scores (row-major), returns for each row the column assigned to it
// (-1 when rows > cols and the row is left out) so that the total score is as large as possible
// and no column is used twice.
std::vector<int> maxWeightAssignment(const std::vector<double>& scores, int rows, int cols);

// counts: subtasks x experts, how many samples of each sub-task have each expert as top expert.
// Returns the share of samples routed to the owner of their sub-task under the best matching.
double gateRoutingAccuracy(const std::vector<std::int64_t>& counts, int subtasks, int experts);

} // namespace mode

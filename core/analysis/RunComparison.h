// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What the compare view shows of the runs' settings: the config side by side and where it
// differs, and runs grouped by a config field. Outcomes against alpha: analysis/AlphaStudy.h.

#include "store/RunStore.h"

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace mode {

// Every leaf of a config as "section.key" -> its value printed as JSON ("loss.alpha" -> "0.1").
std::map<std::string, std::string> flattenConfig(const nlohmann::json& config);

struct ConfigDiffRow {
    std::string field;
    std::vector<std::string> values; // one per run, "" where the run lacks the field
    bool differs = false;
};
// The rows that differ come first, then the others, each part in the order of the field names.
std::vector<ConfigDiffRow> configTable(const std::vector<RunRecord>& runs, bool differencesOnly);

// Runs grouped by the value of one config field ("loss.alpha"), or by everything but the seed
// (field "all but seed": runs that differ only in seed share a group). Groups keep the runs'
// order; each group's label is the field's value, or for seed groups what the group shares that
// sets it apart and its seeds ("\u03b1 0.1, seeds 1-3").
struct RunGroup {
    std::string label;
    std::vector<std::size_t> members; // indices into the runs given
};
std::vector<RunGroup> groupRuns(const std::vector<RunRecord>& runs, const std::string& field);

// The run a comparison starts from: the first plain MoE (alpha = 0) of `runs`, else the first.
std::size_t baselineRun(const std::vector<RunRecord>& runs);

// Expert indices are arbitrary: the same routing learnt twice comes out permuted. The order of
// `other`'s experts that lines them up with `reference`'s by routing: position k holds the expert
// of `other` matched to reference's expert k, the matching (Hungarian) maximising the summed
// similarity of the experts' columns of mean gate weights over the rows both matrices name
// (each row weighted by its samples in `other`). Experts left unmatched (one matrix has more)
// follow in index order.
std::vector<int> alignExperts(const RoutingMatrix& reference, const RoutingMatrix& other);

} // namespace mode

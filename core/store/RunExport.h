// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Stored runs as JSON and CSV, for `mode-runs` and the workbench's export actions.

#include "store/RunStore.h"

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

namespace mode {

// "2026-11-29T05:12:03Z"
std::string isoTimeUtc(double unixSeconds);
// "2026-11-29 06:12" in the local time zone
std::string localTimeShort(double unixSeconds);

// id, name, status, dataset, alpha, experts, test_accuracy, started, ... (one run of a list).
nlohmann::json runRecordJson(const RunRecord& r);
// The record, its config, every step and every epoch (with routing and experts).
nlohmann::json exportRunJson(const RunStore& store, std::int64_t id);
// One row per step; the epoch metrics on the row of each epoch's last step (empty elsewhere).
void exportRunCsv(const RunStore& store, std::int64_t id, std::ostream& out);
// One row per epoch, the per-expert metrics as columns expert<i>_<metric>.
void exportEpochsCsv(const RunStore& store, std::int64_t id, std::ostream& out);

} // namespace mode

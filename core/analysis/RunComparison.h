#pragma once
// What the compare view shows, computed from stored runs: the config side by side and where it
// differs, final metrics against a baseline, runs grouped by a config field, and a metric
// against alpha with the spread over seeds.

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
std::vector<ConfigDiffRow> configTable(const std::vector<RunRecord>& runs, bool differencesOnly);

// Final metrics of each run and its delta against the baseline run.
struct MetricColumnValues {
    std::string metric;
    std::vector<std::optional<double>> values, deltas; // delta: value - baseline's value
};
const std::vector<std::string>& finalMetricNames(); // test_accuracy, val_accuracy, best_val_accuracy, ...
std::optional<double> finalMetric(const RunRecord& run, const std::string& metric);
std::vector<MetricColumnValues> finalMetricsTable(const std::vector<RunRecord>& runs, std::size_t baseline);

// Runs grouped by the value of one config field ("loss.alpha"), or by everything but the seed
// (field "all but seed": runs that differ only in seed share a group). Groups keep the runs'
// order; each group's label is the field's value (or the first run's name).
struct RunGroup {
    std::string label;
    std::vector<std::size_t> members; // indices into the runs given
};
std::vector<RunGroup> groupRuns(const std::vector<RunRecord>& runs, const std::string& field);

// A metric against alpha: for each alpha, the mean and sample standard deviation over the runs
// with that alpha (the seeds), sorted by alpha (alpha = 0, the plain MoE, first).
struct SweepPoint {
    double alpha = 0;
    double mean = 0, std = 0;
    std::size_t runs = 0;
};
std::vector<SweepPoint> alphaSweep(const std::vector<RunRecord>& runs, const std::string& metric);

} // namespace mode

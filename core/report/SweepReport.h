#pragma once
// The reproduction report from a store of sweep runs: per dataset, each metric's mean and
// standard deviation for every alpha (alpha = 0 is the plain MoE), the best alpha against
// alpha = 0 in paired tests over seeds, expert probing of the MoE against the best MoDE, gate
// routing accuracy where sub-tasks are known, and expert similarity against alpha; and a verdict
// on each claim of the method. Plain C++: the program that draws the figures is mode-report.

#include "store/RunStore.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mode {

struct MetricSummary {
    double mean = 0, std = 0;
    std::size_t runs = 0;
};

struct AlphaRow {
    double alpha = 0;
    std::size_t runs = 0;
    MetricSummary testAccuracy, similarity, probing; // probing: allocation-weighted expert accuracy
    std::optional<MetricSummary> routing;            // where sub-tasks are known
};

struct DatasetReport {
    std::string dataset;
    std::vector<AlphaRow> rows;             // by alpha, 0 first
    std::optional<double> bestAlpha;        // the alpha > 0 with the best mean test accuracy
    std::size_t pairs = 0;                  // seeds run at both alpha 0 and the best alpha
    double meanGain = 0;                    // test accuracy, best alpha - alpha 0, over the pairs
    double tTestP = 1, wilcoxonP = 1;
    // Probing, expert by expert (ranked by allocated samples), mean over the paired seeds.
    std::vector<double> probingMoe, probingBest;
    double wallSeconds = 0;                 // training time of all runs of the dataset
};

std::vector<DatasetReport> buildSweepReport(const RunStore& store, const std::vector<std::string>& datasets = {});

// Claims 1-4 of the method, judged on a report: "held", "did not hold" or "not measured".
struct ClaimVerdict {
    std::string claim, verdict, evidence;
};
std::vector<ClaimVerdict> judgeClaims(const std::vector<DatasetReport>& reports, double significance = 0.05);

// Where a figure of a dataset's metric goes: <folder>/<dataset>-<metric>.png.
std::string figureFile(const std::string& folder, const std::string& dataset, const std::string& metric);

// Markdown: figures are named <dataset>-<metric>.png in figureFolder (relative to the report).
std::string sweepReportMarkdown(const std::vector<DatasetReport>& reports, const std::string& figureFolder,
                                const std::string& preamble);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
// The runs behind a report, as CSV: written and read back, they give the same report byte for
// byte; a damaged file is refused naming its line and column.

#include "report/StudyCsv.h"
#include "report/SweepReport.h"

#include "data/Dataset.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>
#include <sstream>

using namespace mode;
using namespace mode::test;

namespace {

// A sweep of 3 alphas x 6 seeds with everything a report reads: probing by expert, routing by
// class, similarity, routing accuracy, both scoring epochs, values that are not short decimals.
std::vector<StudyRun> sweep() {
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<StudyRun> runs;
    std::int64_t id = 1;
    for (int seed = 1; seed <= 6; ++seed)
        for (double alpha : {0.0, 0.1, 1.0}) {
            ExperimentConfig c;
            c.loss.alpha = alpha;
            c.train.seed = static_cast<std::uint64_t>(seed);
            RunRecord r;
            r.id = id++;
            r.status = RunStatus::Finished;
            r.dataset = "regimes";
            r.datasetFingerprint = "600:beef";
            r.configJson = c.toJson().dump();
            r.alpha = alpha;
            r.seed = seed;
            r.modeVersion = "0.1.0";
            r.start.testRows = 97;
            r.start.valRows = 61;
            r.wallSeconds = 1 + u(rng);
            std::vector<EpochMetrics> epochs;
            for (int e = 1; e <= 3; ++e) {
                EpochMetrics m;
                m.epoch = e;
                m.testAccuracy = std::round(97 * (0.7 + 0.2 * u(rng))) / 97;
                m.valAccuracy = std::round(61 * (0.7 + 0.2 * u(rng))) / 61;
                m.gateRoutingAccuracy = 0.8 + 0.1 * u(rng);
                m.expertSimilarity = 0.3 + 0.6 * u(rng);
                m.routingByClass.rowNames = {"0", "1"};
                m.routingByClass.experts = 2;
                m.routingByClass.meanGate = {u(rng), u(rng), u(rng), u(rng)};
                m.routingByClass.argmaxShare = {0.5, 0.5, 0.5, 0.5};
                m.routingByClass.rowCounts = {48, 49};
                for (int k = 0; k < 2; ++k) {
                    ExpertMetrics x;
                    x.expert = k;
                    x.allocated = k == 0 ? 40 : 57;
                    x.probingAccuracy = std::round(x.allocated * (0.6 + 0.3 * u(rng))) /
                                        static_cast<double>(x.allocated);
                    m.experts.push_back(x);
                }
                epochs.push_back(m);
            }
            r.testAccuracy = epochs.back().testAccuracy;
            r.valAccuracy = epochs.back().valAccuracy;
            r.gateRoutingAccuracy = epochs.back().gateRoutingAccuracy;
            runs.push_back(studyRun(r, epochs));
        }
    std::reverse(runs.begin(), runs.end());
    return runs;
}

std::string report(const std::vector<StudyRun>& runs) {
    return sweepReportMarkdown(buildSweepReport(runs), "figures", "# t\n", {},
                               buildSweepReport(runs, ScoringEpoch::Last));
}

} // namespace

TEST(StudyCsv, TheReportFromTheCsvIsTheReportFromTheRuns) {
    TempDir dir;
    const auto runs = sweep();
    const std::string path = dir / "runs.csv";
    {
        std::ofstream out(path);
        writeStudyCsv(out, runs);
    }
    const auto back = readStudyCsv(path);
    ASSERT_EQ(back.size(), runs.size());
    EXPECT_EQ(back[0].record.id, runs[0].record.id) << "the order is kept: newest first";
    for (std::size_t i = 0; i < runs.size(); ++i) { // every number exactly, not to 4 decimals
        EXPECT_EQ(back[i].best->epoch, runs[i].best->epoch);
        EXPECT_EQ(back[i].record.wallSeconds, runs[i].record.wallSeconds);
        EXPECT_EQ(back[i].best->expertSimilarity, runs[i].best->expertSimilarity);
        EXPECT_EQ(back[i].last->gateRoutingAccuracy, runs[i].last->gateRoutingAccuracy);
        EXPECT_EQ(back[i].last->routingByClass.meanGate, runs[i].last->routingByClass.meanGate);
        EXPECT_EQ(back[i].best->experts[1].probingAccuracy,
                  runs[i].best->experts[1].probingAccuracy);
    }
    const auto original = report(runs);
    EXPECT_EQ(report(back), original);
    EXPECT_NE(original.find("matched with the expert of the same seed's run"), std::string::npos)
        << "the routing came back too";
    // Written again from what it read, the file is the same file.
    std::ostringstream again;
    writeStudyCsv(again, back);
    std::ifstream in(path);
    EXPECT_EQ(again.str(), std::string(std::istreambuf_iterator<char>(in), {}));
}

TEST(StudyCsv, ADamagedFileIsRefusedWithItsLineAndColumn) {
    TempDir dir;
    std::ostringstream text;
    writeStudyCsv(text, sweep());
    std::string csv = text.str();
    // Line 4 (the third run): its alpha, the fifth field, begins with 'x'.
    const auto row = csv.find("\n", csv.find("\n", csv.find("\n") + 1) + 1) + 1;
    std::string bad = csv;
    const auto comma = bad.find(',', bad.find(',', bad.find(',', bad.find(',', row) + 1) + 1) + 1);
    bad[comma + 1] = 'x';
    EXPECT_THROW(
        {
            try {
                readStudyCsv(dir.file("bad.csv", bad));
            } catch (const DataError& e) {
                EXPECT_NE(std::string(e.what()).find("bad.csv:4: column 'alpha'"),
                          std::string::npos)
                    << e.what();
                throw;
            }
        },
        DataError);
    // A changed setting no longer matches its signature.
    std::string edited = csv;
    const auto experts = edited.find("\"\"experts\"\":4");
    ASSERT_NE(experts, std::string::npos);
    edited.replace(experts, 15, "\"\"experts\"\":5");
    EXPECT_THROW(readStudyCsv(dir.file("edited.csv", edited)), DataError);
    EXPECT_THROW(readStudyCsv(dir.file("other.csv", "a,b\n1,2\n")), DataError);
}

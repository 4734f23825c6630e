// SPDX-License-Identifier: GPL-3.0-or-later
#include "gui/ReportCommand.h"

#include "cli/CliCommon.h"
#include "plots/AlphaSweepPlot.h"
#include "plots/PlotExport.h"
#include "plots/PlotStyle.h"
#include "report/StudyCsv.h"
#include "report/SweepReport.h"

#include <CLI/CLI.hpp>

#include <QApplication>
#include <qcustomplot.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace mode {
namespace {

namespace fs = std::filesystem;
// A figure's title: the dataset, and which of its configurations (the report's section names it in
// full).
QString title(const DatasetReport& r) {
    QString t = QString::fromStdString(r.dataset);
    if (!r.study.distinguishing.empty())
        t += QObject::tr(" [configuration %1]")
                 .arg(QString::fromStdString(r.study.signature.substr(0, 8)));
    return t;
}

// A measure of each alpha's row: mean and standard deviation over the seeds.
using RowMeasure = std::optional<MetricSummary> (*)(const AlphaRow&);

bool drawValues(const DatasetReport& r, RowMeasure measure, const QString& label,
                const std::string& file) {
    AlphaSeries s{QObject::tr("mean \u00b1 sd over seeds"), {}};
    for (const auto& row : r.rows)
        if (auto m = measure(row); m && m->runs > 0)
            s.points.push_back({row.alpha, m->mean, m->mean - m->std, m->mean + m->std, false});
    if (s.points.empty()) return false;
    QCustomPlot plot;
    plot.resize(640, 400);
    stylePlot(&plot);
    drawAlphaSweep(&plot, {s}, label);
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, title(r) + ": " + label));
    return exportPlot(&plot, QString::fromStdString(file), 640, 400);
}

// Each alpha's paired test-accuracy difference against alpha = 0 with its 95% CI; filled and
// starred where significant after Holm.
bool drawDifference(const DatasetReport& r, const std::string& file, double significance) {
    AlphaSeries s{QObject::tr("paired difference, 95% CI (t)"), {}};
    for (const auto& row : r.rows)
        if (row.alpha == 0)
            s.points.push_back({0.0, 0.0, std::nan(""), std::nan(""), false});
        else if (row.testVsZero && row.testVsZero->n >= 2)
            s.points.push_back({row.alpha, row.testVsZero->meanDifference,
                                row.testVsZero->tInterval.lower, row.testVsZero->tInterval.upper,
                                row.holmP < significance});
    if (s.points.empty()) return false;
    QCustomPlot plot;
    plot.resize(640, 400);
    stylePlot(&plot);
    drawAlphaSweep(&plot, {s}, QObject::tr("test accuracy: \u03b1 \u2212 (\u03b1 = 0), same seed"),
                   0.0, QObject::tr("no difference from \u03b1 = 0"));
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(
        0, 0,
        new QCPTextElement(
            &plot,
            title(r) + QObject::tr(": gain over the plain MoE (* Holm p < %1)").arg(significance)));
    return exportPlot(&plot, QString::fromStdString(file), 640, 400);
}
// The four figures of one configuration.
void drawFigures(const DatasetReport& r, const std::string& figures, double significance) {
    drawValues(
        r, [](const AlphaRow& row) -> std::optional<MetricSummary> { return row.testAccuracy; },
        QObject::tr("test accuracy"), figureFile(figures, r, "test_accuracy"));
    drawDifference(r, figureFile(figures, r, "test_accuracy_difference"), significance);
    drawValues(
        r, [](const AlphaRow& row) { return row.routing; }, QObject::tr("gate routing accuracy"),
        figureFile(figures, r, "gate_routing_accuracy"));
    drawValues(
        r, [](const AlphaRow& row) -> std::optional<MetricSummary> { return row.similarity; },
        QObject::tr("expert similarity (cosine)"), figureFile(figures, r, "expert_similarity"));
}

struct ReportRequest {
    std::string db, runsCsv, out = "report", title = "MoDE reproduction report", preambleFile;
    std::vector<std::string> datasets;
    ReportOptions options;
    std::string scoring = "best";
    bool plan = false;
};

void addOptions(CLI::App& app, ReportRequest& q) {
    auto* db =
        app.add_option("--db", q.db, "run store (SQLite); default: " + RunStore::defaultPath());
    app.add_option("--runs-csv", q.runsCsv,
                   "read the runs from this CSV (the runs.csv a report writes beside it) instead "
                   "of a store: the same runs, title and preamble give the same REPORT.md")
        ->excludes(db)
        ->check(CLI::ExistingFile);
    app.add_option("-o,--out", q.out,
                   "folder for REPORT.md, figures/ and runs.csv (the runs behind the report)");
    app.add_option("--dataset", q.datasets, "only these datasets (repeat); default: all");
    app.add_option("--title", q.title, "the report's title");
    app.add_option("--preamble", q.preambleFile,
                   "Markdown placed after the title (setup, hardware, time)");
    app.add_option("--significance", q.options.significance, "level of every test (default 0.05)")
        ->check(CLI::Range(1e-6, 0.5));
    app.add_option("--effect", q.options.meaningfulEffect,
                   "smallest gain that matters, in accuracy (default 0.01): a claim whose gain is "
                   "not significant \"did not hold\" only where the upper bound of the gain is "
                   "below it, else \"not established\"")
        ->check(CLI::Range(1e-6, 1.0));
    app.add_option("--routing-margin", q.options.routingMargin,
                   "non-inferiority margin of claim 4, in routing accuracy (default 0.02)")
        ->check(CLI::Range(0.0, 1.0));
    app.add_option("--scoring", q.scoring,
                   "the epoch each run is scored at: best (its best validation epoch, early "
                   "stopping; default) or last; the claims table shows the other beside")
        ->check(CLI::IsMember({"best", "last"}));
    app.add_flag("--plan", q.plan,
                 "write no report: print, for each configuration, how many seeds it takes to "
                 "detect --effect at the corrected level, planned from the stored runs (a pilot)");
}

// The seeds each configuration needs, from its stored runs.
int printPlan(const std::vector<DatasetReport>& reports, const ReportOptions& o) {
    for (const auto& r : reports) {
        const auto plan = seedPlan(r, o);
        std::cout << r.study.label() << " (configuration " << r.study.signature << "): "
                  << (plan.empty() ? "no alpha > 0 paired with alpha = 0 over two seeds yet" : plan)
                  << "\n";
    }
    return 0;
}

int writeReport(const ReportRequest& q) {
    std::vector<StudyRun> runs;
    std::string source;
    if (!q.runsCsv.empty()) {
        source = q.runsCsv;
        const std::set<std::string> wanted(q.datasets.begin(), q.datasets.end());
        for (auto& r : readStudyCsv(q.runsCsv))
            if (wanted.empty() || wanted.count(r.record.dataset)) runs.push_back(std::move(r));
    } else {
        RunStore store(q.db.empty() ? RunStore::defaultPath() : q.db, RunStore::Mode::ReadOnly);
        source = store.path();
        runs = loadStudyRuns(store, q.datasets);
    }
    const bool best = q.scoring == "best";
    const auto reports =
        buildSweepReport(runs, best ? ScoringEpoch::BestValidation : ScoringEpoch::Last);
    if (reports.empty()) {
        std::cerr << "mode-report: no finished runs in " << source << "\n";
        return kExitBadInput;
    }
    if (q.plan) return printPlan(reports, q.options);
    const auto other =
        buildSweepReport(runs, best ? ScoringEpoch::Last : ScoringEpoch::BestValidation);
    fs::create_directories(fs::path(q.out) / "figures");
    std::string preamble = "# " + q.title + "\n";
    if (!q.preambleFile.empty()) {
        std::ifstream in(q.preambleFile);
        if (!in) throw std::runtime_error("cannot read " + q.preambleFile);
        preamble += "\n" + std::string(std::istreambuf_iterator<char>(in), {});
    }
    const std::string figures = (fs::path(q.out) / "figures").string();
    for (const auto& r : reports)
        drawFigures(r, figures, q.options.significance);
    const std::string csvPath = (fs::path(q.out) / "runs.csv").string();
    if (fs::exists(csvPath) && !q.runsCsv.empty() && fs::equivalent(csvPath, q.runsCsv)) {
        // rebuilding from the report's own runs.csv: it stays as it is
    } else {
        std::ostringstream csv;
        writeStudyCsv(csv, runs);
        writeFileSafely(csvPath, csv.str());
    }
    const std::string path = (fs::path(q.out) / "REPORT.md").string();
    writeFileSafely(path, sweepReportMarkdown(reports, "figures", preamble, q.options, other));
    std::cout << "report written to " << path << " (" << reports.size()
              << (reports.size() == 1 ? " configuration)\n" : " configurations)\n");
    for (const auto& c : judgeClaims(reports, q.options))
        std::cout << "  " << c.claim << ": " << c.verdict << "\n";
    return 0;
}

} // namespace

int reportCommand(int argc, char** argv) {
    CLI::App app{
        "Write the reproduction report (Markdown with PNG figures) of the sweep runs in a store."};
    app.footer(
        "Example:\n  mode-report --db sweep.sqlite --out experiments/report\n"
        "  mode-report --runs-csv experiments/runs.csv --out /tmp/again   # the same report\n"
        "  mode-report --db pilot.sqlite --plan   # seeds needed before a sweep\n"
        "Exit codes: 0 written, 2 bad input (no store, no finished runs).");
    app.set_version_flag("--version", std::string("mode-report ") + MODE_VERSION);
    ReportRequest request;
    addOptions(app, request);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    // Qt only once the command line is read: --help and --version print nothing of Qt's.
    if (!std::getenv("QT_QPA_PLATFORM"))
        setenv("QT_QPA_PLATFORM", "offscreen", 1); // figures need no display
    QApplication qt(argc, argv);
    try {
        return writeReport(request);
    } catch (const std::exception& e) {
        std::cerr << "mode-report: " << e.what() << "\n";
        return kExitBadInput;
    }
}

} // namespace mode

// mode-report: the reproduction report of a store of sweep runs, as Markdown with PNG figures.

#include "cli/CliCommon.h"
#include "plots/PlotExport.h"
#include "plots/PlotStyle.h"
#include "report/SweepReport.h"

#include <CLI/CLI.hpp>

#include <QApplication>
#include <qcustomplot.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

using namespace mode;
namespace fs = std::filesystem;

namespace {
// A metric against alpha: mean and standard deviation over seeds on a log axis, alpha = 0 apart.
bool drawFigure(const DatasetReport& r, const std::string& metric, const QString& label, const std::string& file) {
    QCustomPlot plot;
    plot.resize(640, 400);
    stylePlot(&plot);
    QVector<double> x, y, e;
    double zeroMean = std::nan(""), zeroStd = 0, minPositive = 0;
    for (const auto& row : r.rows) {
        const MetricSummary* m = metric == "test_accuracy" ? &row.testAccuracy
                                 : metric == "expert_similarity" ? &row.similarity
                                 : row.routing ? &*row.routing : nullptr;
        if (!m || m->runs == 0) continue;
        if (row.alpha == 0) {
            zeroMean = m->mean;
            zeroStd = m->std;
            continue;
        }
        if (minPositive == 0) minPositive = row.alpha;
        x << row.alpha;
        y << m->mean;
        e << m->std;
    }
    if (x.isEmpty()) return false;
    auto* g = plot.addGraph();
    g->setName(QObject::tr("MoDE: mean \u00b1 sd over seeds"));
    g->setPen(QPen(seriesColor(0), 1.6));
    g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, seriesColor(0), seriesColor(0), 7));
    g->setData(x, y, true);
    auto* bars = new QCPErrorBars(plot.xAxis, plot.yAxis);
    bars->removeFromLegend();
    bars->setDataPlottable(g);
    bars->setData(e);
    bars->setPen(QPen(seriesColor(0)));
    if (std::isfinite(zeroMean)) {
        const double at = minPositive / 10;
        auto* z = plot.addGraph();
        z->setName(QObject::tr("plain MoE (\u03b1 = 0), drawn at \u03b1 = %1").arg(at));
        z->setLineStyle(QCPGraph::lsNone);
        z->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, seriesColor(3), seriesColor(3), 10));
        z->setData(QVector<double>{at}, QVector<double>{zeroMean});
        auto* zb = new QCPErrorBars(plot.xAxis, plot.yAxis);
        zb->removeFromLegend();
        zb->setDataPlottable(z);
        zb->setData(QVector<double>{zeroStd});
        zb->setPen(QPen(seriesColor(3)));
        auto* line = new QCPItemStraightLine(&plot);
        line->point1->setCoords(0, zeroMean);
        line->point2->setCoords(1, zeroMean);
        line->setPen(QPen(seriesColor(3), 1, Qt::DashLine));
    }
    plot.xAxis->setScaleType(QCPAxis::stLogarithmic);
    plot.xAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    plot.xAxis->setLabel(QObject::tr("distillation weight \u03b1 (log)"));
    plot.yAxis->setLabel(label);
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, new QCPTextElement(&plot, QString::fromStdString(r.dataset) + ": " + label));
    plot.rescaleAxes(true);
    plot.xAxis->setRange(minPositive / 20, plot.xAxis->range().upper * 2);
    const auto yr = plot.yAxis->range();
    plot.yAxis->setRange(yr.lower - 0.1 * yr.size() - 1e-3, yr.upper + 0.25 * yr.size() + 1e-3);
    return exportPlot(&plot, QString::fromStdString(file), 640, 400);
}
} // namespace

int main(int argc, char** argv) {
    if (!std::getenv("QT_QPA_PLATFORM")) setenv("QT_QPA_PLATFORM", "offscreen", 1); // figures need no display
    QApplication qt(argc, argv);
    CLI::App app{"Write the reproduction report (Markdown with PNG figures) of the sweep runs in a store."};
    app.footer("Example:\n  mode-report --db sweep.sqlite --out experiments/report\n"
               "Exit codes: 0 written, 2 bad input (no store, no finished runs).");
    app.set_version_flag("--version", std::string("mode-report ") + MODE_VERSION);
    std::string db, out = "report", title = "MoDE reproduction report", preambleFile;
    std::vector<std::string> datasets;
    app.add_option("--db", db, "run store (SQLite); default: " + RunStore::defaultPath());
    app.add_option("-o,--out", out, "folder for REPORT.md and figures/");
    app.add_option("--dataset", datasets, "only these datasets (repeat); default: all");
    app.add_option("--title", title, "the report's title");
    app.add_option("--preamble", preambleFile, "Markdown placed after the title (setup, hardware, time)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    try {
        RunStore store(db.empty() ? RunStore::defaultPath() : db, RunStore::Mode::ReadOnly);
        const auto reports = buildSweepReport(store, datasets);
        if (reports.empty()) {
            std::cerr << "mode-report: no finished runs in " << store.path() << "\n";
            return kExitBadInput;
        }
        fs::create_directories(fs::path(out) / "figures");
        std::string preamble = "# " + title + "\n";
        if (!preambleFile.empty()) {
            std::ifstream in(preambleFile);
            if (!in) throw std::runtime_error("cannot read " + preambleFile);
            preamble += "\n" + std::string(std::istreambuf_iterator<char>(in), {});
        }
        for (const auto& r : reports) {
            const std::string figures = (fs::path(out) / "figures").string();
            drawFigure(r, "test_accuracy", QObject::tr("test accuracy"), figureFile(figures, r.dataset, "test_accuracy"));
            drawFigure(r, "gate_routing_accuracy", QObject::tr("gate routing accuracy"),
                       figureFile(figures, r.dataset, "gate_routing_accuracy"));
            drawFigure(r, "expert_similarity", QObject::tr("expert similarity (cosine)"), figureFile(figures, r.dataset, "expert_similarity"));
        }
        const std::string path = (fs::path(out) / "REPORT.md").string();
        if (!writeTextFile(path, sweepReportMarkdown(reports, "figures", preamble))) throw std::runtime_error("cannot write " + path);
        std::cout << "report written to " << path << " (" << reports.size() << " datasets)\n";
    } catch (const std::exception& e) {
        std::cerr << "mode-report: " << e.what() << "\n";
        return kExitBadInput;
    }
    return 0;
}

// SPDX-License-Identifier: GPL-3.0-or-later
// How fast the compare view opens many long runs: a store of N runs of S steps each (synthetic
// values, real schema), then the time from asking the compare view for all of them until their
// curves, tables, heatmaps and sweep are drawn, for a step-level and an epoch-level metric.
//
//   QT_QPA_PLATFORM=offscreen build/bin/bench-compare-load [--runs 50] [--steps 20000]

#include "compare/CompareView.h"
#include "store/RunStore.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <qcustomplot.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

using namespace mode;

namespace {
void fillStore(const std::string& path, int runs, int steps) {
    RunStore store(path);
    const int epochs = 20, perEpoch = steps / epochs, experts = 4;
    for (int r = 0; r < runs; ++r) {
        ExperimentConfig c;
        c.loss.alpha = (r % 5) * 0.1;
        c.train.seed = static_cast<std::uint64_t>(r / 5);
        RunStart s;
        s.datasetName = "regimes";
        s.epochs = epochs;
        s.experts = experts;
        s.stepsPerEpoch = perEpoch;
        auto id = store.beginRun(c, s, "bench " + std::to_string(r));
        for (int e = 1; e <= epochs; ++e) {
            std::vector<StepMetrics> batch;
            for (int i = 0; i < perEpoch; ++i) {
                StepMetrics m;
                m.epoch = e;
                m.step = (e - 1) * perEpoch + i + 1;
                m.total = 1.0 / std::sqrt(static_cast<double>(m.step)) +
                          0.05 * std::sin(m.step * 0.37 + r);
                m.task = m.total * 0.9;
                m.distill = m.total * 0.1;
                m.wallSeconds = m.step * 0.001;
                batch.push_back(m);
            }
            EpochMetrics em;
            em.epoch = e;
            em.step = e * perEpoch;
            em.valAccuracy = 1 - 1.0 / (e + 1);
            em.testAccuracy = em.valAccuracy;
            RoutingMatrix rm;
            rm.rowNames = {"a", "b", "c"};
            rm.experts = experts;
            rm.meanGate.assign(12, 0.25);
            rm.argmaxShare.assign(12, 0.25);
            rm.rowCounts = {10, 10, 10};
            em.routingByClass = rm;
            for (int x = 0; x < experts; ++x)
                em.experts.push_back({x, 10, 0.8, std::nullopt, 0.25, 0.25, 0.3});
            store.appendEpoch(id, em, batch);
        }
        RunResult done;
        done.epochsCompleted = epochs;
        store.finishRun(id, done);
    }
}

double openAll(CompareView& view, const QList<qint64>& ids, const QString& metric) {
    view.setMetric(metric);
    QEventLoop loop;
    QObject::connect(&view, &CompareView::loaded, &loop, &QEventLoop::quit);
    QElapsedTimer t;
    t.start();
    view.setRuns(ids);
    loop.exec();
    view.curvesPlot()->replot(QCustomPlot::rpImmediateRefresh); // drawn, not just queued
    return t.nsecsElapsed() / 1e6;
}
} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QCommandLineParser cli;
    cli.addHelpOption();
    QCommandLineOption runsOpt("runs", "runs in the store", "N", "50");
    QCommandLineOption stepsOpt("steps", "steps per run", "N", "20000");
    cli.addOptions({runsOpt, stepsOpt});
    cli.process(app);
    const int runs = cli.value(runsOpt).toInt(), steps = cli.value(stepsOpt).toInt();

    const auto dir = std::filesystem::temp_directory_path() / "mode-bench-compare";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string db = (dir / "runs.sqlite").string();
    QElapsedTimer fill;
    fill.start();
    fillStore(db, runs, steps);
    std::printf("store: %d runs x %d steps written in %.1f s (%.1f MB)\n", runs, steps,
                fill.nsecsElapsed() / 1e9, std::filesystem::file_size(db) / 1e6);

    CompareView view;
    view.setStorePath(QString::fromStdString(db));
    view.resize(1200, 800);
    view.show();
    QList<qint64> ids;
    for (int i = 1; i <= runs; ++i)
        ids << i;
    openAll(view, ids, "val_accuracy"); // warm the file cache once
    const double step = openAll(view, ids, "loss");
    const double epoch = openAll(view, ids, "val_accuracy");
    std::printf("compare view, %d runs of %d steps: loss (per step, downsampled to %d points a "
                "run) loaded and drawn in "
                "%.0f ms; val_accuracy (per epoch) in %.0f ms; target < 1000 ms\n",
                runs, steps, CompareView::kMaxPointsPerRun, step, epoch);
    std::filesystem::remove_all(dir);
    return 0;
}

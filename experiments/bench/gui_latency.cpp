// SPDX-License-Identifier: GPL-3.0-or-later
// Does the workbench stay responsive while it trains, and what does watching cost?
//  - the GUI event loop's gaps during a live run (a 5 ms probe timer; worst and p99 lateness);
//  - training throughput with the window open and plotting against the same run headless
//    (same store, same thread count), measured in the same process, alternated;
//  - the time from constructing the window to its first paint.
//
//   QT_QPA_PLATFORM=offscreen build/bin/bench-gui-latency [--epochs N] [--samples N] [--repeats N]

#include "MainWindow.h"
#include "data/RegimesDataset.h"
#include "panels/ExperimentPanel.h"
#include "store/RunRecorder.h"
#include "store/RunStore.h"
#include "train/Trainer.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

using namespace mode;

namespace {
struct GuiRun {
    double samplesPerSecond = 0;
    std::vector<double> lateMs; // how late each probe tick fired
};

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5))];
}

double headless(const ExperimentConfig& c, const std::string& db, int threads) {
    configureThreads(threads);
    RunStore store(db);
    Trainer t(c, makeRegimesDataset(c.data.regimes));
    RunRecorder rec(store, c, "headless", &t.control());
    t.addObserver(&rec);
    auto r = t.run();
    return static_cast<double>(r.steps) * c.train.batchSize / r.wallSeconds;
}

GuiRun withGui(const ExperimentConfig& c, const QString& db) {
    GuiRun out;
    MainWindow w(db);
    w.show();
    w.experimentPanel()->setConfig(c);
    QElapsedTimer clock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    probe.setInterval(5);
    qint64 last = -1;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const qint64 now = clock.nsecsElapsed();
        if (last >= 0) out.lateMs.push_back(std::max(0.0, (now - last) / 1e6 - 5.0));
        last = now;
    });
    QObject::connect(&w, &MainWindow::runFinished, [&](const RunResult& r, qint64) {
        out.samplesPerSecond = static_cast<double>(r.steps) * c.train.batchSize / r.wallSeconds;
        probe.stop();
        QTimer::singleShot(0, qApp, &QCoreApplication::quit);
    });
    clock.start();
    probe.start();
    w.startRun();
    qApp->exec();
    return out;
}
} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QCommandLineParser cli;
    cli.addHelpOption();
    QCommandLineOption epochsOpt("epochs", "epochs per run", "N", "30");
    QCommandLineOption samplesOpt("samples", "rows of the regimes data", "N", "8000");
    QCommandLineOption repeatsOpt("repeats", "runs of each kind, alternated", "N", "3");
    cli.addOptions({epochsOpt, samplesOpt, repeatsOpt});
    cli.process(app);

    const auto dir = std::filesystem::temp_directory_path() / "mode-bench-gui";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string db = (dir / "runs.sqlite").string();

    // Window start: construction to the first paint.
    QElapsedTimer t;
    t.start();
    {
        MainWindow w(QString::fromStdString(db));
        w.show();
        QCoreApplication::processEvents();
        w.repaint();
        std::printf("window shown and painted in %.0f ms\n", t.nsecsElapsed() / 1e6);
    }

    ExperimentConfig c;
    c.train.epochs = cli.value(epochsOpt).toInt();
    c.data.regimes.samples = cli.value(samplesOpt).toInt();
    c.train.device = "cpu";
    // The workbench gives LibTorch all cores but one; the headless reference gets the same.
    const int threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    c.train.threads = threads;

    std::vector<double> head, gui, late;
    double worst = 0;
    headless(c, db, threads); // warm-up
    for (int i = 0; i < cli.value(repeatsOpt).toInt(); ++i) {
        head.push_back(headless(c, db, threads));
        auto g = withGui(c, QString::fromStdString(db));
        gui.push_back(g.samplesPerSecond);
        late.insert(late.end(), g.lateMs.begin(), g.lateMs.end());
        worst = std::max(worst, percentile(g.lateMs, 1.0));
    }
    const double h = percentile(head, 0.5), g = percentile(gui, 0.5);
    std::printf(
        "training %d epochs on regimes (%d rows), %d LibTorch thread(s), medians of %zu runs\n",
        c.train.epochs, c.data.regimes.samples, threads, head.size());
    std::printf("headless: %.0f samples/s, workbench plotting live: %.0f samples/s, ratio %.2f\n",
                h, g, g / h);
    std::printf("GUI event loop during training (5 ms probe, %zu ticks): worst gap %.1f ms, p99 "
                "%.1f ms, p50 %.2f ms late\n",
                late.size(), worst, percentile(late, 0.99), percentile(late, 0.5));
    std::filesystem::remove_all(dir);
    return 0;
}

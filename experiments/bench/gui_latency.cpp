// SPDX-License-Identifier: GPL-3.0-or-later
// Does the workbench stay responsive while it trains, and what does watching cost?
//  - the GUI event loop's gaps during a live run (a 5 ms probe timer; worst and p99 lateness);
//  - training throughput with the window open and plotting against the same run headless
//    (same store, same thread count), measured in the same process, alternated;
//  - the time from constructing the window to its first paint.
//
//  - with --sweep: a sweep of 2 alphas x 2 seeds run from the window (two runs at a time, each a
//    mode-train child) against the same sweep from mode-sweep -j 2 in a terminal: runs per
//    minute of each, alternated, and the event loop's gaps while the window's sweep runs.
//
//   QT_QPA_PLATFORM=offscreen build/bin/bench-gui-latency [--epochs N] [--samples N] [--repeats N]
//   QT_QPA_PLATFORM=offscreen build/bin/bench-gui-latency --sweep [--epochs N] [--repeats N]

#include "MainWindow.h"
#include "data/RegimesDataset.h"
#include "panels/ExperimentPanel.h"
#include "store/RunRecorder.h"
#include "store/RunStore.h"
#include "sweep/SweepView.h"
#include "train/Trainer.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QProcess>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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

// A 5 ms timer on the GUI thread: how late each tick fires (ms), into `late`.
class LoopProbe {
  public:
    explicit LoopProbe(std::vector<double>& late) {
        timer_.setTimerType(Qt::PreciseTimer);
        timer_.setInterval(5);
        QObject::connect(&timer_, &QTimer::timeout, [this, &late] {
            const qint64 now = clock_.nsecsElapsed();
            if (last_ >= 0) late.push_back(std::max(0.0, (now - last_) / 1e6 - 5.0));
            last_ = now;
        });
        clock_.start();
        timer_.start();
    }
    void stop() { timer_.stop(); }
    double seconds() const { return clock_.nsecsElapsed() / 1e9; }

  private:
    QElapsedTimer clock_;
    QTimer timer_;
    qint64 last_ = -1;
};

GuiRun withGui(const ExperimentConfig& c, const QString& db) {
    GuiRun out;
    MainWindow w(db);
    w.show();
    w.experimentPanel()->setConfig(c);
    LoopProbe probe(out.lateMs);
    QObject::connect(&w, &MainWindow::runFinished, [&](const RunResult& r, qint64) {
        out.samplesPerSecond = static_cast<double>(r.steps) * c.train.batchSize / r.wallSeconds;
        probe.stop();
        QTimer::singleShot(0, qApp, &QCoreApplication::quit);
    });
    w.startRun();
    qApp->exec();
    return out;
}
// A sweep file of 2 alphas x 2 seeds of the regimes data, `epochs` each.
std::string writeSweep(const std::filesystem::path& dir, int epochs, int samples) {
    const std::string file = (dir / "bench-sweep.json").string();
    std::ofstream(file) << "{\"name\": \"bench\", \"base\": {\"train\": {\"epochs\": " << epochs
                        << "}, \"data\": {\"regimes\": {\"samples\": " << samples
                        << "}}}, \"grid\": {\"train.seed\": [1, 2], \"loss.alpha\": [0, 0.1]}}";
    return file;
}

// Seconds for the sweep run from the window (--sweep), with the event loop probed meanwhile.
double sweepFromWindow(const std::string& file, const QString& db, std::vector<double>& late) {
    MainWindow w(db);
    w.show();
    LoopProbe probe(late);
    QObject::connect(w.sweepView(), &SweepView::ended, [&] {
        probe.stop();
        QTimer::singleShot(0, qApp, &QCoreApplication::quit);
    });
    if (!w.runSweep(QString::fromStdString(file), 2)) {
        std::fprintf(stderr, "bench-gui-latency: %s\n",
                     w.sweepView()->message().toStdString().c_str());
        std::exit(1);
    }
    qApp->exec();
    return probe.seconds();
}

// Seconds for the same sweep from mode-sweep -j 2 --threads 1.
double sweepFromTerminal(const std::string& file, const QString& db) {
    QElapsedTimer clock;
    clock.start();
    QProcess p;
    p.start(QCoreApplication::applicationDirPath() + "/mode-sweep",
            {QString::fromStdString(file), "--db", db, "--jobs", "2", "--threads", "1", "-q"});
    p.waitForFinished(-1);
    return clock.nsecsElapsed() / 1e9;
}

int sweepBench(int epochs, int samples, int repeats) {
    const auto dir = std::filesystem::temp_directory_path() / "mode-bench-gui-sweep";
    std::vector<double> window, terminal, late;
    for (int i = 0; i < repeats; ++i) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        const std::string file = writeSweep(dir, epochs, samples);
        const QString a = QString::fromStdString((dir / "window.sqlite").string());
        const QString b = QString::fromStdString((dir / "terminal.sqlite").string());
        if (i % 2 == 0) { // either order in turn
            window.push_back(sweepFromWindow(file, a, late));
            terminal.push_back(sweepFromTerminal(file, b));
        } else {
            terminal.push_back(sweepFromTerminal(file, b));
            window.push_back(sweepFromWindow(file, a, late));
        }
    }
    const double w = percentile(window, 0.5), t = percentile(terminal, 0.5);
    std::printf("sweep of 4 runs (regimes %d rows, %d epochs), 2 at a time, medians of %d:\n",
                samples, epochs, repeats);
    std::printf(
        "  from the window: %.1f s (%.1f runs/min); mode-sweep -j 2: %.1f s (%.1f runs/min); "
        "throughput ratio %.3f (target >= 0.95)\n",
        w, 240 / w, t, 240 / t, t / w);
    std::printf("  GUI event loop while the window's sweep runs (5 ms probe, %zu ticks): worst gap "
                "%.1f ms, p99 %.1f ms (target: worst < 50 ms)\n",
                late.size(), percentile(late, 1.0), percentile(late, 0.99));
    std::filesystem::remove_all(dir);
    return 0;
}
} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QCommandLineParser cli;
    cli.addHelpOption();
    QCommandLineOption epochsOpt("epochs", "epochs per run", "N", "30");
    QCommandLineOption samplesOpt("samples", "rows of the regimes data", "N", "8000");
    QCommandLineOption repeatsOpt("repeats", "runs of each kind, alternated", "N", "3");
    QCommandLineOption sweepOpt("sweep", "a sweep from the window against mode-sweep -j 2");
    cli.addOptions({epochsOpt, samplesOpt, repeatsOpt, sweepOpt});
    cli.process(app);
    if (cli.isSet(sweepOpt))
        return sweepBench(cli.value(epochsOpt).toInt(), cli.value(samplesOpt).toInt(),
                          cli.value(repeatsOpt).toInt());

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

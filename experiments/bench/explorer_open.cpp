// SPDX-License-Identifier: GPL-3.0-or-later
// How fast the routing explorer answers: opening a stored run on its last kept epoch, switching
// experts and switching epochs, each until the view has been drawn (the rows, the summary, the
// confusion and similarity matrices and the Inputs page); and the longest the GUI thread went
// without handling events meanwhile (the store and the data file are read in the background).
// The run is a stored one (--db, --run; e.g. Fashion-MNIST with its 10,000 test images), or a
// synthetic store of 10,000 test rows x 30 kept epochs (no data file: no Inputs page).
//
//   QT_QPA_PLATFORM=offscreen build/bin/bench-explorer-open [--db F --run ID] [--rows 10000]

#include "panels/RoutingExplorer.h"
#include "panels/SampleInputsView.h"
#include "store/RunStore.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTableView>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>

using namespace mode;

namespace {

qint64 makeStore(const std::string& path, int rows, int experts, int classes, int epochs) {
    RunStore store(path);
    ExperimentConfig c;
    c.data.path = "/nonexistent/synthetic.csv"; // no inputs to read
    RunStart s;
    s.datasetName = "synthetic";
    s.epochs = epochs;
    s.experts = experts;
    for (int k = 0; k < classes; ++k)
        s.classNames.push_back("class " + std::to_string(k));
    const auto id = store.beginRun(c, s, "bench");
    std::mt19937 rng(1);
    for (int e = 1; e <= epochs; ++e) {
        auto samples = std::make_shared<SampleRouting>();
        samples->experts = experts;
        for (int i = 0; i < rows; ++i) {
            const int label = i % classes;
            samples->row.push_back(i);
            samples->label.push_back(static_cast<float>(label));
            samples->topExpert.push_back(static_cast<std::uint8_t>(rng() % experts));
            samples->topWeight.push_back(static_cast<float>(rng() % 1000) / 1000.0f);
            samples->prediction.push_back(static_cast<float>(rng() % 4 ? label : rng() % classes));
            samples->expertPrediction.push_back(samples->prediction.back());
        }
        samples->similarity.assign(static_cast<std::size_t>(experts * experts), 0.5f);
        EpochMetrics m;
        m.epoch = e;
        m.step = e;
        m.routingByClass.experts = experts;
        for (int k = 0; k < classes; ++k)
            m.routingByClass.rowNames.push_back("class " + std::to_string(k));
        m.routingByClass.meanGate.assign(static_cast<std::size_t>(experts * classes), 0.1);
        m.routingByClass.argmaxShare.assign(static_cast<std::size_t>(experts * classes), 0.1);
        m.routingByClass.rowCounts.assign(static_cast<std::size_t>(classes), rows / classes);
        m.samples = samples;
        store.appendEpoch(id, m);
    }
    RunResult done;
    done.epochsCompleted = epochs;
    store.finishRun(id, done);
    return id;
}

// Milliseconds from `act` until `done` (checked as events are handled), drawn once more after.
template <typename Act, typename Done> double timed(RoutingExplorer& view, Act act, Done done) {
    QElapsedTimer t;
    t.start();
    act();
    while (!done()) {
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
        if (t.elapsed() > 60000) {
            std::fprintf(stderr, "bench-explorer-open: no answer within 60 s\n");
            std::exit(1);
        }
    }
    view.repaint();
    return static_cast<double>(t.nsecsElapsed()) / 1e6;
}

void report(const char* what, std::vector<double> ms, const char* note = "(target < 200 ms)") {
    std::sort(ms.begin(), ms.end());
    std::printf("%-34s median %7.1f ms, worst %7.1f ms over %zu %s\n", what, ms[ms.size() / 2],
                ms.back(), ms.size(), note);
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QCommandLineParser cli;
    cli.addHelpOption();
    const QCommandLineOption db("db", "A run store", "file"), run("run", "A stored run", "id"),
        rows("rows", "Synthetic: test rows", "n", "10000");
    cli.addOptions({db, run, rows});
    cli.process(app);
    std::string path = cli.value(db).toStdString();
    qint64 id = cli.value(run).toLongLong();
    const auto dir = std::filesystem::temp_directory_path() / "bench-explorer-open";
    if (path.empty()) {
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
        path = (dir / "runs.sqlite").string();
        id = makeStore(path, cli.value(rows).toInt(), 8, 10, 30);
        std::printf("synthetic store: 1 run, %d test rows, 8 experts, 10 classes, 30 kept epochs\n",
                    cli.value(rows).toInt());
    }
    const RunRecord record = RunStore(path, RunStore::Mode::ReadOnly).run(id);
    RoutingExplorer view;
    view.resize(1600, 900);
    view.show();
    QCoreApplication::processEvents();

    // The GUI thread's longest wait between two 5 ms ticks.
    QElapsedTimer tick;
    tick.start();
    double worstGap = 0;
    QTimer ticker;
    QObject::connect(&ticker, &QTimer::timeout, [&] {
        worstGap = std::max(worstGap, static_cast<double>(tick.nsecsElapsed()) / 1e6);
        tick.restart();
    });
    ticker.start(5);

    std::vector<double> open, inputs, experts, epochs;
    for (int i = 0; i < 5; ++i) {
        QElapsedTimer t;
        t.start();
        open.push_back(timed(
            view, [&] { view.showRun(QString::fromStdString(path), id, record.start.classNames); },
            [&] { return view.isReady(); }));
        // The run's test rows from its data file (the Inputs page), in the background.
        QTimer limit;
        limit.start(120000);
        while (!view.inputsReady() && limit.isActive() &&
               !view.inputsView()->note().contains("cannot"))
            QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 5);
        if (view.inputsReady()) inputs.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
    }
    std::printf("run %lld: %d kept epochs, %d test rows shown\n", static_cast<long long>(id),
                view.epochCount(), view.samplesTable()->model()->rowCount());
    tick.restart();
    worstGap = 0;
    for (int round = 0; round < 3; ++round)
        for (int e = -1; e < record.experts; ++e)
            experts.push_back(timed(
                view, [&] { view.setExpert(e); }, [] { return true; }));
    view.setExpert(0);
    tick.restart();
    worstGap = 0;
    int shownCount = 0;
    QObject::connect(&view, &RoutingExplorer::shown, [&] { ++shownCount; });
    for (int i = view.epochCount() - 2; i >= 0 && epochs.size() < 12; --i) {
        const int before = shownCount;
        epochs.push_back(timed(
            view, [&] { view.setEpochIndex(i); }, [&] { return shownCount > before; }));
    }
    report("open a stored run (last epoch)", open);
    if (!inputs.empty())
        report("... and its Inputs page ready", inputs,
               "(the data file read in the background; the view answers meanwhile)");
    else
        std::printf("Inputs page: %s\n", view.inputsView()->note().toStdString().c_str());
    report("switch expert (every page drawn)", experts);
    report("switch epoch (read from the store)", epochs);
    std::printf("longest the GUI thread went without handling events while epochs were read: "
                "%.1f ms\n",
                worstGap);
    return 0;
}

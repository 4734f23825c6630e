// SPDX-License-Identifier: GPL-3.0-or-later
// What logging every step to the run store costs: the same training run without a store, with
// the recorder's batched writes (the default), and with one transaction per step, alternated
// and repeated; medians and the overhead against no store, measured in this run.
//
//   build/bin/bench-store-overhead [--repeats N] [--epochs N] [--samples N]

#include "data/RegimesDataset.h"
#include "store/RunRecorder.h"
#include "store/RunStore.h"
#include "train/Trainer.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

using namespace mode;

namespace {
enum class Mode { None, Batched, EveryStep };

double timeRun(const ExperimentConfig& c, const Dataset& data, Mode mode, const std::string& db,
               std::int64_t* steps) {
    std::unique_ptr<RunStore> store;
    if (mode != Mode::None) store = std::make_unique<RunStore>(db);
    Trainer trainer(c, data);
    std::unique_ptr<RunRecorder> recorder;
    if (store) {
        RecorderOptions o;
        if (mode == Mode::EveryStep) o.flushSteps = 1;
        recorder = std::make_unique<RunRecorder>(*store, c, "bench", &trainer.control(), o);
        trainer.addObserver(recorder.get());
    }
    auto t0 = std::chrono::steady_clock::now();
    auto r = trainer.run();
    recorder.reset(); // the last writes are part of the cost
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    *steps = r.steps;
    return s;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}
} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Cost of logging every training step to the run store."};
    int repeats = 7, epochs = 10, samples = 4000;
    app.add_option("--repeats", repeats, "runs of each kind (alternated)");
    app.add_option("--epochs", epochs, "epochs per run");
    app.add_option("--samples", samples, "rows of the regimes data");
    CLI11_PARSE(app, argc, argv);

    configureThreads(1);
    ExperimentConfig c;
    c.train.epochs = epochs;
    c.train.device = "cpu";
    c.data.regimes.samples = samples;
    const Dataset data = makeRegimesDataset(c.data.regimes);
    const auto dir = std::filesystem::temp_directory_path() / "mode-bench-store";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string db = (dir / "runs.sqlite").string();

    std::vector<double> none, batched, every;
    std::int64_t steps = 0;
    timeRun(c, data, Mode::None, db, &steps); // warm-up
    for (int i = 0; i < repeats; ++i) {
        none.push_back(timeRun(c, data, Mode::None, db, &steps));
        batched.push_back(timeRun(c, data, Mode::Batched, db, &steps));
        every.push_back(timeRun(c, data, Mode::EveryStep, db, &steps));
    }
    const double n = median(none), b = median(batched), e = median(every);
    std::printf("training %d epochs, %lld steps, regimes %d rows, 1 thread; medians of %d "
                "alternated runs\n",
                epochs, static_cast<long long>(steps), samples, repeats);
    std::printf("no store:                       %.3f s\n", n);
    std::printf("every step, batched (default):  %.3f s  overhead %+.1f%%  (checkpoint each epoch "
                "included)\n",
                b, 100 * (b / n - 1));
    std::printf("every step, own transaction:    %.3f s  overhead %+.1f%%\n", e, 100 * (e / n - 1));
    std::filesystem::remove_all(dir);
    return 0;
}

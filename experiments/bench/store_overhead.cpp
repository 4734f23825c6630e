// SPDX-License-Identifier: GPL-3.0-or-later
// What logging every step to the run store costs: the same training run without a store, with
// the recorder's batched writes with and without the test rows' per-sample routing (the default
// keeps it for the kept epochs), and with one transaction per step, alternated
// and repeated; medians and the overhead against no store, measured in this run.
//
//   build/bin/bench-store-overhead [--repeats N] [--epochs N] [--samples N]

#include "data/DatasetFactory.h"
#include "data/RegimesDataset.h"
#include "store/RunRecorder.h"
#include "store/RunStore.h"
#include "store/SampleBlob.h"
#include "train/Evaluator.h"
#include "train/Trainer.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <vector>

using namespace mode;

namespace {
enum class Mode { None, BatchedWithoutSamples, Batched, EveryStep };

double timeRun(const ExperimentConfig& c, const Dataset& data, Mode mode, const std::string& db,
               std::int64_t* steps) {
    std::unique_ptr<RunStore> store;
    if (mode != Mode::None) store = std::make_unique<RunStore>(db);
    Trainer trainer(c, data);
    trainer.keepSampleRouting(mode == Mode::Batched || mode == Mode::EveryStep);
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

// The test rows' routing measured where it is made, free of the run-to-run noise of whole runs:
// the test split scored with diagnostics, with and without collecting each row's routing, and
// the blob encoded; milliseconds per kept epoch (medians of `repeats` x 20).
struct SampleCost {
    double withSamples = 0, without = 0, encode = 0;
    std::int64_t rows = 0;
};
SampleCost sampleCost(const ExperimentConfig& c, Dataset data, int repeats) {
    const Split split = prepareForTraining(data, c);
    MoDEModel model(c.model, static_cast<int>(data.cols), static_cast<int>(data.classNames.size()));
    model->eval();
    SplitTensors test;
    test.x = torch::from_blob(data.features.data(), {data.rows, data.cols}, torch::kFloat32)
                 .index_select(0, torch::tensor(split.test));
    test.y = torch::tensor(data.labels, torch::kInt64).index_select(0, torch::tensor(split.test));
    EvaluationTask task;
    task.experts = c.model.experts;
    task.classNames = data.classNames;
    const Evaluator evaluator(task, [&](const torch::Tensor& x) { return model->forward(x); });
    auto ms = [](auto&& f) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int k = 0; k < 20; ++k)
            f();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                   .count() /
               20;
    };
    std::vector<double> with, without, encode;
    SampleRouting kept;
    for (int i = 0; i < repeats; ++i) {
        without.push_back(ms([&] {
            EpochMetrics m;
            evaluator.scoreWithDiagnostics(test, m);
        }));
        with.push_back(ms([&] {
            EpochMetrics m;
            kept = SampleRouting();
            kept.row = split.test;
            evaluator.scoreWithDiagnostics(test, m, &kept);
        }));
        encode.push_back(ms([&] { encodeSamples(kept); }));
    }
    return {median(with), median(without), median(encode), test.rows()};
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

    std::vector<double> none, withoutSamples, batched, every;
    std::int64_t steps = 0;
    timeRun(c, data, Mode::None, db, &steps); // warm-up
    for (int i = 0; i < repeats; ++i) {
        none.push_back(timeRun(c, data, Mode::None, db, &steps));
        // Either order in turn: neither kind always runs on the other's warm caches.
        if (i % 2 == 0) {
            withoutSamples.push_back(timeRun(c, data, Mode::BatchedWithoutSamples, db, &steps));
            batched.push_back(timeRun(c, data, Mode::Batched, db, &steps));
        } else {
            batched.push_back(timeRun(c, data, Mode::Batched, db, &steps));
            withoutSamples.push_back(timeRun(c, data, Mode::BatchedWithoutSamples, db, &steps));
        }
        every.push_back(timeRun(c, data, Mode::EveryStep, db, &steps));
    }
    const double n = median(none), w = median(withoutSamples), b = median(batched),
                 e = median(every);
    std::printf("training %d epochs, %lld steps, regimes %d rows, 1 thread; medians of %d "
                "alternated runs\n",
                epochs, static_cast<long long>(steps), samples, repeats);
    std::printf("no store:                       %.3f s\n", n);
    std::printf("every step, batched, without the test rows' routing: %.3f s  overhead %+.1f%%\n",
                w, 100 * (w / n - 1));
    std::printf("every step, batched (default):  %.3f s  overhead %+.1f%%  (checkpoint each epoch "
                "and the test rows' routing of the kept epochs included)\n",
                b, 100 * (b / n - 1));
    std::printf(
        "the test rows' routing alone (default against without it): %+.1f%% (target < 3%%)\n",
        100 * (b / w - 1));
    std::printf("every step, own transaction:    %.3f s  overhead %+.1f%%\n", e, 100 * (e / n - 1));
    const SampleCost cost = sampleCost(c, data, repeats);
    int kept = 0;
    for (int epoch = 1; epoch <= epochs; ++epoch)
        kept += epoch <= 10 || epoch == epochs || epoch % std::max(1, epochs / 20) == 0;
    const double extra = cost.withSamples - cost.without + cost.encode;
    std::printf("the test rows' routing where it is made (%lld test rows): scoring %.2f ms with it "
                "against %.2f ms without, encoding %.2f ms: %.2f ms per kept epoch; %d kept epochs "
                "of %.3f s: %+.2f%% (target < 3%%)\n",
                static_cast<long long>(cost.rows), cost.withSamples, cost.without, cost.encode,
                extra, kept, w, 100 * kept * extra / 1000 / w);
    std::filesystem::remove_all(dir);
    return 0;
}

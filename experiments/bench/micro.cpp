// SPDX-License-Identifier: GPL-3.0-or-later
// Google Benchmark micro-benchmarks of the engine's hot paths:
//   - a full training step (forward, loss, backward, Adam) on the tabular config;
//   - the batched expert bank against a per-expert loop of the same MLPs (forward + backward);
//   - each distillation variant;
//   - store writes (a batch of steps in one transaction);
//   - the expert bank's GFLOP/s against a plain matrix multiply of the same machine.
//
//   build/bin/bench-micro [--benchmark_filter=...]    (OPENBLAS_NUM_THREADS=1 is set inside)

#include "loss/MutualDistillationLoss.h"
#include "model/MoDEModel.h"
#include "store/RunStore.h"

#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

using namespace mode;

namespace {

constexpr int kBatch = 256, kInputs = 64, kHidden = 128, kOutputs = 10;

void BM_TrainStepTabular(benchmark::State& state) {
    torch::manual_seed(0);
    ModelConfig c; // the default experiment: 4 experts, hidden 32, 8 features, 3 classes, batch 64
    MoDEModel model(c, 8, 3);
    torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(3e-3));
    LossConfig lc;
    MutualDistillationLoss loss(lc);
    auto x = torch::randn({64, 8});
    auto y = torch::randint(0, 3, {64});
    for (auto _ : state) {
        auto out = model->forward(x);
        auto t = loss(out.mixture, out.experts, out.gate, out.gateProbs, y);
        opt.zero_grad();
        t.total.backward();
        opt.step();
    }
    state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_TrainStepTabular);

// Expert-bank shapes: the default tabular experiment (batch 64, 8 features, hidden 32, 3 classes),
// where per-op overhead dominates, and a wider one (batch 256, 64 -> 128 -> 10) where the
// multiplies themselves do.
struct BankShape {
    int batch, inputs, hidden, outputs;
    const char* name;
};
constexpr BankShape kBankShapes[] = {{64, 8, 32, 3, "tabular 64x8-32-3"},
                                     {kBatch, kInputs, kHidden, kOutputs, "wide 256x64-128-10"}};

double bankFlops(const BankShape& s, int experts) {
    // Forward: 2*B*(D*H + H*C) per expert; backward about twice that.
    return 3.0 * 2.0 * s.batch * (s.inputs * s.hidden + s.hidden * s.outputs) * experts;
}

// The bank: E experts of inputs -> hidden -> outputs, one batched op per layer.
void BM_ExpertBankBatched(benchmark::State& state) {
    const int E = static_cast<int>(state.range(0));
    const auto& s = kBankShapes[state.range(1)];
    torch::manual_seed(0);
    ExpertBank bank(E, s.inputs, std::vector<int>{s.hidden}, s.outputs, Activation::Relu, 0.0);
    auto x = torch::randn({s.batch, s.inputs});
    for (auto _ : state) {
        auto out = bank->forward(x);
        out.sum().backward();
    }
    state.SetLabel(s.name);
    state.counters["GFLOP/s"] =
        benchmark::Counter(bankFlops(s, E) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExpertBankBatched)->ArgsProduct({{4, 8, 16}, {0, 1}});

// The same experts as E separate modules, called in a loop (what a first version would write).
void BM_ExpertBankLoop(benchmark::State& state) {
    const int E = static_cast<int>(state.range(0));
    const auto& s = kBankShapes[state.range(1)];
    torch::manual_seed(0);
    std::vector<torch::nn::Sequential> experts;
    for (int e = 0; e < E; ++e)
        experts.emplace_back(torch::nn::Linear(s.inputs, s.hidden), torch::nn::ReLU(),
                             torch::nn::Linear(s.hidden, s.outputs));
    auto x = torch::randn({s.batch, s.inputs});
    for (auto _ : state) {
        std::vector<torch::Tensor> outs;
        for (auto& m : experts)
            outs.push_back(m->forward(x));
        torch::stack(outs).sum().backward();
    }
    state.SetLabel(s.name);
    state.counters["GFLOP/s"] =
        benchmark::Counter(bankFlops(s, E) * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_ExpertBankLoop)->ArgsProduct({{4, 8, 16}, {0, 1}});

void BM_Distill(benchmark::State& state) {
    DistillOptions o;
    o.kind = static_cast<DistillKind>(state.range(0));
    auto e = torch::randn({kBatch, 8, kOutputs}, torch::requires_grad());
    for (auto _ : state) {
        auto l = distillationLoss(e, o);
        l.backward();
    }
    state.SetLabel(o.kind == DistillKind::MseMean       ? "mse-mean"
                   : o.kind == DistillKind::MsePairwise ? "mse-pairwise"
                                                        : "kl");
}
BENCHMARK(BM_Distill)
    ->Arg(static_cast<int>(DistillKind::MseMean))
    ->Arg(static_cast<int>(DistillKind::MsePairwise))
    ->Arg(static_cast<int>(DistillKind::Kl));

// The machine's matrix-multiply rate, the yardstick for the expert bank's GFLOP/s.
void BM_MatmulPeak(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    auto a = torch::randn({n, n}), b = torch::randn({n, n});
    for (auto _ : state)
        benchmark::DoNotOptimize(torch::mm(a, b));
    state.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MatmulPeak)->Arg(512)->Arg(1024);

void BM_StoreWrite256Steps(benchmark::State& state) {
    const auto dir = std::filesystem::temp_directory_path() / "mode-bench-micro";
    std::filesystem::remove_all(dir);
    RunStore store((dir / "runs.sqlite").string());
    auto id = store.beginRun(ExperimentConfig{}, RunStart{}, "bench");
    std::vector<StepMetrics> batch(256);
    std::int64_t step = 0;
    for (auto _ : state) {
        for (auto& s : batch)
            s.step = ++step, s.total = 1.0;
        store.appendSteps(id, batch);
    }
    state.SetItemsProcessed(state.iterations() * 256);
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_StoreWrite256Steps);

} // namespace

int main(int argc, char** argv) {
    setenv("OPENBLAS_NUM_THREADS", "1", 1);
    torch::set_num_threads(1);
    benchmark::Initialize(&argc, argv);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Trainer.h"

#include "util/Format.h"

#include "data/DatasetFactory.h"
#include "data/FeatureRecipe.h"
#include "data/TextLoader.h"
#include "distributed/Distributed.h"
#include "loss/MutualDistillationLoss.h"
#include "model/MoDEModel.h"
#include "train/Evaluator.h"
#include "train/GradientSync.h"
#include "util/Random.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <sstream>
#include <thread>

// OpenBLAS's own entry points (declared here: Debian's cblas.h may come from another BLAS; weak:
// absent with another BLAS).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" const char* openblas_get_corename() __attribute__((weak));
extern "C" void gotoblas_dynamic_init() __attribute__((weak));
extern "C" void gotoblas_dynamic_quit() __attribute__((weak));

namespace mode {

using Clock = std::chrono::steady_clock;

std::vector<std::string> availableDevices() {
    std::vector<std::string> d{"cpu"};
    if (torch::cuda::is_available()) d.push_back("cuda");
    return d;
}

std::string libtorchVersion() {
#ifdef TORCH_VERSION
    return TORCH_VERSION;
#else
    return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
           std::to_string(TORCH_VERSION_PATCH);
#endif
}

namespace {

// OpenBLAS's choice of kernels made again where it fell back to its SSE3 ones on a CPU that has
// more (Trainer.h, blasKernels): the way OPENBLAS_CORETYPE makes it, through OpenBLAS's own
// dynamic initialisation. Runs before main, when no thread of the program uses BLAS yet.
bool chooseBlasKernels() {
    if (!openblas_get_corename || !gotoblas_dynamic_init || !gotoblas_dynamic_quit) return false;
    if (std::getenv("OPENBLAS_CORETYPE") || std::string(openblas_get_corename()) != "Prescott")
        return false;
    __builtin_cpu_init(); // before main, GCC's CPU checks need it
    const char* core = nullptr;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
        core = "SkylakeX";
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        core = "Haswell";
    if (!core) return false;
    setenv("OPENBLAS_CORETYPE", core, 0); // child processes (mode-sweep's runs) start with it
    gotoblas_dynamic_quit();
    gotoblas_dynamic_init();
    return true;
}

[[maybe_unused]] const bool kBlasKernelsChosen = chooseBlasKernels();

} // namespace

std::string blasKernels() {
    return openblas_get_corename ? openblas_get_corename() : "";
}

void configureThreads(int threads) {
    if (openblas_set_num_threads) openblas_set_num_threads(1);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    torch::set_num_threads(threads > 0 ? threads : static_cast<int>(cores));
}

namespace {

// One column of the dataset (labels, values or sub-tasks) as a tensor over its memory.
template <typename T>
torch::Tensor columnOf(const std::vector<T>& values, std::int64_t rows, torch::Dtype dtype) {
    return torch::from_blob(const_cast<T*>(values.data()), {rows}, dtype);
}

SplitTensors gather(const Dataset& d, const std::vector<std::int64_t>& rows,
                    const torch::Device& device) {
    SplitTensors s;
    const auto n = static_cast<std::int64_t>(rows.size());
    auto all =
        torch::from_blob(const_cast<float*>(d.features.data()), {d.rows, d.cols}, torch::kFloat32);
    auto idx = torch::from_blob(const_cast<std::int64_t*>(rows.data()), {n}, torch::kInt64);
    s.x = all.index_select(0, idx).to(device);
    if (d.task == TaskType::Classification)
        s.y = columnOf(d.labels, d.rows, torch::kInt64).index_select(0, idx).to(device);
    else
        s.y = columnOf(d.values, d.rows, torch::kFloat32).index_select(0, idx).to(device);
    if (d.hasSubtasks())
        s.subtask = columnOf(d.subtasks, d.rows, torch::kInt64).index_select(0, idx).to(device);
    return s;
}

std::string shapeText(c10::IntArrayRef sizes) {
    std::string t = "[";
    for (std::size_t i = 0; i < sizes.size(); ++i)
        t += (i ? ", " : "") + std::to_string(sizes[i]);
    return t + "]";
}

std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

std::string firstLine(const std::exception& e) {
    const std::string what = e.what();
    return what.substr(0, what.find('\n'));
}

// The minibatches of an epoch. Data-parallel, each rank takes its rankBatch rows of every
// global minibatch of rankBatch x world rows (the last one may be shorter, and leave a rank
// without rows); alone, the global minibatch is the process's own.
struct MinibatchPlan {
    std::int64_t trainRows = 0, rankBatch = 0, globalBatch = 0, stepsPerEpoch = 0;
    int rank = 0;

    MinibatchPlan() = default;
    MinibatchPlan(std::int64_t rows, std::int64_t batchSize, int thisRank, int world)
        : trainRows(rows), rank(thisRank) {
        rankBatch = std::min<std::int64_t>(batchSize, (rows + world - 1) / world);
        globalBatch = rankBatch * world;
        stepsPerEpoch = (rows + globalBatch - 1) / globalBatch;
    }

    // Where step `step` (0-based) of an epoch reads in the epoch's order of the training rows.
    struct Rows {
        std::int64_t globalRows = 0;              // the global minibatch's
        std::int64_t rankStart = 0, rankRows = 0; // this rank's part of it
    };
    Rows rows(std::int64_t step) const {
        const auto globalStart = step * globalBatch;
        Rows r;
        r.globalRows = std::min(globalBatch, trainRows - globalStart);
        const auto offset = std::min<std::int64_t>(rank * rankBatch, r.globalRows);
        r.rankStart = globalStart + offset;
        r.rankRows = std::min<std::int64_t>(rankBatch, r.globalRows - offset);
        return r;
    }
};

// How a run ends: its status and, unless it finished, why.
struct RunEnd {
    RunStatus status = RunStatus::Finished;
    std::string message;
};

// A run in progress: what its epochs share.
struct RunState {
    RunResult result; // result.steps counts the steps applied
    Clock::time_point start = Clock::now();
    // Time that is not the run's: pauses, and for a resumed run minus the time before its
    // checkpoint (the clock continues).
    Clock::duration paused{};
    double trainSeconds = 0; // in training steps only: the throughput's denominator
    std::int64_t trainSamples = 0;
    Rng shuffler{0};
    std::vector<std::int64_t> order; // the training rows in minibatch order

    double seconds() const {
        return std::chrono::duration<double>(Clock::now() - start - paused).count();
    }
};

// One epoch's training: the sums its metrics come from, and its own clock.
struct EpochTotals {
    double total = 0, task = 0, distill = 0; // losses summed over the rows
    double correct = 0;
    std::int64_t rows = 0;
    Clock::time_point start = Clock::now();
    Clock::duration paused{};

    void add(const StepStatistics& s, std::int64_t globalRows) {
        total += s.total * globalRows;
        task += s.task * globalRows;
        distill += s.distill * globalRows;
        correct += s.correct;
        rows += globalRows;
    }
    double trainingSeconds() const {
        return std::chrono::duration<double>(Clock::now() - start - paused).count();
    }
};

} // namespace

struct Trainer::Impl {
    ExperimentConfig config;
    Dataset data;
    Split split;
    torch::Device device{torch::kCPU};
    SplitTensors train, val, test;
    MoDEModel model{nullptr};
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::unique_ptr<MutualDistillationLoss> loss;
    std::unique_ptr<Evaluator> evaluator;
    std::vector<TrainingObserver*> observers;
    TrainerControl ownControl;
    TrainerControl* control = &ownControl;
    bool classification = true;
    bool samplesWanted = true;

    // Where a resumed run continues from (see Trainer::resumeFrom).
    struct ResumePoint {
        int epoch = 0;
        std::int64_t step = 0;
        double wallSeconds = 0;
        std::uint64_t shuffler = 0;
        std::vector<std::int64_t> order;
        torch::Tensor rng;
        std::optional<EpochMetrics> last;
    };
    std::optional<ResumePoint> resume;
    Distributed* dist = nullptr;        // data-parallel group, or none
    std::unique_ptr<GradientSync> sync; // the group's, or the local one
    MinibatchPlan plan;                 // set by run()

    Impl(ExperimentConfig c, Dataset d) : config(std::move(c)), data(std::move(d)) {
        requireValid(config);
        classification = data.task == TaskType::Classification;
        if (!classification &&
            parseChoice<DistillKind>(config.loss.distill, "loss.distill") == DistillKind::Kl)
            throw ConfigError("loss.distill: kl compares the experts' class distributions, and " +
                              data.name +
                              " has a regression target (a softmax over one output is always 1, "
                              "so kl would train a plain MoE); use mse-mean or mse-pairwise");
        if (data.rows < 10)
            throw DataError(data.name + ": " + std::to_string(data.rows) +
                            " rows are too few to train on");
        device = chooseDevice(config.train.device);
        prepareData();
        buildModel();
        useDistributed(nullptr);
    }

    static torch::Device chooseDevice(const std::string& dev) {
        if (dev == "cpu") return torch::Device(torch::kCPU);
        if (dev == "auto")
            return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0)
                                               : torch::Device(torch::kCPU);
        if (!torch::cuda::is_available())
            throw ConfigError("train.device: '" + dev + "' was asked for, but this LibTorch (" +
                              libtorchVersion() +
                              ") has no CUDA or no GPU is present; use auto or cpu");
        return torch::Device(dev);
    }

    // The split, and the preprocessing fitted on its training rows only (the vocabulary,
    // imputation, category levels and standardisation), then the splits on the device.
    void prepareData() {
        split = prepareForTraining(data, config);
        train = gather(data, split.train, device);
        val = gather(data, split.val, device);
        test = gather(data, split.test, device);
    }

    MoDEModel newModel() const {
        return MoDEModel(config.model, static_cast<int>(data.cols), data.outputs(), data.imageShape,
                         static_cast<std::int64_t>(data.vocabulary.size()));
    }

    // A model whose training needs more memory than the machine has left is refused before it
    // is made, naming the settings that size it.
    void requireModelFits() const {
        const ModelFootprint f =
            modelFootprint(config.model, data.cols, data.outputs(), config.train.batchSize,
                           static_cast<std::int64_t>(data.vocabulary.size()));
        const auto available = static_cast<double>(availableMemoryBytes());
        if (available <= 0 || f.trainingBytes <= available) return;
        std::string hidden;
        for (const int h : config.model.hidden)
            hidden += (hidden.empty() ? "" : ", ") + std::to_string(h);
        char text[256];
        std::snprintf(text, sizeof text,
                      "%.3g parameters; training it takes about %s of memory (the parameters, "
                      "their gradients, the optimiser's state and a batch's activations), and "
                      "%s are available",
                      f.parameters, formatBytes(f.trainingBytes).c_str(),
                      formatBytes(available).c_str());
        throw ConfigError("model.hidden [" + hidden + "] with model.experts " +
                          std::to_string(config.model.experts) + ": the model has " + text +
                          "; make the experts smaller (model.hidden) or fewer (model.experts)");
    }

    void buildModel() {
        requireModelFits();
        torch::manual_seed(config.train.seed);
        if (torch::cuda::is_available()) torch::cuda::manual_seed_all(config.train.seed);
        try {
            model = newModel();
        } catch (const std::invalid_argument& e) {
            throw ConfigError(e.what());
        }
        model->to(device);
        const auto& t = config.train;
        switch (parseChoice<OptimizerKind>(t.optimizer, "train.optimizer")) {
        case OptimizerKind::Sgd:
            optimizer = std::make_unique<torch::optim::SGD>(
                model->parameters(),
                torch::optim::SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weightDecay));
            break;
        case OptimizerKind::AdamW:
            optimizer = std::make_unique<torch::optim::AdamW>(
                model->parameters(), torch::optim::AdamWOptions(t.lr).weight_decay(t.weightDecay));
            break;
        case OptimizerKind::Adam:
            optimizer = std::make_unique<torch::optim::Adam>(
                model->parameters(), torch::optim::AdamOptions(t.lr).weight_decay(t.weightDecay));
            break;
        }
        // The baselines take no distillation and have no gate to balance (validation refuses
        // alpha > 0 for them; a balance weight does not apply to them and is ignored).
        LossConfig lossConfig = config.loss;
        if (!gated()) {
            lossConfig.alpha = 0;
            lossConfig.balanceWeight = 0;
        }
        loss = std::make_unique<MutualDistillationLoss>(lossConfig);
        EvaluationTask task;
        task.classification = classification;
        task.experts = model->experts();
        task.gated = gated();
        task.classNames = data.classNames;
        task.subtaskNames = data.subtaskNames;
        if (gated() && parseChoice<GateKind>(config.model.gate, "model.gate") == GateKind::TopK)
            task.topK = config.model.topK;
        evaluator = std::make_unique<Evaluator>(
            std::move(task), [this](const torch::Tensor& x) { return model->forward(x); });
    }

    bool gated() const { return model->kind() == ModelKind::Moe; }

    void useDistributed(Distributed* group) {
        dist = group && group->worldSize() > 1 ? group : nullptr;
        sync = dist ? makeC10dGradientSync(*dist, model->parameters())
                    : makeLocalGradientSync(model->parameters());
    }

    std::string deviceName() const { return device.str(); }

    RunStart runStart() const {
        RunStart s;
        s.device = deviceName();
        s.libtorchVersion = libtorchVersion();
        s.datasetName = data.name;
        s.datasetFingerprint = data.fingerprint();
        s.trainRows = train.rows();
        s.valRows = val.rows();
        s.testRows = test.rows();
        s.features = data.cols;
        s.parameters = model->parameterCount();
        s.stepsPerEpoch = plan.stepsPerEpoch;
        s.epochs = config.train.epochs;
        s.experts = model->experts(); // dense: its one network
        s.classification = classification;
        s.classNames = data.classNames;
        s.subtaskNames = data.subtaskNames;
        s.vocabulary = data.vocabulary;
        s.preprocessing =
            FeatureRecipe::of(data, parseChoice<ImputeKind>(config.data.impute, "data.impute"))
                .toJson()
                .dump();
        if (resume) {
            s.resumedFromEpoch = resume->epoch;
            s.resumedFromStep = resume->step;
        }
        return s;
    }

    RunResult run() {
        RunState state;
        plan = MinibatchPlan(train.rows(), config.train.batchSize, sync->rank(), sync->worldSize());
        const RunStart start = runStart();
        for (auto* o : observers)
            o->onRunStart(start);
        std::optional<RunEnd> end;
        try {
            const int firstEpoch = prepareRun(state);
            model->train();
            for (int epoch = firstEpoch; epoch <= config.train.epochs && !end; ++epoch) {
                EpochTotals totals;
                end = trainEpoch(epoch, totals, state);
                if (!end) end = closeEpoch(epoch, totals, state);
            }
        } catch (const std::exception& e) {
            end = RunEnd{RunStatus::Failed, firstLine(e)};
        }
        return endRun(state, end.value_or(RunEnd{}));
    }

    // Every run ends here, whichever way: finished, stopped, failed or diverged.
    RunResult endRun(RunState& state, RunEnd end) {
        state.result.status = end.status;
        state.result.message = std::move(end.message);
        state.result.wallSeconds = state.seconds();
        for (auto* o : observers)
            o->onRunEnd(state.result);
        return state.result;
    }

    // Seeds the run's random streams and minibatch order, or restores them with the counters
    // from the resume point (the model and optimiser were restored by resumeFrom); every rank
    // starts from rank 0's parameters. Returns the first epoch to train.
    int prepareRun(RunState& state) {
        const auto& tc = config.train;
        torch::manual_seed(tc.seed + 1); // dropout and gate noise
        state.shuffler = Rng(tc.seed * 31 + 7);
        state.order.resize(static_cast<std::size_t>(plan.trainRows));
        std::iota(state.order.begin(), state.order.end(), std::int64_t{0});
        int firstEpoch = 1;
        if (resume) {
            firstEpoch = resume->epoch + 1;
            state.result.steps = resume->step;
            state.shuffler.setState(resume->shuffler);
            state.order = resume->order;
            auto generator = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(generator.mutex());
            generator.set_state(resume->rng);
            state.result.epochsCompleted = resume->epoch;
            state.result.final = resume->last;
            state.paused -= std::chrono::duration_cast<Clock::duration>(
                std::chrono::duration<double>(resume->wallSeconds));
        }
        auto initialState = model->parameters();
        for (auto& b : model->buffers())
            initialState.push_back(b);
        sync->shareInitialState(std::move(initialState));
        return firstEpoch;
    }

    // Trains one epoch's minibatches; returns how the run ends if it ends in this epoch.
    //
    // One path for one process and for a data-parallel group: the GradientSync makes the
    // difference. Each step reads from the device ONCE, in sync->combine (the losses, the
    // correct count and the gradients' finiteness, stacked into one tensor): a read waits for
    // the device to finish its queue, so more reads a step would throttle a GPU run.
    // TrainerTest's EachStepReadsFromTheDeviceOnce counts them.
    std::optional<RunEnd> trainEpoch(int epoch, EpochTotals& totals, RunState& state) {
        state.shuffler.shuffle(state.order);
        const auto permutation =
            torch::from_blob(state.order.data(), {plan.trainRows}, torch::kInt64).to(device);
        totals.start = Clock::now();
        for (std::int64_t step = 0; step < plan.stepsPerEpoch; ++step) {
            const bool stopAsked = !control->checkpoint(&totals.paused);
            if (stopAsked && sync->stopsAlone()) {
                state.paused += totals.paused;
                return stoppedAt(state.result.steps, epoch, "");
            }
            const auto rows = plan.rows(step);
            const StepStatistics stats = trainStep(permutation, rows, stopAsked);
            if (stats.stopRequests > 0) { // a group stops together, this step not applied
                state.paused += totals.paused;
                return stoppedAt(state.result.steps, epoch,
                                 "; asked on " + std::to_string(stats.stopRequests) + " of " +
                                     std::to_string(sync->worldSize()) + " ranks");
            }
            ++state.result.steps;
            if (auto diverged = divergence(stats, epoch, state.result.steps)) return diverged;
            optimizer->step();
            totals.add(stats, rows.globalRows);
            reportStep(epoch, step + 1, stats, totals, state);
        }
        state.paused += totals.paused;
        state.trainSeconds += totals.trainingSeconds();
        state.trainSamples += totals.rows;
        state.result.trainSamplesPerSecond =
            state.trainSeconds > 0 ? static_cast<double>(state.trainSamples) / state.trainSeconds
                                   : 0;
        return std::nullopt;
    }

    // This rank's forward and backward pass on its rows of the minibatch (a rank without rows
    // adds nothing), then the gradients and statistics combined over the ranks.
    StepStatistics trainStep(const torch::Tensor& permutation, const MinibatchPlan::Rows& rows,
                             bool stopAsked) {
        optimizer->zero_grad();
        const auto local =
            rows.rankRows > 0
                ? forwardBackward(permutation.narrow(0, rows.rankStart, rows.rankRows))
                : torch::zeros({kLocalStatistics},
                               torch::TensorOptions().dtype(torch::kFloat64).device(device));
        return sync->combine(local, rows.rankRows, rows.globalRows, stopAsked);
    }

    // The loss of the training rows `index` and its gradients. Returns the rows' statistics
    // on the device, laid out as kLocalStatistics says; nothing is read from the device here.
    torch::Tensor forwardBackward(const torch::Tensor& index) {
        auto x = train.x.index_select(0, index);
        auto y = train.y.index_select(0, index);
        auto out = model->forward(x);
        const LossTerms terms = model->kind() == ModelKind::Ensemble
                                    ? loss->independent(out.experts, y)
                                    : (*loss)(out.mixture, out.experts, out.gate, out.gateProbs, y);
        // Also when the loss is not finite: the gradients are not either, and the step is not
        // applied (see divergence).
        terms.total.backward();
        const auto f64 = torch::kFloat64;
        auto correct = classification ? out.mixture.detach().argmax(1).eq(y).sum().to(f64)
                                      : torch::zeros({}, terms.total.options().dtype(f64));
        return torch::stack({terms.total.detach().to(f64), terms.task.detach().to(f64),
                             terms.distill.detach().to(f64), terms.balance.detach().to(f64),
                             correct});
    }

    static RunEnd stoppedAt(std::int64_t step, int epoch, const std::string& detail) {
        return {RunStatus::Stopped, "stopped at step " + std::to_string(step) + " (epoch " +
                                        std::to_string(epoch) + detail + ")"};
    }

    // A step whose loss or gradients are not finite ends the run before it is applied.
    std::optional<RunEnd> divergence(const StepStatistics& s, int epoch, std::int64_t step) {
        const std::string where =
            "diverged at step " + std::to_string(step) + " (epoch " + std::to_string(epoch) + "): ";
        if (!std::isfinite(s.total))
            return RunEnd{RunStatus::Diverged, where + "the total loss is " + fmt(s.total) +
                                                   " (task " + fmt(s.task) + ", distillation " +
                                                   fmt(s.distill) + ", balance " + fmt(s.balance) +
                                                   ")"};
        if (!s.gradientsFinite)
            return RunEnd{RunStatus::Diverged, where + "the gradient of '" + nonFiniteParameter() +
                                                   "' is not finite (total loss " + fmt(s.total) +
                                                   ")"};
        return std::nullopt;
    }

    // The first parameter whose gradient holds a NaN or an infinity ("?" if none does: only
    // a sum of one overflowed). A read per parameter, for a run that ends anyway.
    std::string nonFiniteParameter() {
        for (const auto& p : model->named_parameters())
            if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>())
                return p.key();
        return "?";
    }

    void reportStep(int epoch, std::int64_t stepInEpoch, const StepStatistics& s,
                    const EpochTotals& totals, const RunState& state) {
        StepMetrics m;
        m.epoch = epoch;
        m.step = state.result.steps;
        m.stepInEpoch = stepInEpoch;
        m.total = s.total;
        m.task = s.task;
        m.distill = s.distill;
        m.balance = s.balance;
        const double elapsed = totals.trainingSeconds();
        m.samplesPerSecond = elapsed > 0 ? static_cast<double>(totals.rows) / elapsed : 0;
        m.wallSeconds = state.seconds() - std::chrono::duration<double>(totals.paused).count();
        for (auto* o : observers)
            o->onStep(m);
    }

    // The epoch's metrics and evaluation (rank 0 evaluates and reports; the other ranks go on
    // to the next epoch), its report and checkpoint. Returns how the run ends if the
    // evaluation diverged.
    std::optional<RunEnd> closeEpoch(int epoch, const EpochTotals& totals, RunState& state) {
        EpochMetrics m;
        m.epoch = epoch;
        m.step = state.result.steps;
        m.trainLoss = totals.total / totals.rows;
        m.trainTaskLoss = totals.task / totals.rows;
        m.trainDistillLoss = totals.distill / totals.rows;
        if (classification) m.trainAccuracy = totals.correct / totals.rows;
        const bool evaluates = sync->rank() == 0;
        evaluateEpoch(m, evaluates);
        m.wallSeconds = state.seconds();
        // Rank 0 tells the others whether its evaluation diverged.
        const bool finite = std::isfinite(m.valLoss) && std::isfinite(m.testLoss);
        if (sync->anyRank(evaluates && !finite))
            return RunEnd{RunStatus::Diverged, "diverged in epoch " + std::to_string(epoch) +
                                                   ": the evaluation loss is not finite"};
        for (auto* o : observers)
            o->onEpoch(m);
        handOutCheckpoint(epoch, m.wallSeconds, state);
        state.result.epochsCompleted = epoch;
        state.result.final = std::move(m);
        return std::nullopt;
    }

    // The epochs whose test rows' routing is kept, sample by sample: the first ten, then about
    // twenty more spread over the run, and the last (a store stays small for long runs).
    bool keepsSamples(int epoch) const {
        // Without a gate there is no routing to keep (a top expert would be made up).
        if (!samplesWanted || !gated()) return false;
        const int epochs = config.train.epochs;
        return epoch <= 10 || epoch == epochs || epoch % std::max(1, epochs / 20) == 0;
    }

    // The validation and test scores (with the test split's routing, probing and similarity)
    // where this rank evaluates; zeros where it does not.
    void evaluateEpoch(EpochMetrics& m, bool evaluates) {
        Scores validation, testing;
        if (evaluates) {
            model->eval();
            validation = evaluator->score(val);
            std::shared_ptr<SampleRouting> samples;
            if (keepsSamples(m.epoch)) {
                samples = std::make_shared<SampleRouting>();
                samples->row = split.test;
            }
            testing = evaluator->scoreWithDiagnostics(test, m, samples.get());
            m.samples = std::move(samples);
            model->train();
        }
        m.valLoss = validation.loss;
        m.valAccuracy = validation.accuracy;
        m.testLoss = testing.loss;
        m.testAccuracy = testing.accuracy;
        if (!classification) {
            m.testRmse = testing.rmse;
            m.testR2 = testing.r2;
            // The training split's R^2 (trainAccuracy holds it for regression).
            const double variance = train.y.var(false).item<double>();
            m.trainAccuracy = 1.0 - m.trainTaskLoss / std::max(1e-30, variance);
        }
    }

    // Checkpoints cost a serialisation: made only when some observer wants them.
    void handOutCheckpoint(int epoch, double wallSeconds, const RunState& state) {
        const auto wants = [](const TrainingObserver* o) { return o->wantsCheckpoints(); };
        if (std::none_of(observers.begin(), observers.end(), wants)) return;
        Checkpoint c;
        c.epoch = epoch;
        c.step = state.result.steps;
        c.wallSeconds = wallSeconds;
        c.state = saveState(epoch, c.step, state.shuffler, state.order);
        if (std::any_of(observers.begin(), observers.end(),
                        [](const TrainingObserver* o) { return o->wantsModels(); }))
            c.model = saveModel();
        for (auto* o : observers)
            if (wants(o)) o->onCheckpoint(c);
    }

    // The model alone, as the checkpoint holds it (under "model").
    std::string saveModel() {
        torch::serialize::OutputArchive archive;
        writeModel(archive);
        return serialized(archive);
    }

    // Model, optimiser, the minibatch order and the generators: what a resumed run needs.
    std::string saveState(int epoch, std::int64_t step, const Rng& shuffler,
                          const std::vector<std::int64_t>& order) {
        torch::serialize::OutputArchive archive, optimizerArchive;
        writeModel(archive);
        optimizer->save(optimizerArchive);
        archive.write("optimizer", optimizerArchive);
        archive.write("epoch", torch::tensor(static_cast<std::int64_t>(epoch)));
        archive.write("step", torch::tensor(step));
        archive.write("shuffler", torch::tensor(static_cast<std::int64_t>(shuffler.state())));
        archive.write("order", torch::tensor(order));
        archive.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
        return serialized(archive);
    }

    // The model under "model", as a checkpoint and a kept model hold it.
    void writeModel(torch::serialize::OutputArchive& archive) {
        torch::serialize::OutputArchive modelArchive;
        model->save(modelArchive);
        archive.write("model", modelArchive);
    }

    static std::string serialized(torch::serialize::OutputArchive& archive) {
        std::ostringstream out;
        archive.save_to(out);
        return out.str();
    }

    void resumeFrom(const Checkpoint& c, std::optional<EpochMetrics> last) {
        if (dist)
            throw DistributedError(
                "a resumed run cannot be spread over ranks yet; resume it in one process");
        const std::string where = "checkpoint of epoch " + std::to_string(c.epoch);
        if (c.epoch < 1 || c.epoch > config.train.epochs || c.step < 0)
            throw CheckpointError(where + ": epoch " + std::to_string(c.epoch) + ", step " +
                                  std::to_string(c.step) + " do not fit a run of " +
                                  std::to_string(config.train.epochs) + " epochs");
        ResumePoint r;
        try {
            r = readResumePoint(c);
        } catch (const CheckpointError& e) {
            throw CheckpointError(where + ": " + e.what());
        } catch (const std::exception& e) {
            throw CheckpointError(
                where + " cannot be read (damaged, or written for another model): " + firstLine(e));
        }
        r.epoch = c.epoch;
        r.step = c.step;
        r.wallSeconds = c.wallSeconds;
        r.last = std::move(last);
        resume = std::move(r);
    }

    // Reads a checkpoint's state and, once all of it was read and checked, restores the model
    // and the optimiser from it (a damaged checkpoint leaves the trainer as it was).
    ResumePoint readResumePoint(const Checkpoint& c) {
        ResumePoint r;
        torch::serialize::InputArchive archive, modelArchive, optimizerArchive;
        std::istringstream in(c.state);
        archive.load_from(in, torch::kCPU);
        archive.read("model", modelArchive);
        archive.read("optimizer", optimizerArchive);
        torch::Tensor epoch, step, shuffler, order;
        archive.read("epoch", epoch);
        archive.read("step", step);
        archive.read("shuffler", shuffler);
        archive.read("order", order);
        archive.read("torch_rng", r.rng);
        if (epoch.item<std::int64_t>() != c.epoch || step.item<std::int64_t>() != c.step)
            throw CheckpointError("it says epoch " + std::to_string(epoch.item<std::int64_t>()) +
                                  ", step " + std::to_string(step.item<std::int64_t>()) +
                                  ", the store says step " + std::to_string(c.step));
        r.order = checkedOrder(order);
        r.shuffler = static_cast<std::uint64_t>(shuffler.item<std::int64_t>());
        // The model is read into a copy and changed last, once everything else was read.
        auto restoredModel = newModel();
        restoredModel->load(modelArchive); // takes the archive's shapes as they are: checked next
        requireSameShapes(*restoredModel);
        auto probe = at::make_generator<at::CPUGeneratorImpl>();
        probe.set_state(r.rng.to(torch::kCPU)); // throws for a state of the wrong size
        optimizer->load(optimizerArchive);
        torch::NoGradGuard noGrad;
        auto to = model->parameters();
        auto from = restoredModel->parameters();
        for (std::size_t i = 0; i < to.size(); ++i)
            to[i].copy_(from[i]);
        auto toBuffers = model->buffers();
        auto fromBuffers = restoredModel->buffers();
        for (std::size_t i = 0; i < toBuffers.size(); ++i)
            toBuffers[i].copy_(fromBuffers[i]);
        return r;
    }

    // A checkpoint's minibatch order: a permutation of the training rows, or it would index
    // outside them.
    std::vector<std::int64_t> checkedOrder(torch::Tensor order) const {
        const std::int64_t nTrain = train.rows();
        order = order.to(torch::kInt64).contiguous();
        if (order.dim() != 1 || order.numel() != nTrain)
            throw CheckpointError("its minibatch order has " + std::to_string(order.numel()) +
                                  " rows, the training split " + std::to_string(nTrain) +
                                  " (was the data changed?)");
        if (!std::get<0>(order.sort()).equal(torch::arange(nTrain, torch::kInt64)))
            throw CheckpointError("its minibatch order is not a permutation of the training rows");
        return {order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + nTrain};
    }

    void requireSameShapes(const MoDEModelImpl& restored) const {
        const auto mine = model->named_parameters(), theirs = restored.named_parameters();
        for (const auto& p : mine) {
            const auto* other = theirs.find(p.key());
            if (!other || other->sizes() != p.value().sizes())
                throw CheckpointError("it was written for another model: parameter '" + p.key() +
                                      "' has shape " +
                                      (other ? shapeText(other->sizes()) : std::string("(none)")) +
                                      ", this model's " + shapeText(p.value().sizes()));
        }
    }
};

Trainer::Trainer(ExperimentConfig config, Dataset data)
    : d_(std::make_unique<Impl>(std::move(config), std::move(data))) {}
Trainer::~Trainer() = default;
void Trainer::addObserver(TrainingObserver* o) {
    d_->observers.push_back(o);
}
TrainerControl& Trainer::control() {
    return *d_->control;
}
void Trainer::useControl(TrainerControl* control) {
    d_->control = control ? control : &d_->ownControl;
}
void Trainer::keepSampleRouting(bool on) {
    d_->samplesWanted = on;
}
RunResult Trainer::run() {
    return d_->run();
}
void Trainer::useDistributed(Distributed* group) {
    if (group && group->worldSize() > 1 && d_->resume)
        throw DistributedError(
            "a resumed run cannot be spread over ranks yet; resume it in one process");
    d_->useDistributed(group);
}
void Trainer::resumeFrom(const Checkpoint& c, std::optional<EpochMetrics> last) {
    d_->resumeFrom(c, std::move(last));
}
const ExperimentConfig& Trainer::config() const {
    return d_->config;
}
std::string Trainer::device() const {
    return d_->deviceName();
}

} // namespace mode

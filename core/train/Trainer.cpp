#include "train/Trainer.h"

#include "loss/MutualDistillationLoss.h"
#include "model/MoDEModel.h"
#include "train/Assignment.h"
#include "data/TextLoader.h"
#include "distributed/DistributedImpl.h"
#include "util/Random.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <sstream>
#include <thread>

// OpenBLAS's own entry point (declared here: Debian's cblas.h may come from another BLAS).
extern "C" void openblas_set_num_threads(int) __attribute__((weak));

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

void configureThreads(int threads) {
    if (openblas_set_num_threads) openblas_set_num_threads(1);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    torch::set_num_threads(threads > 0 ? threads : static_cast<int>(cores));
}

namespace {

struct SplitTensors {
    torch::Tensor x, y, subtask; // subtask undefined when unknown
    std::int64_t rows() const { return x.defined() ? x.size(0) : 0; }
};

SplitTensors gather(const Dataset& d, const std::vector<std::int64_t>& rows, const torch::Device& device) {
    SplitTensors s;
    const auto n = static_cast<std::int64_t>(rows.size());
    auto all = torch::from_blob(const_cast<float*>(d.features.data()), {d.rows, d.cols}, torch::kFloat32);
    auto idx = torch::from_blob(const_cast<std::int64_t*>(rows.data()), {n}, torch::kInt64);
    s.x = all.index_select(0, idx).to(device);
    if (d.task == TaskType::Classification)
        s.y = torch::from_blob(const_cast<std::int64_t*>(d.labels.data()), {d.rows}, torch::kInt64).index_select(0, idx).to(device);
    else
        s.y = torch::from_blob(const_cast<float*>(d.values.data()), {d.rows}, torch::kFloat32).index_select(0, idx).to(device);
    if (d.hasSubtasks())
        s.subtask = torch::from_blob(const_cast<std::int64_t*>(d.subtasks.data()), {d.rows}, torch::kInt64).index_select(0, idx).to(device);
    return s;
}

std::vector<double> toVector(const torch::Tensor& t) {
    auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

RoutingMatrix routingMatrix(const torch::Tensor& gateSums, const torch::Tensor& argmaxCounts,
                            const std::vector<std::string>& names) {
    RoutingMatrix m;
    m.rowNames = names;
    m.experts = static_cast<int>(gateSums.size(1));
    auto rowCounts = argmaxCounts.sum(1, /*keepdim=*/true);
    auto denom = rowCounts.clamp_min(1);
    m.meanGate = toVector(gateSums / denom);
    m.argmaxShare = toVector(argmaxCounts / denom);
    for (double c : toVector(rowCounts)) m.rowCounts.push_back(static_cast<std::int64_t>(std::llround(c)));
    return m;
}

std::string shapeText(c10::IntArrayRef sizes) {
    std::string t = "[";
    for (std::size_t i = 0; i < sizes.size(); ++i) t += (i ? ", " : "") + std::to_string(sizes[i]);
    return t + "]";
}

std::string fmt(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

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
    std::vector<TrainingObserver*> observers;
    TrainerControl ownControl;
    TrainerControl* control = &ownControl;
    bool classification = true;

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
    Distributed* dist = nullptr; // data-parallel group, or none

    // One data-parallel step's exchange: this rank's gradients, weighted by its share of the
    // global minibatch, and its loss sums, summed over the ranks in ONE all-reduce (a flat
    // buffer, as DistributedDataParallel's buckets). Afterwards every rank holds the gradient
    // of the global minibatch's mean loss. Returns the summed statistics (carried in the
    // parameters' precision, float32: the logged losses are rounded to it).
    std::vector<double> exchange(double weight, const std::vector<double>& stats) {
        std::vector<torch::Tensor> parts;
        auto params = model->parameters();
        for (auto& p : params)
            parts.push_back(p.grad().defined() ? (p.grad() * weight).flatten() : torch::zeros({p.numel()}, p.options()));
        parts.push_back(torch::tensor(stats, torch::TensorOptions().dtype(torch::kFloat64)).to(params.front().options()));
        auto flat = torch::cat(parts);
        dist->impl().allReduceSum(flat);
        std::int64_t at = 0;
        for (auto& p : params) {
            auto g = flat.narrow(0, at, p.numel()).view_as(p);
            if (p.grad().defined()) p.mutable_grad().copy_(g);
            else p.mutable_grad() = g.clone();
            at += p.numel();
        }
        auto summed = flat.narrow(0, at, static_cast<std::int64_t>(stats.size())).to(torch::kCPU, torch::kFloat64).contiguous();
        return {summed.data_ptr<double>(), summed.data_ptr<double>() + stats.size()};
    }

    Impl(ExperimentConfig c, Dataset d) : config(std::move(c)), data(std::move(d)) {
        requireValid(config);
        classification = data.task == TaskType::Classification;
        if (!classification && config.loss.distill == "kl")
            throw ConfigError("loss.distill: kl compares the experts' class distributions, and " + data.name +
                              " has a regression target (a softmax over one output is always 1, so kl would train a "
                              "plain MoE); use mse-mean or mse-pairwise");
        if (data.rows < 10) throw DataError(data.name + ": " + std::to_string(data.rows) + " rows are too few to train on");

        const std::string& dev = config.train.device;
        if (dev == "cpu") {
            device = torch::Device(torch::kCPU);
        } else if (dev == "auto") {
            device = torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
        } else {
            if (!torch::cuda::is_available())
                throw ConfigError("train.device: '" + dev + "' was asked for, but this LibTorch (" + libtorchVersion() +
                                  ") has no CUDA or no GPU is present; use auto or cpu");
            device = torch::Device(dev);
        }

        split = stratifiedSplit(data, config.data.valFraction, config.data.testFraction, config.train.seed);
        if (data.isText()) { // the vocabulary comes from the training rows only
            TextOptions o;
            o.minFrequency = config.data.text.minFrequency;
            o.maxVocabulary = config.data.text.maxVocabulary;
            o.maxLength = config.data.text.maxLength;
            encodeText(data, split.train, o);
        }
        fitOnTrainingRows(data, split.train); // imputation and category levels from the training rows only
        standardiseWithTrainingStats(data, split.train);
        train = gather(data, split.train, device);
        val = gather(data, split.val, device);
        test = gather(data, split.test, device);

        torch::manual_seed(config.train.seed);
        if (torch::cuda::is_available()) torch::cuda::manual_seed_all(config.train.seed);
        try {
            model = MoDEModel(config.model, static_cast<int>(data.cols), data.outputs(), data.imageShape,
                              static_cast<std::int64_t>(data.vocabulary.size()));
        } catch (const std::invalid_argument& e) {
            throw ConfigError(e.what());
        }
        model->to(device);
        const auto& t = config.train;
        if (t.optimizer == "sgd")
            optimizer = std::make_unique<torch::optim::SGD>(
                model->parameters(), torch::optim::SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weightDecay));
        else if (t.optimizer == "adamw")
            optimizer = std::make_unique<torch::optim::AdamW>(
                model->parameters(), torch::optim::AdamWOptions(t.lr).weight_decay(t.weightDecay));
        else
            optimizer = std::make_unique<torch::optim::Adam>(
                model->parameters(), torch::optim::AdamOptions(t.lr).weight_decay(t.weightDecay));
        loss = std::make_unique<MutualDistillationLoss>(config.loss);
    }

    std::string deviceName() const { return device.str(); }

    // The first parameter whose gradient holds a NaN or an infinity, or an empty string.
    std::string nonFiniteGradient() {
        std::vector<torch::Tensor> sums;
        auto named = model->named_parameters();
        for (const auto& p : named)
            if (p.value().grad().defined()) sums.push_back(p.value().grad().sum());
        if (sums.empty() || torch::isfinite(torch::stack(sums)).all().item<bool>()) return {};
        for (const auto& p : named)
            if (p.value().grad().defined() && !torch::isfinite(p.value().grad()).all().item<bool>()) return p.key();
        return "?";
    }

    struct Evaluation {
        double loss = 0, accuracy = 0, rmse = 0, r2 = 0;
    };

    // Loss and score on a split; with `metrics`, also routing, probing, similarity and entropy.
    Evaluation evaluate(const SplitTensors& s, EpochMetrics* metrics) {
        Evaluation ev;
        const auto n = s.rows();
        if (n == 0) return ev;
        torch::NoGradGuard noGrad;
        model->eval();
        const int E = config.model.experts;
        const int C = data.outputs();
        const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(device);
        torch::Tensor lossSum = torch::zeros({}, f64), correct = torch::zeros({}, f64);
        torch::Tensor sse = torch::zeros({}, f64);
        torch::Tensor classGate, classArgmax, subGate, subArgmax, allocated, probeHits, load, entropy, gram;
        const int classes = classification ? data.classes() : 1;
        const int subtasks = static_cast<int>(data.subtaskNames.size());
        if (metrics) {
            classGate = torch::zeros({classes, E}, f64);
            classArgmax = torch::zeros({classes, E}, f64);
            if (s.subtask.defined()) {
                subGate = torch::zeros({subtasks, E}, f64);
                subArgmax = torch::zeros({subtasks, E}, f64);
            }
            allocated = torch::zeros({E}, f64);
            probeHits = torch::zeros({E}, f64);
            load = torch::zeros({E}, f64);
            entropy = torch::zeros({}, f64);
            gram = torch::zeros({E, E}, f64);
        }
        const std::int64_t chunk = 4096;
        for (std::int64_t b = 0; b < n; b += chunk) {
            const auto len = std::min(chunk, n - b);
            auto x = s.x.narrow(0, b, len);
            auto y = s.y.narrow(0, b, len);
            auto out = model->forward(x);
            lossSum += taskLoss(out.mixture, y).to(torch::kFloat64) * static_cast<double>(len);
            if (classification)
                correct += out.mixture.argmax(1).eq(y).sum().to(torch::kFloat64);
            else
                sse += (out.mixture.squeeze(-1) - y).pow(2).sum().to(torch::kFloat64);
            if (!metrics) continue;
            auto g = out.gate.to(torch::kFloat64);
            auto top = g.argmax(1);
            auto topOneHot = torch::one_hot(top, E).to(torch::kFloat64);
            auto rowClass = classification ? y : torch::zeros_like(top);
            classGate.index_add_(0, rowClass, g);
            classArgmax.index_add_(0, rowClass, topOneHot);
            if (s.subtask.defined()) {
                auto sub = s.subtask.narrow(0, b, len);
                subGate.index_add_(0, sub, g);
                subArgmax.index_add_(0, sub, topOneHot);
            }
            allocated += topOneHot.sum(0);
            load += g.sum(0);
            entropy += -(g * g.clamp_min(1e-12).log()).sum();
            auto eo = out.experts.to(torch::kFloat64); // [B, E, C]
            if (classification) {
                auto own = eo.argmax(2).eq(y.unsqueeze(1)).to(torch::kFloat64);      // [B, E]
                probeHits += (own * topOneHot).sum(0);
                eo = eo - eo.mean(2, /*keepdim=*/true); // logits are shift-invariant
            } else {
                auto err = (eo.squeeze(2) - y.to(torch::kFloat64).unsqueeze(1)).pow(2); // [B, E]
                probeHits += (err * topOneHot).sum(0);
            }
            auto flat = eo.permute({1, 0, 2}).reshape({E, -1}); // [E, B*C]
            gram += torch::mm(flat, flat.t());
        }
        model->train();
        const double nd = static_cast<double>(n);
        ev.loss = lossSum.item<double>() / nd;
        if (classification) {
            ev.accuracy = correct.item<double>() / nd;
        } else {
            const double mse = sse.item<double>() / nd;
            ev.rmse = std::sqrt(mse);
            auto yd = s.y.to(torch::kFloat64);
            const double var = (yd - yd.mean()).pow(2).mean().item<double>();
            ev.r2 = var > 0 ? 1.0 - mse / var : 0.0;
            ev.accuracy = ev.r2;
        }
        if (!metrics) return ev;

        std::vector<std::string> classRows = classification ? data.classNames : std::vector<std::string>{"all"};
        metrics->routingByClass = routingMatrix(classGate, classArgmax, classRows);
        if (s.subtask.defined()) {
            metrics->routingBySubtask = routingMatrix(subGate, subArgmax, data.subtaskNames);
            auto counts = toVector(subArgmax);
            std::vector<std::int64_t> c;
            for (double v : counts) c.push_back(static_cast<std::int64_t>(std::llround(v)));
            metrics->gateRoutingAccuracy = gateRoutingAccuracy(c, subtasks, E);
        }
        metrics->gateEntropy = entropy.item<double>() / nd;
        auto norms = gram.diagonal().clamp_min(1e-30).sqrt();
        auto cosine = gram / (norms.unsqueeze(0) * norms.unsqueeze(1));
        auto cos = toVector(cosine);
        auto alloc = toVector(allocated), hits = toVector(probeHits), ld = toVector(load);
        double simSum = 0;
        metrics->experts.clear();
        for (int i = 0; i < E; ++i) {
            ExpertMetrics m;
            m.expert = i;
            m.allocated = static_cast<std::int64_t>(std::llround(alloc[i]));
            m.share = alloc[i] / nd;
            m.load = ld[i] / nd;
            if (m.allocated > 0) {
                if (classification) m.probingAccuracy = hits[i] / alloc[i];
                else m.probingError = hits[i] / alloc[i];
            }
            double s = 0;
            for (int j = 0; j < E; ++j)
                if (j != i) s += cos[static_cast<std::size_t>(i) * E + j];
            m.similarity = E > 1 ? s / (E - 1) : 1.0;
            simSum += s;
            metrics->experts.push_back(m);
        }
        metrics->expertSimilarity = E > 1 ? simSum / (static_cast<double>(E) * (E - 1)) : 1.0;
        (void)C;
        return ev;
    }

    RunResult run() {
        RunResult result;
        const auto start = Clock::now();
        Clock::duration paused{};
        auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - start - paused).count(); };
        const auto& tc = config.train;
        const std::int64_t nTrain = train.rows();
        // Data-parallel: each rank takes its `batch` rows of a global minibatch of batch x world.
        const int world = dist ? dist->worldSize() : 1, rank = dist ? dist->rank() : 0;
        const std::int64_t batch = std::min<std::int64_t>(tc.batchSize, (nTrain + world - 1) / world);
        const std::int64_t globalBatch = batch * world;
        const std::int64_t stepsPerEpoch = (nTrain + globalBatch - 1) / globalBatch;

        RunStart rs;
        rs.device = deviceName();
        rs.libtorchVersion = libtorchVersion();
        rs.datasetName = data.name;
        rs.datasetFingerprint = data.fingerprint();
        rs.trainRows = nTrain;
        rs.valRows = val.rows();
        rs.testRows = test.rows();
        rs.features = data.cols;
        rs.parameters = model->parameterCount();
        rs.stepsPerEpoch = stepsPerEpoch;
        rs.epochs = tc.epochs;
        rs.experts = config.model.experts;
        rs.classification = classification;
        rs.classNames = data.classNames;
        rs.subtaskNames = data.subtaskNames;
        rs.vocabulary = data.vocabulary;
        if (resume) {
            rs.resumedFromEpoch = resume->epoch;
            rs.resumedFromStep = resume->step;
        }
        for (auto* o : observers) o->onRunStart(rs);

        std::int64_t& globalStep = result.steps;
        double trainSeconds = 0;
        std::int64_t trainSamples = 0;
        try {
            torch::manual_seed(tc.seed + 1); // dropout and gate noise
            Rng shuffler(tc.seed * 31 + 7);
            std::vector<std::int64_t> order(static_cast<std::size_t>(nTrain));
            for (std::int64_t i = 0; i < nTrain; ++i) order[i] = i;
            int firstEpoch = 1;
            if (resume) { // model and optimiser were restored by resumeFrom; the rest here
                firstEpoch = resume->epoch + 1;
                globalStep = resume->step;
                shuffler.setState(resume->shuffler);
                order = resume->order;
                auto generator = at::detail::getDefaultCPUGenerator();
                std::lock_guard<std::mutex> lock(generator.mutex());
                generator.set_state(resume->rng);
                result.epochsCompleted = resume->epoch;
                result.final = resume->last;
                paused -= std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(resume->wallSeconds));
            }
            if (dist) { // every rank starts from rank 0's parameters
                auto tensors = model->parameters();
                for (auto& b : model->buffers()) tensors.push_back(b);
                torch::NoGradGuard noGrad;
                dist->impl().broadcastFromRankZero(tensors);
            }
            model->train();
            for (int epoch = firstEpoch; epoch <= tc.epochs; ++epoch) {
                shuffler.shuffle(order);
                auto perm = torch::from_blob(order.data(), {nTrain}, torch::kInt64).to(device);
                double sumTotal = 0, sumTask = 0, sumDistill = 0, sumScore = 0;
                std::int64_t seen = 0;
                const auto epochStart = Clock::now();
                Clock::duration epochPaused{};
                for (std::int64_t s = 0; s < stepsPerEpoch; ++s) {
                    // A stop request: at once alone; together after this step's exchange when
                    // data-parallel (a rank leaving alone would leave the others waiting).
                    const bool stopAsked = !control->checkpoint(&epochPaused);
                    if (stopAsked && !dist) {
                        paused += epochPaused;
                        result.status = RunStatus::Stopped;
                        result.message = "stopped at step " + std::to_string(globalStep) + " (epoch " + std::to_string(epoch) + ")";
                        return finish(result, seconds());
                    }
                    // This rank's rows of the global minibatch (all of it without a group).
                    const auto g0 = s * globalBatch;
                    const auto glen = std::min(globalBatch, nTrain - g0);
                    const auto off = std::min<std::int64_t>(rank * batch, glen);
                    const auto len = std::min<std::int64_t>(batch, glen - off);
                    double v[4] = {0, 0, 0, 0};
                    double correct = 0;
                    LossTerms terms;
                    optimizer->zero_grad();
                    if (len > 0) {
                        auto idx = perm.narrow(0, g0 + off, len);
                        auto x = train.x.index_select(0, idx);
                        auto y = train.y.index_select(0, idx);
                        auto out = model->forward(x);
                        terms = (*loss)(out.mixture, out.experts, out.gate, out.gateProbs, y);
                        auto values = torch::stack({terms.total.detach(), terms.task.detach(), terms.distill.detach(),
                                                    terms.balance.detach()}).to(torch::kCPU, torch::kFloat64);
                        std::copy(values.data_ptr<double>(), values.data_ptr<double>() + 4, v);
                        if (classification) correct = out.mixture.detach().argmax(1).eq(y).sum().item<double>();
                    }
                    ++globalStep;
                    if (dist) {
                        if (len > 0 && std::isfinite(v[0])) terms.total.backward();
                        const double n = static_cast<double>(len);
                        auto sums = exchange(n / static_cast<double>(glen),
                                             {v[0] * n, v[1] * n, v[2] * n, v[3] * n, correct, stopAsked ? 1.0 : 0.0});
                        if (sums[5] > 0) {
                            --globalStep; // not applied
                            paused += epochPaused;
                            result.status = RunStatus::Stopped;
                            result.message = "stopped at step " + std::to_string(globalStep) + " (epoch " + std::to_string(epoch) +
                                             "; asked on " + std::to_string(static_cast<int>(sums[5])) + " of " + std::to_string(world) +
                                             " ranks)";
                            return finish(result, seconds());
                        }
                        for (int i = 0; i < 4; ++i) v[i] = sums[static_cast<std::size_t>(i)] / static_cast<double>(glen);
                        correct = sums[4];
                    }
                    if (!std::isfinite(v[0])) {
                        result.status = RunStatus::Diverged;
                        result.message = "diverged at step " + std::to_string(globalStep) + " (epoch " + std::to_string(epoch) +
                                         "): the total loss is " + fmt(v[0]) + " (task " + fmt(v[1]) + ", distillation " +
                                         fmt(v[2]) + ", balance " + fmt(v[3]) + ")";
                        return finish(result, seconds());
                    }
                    if (!dist) terms.total.backward();
                    if (auto bad = nonFiniteGradient(); !bad.empty()) {
                        result.status = RunStatus::Diverged;
                        result.message = "diverged at step " + std::to_string(globalStep) + " (epoch " + std::to_string(epoch) +
                                         "): the gradient of '" + bad + "' is not finite (total loss " + fmt(v[0]) + ")";
                        return finish(result, seconds());
                    }
                    optimizer->step();

                    sumTotal += v[0] * glen;
                    sumTask += v[1] * glen;
                    sumDistill += v[2] * glen;
                    sumScore += correct;
                    seen += glen;
                    StepMetrics sm;
                    sm.epoch = epoch;
                    sm.step = globalStep;
                    sm.stepInEpoch = s + 1;
                    sm.total = v[0];
                    sm.task = v[1];
                    sm.distill = v[2];
                    sm.balance = v[3];
                    const double el = std::chrono::duration<double>(Clock::now() - epochStart - epochPaused).count();
                    sm.samplesPerSecond = el > 0 ? static_cast<double>(seen) / el : 0;
                    sm.wallSeconds = seconds() - std::chrono::duration<double>(epochPaused).count();
                    for (auto* o : observers) o->onStep(sm);
                }
                paused += epochPaused;
                trainSeconds += std::chrono::duration<double>(Clock::now() - epochStart - epochPaused).count();
                trainSamples += seen;
                result.trainSamplesPerSecond = trainSeconds > 0 ? static_cast<double>(trainSamples) / trainSeconds : 0;
                EpochMetrics em;
                em.epoch = epoch;
                em.step = globalStep;
                em.trainLoss = sumTotal / seen;
                em.trainTaskLoss = sumTask / seen;
                em.trainDistillLoss = sumDistill / seen;
                if (classification) em.trainAccuracy = sumScore / seen;
                // Data-parallel: rank 0 evaluates (and reports); the others go on to the next step.
                const bool evaluates = rank == 0;
                auto v = evaluates ? evaluate(val, nullptr) : Evaluation{};
                em.valLoss = v.loss;
                em.valAccuracy = v.accuracy;
                auto te = evaluates ? evaluate(test, &em) : Evaluation{};
                em.testLoss = te.loss;
                em.testAccuracy = te.accuracy;
                if (!classification) {
                    em.testRmse = te.rmse;
                    em.testR2 = te.r2;
                    em.trainAccuracy = 1.0 - em.trainTaskLoss / std::max(1e-30, train.y.var(false).item<double>());
                }
                em.wallSeconds = seconds();
                if (dist) { // rank 0 tells the others whether its evaluation diverged
                    auto flag = torch::tensor({evaluates && !(std::isfinite(em.valLoss) && std::isfinite(em.testLoss)) ? 1.0 : 0.0});
                    dist->impl().allReduceSum(flag);
                    if (flag.item<double>() > 0) em.valLoss = em.testLoss = std::nan("");
                }
                if (!std::isfinite(em.valLoss) || !std::isfinite(em.testLoss)) {
                    result.status = RunStatus::Diverged;
                    result.message = "diverged in epoch " + std::to_string(epoch) + ": the evaluation loss is not finite";
                    return finish(result, seconds());
                }
                for (auto* o : observers) o->onEpoch(em);
                if (std::any_of(observers.begin(), observers.end(), [](auto* o) { return o->wantsCheckpoints(); })) {
                    Checkpoint c;
                    c.epoch = epoch;
                    c.step = globalStep;
                    c.wallSeconds = em.wallSeconds;
                    c.state = saveState(epoch, globalStep, shuffler, order);
                    for (auto* o : observers)
                        if (o->wantsCheckpoints()) o->onCheckpoint(c);
                }
                result.epochsCompleted = epoch;
                result.final = std::move(em);
            }
            result.status = RunStatus::Finished;
        } catch (const std::exception& e) {
            result.status = RunStatus::Failed;
            std::string what = e.what();
            result.message = what.substr(0, what.find('\n'));
        }
        return finish(result, seconds());
    }

    // Model, optimiser, the minibatch order and the generators: what a resumed run needs.
    std::string saveState(int epoch, std::int64_t step, const Rng& shuffler, const std::vector<std::int64_t>& order) {
        torch::serialize::OutputArchive archive;
        torch::serialize::OutputArchive modelArchive, optimizerArchive;
        model->save(modelArchive);
        optimizer->save(optimizerArchive);
        archive.write("model", modelArchive);
        archive.write("optimizer", optimizerArchive);
        archive.write("epoch", torch::tensor(static_cast<std::int64_t>(epoch)));
        archive.write("step", torch::tensor(step));
        archive.write("shuffler", torch::tensor(static_cast<std::int64_t>(shuffler.state())));
        archive.write("order", torch::tensor(order));
        archive.write("torch_rng", at::detail::getDefaultCPUGenerator().get_state());
        std::ostringstream out;
        archive.save_to(out);
        return out.str();
    }

    void resumeFrom(const Checkpoint& c, std::optional<EpochMetrics> last) {
        if (dist) throw DistributedError("a resumed run cannot be spread over ranks yet; resume it in one process");
        const std::string where = "checkpoint of epoch " + std::to_string(c.epoch);
        if (c.epoch < 1 || c.epoch > config.train.epochs || c.step < 0)
            throw CheckpointError(where + ": epoch " + std::to_string(c.epoch) + ", step " + std::to_string(c.step) +
                                  " do not fit a run of " + std::to_string(config.train.epochs) + " epochs");
        ResumePoint r;
        try {
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
                throw CheckpointError("it says epoch " + std::to_string(epoch.item<std::int64_t>()) + ", step " +
                                      std::to_string(step.item<std::int64_t>()) + ", the store says step " + std::to_string(c.step));
            const std::int64_t nTrain = train.rows();
            order = order.to(torch::kInt64).contiguous();
            if (order.dim() != 1 || order.numel() != nTrain)
                throw CheckpointError("its minibatch order has " + std::to_string(order.numel()) + " rows, the training split " +
                                      std::to_string(nTrain) + " (was the data changed?)");
            // A permutation of the training rows, or it would index outside them.
            if (!std::get<0>(order.sort()).equal(torch::arange(nTrain, torch::kInt64)))
                throw CheckpointError("its minibatch order is not a permutation of the training rows");
            r.order.assign(order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + nTrain);
            r.shuffler = static_cast<std::uint64_t>(shuffler.item<std::int64_t>());
            // The model is read into a copy and changed last, once everything else was read.
            auto restoredModel = MoDEModel(config.model, static_cast<int>(data.cols), data.outputs(), data.imageShape,
                                           static_cast<std::int64_t>(data.vocabulary.size()));
            restoredModel->load(modelArchive); // takes the archive's shapes as they are: checked next
            {
                const auto mine = model->named_parameters(), theirs = restoredModel->named_parameters();
                for (const auto& p : mine) {
                    const auto* other = theirs.find(p.key());
                    if (!other || other->sizes() != p.value().sizes())
                        throw CheckpointError("it was written for another model: parameter '" + p.key() + "' has shape " +
                                              (other ? shapeText(other->sizes()) : std::string("(none)")) + ", this model's " +
                                              shapeText(p.value().sizes()));
                }
            }
            auto probe = at::make_generator<at::CPUGeneratorImpl>();
            probe.set_state(r.rng.to(torch::kCPU)); // throws for a state of the wrong size
            optimizer->load(optimizerArchive);
            {
                torch::NoGradGuard noGrad;
                auto to = model->parameters();
                auto from = restoredModel->parameters();
                for (std::size_t i = 0; i < to.size(); ++i) to[i].copy_(from[i]);
                auto tb = model->buffers();
                auto fb = restoredModel->buffers();
                for (std::size_t i = 0; i < tb.size(); ++i) tb[i].copy_(fb[i]);
            }
        } catch (const CheckpointError& e) {
            throw CheckpointError(where + ": " + e.what());
        } catch (const std::exception& e) {
            std::string what = e.what();
            throw CheckpointError(where + " cannot be read (damaged, or written for another model): " +
                                  what.substr(0, what.find('\n')));
        }
        r.epoch = c.epoch;
        r.step = c.step;
        r.wallSeconds = c.wallSeconds;
        r.last = std::move(last);
        resume = std::move(r);
    }

    RunResult finish(RunResult& r, double seconds) {
        r.wallSeconds = seconds;
        for (auto* o : observers) o->onRunEnd(r);
        return r;
    }
};

Trainer::Trainer(ExperimentConfig config, Dataset data)
    : d_(std::make_unique<Impl>(std::move(config), std::move(data))) {}
Trainer::~Trainer() = default;
void Trainer::addObserver(TrainingObserver* o) { d_->observers.push_back(o); }
TrainerControl& Trainer::control() { return *d_->control; }
void Trainer::useControl(TrainerControl* control) { d_->control = control ? control : &d_->ownControl; }
RunResult Trainer::run() { return d_->run(); }
void Trainer::useDistributed(Distributed* group) {
    if (group && group->worldSize() > 1 && d_->resume)
        throw DistributedError("a resumed run cannot be spread over ranks yet; resume it in one process");
    d_->dist = group && group->worldSize() > 1 ? group : nullptr;
}
void Trainer::resumeFrom(const Checkpoint& c, std::optional<EpochMetrics> last) { d_->resumeFrom(c, std::move(last)); }
const ExperimentConfig& Trainer::config() const { return d_->config; }
std::string Trainer::device() const { return d_->deviceName(); }

} // namespace mode

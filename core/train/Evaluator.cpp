// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Evaluator.h"

#include "loss/MutualDistillationLoss.h"
#include "train/Assignment.h"

#include <ATen/Parallel.h>
#include <ATen/ThreadLocalState.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace mode {

namespace {

std::vector<double> toVector(const torch::Tensor& t) {
    auto c = t.to(torch::kCPU, torch::kFloat64).contiguous();
    return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

std::vector<std::int64_t> toCounts(const torch::Tensor& t) {
    std::vector<std::int64_t> counts;
    for (double v : toVector(t))
        counts.push_back(static_cast<std::int64_t>(std::llround(v)));
    return counts;
}

// gateSums and topCounts: rows x experts sums of the gate weights and of the top-expert
// indicators of each row's samples.
RoutingMatrix routingMatrix(const torch::Tensor& gateSums, const torch::Tensor& topCounts,
                            const std::vector<std::string>& names) {
    RoutingMatrix m;
    m.rowNames = names;
    m.experts = static_cast<int>(gateSums.size(1));
    auto rowCounts = topCounts.sum(1, /*keepdim=*/true);
    auto denom = rowCounts.clamp_min(1);
    m.meanGate = toVector(gateSums / denom);
    m.argmaxShare = toVector(topCounts / denom);
    m.rowCounts = toCounts(rowCounts);
    return m;
}

} // namespace

// Running sums over a split's chunks, kept on the device in float64 and read once at the end.
struct Evaluator::Sums {
    // The mixture: summed loss (the chunk's mean times its rows), correct predictions
    // (classification) or squared error (regression).
    torch::Tensor loss, correct, squaredError;
    // The diagnostics, defined only when asked for. Routing: per class (per sub-task), the summed
    // gate weights and the counts of rows whose largest gate weight is each expert's.
    torch::Tensor classGate, classTop, subtaskGate, subtaskTop;
    torch::Tensor allocated; // [E] rows whose top expert it is
    torch::Tensor probe;     // [E] of those, the expert's own hits (or squared error, regression)
    torch::Tensor load;      // [E] summed gate weight
    torch::Tensor entropy;   // summed gate entropy
    torch::Tensor gram;      // [E, E] inner products of the experts' (centred) outputs

    Sums(const EvaluationTask& task, const SplitTensors& split, bool diagnostics);
    void addMixture(const MoDEOutput& out, const torch::Tensor& y, std::int64_t rows,
                    bool classification);
    void addDiagnostics(const MoDEOutput& out, const torch::Tensor& y, const torch::Tensor& subtask,
                        bool classification);
    // Another chunk's sums (the chunks are added in their order).
    void add(const Sums& chunk);
};

void Evaluator::Sums::add(const Sums& o) {
    loss += o.loss;
    correct += o.correct;
    squaredError += o.squaredError;
    if (!classGate.defined()) return;
    classGate += o.classGate;
    classTop += o.classTop;
    if (subtaskGate.defined()) {
        subtaskGate += o.subtaskGate;
        subtaskTop += o.subtaskTop;
    }
    allocated += o.allocated;
    probe += o.probe;
    load += o.load;
    entropy += o.entropy;
    gram += o.gram;
}

Evaluator::Sums::Sums(const EvaluationTask& task, const SplitTensors& split, bool diagnostics) {
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64).device(split.x.device());
    loss = torch::zeros({}, f64);
    correct = torch::zeros({}, f64);
    squaredError = torch::zeros({}, f64);
    if (!diagnostics) return;
    const int experts = task.experts;
    const auto classes =
        task.classification ? static_cast<std::int64_t>(task.classNames.size()) : 1;
    classGate = torch::zeros({classes, experts}, f64);
    classTop = torch::zeros({classes, experts}, f64);
    if (split.subtask.defined()) {
        const auto subtasks = static_cast<std::int64_t>(task.subtaskNames.size());
        subtaskGate = torch::zeros({subtasks, experts}, f64);
        subtaskTop = torch::zeros({subtasks, experts}, f64);
    }
    allocated = torch::zeros({experts}, f64);
    probe = torch::zeros({experts}, f64);
    load = torch::zeros({experts}, f64);
    entropy = torch::zeros({}, f64);
    gram = torch::zeros({experts, experts}, f64);
}

void Evaluator::Sums::addMixture(const MoDEOutput& out, const torch::Tensor& y, std::int64_t rows,
                                 bool classification) {
    loss += taskLoss(out.mixture, y).to(torch::kFloat64) * static_cast<double>(rows);
    if (classification)
        correct += out.mixture.argmax(1).eq(y).sum().to(torch::kFloat64);
    else
        squaredError += (out.mixture.squeeze(-1) - y).pow(2).sum().to(torch::kFloat64);
}

void Evaluator::Sums::addDiagnostics(const MoDEOutput& out, const torch::Tensor& y,
                                     const torch::Tensor& subtask, bool classification) {
    const auto experts = allocated.size(0);
    auto gate = out.gate.to(torch::kFloat64);
    auto top = gate.argmax(1);
    auto topOneHot = torch::one_hot(top, experts).to(torch::kFloat64);
    auto rowClass = classification ? y : torch::zeros_like(top);
    classGate.index_add_(0, rowClass, gate);
    classTop.index_add_(0, rowClass, topOneHot);
    if (subtask.defined()) {
        subtaskGate.index_add_(0, subtask, gate);
        subtaskTop.index_add_(0, subtask, topOneHot);
    }
    allocated += topOneHot.sum(0);
    load += gate.sum(0);
    entropy += -(gate * gate.clamp_min(1e-12).log()).sum();
    auto expertOutputs = out.experts.to(torch::kFloat64); // [B, E, C]
    if (classification) {
        auto hits = expertOutputs.argmax(2).eq(y.unsqueeze(1)).to(torch::kFloat64); // [B, E]
        probe += (hits * topOneHot).sum(0);
        // Logits are shift-invariant: compare them centred.
        expertOutputs = expertOutputs - expertOutputs.mean(2, /*keepdim=*/true);
    } else {
        auto error = (expertOutputs.squeeze(2) - y.to(torch::kFloat64).unsqueeze(1)).pow(2);
        probe += (error * topOneHot).sum(0);
    }
    auto flat = expertOutputs.permute({1, 0, 2}).reshape({experts, -1}); // [E, B*C]
    gram += torch::mm(flat, flat.t());
}

void forEachChunk(std::int64_t rows, std::int64_t chunkRows, bool cpu,
                  const std::function<void(std::int64_t first, std::int64_t rows)>& work) {
    const std::int64_t chunks = (rows + chunkRows - 1) / chunkRows;
    const auto one = [&](std::int64_t c) {
        const std::int64_t first = c * chunkRows;
        work(first, std::min(chunkRows, rows - first));
    };
    if (!cpu || chunks < at::get_num_threads()) {
        for (std::int64_t c = 0; c < chunks; ++c)
            one(c);
        return;
    }
    const at::ThreadLocalState callers;
    at::parallel_for(0, chunks, 1, [&](std::int64_t begin, std::int64_t end) {
        const at::ThreadLocalStateGuard same(callers);
        for (std::int64_t c = begin; c < end; ++c)
            one(c);
    });
}

Evaluator::Evaluator(EvaluationTask task, Forward forward, std::int64_t chunkRows)
    : task_(std::move(task)), forward_(std::move(forward)), chunkRows_(chunkRows) {}

Scores Evaluator::score(const SplitTensors& split) const {
    return run(split, nullptr, nullptr);
}

Scores Evaluator::scoreWithDiagnostics(const SplitTensors& split, EpochMetrics& metrics,
                                       SampleRouting* samples) const {
    return run(split, &metrics, samples);
}

namespace {
// One chunk's rows into `s`: labels, top expert and its weight, the mixture's and the top
// expert's own predictions.
void addSamples(SampleRouting& s, const MoDEOutput& out, const torch::Tensor& y,
                bool classification, int topK) {
    auto floats = [](std::vector<float>& to, const torch::Tensor& t) {
        const auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
        to.insert(to.end(), c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    };
    const auto [weight, top] = out.gate.max(1);
    const auto rows = torch::arange(top.size(0), top.options());
    const torch::Tensor own = out.experts.index({rows, top}); // [B, C]
    floats(s.label, y);
    floats(s.topWeight, weight);
    floats(s.prediction, classification ? out.mixture.argmax(1) : out.mixture.select(1, 0));
    floats(s.expertPrediction, classification ? own.argmax(1) : own.select(1, 0));
    const auto t = top.to(torch::kCPU, torch::kUInt8).contiguous();
    s.topExpert.insert(s.topExpert.end(), t.data_ptr<std::uint8_t>(),
                       t.data_ptr<std::uint8_t>() + t.numel());
    if (topK > 0 && topK < out.gate.size(1)) {
        const auto [weights, experts] = out.gate.topk(topK, 1); // largest first
        floats(s.gateWeights, weights);
        const auto e = experts.to(torch::kCPU, torch::kUInt8).contiguous();
        s.gateExperts.insert(s.gateExperts.end(), e.data_ptr<std::uint8_t>(),
                             e.data_ptr<std::uint8_t>() + e.numel());
        s.k = topK;
    }
}

// Cosine similarities from a Gram matrix of inner products.
torch::Tensor cosineOf(const torch::Tensor& gram) {
    const auto norms = gram.diagonal().clamp_min(1e-30).sqrt();
    return gram / (norms.unsqueeze(0) * norms.unsqueeze(1));
}
} // namespace

namespace {
// Appends one chunk's per-sample routing to the split's (the rows themselves are the caller's).
void appendSamples(SampleRouting& to, const SampleRouting& chunk) {
    const auto append = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
    append(to.label, chunk.label);
    append(to.topWeight, chunk.topWeight);
    append(to.prediction, chunk.prediction);
    append(to.expertPrediction, chunk.expertPrediction);
    append(to.topExpert, chunk.topExpert);
    append(to.gateWeights, chunk.gateWeights);
    append(to.gateExperts, chunk.gateExperts);
    to.k = chunk.k;
}
} // namespace

Scores Evaluator::run(const SplitTensors& split, EpochMetrics* metrics,
                      SampleRouting* samples) const {
    const auto rows = split.rows();
    if (rows == 0) return {};
    const std::int64_t chunks = (rows + chunkRows_ - 1) / chunkRows_;
    std::vector<Sums> parts;
    parts.reserve(static_cast<std::size_t>(chunks));
    for (std::int64_t c = 0; c < chunks; ++c)
        parts.emplace_back(task_, split, metrics != nullptr);
    std::vector<SampleRouting> chunkSamples(static_cast<std::size_t>(samples ? chunks : 0));
    const torch::NoGradGuard noGrad;
    forEachChunk(rows, chunkRows_, split.x.device().is_cpu(),
                 [&](std::int64_t first, std::int64_t length) {
                     const std::int64_t c = first / chunkRows_;
                     auto y = split.y.narrow(0, first, length);
                     const auto out = forward_(split.x.narrow(0, first, length));
                     if (seen_) seen_(first, out);
                     Sums& sums = parts[static_cast<std::size_t>(c)];
                     sums.addMixture(out, y, length, task_.classification);
                     if (!metrics) return;
                     auto subtask = split.subtask.defined() ? split.subtask.narrow(0, first, length)
                                                            : torch::Tensor();
                     sums.addDiagnostics(out, y, subtask, task_.classification);
                     if (samples)
                         addSamples(chunkSamples[static_cast<std::size_t>(c)], out, y,
                                    task_.classification, task_.topK);
                 });
    Sums& sums = parts.front();
    for (std::int64_t c = 1; c < chunks; ++c)
        sums.add(parts[static_cast<std::size_t>(c)]);
    for (const auto& chunk : chunkSamples)
        appendSamples(*samples, chunk);
    if (samples) {
        samples->classification = task_.classification;
        samples->experts = task_.experts;
        const auto cosine = cosineOf(sums.gram).to(torch::kFloat32).contiguous();
        samples->similarity.assign(cosine.data_ptr<float>(),
                                   cosine.data_ptr<float>() + cosine.numel());
    }
    const Scores scores = mixtureScores(split, sums);
    if (metrics) report(sums, rows, *metrics);
    return scores;
}

Scores Evaluator::mixtureScores(const SplitTensors& split, const Sums& sums) const {
    Scores scores;
    const auto rows = static_cast<double>(split.rows());
    scores.loss = sums.loss.item<double>() / rows;
    if (task_.classification) {
        scores.accuracy = sums.correct.item<double>() / rows;
        return scores;
    }
    const double mse = sums.squaredError.item<double>() / rows;
    scores.rmse = std::sqrt(mse);
    auto y = split.y.to(torch::kFloat64);
    const double variance = (y - y.mean()).pow(2).mean().item<double>();
    scores.r2 = variance > 0 ? 1.0 - mse / variance : 0.0;
    scores.accuracy = scores.r2;
    return scores;
}

void Evaluator::report(const Sums& sums, std::int64_t rows, EpochMetrics& metrics) const {
    const int experts = task_.experts;
    const auto n = static_cast<double>(rows);
    const auto classRows =
        task_.classification ? task_.classNames : std::vector<std::string>{"all"};
    if (task_.gated) {
        metrics.routingByClass = routingMatrix(sums.classGate, sums.classTop, classRows);
        if (sums.subtaskTop.defined()) {
            metrics.routingBySubtask =
                routingMatrix(sums.subtaskGate, sums.subtaskTop, task_.subtaskNames);
            metrics.gateRoutingAccuracy = gateRoutingAccuracy(
                toCounts(sums.subtaskTop), static_cast<int>(task_.subtaskNames.size()), experts);
        }
        metrics.gateEntropy = sums.entropy.item<double>() / n;
    } else { // no routing: no rows, but the experts' count (what aligns experts by routing)
        metrics.routingByClass = RoutingMatrix{};
        metrics.routingByClass.experts = experts;
    }
    const auto cosine = toVector(cosineOf(sums.gram));
    const auto allocated = toVector(sums.allocated), probe = toVector(sums.probe),
               load = toVector(sums.load);
    double similaritySum = 0;
    metrics.experts.clear();
    for (int i = 0; i < experts; ++i) {
        ExpertMetrics m;
        m.expert = i;
        m.load = load[i] / n;
        if (task_.gated) { // without a gate nothing is allocated, so nothing probed
            m.allocated = static_cast<std::int64_t>(std::llround(allocated[i]));
            m.share = allocated[i] / n;
        }
        if (m.allocated > 0) {
            if (task_.classification)
                m.probingAccuracy = probe[i] / allocated[i];
            else
                m.probingError = probe[i] / allocated[i];
        }
        double similarity = 0; // to the other experts
        for (int j = 0; j < experts; ++j)
            if (j != i) similarity += cosine[static_cast<std::size_t>(i) * experts + j];
        m.similarity = experts > 1 ? similarity / (experts - 1) : 1.0;
        similaritySum += similarity;
        metrics.experts.push_back(m);
    }
    metrics.expertSimilarity =
        experts > 1 ? similaritySum / (static_cast<double>(experts) * (experts - 1)) : 1.0;
}

} // namespace mode

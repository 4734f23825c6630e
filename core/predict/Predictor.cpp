// SPDX-License-Identifier: GPL-3.0-or-later
#include "predict/Predictor.h"

#include "util/SafeOutput.h"

#include "model/MoDEModel.h"
#include "train/Evaluator.h"
#include "train/Trainer.h"

#include <torch/script.h>
#include <torch/torch.h>

#include <cmath>
#include <iomanip>
#include <sstream>

namespace mode {

std::int64_t Predictions::predictedClass(std::int64_t row) const {
    const float* p = output.data() + row * outputs;
    return std::max_element(p, p + outputs) - p;
}

int Predictions::topExpert(std::int64_t row) const {
    const float* g = gate.data() + row * experts;
    return static_cast<int>(std::max_element(g, g + experts) - g);
}

std::int64_t Predictions::expertClass(std::int64_t row, int expert) const {
    const float* p = expertOutput.data() + (row * experts + expert) * outputs;
    return std::max_element(p, p + outputs) - p;
}

constexpr std::int64_t kChunkRows = 4096;

struct Predictor::Impl {
    ExperimentConfig config;
    FeatureRecipe recipe;
    MoDEModel model{nullptr};
    int outputs = 1;

    // The rows as tensors over the dataset's own memory (the model only reads them).
    SplitTensors tensors(const Dataset& d) const {
        SplitTensors s;
        s.x = torch::from_blob(const_cast<float*>(d.features.data()), {d.rows, d.cols},
                               torch::kFloat32);
        if (!d.labels.empty())
            s.y = torch::tensor(d.labels, torch::kInt64);
        else if (!d.values.empty())
            s.y = torch::tensor(d.values, torch::kFloat32);
        return s;
    }

    void requireInputs(const Dataset& d) const {
        if (d.cols != recipe.inputs())
            throw DataError(d.name + ": " + std::to_string(d.cols) +
                            " inputs per row, but the run's model reads " +
                            std::to_string(recipe.inputs()));
    }
};

Predictor::Predictor(const ExperimentConfig& config, const FeatureRecipe& recipe,
                     const Checkpoint& checkpoint)
    : d_(std::make_unique<Impl>()) {
    d_->config = config;
    d_->recipe = recipe;
    d_->outputs = recipe.classification ? static_cast<int>(recipe.classNames.size()) : 1;
    d_->model = MoDEModel(config.model, static_cast<int>(recipe.inputs()), d_->outputs,
                          recipe.imageShape, static_cast<std::int64_t>(recipe.vocabulary.size()));
    try {
        torch::serialize::InputArchive archive, modelArchive;
        std::istringstream in(checkpoint.state);
        archive.load_from(in, torch::kCPU);
        archive.read("model", modelArchive);
        auto restored =
            MoDEModel(config.model, static_cast<int>(recipe.inputs()), d_->outputs,
                      recipe.imageShape, static_cast<std::int64_t>(recipe.vocabulary.size()));
        restored->load(modelArchive);
        const auto want = d_->model->named_parameters();
        const auto got = restored->named_parameters();
        for (const auto& p : want) {
            const torch::Tensor* q = got.find(p.key());
            if (!q || !q->sizes().equals(p.value().sizes()))
                throw CheckpointError("the stored model of epoch " +
                                      std::to_string(checkpoint.epoch) +
                                      " does not fit the run's configuration (" + p.key() + ")");
        }
        d_->model = restored;
    } catch (const CheckpointError&) {
        throw;
    } catch (const std::exception& e) {
        const std::string what = e.what();
        throw CheckpointError("the stored model of epoch " + std::to_string(checkpoint.epoch) +
                              " cannot be read: " + what.substr(0, what.find('\n')));
    }
    d_->model->eval();
}

Predictor::~Predictor() = default;

const FeatureRecipe& Predictor::recipe() const {
    return d_->recipe;
}

namespace {

// One output of `width` values into `out`: as it is, or, for classes, less its largest value
// (the softmax's first step; writeChunk ends it for the whole chunk at once).
void writeOutput(const float* in, std::int64_t step, float* out, std::int64_t width, bool shift) {
    float top = 0;
    if (shift) {
        top = in[0];
        for (std::int64_t c = 1; c < width; ++c)
            top = std::max(top, in[c * step]);
    }
    for (std::int64_t c = 0; c < width; ++c)
        out[c] = in[c * step] - top;
}

// The softmax of each run of `width` shifted values (writeOutput's): the exponentials by
// LibTorch's vectorised exp, in place, then each run divided by its sum.
void finishSoftmax(float* values, std::int64_t runs, std::int64_t width) {
    torch::from_blob(values, {runs * width}, torch::kFloat32).exp_();
    for (std::int64_t r = 0; r < runs; ++r, values += width) {
        float sum = 0;
        for (std::int64_t c = 0; c < width; ++c)
            sum += values[c];
        for (std::int64_t c = 0; c < width; ++c)
            values[c] /= sum;
    }
}

// A chunk's outputs into the predictions, at its first row: probabilities for classes. The
// experts' outputs are read where the model left them (a view across its expert-major layout).
void writeChunk(Predictions& p, const MoDEOutput& out, std::int64_t first, std::int64_t rows) {
    const torch::Tensor mixture = out.mixture.to(torch::kFloat32);
    const torch::Tensor experts = out.experts.to(torch::kFloat32); // [B, E, C], any strides
    const torch::Tensor gate = out.gate.to(torch::kFloat32).contiguous();
    const std::int64_t width = p.outputs;
    const float* m = mixture.data_ptr<float>();
    const float* e = experts.data_ptr<float>();
    float* output = p.output.data() + first * width;
    float* expertOutput = p.expertOutput.data() + first * p.experts * width;
    for (std::int64_t r = 0; r < rows; ++r) {
        writeOutput(m + r * mixture.stride(0), mixture.stride(1), output + r * width, width,
                    p.classification);
        for (std::int64_t k = 0; k < p.experts; ++k)
            writeOutput(e + r * experts.stride(0) + k * experts.stride(1), experts.stride(2),
                        expertOutput + (r * p.experts + k) * width, width, p.classification);
    }
    if (p.classification) {
        finishSoftmax(output, rows, width);
        finishSoftmax(expertOutput, rows * p.experts, width);
    }
    std::copy_n(gate.data_ptr<float>(), gate.numel(), p.gate.data() + first * p.experts);
}

} // namespace

Predictions Predictor::predict(const Dataset& ready,
                               std::optional<PredictionScores>* scores) const {
    d_->requireInputs(ready);
    const c10::InferenceMode inference;
    const SplitTensors s = d_->tensors(ready);
    Predictions p;
    p.rows = ready.rows;
    p.experts = d_->model->experts(); // dense: its one network
    p.gated = d_->model->kind() == ModelKind::Moe;
    p.outputs = d_->outputs;
    p.classification = d_->recipe.classification;
    p.output.resize(static_cast<std::size_t>(p.rows * p.outputs));
    p.gate.resize(static_cast<std::size_t>(p.rows * p.experts));
    p.expertOutput.resize(static_cast<std::size_t>(p.rows * p.experts * p.outputs));
    // One forward pass per chunk of rows, the chunks spread over LibTorch's threads (each chunk
    // on one thread: the same chunks, and so the same outputs, as an evaluation in training).
    // Where the rows have targets the Evaluator runs them and scores the same outputs, as it
    // scores a split in training.
    const auto forward = [this](const torch::Tensor& x) { return d_->model->forward(x); };
    if (!scores || !s.y.defined()) {
        forEachChunk(p.rows, kChunkRows, true, [&](std::int64_t first, std::int64_t rows) {
            writeChunk(p, forward(s.x.narrow(0, first, rows)), first, rows);
        });
        return p;
    }
    EvaluationTask task;
    task.classification = d_->recipe.classification;
    task.experts = d_->model->experts();
    task.gated = d_->model->kind() == ModelKind::Moe;
    task.classNames = d_->recipe.classNames;
    Evaluator evaluator(std::move(task), forward, kChunkRows);
    evaluator.onChunk([&p](std::int64_t first, const MoDEOutput& out) {
        writeChunk(p, out, first, out.mixture.size(0));
    });
    EpochMetrics metrics;
    const Scores sc = evaluator.scoreWithDiagnostics(s, metrics);
    PredictionScores out;
    out.accuracy = sc.accuracy;
    out.loss = sc.loss;
    out.rmse = sc.rmse;
    out.r2 = sc.r2;
    out.experts = std::move(metrics.experts);
    *scores = std::move(out);
    return p;
}

namespace {

// TorchScript of an activation applied to `h`.
std::string activated(const std::string& h, Activation a) {
    switch (a) {
    case Activation::Gelu:
        return "torch.gelu(" + h + ")";
    case Activation::Tanh:
        return "torch.tanh(" + h + ")";
    case Activation::Relu:
        break;
    }
    return "torch.relu(" + h + ")";
}

// A double as TorchScript source, to the last bit.
std::string literal(double v) {
    std::ostringstream out;
    out << std::setprecision(17) << v;
    return out.str();
}

// The Transformer backbone's lines (BackboneImpl: word and position embeddings, one post-norm
// encoder layer of torch::nn::TransformerEncoderLayer with 4 heads and a ReLU feed-forward
// layer, padding masked except each row's first slot, then the mean over the words present),
// written batch first.
std::string transformerSource(int dim) {
    constexpr int kHeads = kTransformerHeads;
    const std::string d = std::to_string(dim), hd = std::to_string(dim / kHeads);
    const std::string heads = std::to_string(kHeads);
    const std::string p = "self.backbone_encoder_";
    return "    ids = x.long()\n"
           "    present = ids.ne(0).unsqueeze(-1).float()\n"
           "    b = ids.size(0)\n"
           "    n = ids.size(1)\n"
           "    h = torch.embedding(self.backbone_embedding_weight, ids, 0, False, False)\n"
           "    at = torch.arange(n, device=ids.device)\n"
           "    h = h + torch.embedding(self.backbone_positions_weight, at, -1, False, "
           "False).unsqueeze(0)\n"
           "    pad = ids.eq(0)\n"
           "    pad = torch.cat([torch.zeros_like(pad.narrow(1, 0, 1)), pad.narrow(1, 1, n - 1)], "
           "1)\n"
           "    qkv = torch.linear(h, " +
           p + "self_attn_in_proj_weight, " + p +
           "self_attn_in_proj_bias)\n"
           "    q = (qkv.narrow(2, 0, " +
           d + ") * " + literal(std::pow(dim / kHeads, -0.5)) + ").reshape(b, n, " + heads + ", " +
           hd +
           ").transpose(1, 2)\n"
           "    k = qkv.narrow(2, " +
           d + ", " + d + ").reshape(b, n, " + heads + ", " + hd +
           ").transpose(1, 2)\n"
           "    v = qkv.narrow(2, " +
           std::to_string(2 * dim) + ", " + d + ").reshape(b, n, " + heads + ", " + hd +
           ").transpose(1, 2)\n"
           "    scores = torch.matmul(q, k.transpose(2, 3)).masked_fill(pad.view(b, 1, 1, n), "
           "float('-inf'))\n"
           "    a = torch.matmul(torch.softmax(scores, 3), v).transpose(1, 2).reshape(b, n, " +
           d +
           ")\n"
           "    a = torch.linear(a, " +
           p + "self_attn_out_proj_weight, " + p +
           "self_attn_out_proj_bias)\n"
           "    h = torch.layer_norm(h + a, [" +
           d + "], " + p + "norm1_weight, " + p +
           "norm1_bias, 1e-05)\n"
           "    f = torch.linear(torch.relu(torch.linear(h, " +
           p + "linear1_weight, " + p + "linear1_bias)), " + p + "linear2_weight, " + p +
           "linear2_bias)\n"
           "    h = torch.layer_norm(h + f, [" +
           d + "], " + p + "norm2_weight, " + p +
           "norm2_bias, 1e-05)\n"
           "    h = (h * present).sum(1) / present.sum(1).clamp_min(1.0)\n";
}

// The backbone's lines of the forward's source, from x to h.
std::string backboneSource(BackboneKind kind, Activation act,
                           const std::vector<std::int64_t>& shape, int dim) {
    switch (kind) {
    case BackboneKind::None:
        return "    h = x\n";
    case BackboneKind::Mlp:
        return "    h = " +
               activated("torch.linear(x, self.backbone_linear_weight, self.backbone_linear_bias)",
                         act) +
               "\n";
    case BackboneKind::Cnn:
        return "    h = x.view(x.size(0), " + std::to_string(shape.at(0)) + ", " +
               std::to_string(shape.at(1)) + ", " + std::to_string(shape.at(2)) +
               ")\n"
               "    h = torch.max_pool2d(torch.relu(torch.conv2d(h, self.backbone_conv1_weight, "
               "self.backbone_conv1_bias, [1, 1], [1, 1])), [2, 2])\n"
               "    h = torch.max_pool2d(torch.relu(torch.conv2d(h, self.backbone_conv2_weight, "
               "self.backbone_conv2_bias, [1, 1], [1, 1])), [2, 2])\n"
               "    h = " +
               activated("torch.linear(h.flatten(1), self.backbone_linear_weight, "
                         "self.backbone_linear_bias)",
                         act) +
               "\n";
    case BackboneKind::EmbeddingBag:
        return "    ids = x.long()\n"
               "    present = ids.ne(0).unsqueeze(-1).float()\n"
               "    e = torch.embedding(self.backbone_embedding_weight, ids, 0, False, False)\n"
               "    h = (e * present).sum(1) / present.sum(1).clamp_min(1.0)\n";
    case BackboneKind::Transformer:
        return transformerSource(dim);
    case BackboneKind::Auto:
        break;
    }
    throw std::logic_error("the backbone's kind is resolved before it is scripted");
}

// An ensemble's members each have their own backbone ("backbones.i." in the model): its lines
// for each member, the features stacked [E, B, F] as hs.
std::string memberBackbonesSource(int experts, BackboneKind kind, Activation act,
                                  const std::vector<std::int64_t>& shape, int dim) {
    const std::string one = backboneSource(kind, act, shape, dim);
    std::string src;
    for (int e = 0; e < experts; ++e) {
        std::string member = one;
        const std::string from = "self.backbone_", to = "self.backbones_" + std::to_string(e) + "_";
        for (auto at = member.find(from); at != std::string::npos;
             at = member.find(from, at + to.size()))
            member.replace(at, from.size(), to);
        src += member + "    h" + std::to_string(e) + " = h\n";
    }
    src += "    hs = torch.stack([";
    for (int e = 0; e < experts; ++e)
        src += (e ? ", h" : "h") + std::to_string(e);
    return src + "])\n";
}

// The baselines' outputs from the experts' (MoDEModelImpl::forward): a constant gate of 1/E and
// the network's output (dense), or the mean of the experts' probabilities as log-probabilities
// (ensemble, classification) or of their values (ensemble, regression).
std::string baselineOutputSource(ModelKind kind, bool classification, int experts) {
    std::string src = "    gate = torch.full([experts.size(0), experts.size(1)], 1.0 / "
                      "experts.size(1), dtype=experts.dtype, device=experts.device)\n";
    if (kind == ModelKind::Dense)
        src += "    mixture = experts.select(1, 0)\n";
    else if (classification)
        src += "    mixture = torch.logsumexp(torch.log_softmax(experts, 2), [1]) - " +
               literal(std::log(static_cast<double>(experts))) + "\n";
    else
        src += "    mixture = experts.mean(1)\n";
    return src + "    return (mixture, gate, experts)\n";
}

// The whole forward: the backbone, the expert bank (the first layer as one product, as the
// model computes it), the gate and the mixture.
std::string forwardSource(const ModelConfig& m, BackboneKind kind, int layers,
                          const std::vector<std::int64_t>& shape, bool classification) {
    const Activation act = parseChoice<Activation>(m.activation, "model.activation");
    const ModelKind model = parseChoice<ModelKind>(m.kind, "model.kind");
    std::string src = "def forward(self, x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:\n";
    if (model == ModelKind::Ensemble && kind != BackboneKind::None) {
        src += memberBackbonesSource(m.experts, kind, act, shape, m.backboneDim);
        src += "    e = torch.baddbmm(self.experts_b0, hs, self.experts_w0)\n";
    } else {
        src += backboneSource(kind, act, shape, m.backboneDim);
        src += "    w0 = self.experts_w0\n"
               "    n = w0.size(0)\n"
               "    e = torch.addmm(self.experts_b0.reshape(1, n * w0.size(2)), h, w0.permute(1, "
               "0, 2).reshape(w0.size(1), n * w0.size(2))).view(h.size(0), n, "
               "w0.size(2)).transpose(0, 1)\n";
    }
    for (int l = 1; l < layers; ++l)
        src += "    e = torch.baddbmm(self.experts_b" + std::to_string(l) + ", " +
               activated("e", act) + ", self.experts_w" + std::to_string(l) + ")\n";
    src += "    experts = e.transpose(0, 1)\n";
    if (model != ModelKind::Moe)
        return src + baselineOutputSource(model, classification, m.experts);
    src += "    logits = torch.linear(h, self.gate_linear_weight, self.gate_linear_bias)\n";
    const bool sparse =
        parseChoice<GateKind>(m.gate, "model.gate") == GateKind::TopK && m.topK < m.experts;
    if (sparse)
        src += "    top = logits.topk(" + std::to_string(m.topK) +
               ", 1)\n"
               "    gate = torch.zeros_like(logits).scatter(1, top[1], torch.softmax(top[0], 1))\n";
    else
        src += "    gate = torch.softmax(logits, 1)\n";
    src += "    mixture = torch.bmm(gate.unsqueeze(1), experts).squeeze(1)\n"
           "    return (mixture, gate, experts)\n";
    return src;
}

} // namespace

void Predictor::exportTorchScript(const std::string& path) const {
    BackboneKind kind = parseChoice<BackboneKind>(d_->config.model.backbone, "model.backbone");
    if (kind == BackboneKind::Auto)
        kind = d_->recipe.isText() ? BackboneKind::EmbeddingBag : BackboneKind::None;
    torch::jit::Module module("MoDEModel");
    int layers = 0;
    for (const auto& p : d_->model->named_parameters()) {
        std::string name = p.key();
        std::replace(name.begin(), name.end(), '.', '_'); // "experts.w0" -> "experts_w0"
        module.register_parameter(name, p.value().detach().clone(), false);
        if (name.rfind("experts_w", 0) == 0) ++layers;
    }
    module.define(forwardSource(d_->config.model, kind, layers, d_->recipe.imageShape,
                                d_->recipe.classification));
    module.eval();
    // Serialised in memory first: LibTorch's file writer throws from its destructor where a
    // write fails (a full disk, /dev/full), which ends the program; the bytes then go to the
    // file whole or not at all, with the system's reason where they cannot.
    std::ostringstream bytes;
    module.save(bytes);
    writeFileSafely(path, bytes.str());
}

nlohmann::json Predictor::sidecar() const {
    const auto& r = d_->recipe;
    return {{"format", "mode-workbench model"},
            {"inputs", r.inputs()},
            {"outputs", {"mixture [B, C]", "gate [B, E]", "experts [B, E, C]"}},
            {"logits", r.classification},
            {"experts", d_->model->experts()},
            {"model_kind", d_->config.model.kind},
            {"model", d_->config.toJson()["model"]},
            {"preprocessing", r.toJson()}};
}

} // namespace mode

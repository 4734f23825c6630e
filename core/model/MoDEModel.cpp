// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/MoDEModel.h"

#include <cmath>

namespace mode {

ExpertBankImpl::ExpertBankImpl(int experts, int inputs, std::vector<int> hidden, int outputs,
                               Activation activation, double dropout)
    : experts_(experts), activation_(activation), dropout_(dropout) {
    std::vector<int> sizes;
    sizes.push_back(inputs);
    sizes.insert(sizes.end(), hidden.begin(), hidden.end());
    sizes.push_back(outputs);
    for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
        // The default initialisation of torch.nn.Linear, expert by expert:
        // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.
        const double bound = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
        auto w = torch::empty({experts, sizes[l], sizes[l + 1]}).uniform_(-bound, bound);
        auto b = torch::empty({experts, 1, sizes[l + 1]}).uniform_(-bound, bound);
        weights_.push_back(register_parameter("w" + std::to_string(l), w));
        biases_.push_back(register_parameter("b" + std::to_string(l), b));
    }
}

namespace {
torch::Tensor activate(const torch::Tensor& h, Activation activation) {
    switch (activation) {
    case Activation::Gelu:
        return torch::gelu(h);
    case Activation::Tanh:
        return torch::tanh(h);
    case Activation::Relu:
        break;
    }
    return torch::relu(h);
}
} // namespace

torch::Tensor ExpertBankImpl::activate(const torch::Tensor& h) const {
    return mode::activate(h, activation_);
}

torch::Tensor ExpertBankImpl::forward(const torch::Tensor& x) {
    const auto B = x.size(0);
    // Without gradients (evaluation, prediction) ReLU and tanh work in place.
    const bool inPlace = !torch::GradMode::is_enabled() &&
                         (activation_ == Activation::Relu || activation_ == Activation::Tanh);
    // Every expert sees the same input: one [B, D] x [D, E*H] product, the biases added by it,
    // instead of E; viewed as [E, B, H].
    const auto& w = weights_[0]; // [E, D, H]
    const auto width = experts_ * w.size(2);
    auto wcat = w.permute({1, 0, 2}).reshape({w.size(1), width});
    auto h = torch::addmm(biases_[0].reshape({1, width}), x, wcat)
                 .view({B, experts_, w.size(2)})
                 .transpose(0, 1);
    return hiddenLayers(std::move(h), inPlace);
}

torch::Tensor ExpertBankImpl::forwardEach(const torch::Tensor& xs) {
    const bool inPlace = !torch::GradMode::is_enabled() &&
                         (activation_ == Activation::Relu || activation_ == Activation::Tanh);
    return hiddenLayers(torch::baddbmm(biases_[0], xs, weights_[0]), inPlace);
}

// From the first layer's pre-activation [E, B, H] on: the activations and the later layers.
torch::Tensor ExpertBankImpl::hiddenLayers(torch::Tensor h, bool inPlace) {
    for (std::size_t l = 0; l < weights_.size(); ++l) {
        if (l > 0) h = torch::baddbmm(biases_[l], h, weights_[l]); // [E, B, out]
        if (l + 1 < weights_.size()) {
            if (!inPlace)
                h = activate(h);
            else if (activation_ == Activation::Relu)
                h.relu_();
            else
                h.tanh_();
            if (dropout_ > 0) h = torch::dropout(h, dropout_, is_training());
        }
    }
    return h;
}

std::pair<torch::Tensor, torch::Tensor> ExpertBankImpl::expertLayer(int e, int l) const {
    return {weights_[l][e], biases_[l][e][0]};
}

torch::Tensor topKSoftmax(const torch::Tensor& logits, int k) {
    auto top = logits.topk(k, /*dim=*/1);
    auto weights = torch::softmax(std::get<0>(top), 1);
    return torch::zeros_like(logits).scatter(1, std::get<1>(top), weights);
}

GateImpl::GateImpl(int inputs, int experts, GateKind kind, int topK, bool noisy)
    : experts_(experts), topK_(topK), sparse_(kind == GateKind::TopK), noisy_(noisy) {
    linear_ = register_module("linear", torch::nn::Linear(inputs, experts));
    if (noisy_) {
        noise_ = register_module("noise", torch::nn::Linear(inputs, experts));
        // Start without noise scale learned (Shazeer et al. initialise the noise weights at 0).
        torch::NoGradGuard g;
        noise_->weight.zero_();
        noise_->bias.zero_();
    }
}

std::pair<torch::Tensor, torch::Tensor> GateImpl::forward(const torch::Tensor& x) {
    auto clean = linear_->forward(x);
    auto probs = torch::softmax(clean, 1);
    if (!sparse_ || topK_ >= experts_) return {probs, probs};
    auto logits = clean;
    if (noisy_ && is_training())
        logits = clean + torch::randn_like(clean) * torch::softplus(noise_->forward(x));
    return {topKSoftmax(logits, topK_), probs};
}

BackboneImpl::BackboneImpl(BackboneKind kind, int inputs, int dim,
                           const std::vector<std::int64_t>& shape, Activation activation,
                           std::int64_t vocabulary)
    : kind_(kind), activation_(activation), shape_(shape) {
    const bool text = kind == BackboneKind::EmbeddingBag || kind == BackboneKind::Transformer;
    if (text && vocabulary < 2)
        throw std::invalid_argument(std::string("model.backbone: ") + choiceName(kind) +
                                    " needs text data (a .tsv file, e.g. debian-descriptions)");
    if (kind == BackboneKind::None) {
        outputs_ = inputs;
    } else if (kind == BackboneKind::Mlp) {
        linear_ = register_module("linear", torch::nn::Linear(inputs, dim));
        outputs_ = dim;
    } else if (kind == BackboneKind::Cnn) {
        if (shape.size() != 3 || shape[0] * shape[1] * shape[2] != inputs)
            throw std::invalid_argument("model.backbone: cnn needs image data (IDX files, e.g. "
                                        "fashion-mnist); this data is not images");
        conv1_ = register_module(
            "conv1", torch::nn::Conv2d(torch::nn::Conv2dOptions(shape[0], 16, 3).padding(1)));
        conv2_ = register_module("conv2",
                                 torch::nn::Conv2d(torch::nn::Conv2dOptions(16, 32, 3).padding(1)));
        const std::int64_t h = shape[1] / 4, w = shape[2] / 4; // two 2x2 poolings
        if (h < 1 || w < 1)
            throw std::invalid_argument("model.backbone: cnn needs images of at least 4x4 pixels");
        linear_ = register_module("linear", torch::nn::Linear(32 * h * w, dim));
        outputs_ = dim;
    } else if (text) {
        embedding_ = register_module(
            "embedding",
            torch::nn::Embedding(torch::nn::EmbeddingOptions(vocabulary, dim).padding_idx(0)));
        if (kind == BackboneKind::Transformer) {
            positions_ = register_module("positions", torch::nn::Embedding(inputs, dim));
            encoder_ = register_module(
                "encoder", torch::nn::TransformerEncoderLayer(
                               torch::nn::TransformerEncoderLayerOptions(dim, kTransformerHeads)
                                   .dim_feedforward(2 * dim)
                                   .dropout(0.0)));
        }
        outputs_ = dim;
    } else {
        throw std::invalid_argument(
            "model.backbone: auto is resolved by the model, not the backbone");
    }
}

torch::Tensor BackboneImpl::forward(const torch::Tensor& x) {
    if (kind_ == BackboneKind::None) return x;
    if (kind_ == BackboneKind::Mlp) return activate(linear_(x), activation_);
    if (kind_ == BackboneKind::EmbeddingBag || kind_ == BackboneKind::Transformer) {
        const auto ids = x.to(torch::kLong);                            // [B, L], 0 pads
        const auto present = ids.ne(0).unsqueeze(-1).to(torch::kFloat); // [B, L, 1]
        auto h = embedding_(ids);                                       // [B, L, D]
        if (kind_ == BackboneKind::Transformer) {
            const auto pos = torch::arange(ids.size(1), ids.options());
            h = h + positions_(pos).unsqueeze(0);
            // A row of padding only would leave attention nothing to attend to: keep its first
            // slot.
            auto mask = ids.eq(0);
            mask.select(1, 0).fill_(false);
            h = encoder_->forward(h.transpose(0, 1), torch::Tensor(), mask).transpose(0, 1);
        }
        return (h * present).sum(1) /
               present.sum(1).clamp_min(1.0); // the mean over the words present
    }
    auto h = x.view({x.size(0), shape_[0], shape_[1], shape_[2]});
    h = torch::max_pool2d(torch::relu(conv1_(h)), 2);
    h = torch::max_pool2d(torch::relu(conv2_(h)), 2);
    return activate(linear_(h.flatten(1)), activation_);
}

std::int64_t mlpParameters(int inputs, const std::vector<int>& hidden, int outputs) {
    std::int64_t n = 0;
    std::int64_t from = inputs;
    for (int h : hidden) {
        n += (from + 1) * h;
        from = h;
    }
    return n + (from + 1) * outputs;
}

std::vector<int> denseHiddenWidths(const ModelConfig& c, int features, int outputs) {
    const std::vector<int> shape = c.hidden.empty() ? std::vector<int>{1} : c.hidden;
    const bool noisy = c.gate == "topk" && c.noisyGate;
    const std::int64_t target =
        c.experts * mlpParameters(features, c.hidden, outputs) +
        (noisy ? 2 : 1) * static_cast<std::int64_t>(features + 1) * c.experts;
    auto widths = [&](int w) {
        std::vector<int> out{w};
        for (std::size_t l = 1; l < shape.size(); ++l)
            out.push_back(std::max(
                1, static_cast<int>(std::lround(static_cast<double>(w) * shape[l] / shape[0]))));
        return out;
    };
    // The count grows with w: walk up to the first w at or above the target, then take the
    // nearer of it and the one before.
    int best = 1;
    std::int64_t bestGap = -1;
    for (int w = 1; w <= (1 << 20); ++w) {
        const std::int64_t n = mlpParameters(features, widths(w), outputs);
        const std::int64_t gap = n > target ? n - target : target - n;
        if (bestGap < 0 || gap < bestGap) {
            best = w;
            bestGap = gap;
        }
        if (n >= target) break;
    }
    return widths(best);
}

MoDEModelImpl::MoDEModelImpl(const ModelConfig& c, int inputs, int outputs,
                             const std::vector<std::int64_t>& imageShape, std::int64_t vocabulary)
    : kind_(parseChoice<ModelKind>(c.kind, "model.kind")), classification_(outputs > 1) {
    // auto: the text backbone for text, raw features otherwise.
    // The settings' names become enums here, once; an unknown name is refused naming its field.
    BackboneKind kind = parseChoice<BackboneKind>(c.backbone, "model.backbone");
    if (kind == BackboneKind::Auto)
        kind = vocabulary > 0 ? BackboneKind::EmbeddingBag : BackboneKind::None;
    const Activation activation = parseChoice<Activation>(c.activation, "model.activation");
    int features = 0;
    if (kind_ == ModelKind::Ensemble && kind != BackboneKind::None) {
        // Trained independently: each member has a backbone of its own.
        memberBackbones = register_module("backbones", torch::nn::ModuleList());
        for (int e = 0; e < c.experts; ++e) {
            Backbone b(kind, inputs, c.backboneDim, imageShape, activation, vocabulary);
            features = b->outputs();
            memberBackbones->push_back(b);
        }
    } else {
        backbone = register_module(
            "backbone", Backbone(kind, inputs, c.backboneDim, imageShape, activation, vocabulary));
        features = backbone->outputs();
    }
    if (kind_ == ModelKind::Dense) {
        bank = register_module("experts",
                               ExpertBank(1, features, denseHiddenWidths(c, features, outputs),
                                          outputs, activation, c.dropout));
        return;
    }
    bank = register_module(
        "experts", ExpertBank(c.experts, features, c.hidden, outputs, activation, c.dropout));
    if (kind_ == ModelKind::Moe)
        gate = register_module("gate", Gate(features, c.experts,
                                            parseChoice<GateKind>(c.gate, "model.gate"), c.topK,
                                            c.noisyGate));
}

ModelFootprint modelFootprint(const ModelConfig& c, std::int64_t inputs, std::int64_t outputs,
                              std::int64_t batchSize, std::int64_t vocabulary) {
    // In doubles: [65536, 65536] overflows no integer here.
    const double experts = std::max(c.experts, 1);
    BackboneKind kind = parseChoice<BackboneKind>(c.backbone, "model.backbone");
    if (kind == BackboneKind::Auto)
        kind = vocabulary > 0 ? BackboneKind::EmbeddingBag : BackboneKind::None;
    const double features = kind == BackboneKind::None ? static_cast<double>(inputs)
                                                       : static_cast<double>(c.backboneDim);
    double parameters = 0, activations = 0;
    if (kind != BackboneKind::None) // an embedding table or a first layer, roughly
        parameters +=
            (static_cast<double>(vocabulary) + static_cast<double>(inputs) + 1) * features;
    double in = features;
    std::vector<double> widths(c.hidden.begin(), c.hidden.end());
    widths.push_back(static_cast<double>(outputs));
    for (const double out : widths) {
        parameters += experts * (in * out + out);
        activations += experts * out; // one row's output of this layer, for every expert
        in = out;
    }
    parameters += (features + 1) * experts * (c.noisyGate ? 2 : 1);
    ModelFootprint f;
    f.parameters = parameters;
    // float32: the parameters, their gradients and Adam's two moments; each activation is kept
    // for the backward pass, with its gradient and the activation function's output.
    f.trainingBytes =
        4.0 * (4.0 * parameters +
               3.0 * activations * static_cast<double>(std::max<std::int64_t>(batchSize, 1)));
    return f;
}

MoDEOutput MoDEModelImpl::forward(const torch::Tensor& input) {
    MoDEOutput out;
    if (memberBackbones) {
        std::vector<torch::Tensor> features;
        for (const auto& b : *memberBackbones)
            features.push_back(b->as<Backbone>()->forward(input));
        out.experts = bank->forwardEach(torch::stack(features)).transpose(0, 1); // [B, E, C]
    } else {
        const torch::Tensor x = backbone->forward(input);
        out.experts = bank->forward(x).transpose(0, 1); // [B, E, C]
        if (kind_ == ModelKind::Moe) {
            std::tie(out.gate, out.gateProbs) = gate->forward(x);
            out.mixture =
                torch::bmm(out.gate.unsqueeze(1), out.experts).squeeze(1); // sum_i g_i e_i
            return out;
        }
    }
    const auto E = out.experts.size(1);
    out.gate =
        torch::full({out.experts.size(0), E}, 1.0 / static_cast<double>(E), out.experts.options());
    out.gateProbs = out.gate;
    if (kind_ == ModelKind::Dense)
        out.mixture = out.experts.select(1, 0);
    else if (classification_) // log of the mean of the experts' probabilities
        out.mixture = torch::logsumexp(torch::log_softmax(out.experts, 2), 1) -
                      std::log(static_cast<double>(E));
    else
        out.mixture = out.experts.mean(1);
    return out;
}

std::int64_t MoDEModelImpl::parameterCount() const {
    std::int64_t n = 0;
    for (const auto& p : parameters())
        n += p.numel();
    return n;
}

} // namespace mode

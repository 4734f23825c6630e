// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The MoDE network: a gate and E experts. The expert bank keeps every expert's weights stacked
// ([E, in, out] per layer) and computes all experts in one batched matrix product per layer.

#include "config/Choices.h"
#include "config/ExperimentConfig.h"

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace mode {

struct MoDEOutput {
    torch::Tensor mixture;   // [B, C]: sum_i g_i(x) * e_i(x)
    torch::Tensor experts;   // [B, E, C]: every expert's own output
    torch::Tensor gate;      // [B, E]: mixing weights (exact zeros outside the top k)
    torch::Tensor gateProbs; // [B, E]: softmax over all clean gate logits (for load balancing)
};

class ExpertBankImpl : public torch::nn::Module {
  public:
    ExpertBankImpl(int experts, int inputs, std::vector<int> hidden, int outputs,
                   Activation activation, double dropout);
    // x [B, D] -> [E, B, C]
    torch::Tensor forward(const torch::Tensor& x);
    // Each expert on its own input: xs [E, B, D] -> [E, B, C] (an ensemble whose members each
    // have their own backbone).
    torch::Tensor forwardEach(const torch::Tensor& xs);

    int experts() const { return experts_; }
    int layers() const { return static_cast<int>(weights_.size()); }
    // Layer l of expert e as an ordinary linear map: weight [in, out] and bias [out].
    std::pair<torch::Tensor, torch::Tensor> expertLayer(int e, int l) const;
    torch::Tensor activate(const torch::Tensor& h) const;

  private:
    torch::Tensor hiddenLayers(torch::Tensor h, bool inPlace);
    int experts_;
    Activation activation_;
    double dropout_;
    std::vector<torch::Tensor> weights_; // [E, in, out]
    std::vector<torch::Tensor> biases_;  // [E, 1, out]
};
TORCH_MODULE(ExpertBank);

class GateImpl : public torch::nn::Module {
  public:
    GateImpl(int inputs, int experts, GateKind kind, int topK, bool noisy);
    // Returns (weights [B, E], clean softmax over all experts [B, E]).
    std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x);

  private:
    int experts_, topK_;
    bool sparse_, noisy_;
    torch::nn::Linear linear_{nullptr};
    torch::nn::Linear noise_{nullptr};
};
TORCH_MODULE(Gate);

// A feature extractor shared by the gate and the experts: an MLP layer; for images a small CNN
// (two 3x3 convolutions with max pooling, then a linear layer); for text (rows of token ids,
// 0 padding) an embedding bag (the mean of the word vectors) or a one-layer Transformer encoder
// with learned positions and a masked mean. "none" passes x through.
class BackboneImpl : public torch::nn::Module {
  public:
    // imageShape {channels, height, width} is needed by "cnn" (std::invalid_argument otherwise).
    // vocabulary is needed by the text backbones.
    BackboneImpl(BackboneKind kind, int inputs, int dim,
                 const std::vector<std::int64_t>& imageShape, Activation activation,
                 std::int64_t vocabulary = 0);
    torch::Tensor forward(const torch::Tensor& x);
    int outputs() const { return outputs_; }

  private:
    BackboneKind kind_;
    Activation activation_;
    std::vector<std::int64_t> shape_;
    int outputs_ = 0;
    torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
    torch::nn::Linear linear_{nullptr};
    torch::nn::Embedding embedding_{nullptr}, positions_{nullptr};
    torch::nn::TransformerEncoderLayer encoder_{nullptr};
};
TORCH_MODULE(Backbone);

// The network of model.kind:
//  moe:      backbone, gate and E experts; mixture = sum_i g_i(x) e_i(x).
//  dense:    backbone and ONE expert MLP sized by denseHiddenWidths (no gate): experts is
//            [B, 1, C], gate is 1, the mixture is the network's output.
//  ensemble: E experts, each with its own copy of the backbone (none where the backbone is
//            none), no gate: gate is the constant 1/E, the mixture is the mean of the experts'
//            class probabilities as log-probabilities (softmax(mixture) = mean_i softmax(e_i);
//            outputs > 1), or the mean of their values (regression, outputs = 1).
class MoDEModelImpl : public torch::nn::Module {
  public:
    MoDEModelImpl(const ModelConfig& config, int inputs, int outputs,
                  const std::vector<std::int64_t>& imageShape = {}, std::int64_t vocabulary = 0);
    MoDEOutput forward(const torch::Tensor& x);

    Backbone backbone{nullptr};                     // moe, dense, and an ensemble without backbone
    torch::nn::ModuleList memberBackbones{nullptr}; // an ensemble with a backbone: one per expert
    ExpertBank bank{nullptr};
    Gate gate{nullptr}; // moe only
    std::int64_t parameterCount() const;
    ModelKind kind() const { return kind_; }
    // The experts the outputs hold (1 for dense).
    int experts() const { return bank->experts(); }

  private:
    ModelKind kind_ = ModelKind::Moe;
    bool classification_ = true;
};
TORCH_MODULE(MoDEModel);

// The dense baseline's hidden widths: the experts' (config.hidden; a linear expert counts as
// one hidden layer of width 1) scaled by one factor, the first width w and each later one
// max(1, round(w * hidden[l] / hidden[0])), with the w (1..) that brings the network's
// parameters (features -> widths -> outputs) nearest the mixture's experts and gate
// (E expert MLPs on `features` inputs, plus the gate's linear layer, and its noise layer where
// a noisy top-k gate is asked for). The backbone, the same in both, is left out of both counts.
std::vector<int> denseHiddenWidths(const ModelConfig& config, int features, int outputs);
// The parameters of an MLP inputs -> hidden... -> outputs (weights and biases).
std::int64_t mlpParameters(int inputs, const std::vector<int>& hidden, int outputs);

// What training a model of this shape takes, worked out before it is made (a model too big for
// the machine must be refused with a message, not end in the kernel's OOM killer or an
// allocator's trace): its parameters (the experts', the gate's and a backbone's), and the bytes
// of those parameters with their gradients and the optimiser's state (two more copies) and one
// batch's activations (each layer's output, kept for the backward pass, and its gradient).
struct ModelFootprint {
    double parameters = 0;
    double trainingBytes = 0;
};
ModelFootprint modelFootprint(const ModelConfig& config, std::int64_t inputs, std::int64_t outputs,
                              std::int64_t batchSize, std::int64_t vocabulary = 0);

// Keeps the k largest logits per row, softmax over them, exact zeros elsewhere.
torch::Tensor topKSoftmax(const torch::Tensor& logits, int k);

} // namespace mode

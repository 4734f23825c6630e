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

    int experts() const { return experts_; }
    int layers() const { return static_cast<int>(weights_.size()); }
    // Layer l of expert e as an ordinary linear map: weight [in, out] and bias [out].
    std::pair<torch::Tensor, torch::Tensor> expertLayer(int e, int l) const;
    torch::Tensor activate(const torch::Tensor& h) const;

  private:
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

class MoDEModelImpl : public torch::nn::Module {
  public:
    MoDEModelImpl(const ModelConfig& config, int inputs, int outputs,
                  const std::vector<std::int64_t>& imageShape = {}, std::int64_t vocabulary = 0);
    MoDEOutput forward(const torch::Tensor& x);

    Backbone backbone{nullptr};
    ExpertBank bank{nullptr};
    Gate gate{nullptr};
    std::int64_t parameterCount() const;
};
TORCH_MODULE(MoDEModel);

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

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The MoDE objective: L = L_task(mixture, target) + alpha * L_KD(experts) + beta * L_balance.
// The distillation variants are those of ../shared/design/mode-method.md.

#include "config/Choices.h"
#include "config/ExperimentConfig.h"

#include <torch/torch.h>

namespace mode {

struct DistillOptions {
    DistillKind kind = DistillKind::MseMean;
    double temperature = 1.0;
    bool detachTeacher = false; // teachers get no distillation gradient (see each variant)
    // Optional [B, E] weights for each expert's (student's) term, e.g. its gate weight times E.
    torch::Tensor studentWeights;
};

// experts: [B, E, C] outputs of every expert on the same inputs. Returns a scalar.
//  mse-mean:     mean over b, i, c of (e_i - mean_j e_j)^2; with detachTeacher, of
//                (e_i - stop_gradient(mean_{j != i} e_j))^2: the mean of the OTHER experts
//  mse-pairwise: mean over ordered pairs i != j of MSE(e_i, e_j)
//  kl:           mean over ordered pairs i != j of KL(softmax(e_j/T) || softmax(e_i/T)) * T^2,
//                the KL summed over classes and averaged over the batch.
// A single expert has nothing to learn from: the loss is 0.
torch::Tensor distillationLoss(const torch::Tensor& experts, const DistillOptions& options);

// Switch-Transformer load balancing: E * sum_i f_i * P_i, with f_i the share of samples whose
// largest gate weight is expert i and P_i the mean clean gate probability of expert i.
torch::Tensor loadBalanceLoss(const torch::Tensor& gate, const torch::Tensor& gateProbs);

// Cross-entropy on logits for class labels (int64), MSE for float regression targets.
torch::Tensor taskLoss(const torch::Tensor& mixture, const torch::Tensor& target);

struct LossTerms {
    torch::Tensor total, task, distill, balance;
};

class MutualDistillationLoss {
  public:
    explicit MutualDistillationLoss(const LossConfig& config);
    // alpha = 0 gives exactly the plain MoE loss: the distillation term is then computed
    // without gradient, for the record only, and is not added.
    LossTerms operator()(const torch::Tensor& mixture, const torch::Tensor& experts,
                         const torch::Tensor& gate, const torch::Tensor& gateProbs,
                         const torch::Tensor& target) const;

    // The ensemble baseline's loss: each expert's own task loss on its own output, summed
    // (total), so each expert's gradient is exactly its own loss's, as if trained alone; task is
    // their mean; the distillation term is computed without gradient, for the record only (how
    // far apart the independent experts are), and the balance term is 0.
    LossTerms independent(const torch::Tensor& experts, const torch::Tensor& target) const;

  private:
    LossConfig config_;
    DistillKind kind_;
};

} // namespace mode

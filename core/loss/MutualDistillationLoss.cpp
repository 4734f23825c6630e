// SPDX-License-Identifier: GPL-3.0-or-later
#include "loss/MutualDistillationLoss.h"

#include <stdexcept>

namespace mode {

namespace {

// Averages a [B, E] per-student term, weighted when weights are given.
torch::Tensor studentMean(const torch::Tensor& perStudent, const torch::Tensor& weights) {
    if (weights.defined()) return (perStudent * weights).mean();
    return perStudent.mean();
}

} // namespace

torch::Tensor distillationLoss(const torch::Tensor& e, const DistillOptions& o) {
    TORCH_CHECK(e.dim() == 3, "distillationLoss: experts must be [B, E, C]");
    const auto E = e.size(1);
    if (E < 2) return torch::zeros({}, e.options());
    switch (o.kind) {
    case DistillKind::MseMean: {
        // Without detaching, the teacher is the mean of all experts (expert i included); detaching
        // that mean would change no gradient (the deviations sum to zero), so a detached teacher
        // is the mean of the OTHER experts: expert i is pulled towards them and they are not
        // pulled back.
        const auto teacher =
            o.detachTeacher
                ? ((e.sum(1, /*keepdim=*/true) - e) / static_cast<double>(E - 1)).detach()
                : e.mean(1, /*keepdim=*/true);
        // d * d, not pow(2): LibTorch's pow backward costs a second pow and two multiplies, a
        // measurable share of a small MoDE step (bench-micro BM_Distill).
        const auto d = e - teacher;
        auto perStudent = (d * d).mean(-1); // [B, E]
        return studentMean(perStudent, o.studentWeights);
    }
    case DistillKind::MsePairwise: {
        auto teacher = o.detachTeacher ? e.detach() : e;
        // [B, i (student), j (teacher)]: MSE over the output dimension; the diagonal is zero.
        const auto d = e.unsqueeze(2) - teacher.unsqueeze(1);
        auto mse = (d * d).mean(-1);
        auto perStudent = mse.sum(2) / static_cast<double>(E - 1); // mean over the E-1 teachers
        return studentMean(perStudent, o.studentWeights);
    }
    case DistillKind::Kl: {
        const double T = o.temperature;
        auto logp = torch::log_softmax(e / T, -1);          // [B, E, C] students
        auto logq = o.detachTeacher ? logp.detach() : logp; // teachers
        auto q = logq.exp();
        auto negEntropy = (q * logq).sum(-1);             // [B, j]
        auto cross = torch::bmm(logp, q.transpose(1, 2)); // [B, i, j] = sum_c logp_i q_j
        auto kl = negEntropy.unsqueeze(1) - cross;        // KL(q_j || p_i)
        auto offDiagonal = 1.0 - torch::eye(E, e.options());
        auto perStudent = (kl * offDiagonal).sum(2) / static_cast<double>(E - 1); // [B, E]
        return studentMean(perStudent, o.studentWeights) * (T * T);
    }
    }
    throw std::logic_error("distillationLoss: unhandled kind");
}

torch::Tensor loadBalanceLoss(const torch::Tensor& gate, const torch::Tensor& gateProbs) {
    const auto E = gate.size(1);
    // The top-expert indicators, scattered: torch::one_hot would check its indices' range with
    // two reads from the device (min and max .item()), a wait for the GPU at every step.
    auto top = torch::zeros(gate.sizes(), gateProbs.options())
                   .scatter_(1, gate.argmax(1, /*keepdim=*/true), 1.0);
    auto f = top.mean(0); // no gradient
    auto P = gateProbs.mean(0);
    return static_cast<double>(E) * (f * P).sum();
}

torch::Tensor taskLoss(const torch::Tensor& mixture, const torch::Tensor& target) {
    if (target.scalar_type() == torch::kLong) return torch::cross_entropy_loss(mixture, target);
    return torch::mse_loss(mixture.squeeze(-1), target);
}

MutualDistillationLoss::MutualDistillationLoss(const LossConfig& config)
    : config_(config), kind_(parseChoice<DistillKind>(config.distill, "loss.distill")) {}

LossTerms MutualDistillationLoss::operator()(const torch::Tensor& mixture,
                                             const torch::Tensor& experts,
                                             const torch::Tensor& gate,
                                             const torch::Tensor& gateProbs,
                                             const torch::Tensor& target) const {
    LossTerms t;
    t.task = taskLoss(mixture, target);
    DistillOptions o;
    o.kind = kind_;
    o.temperature = config_.temperature;
    o.detachTeacher = config_.detachTeacher;
    if (config_.gateWeighted) o.studentWeights = gate.detach() * static_cast<double>(gate.size(1));
    if (config_.alpha > 0) {
        t.distill = distillationLoss(experts, o);
    } else {
        torch::NoGradGuard noGrad;
        t.distill = distillationLoss(experts.detach(), o);
    }
    t.total = t.task;
    if (config_.alpha > 0) t.total = t.total + config_.alpha * t.distill;
    if (config_.balanceWeight > 0) {
        t.balance = loadBalanceLoss(gate, gateProbs);
        t.total = t.total + config_.balanceWeight * t.balance;
    } else {
        torch::NoGradGuard noGrad;
        t.balance = loadBalanceLoss(gate.detach(), gateProbs.detach());
    }
    return t;
}

LossTerms MutualDistillationLoss::independent(const torch::Tensor& experts,
                                              const torch::Tensor& target) const {
    const auto E = experts.size(1);
    LossTerms t;
    // Each expert's mean over the batch, then the sum over the experts: the rows of all experts
    // in one call, whose mean over B * E rows is the mean of the experts' losses.
    const auto flat = experts.reshape({experts.size(0) * E, experts.size(2)});
    const auto repeated = target.repeat_interleave(E);
    t.task = taskLoss(flat, repeated);
    t.total = t.task * static_cast<double>(E);
    {
        torch::NoGradGuard noGrad;
        DistillOptions o;
        o.kind = kind_;
        o.temperature = config_.temperature;
        t.distill = distillationLoss(experts.detach(), o);
        t.balance = torch::zeros({}, experts.options());
    }
    return t;
}

} // namespace mode

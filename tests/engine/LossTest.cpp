// SPDX-License-Identifier: GPL-3.0-or-later
// The distillation variants, the balance loss and the task loss against values worked out by
// hand (or with plain scalar arithmetic below), and their gradients against finite differences.

#include "loss/MutualDistillationLoss.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

using namespace mode;

namespace {

torch::Tensor t3(std::vector<double> v, std::int64_t B, std::int64_t E, std::int64_t C) {
    return torch::tensor(v, torch::kFloat64).view({B, E, C});
}

double lossOf(const torch::Tensor& e, DistillKind k, double T = 1, bool detach = false) {
    DistillOptions o;
    o.kind = k;
    o.temperature = T;
    o.detachTeacher = detach;
    return distillationLoss(e, o).item<double>();
}

// KL(p || q) for two-class distributions from logits, in plain doubles.
double kl2(double a0, double a1, double b0, double b1, double T) {
    auto sm = [T](double x0, double x1, int i) {
        double m = std::max(x0, x1) / T, z = std::exp(x0 / T - m) + std::exp(x1 / T - m);
        return std::exp((i ? x1 : x0) / T - m) / z;
    };
    double s = 0;
    for (int i = 0; i < 2; ++i)
        s += sm(a0, a1, i) * std::log(sm(a0, a1, i) / sm(b0, b1, i));
    return s;
}

} // namespace

TEST(DistillationLoss, MseMeanByHand) {
    // e1 = (1, 2), e2 = (3, 0): the mean is (2, 1); every deviation is +-1, so the loss is 1.
    EXPECT_DOUBLE_EQ(lossOf(t3({1, 2, 3, 0}, 1, 2, 2), DistillKind::MseMean), 1.0);
    // Three scalar experts 0, 3, 6: mean 3, deviations 9, 0, 9 -> 6.
    EXPECT_DOUBLE_EQ(lossOf(t3({0, 3, 6}, 1, 3, 1), DistillKind::MseMean), 6.0);
}

TEST(DistillationLoss, MsePairwiseByHand) {
    // MSE((1,2),(3,0)) = (4 + 4) / 2 = 4 for both ordered pairs.
    EXPECT_DOUBLE_EQ(lossOf(t3({1, 2, 3, 0}, 1, 2, 2), DistillKind::MsePairwise), 4.0);
    // Pairs of (0, 3, 6): 9, 36, 9 -> mean 18.
    EXPECT_DOUBLE_EQ(lossOf(t3({0, 3, 6}, 1, 3, 1), DistillKind::MsePairwise), 18.0);
}

TEST(DistillationLoss, PairwiseIsTheMeanFormRescaled) {
    // sum_{i<j} ||e_i - e_j||^2 = E sum_i ||e_i - mean||^2, hence pairwise = 2E/(E-1) * mean;
    // for E = 2 the mean form is a quarter of the pairwise one.
    torch::manual_seed(1);
    for (int E : {2, 3, 5, 8}) {
        auto e = torch::randn({7, E, 4}, torch::kFloat64);
        const double mean = lossOf(e, DistillKind::MseMean),
                     pair = lossOf(e, DistillKind::MsePairwise);
        EXPECT_NEAR(pair, 2.0 * E / (E - 1) * mean, 1e-12) << "E = " << E;
    }
}

TEST(DistillationLoss, KlByHandAndWithTemperature) {
    // e1 = (0, 0), e2 = (ln 3, 0): p1 = (1/2, 1/2), p2 = (3/4, 1/4).
    const double l3 = std::log(3.0);
    auto e = t3({0, 0, l3, 0}, 1, 2, 2);
    const double byHand = (0.75 * std::log(1.5) + 0.25 * std::log(0.5) +
                           0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(2.0)) /
                          2;
    EXPECT_NEAR(lossOf(e, DistillKind::Kl), byHand, 1e-12);
    EXPECT_NEAR(byHand, 0.13732653608351372, 1e-12);
    const double T = 2;
    const double withT = (kl2(l3, 0, 0, 0, T) + kl2(0, 0, l3, 0, T)) / 2 * T * T;
    EXPECT_NEAR(lossOf(e, DistillKind::Kl, T), withT, 1e-12);
}

TEST(DistillationLoss, KlAveragesOverTheBatchAndOrderedPairs) {
    torch::manual_seed(2);
    auto e = torch::randn({5, 3, 2}, torch::kFloat64);
    double expected = 0;
    auto a = e.accessor<double, 3>();
    for (int b = 0; b < 5; ++b)
        for (int i = 0; i < 3; ++i)
            for (int j = 0; j < 3; ++j)
                if (i != j)
                    expected +=
                        kl2(a[b][j][0], a[b][j][1], a[b][i][0], a[b][i][1], 1.0); // KL(p_j || p_i)
    expected /= 5 * 6;
    EXPECT_NEAR(lossOf(e, DistillKind::Kl), expected, 1e-12);
}

TEST(DistillationLoss, OneExpertHasNothingToLearnFrom) {
    auto e = torch::randn({4, 1, 3}, torch::kFloat64);
    for (auto k : {DistillKind::MseMean, DistillKind::MsePairwise, DistillKind::Kl})
        EXPECT_EQ(lossOf(e, k), 0.0);
}

TEST(DistillationLoss, IdenticalExpertsGiveZero) {
    auto one = torch::randn({3, 1, 4}, torch::kFloat64);
    auto e = one.expand({3, 4, 4}).contiguous();
    for (auto k : {DistillKind::MseMean, DistillKind::MsePairwise, DistillKind::Kl})
        EXPECT_NEAR(lossOf(e, k), 0.0, 1e-12);
}

TEST(DistillationLoss, GradientsAgreeWithFiniteDifferences) {
    torch::manual_seed(3);
    for (auto k : {DistillKind::MseMean, DistillKind::MsePairwise, DistillKind::Kl}) {
        DistillOptions o;
        o.kind = k;
        o.temperature = 1.5;
        auto e = torch::randn({3, 3, 4}, torch::kFloat64).requires_grad_(true);
        distillationLoss(e, o).backward();
        auto analytic = e.grad().view({-1});
        const double h = 1e-6;
        auto flat = e.detach().clone().view({-1});
        for (std::int64_t i = 0; i < flat.numel(); ++i) {
            auto plus = flat.clone(), minus = flat.clone();
            plus[i] += h;
            minus[i] -= h;
            const double fd = (distillationLoss(plus.view({3, 3, 4}), o).item<double>() -
                               distillationLoss(minus.view({3, 3, 4}), o).item<double>()) /
                              (2 * h);
            EXPECT_NEAR(analytic[i].item<double>(), fd, 1e-6)
                << "variant " << int(k) << " entry " << i;
        }
    }
}

TEST(DistillationLoss, DetachedTeacherHalvesThePairwiseGradient) {
    // Each pair term (e_i - e_j)^2 pulls on both experts; with teachers detached only the
    // student side remains, exactly half of the gradient.
    torch::manual_seed(4);
    auto base = torch::randn({2, 4, 3}, torch::kFloat64);
    auto a = base.clone().requires_grad_(true), b = base.clone().requires_grad_(true);
    DistillOptions full, half;
    full.kind = half.kind = DistillKind::MsePairwise;
    half.detachTeacher = true;
    distillationLoss(a, full).backward();
    distillationLoss(b, half).backward();
    EXPECT_TRUE(torch::allclose(b.grad() * 2, a.grad(), 1e-12, 1e-12));
}

// What alpha = 1 means per variant (distillationScale, shown in the form and the report): on a
// fixed tensor, every variant's gradient is its factor times mse-mean's, for 2, 4 and 7 experts.
TEST(DistillationLoss, EachVariantsGradientIsItsStatedMultipleOfMseMeans) {
    for (std::int64_t experts : {2, 4, 7}) {
        torch::manual_seed(experts);
        const auto base = torch::randn({3, experts, 5}, torch::kFloat64);
        auto gradient = [&](DistillKind kind, bool detach) {
            auto e = base.clone().requires_grad_(true);
            DistillOptions o;
            o.kind = kind;
            o.detachTeacher = detach;
            distillationLoss(e, o).backward();
            return e.grad();
        };
        const auto unit = gradient(DistillKind::MseMean, false);
        for (auto kind : {DistillKind::MseMean, DistillKind::MsePairwise})
            for (bool detach : {false, true}) {
                const double factor = distillationScale(kind, detach, static_cast<int>(experts));
                EXPECT_TRUE(torch::allclose(gradient(kind, detach), unit * factor, 1e-10, 1e-12))
                    << "E " << experts << ", pairwise " << (kind == DistillKind::MsePairwise)
                    << ", detach " << detach << ": factor " << factor;
            }
    }
    EXPECT_NEAR(distillationScale(DistillKind::MsePairwise, false, 4), 8.0 / 3, 1e-12);
    EXPECT_TRUE(std::isnan(distillationScale(DistillKind::Kl, false, 4)));
}

TEST(DistillationLoss, MseMeanGradientIsTwiceTheDeviationOverTheCount) {
    // d/de_i of mean_{b,i,c} (e_i - m)^2 is 2 (e_i - m) / (B E C): the mean's own share vanishes
    // because deviations sum to zero. For e1 = (1,2), e2 = (3,0): (-1/2, 1/2, 1/2, -1/2).
    auto e = t3({1, 2, 3, 0}, 1, 2, 2).requires_grad_(true);
    DistillOptions o;
    distillationLoss(e, o).backward();
    auto g = e.grad().view({-1});
    std::vector<double> expected{-0.5, 0.5, 0.5, -0.5};
    for (int i = 0; i < 4; ++i)
        EXPECT_DOUBLE_EQ(g[i].item<double>(), expected[i]);
}

TEST(DistillationLoss, DetachedMseMeanPullsEachExpertTowardsTheOthers) {
    // With the teacher detached, expert i's term is (e_i - t_i)^2 with t_i the mean of the other
    // experts held fixed. Its gradient is that of f(e) = mean_{b,i,c} (e_i - t_i)^2 with t taken
    // from the starting point: checked against finite differences of f, with t computed in
    // plain doubles here.
    torch::manual_seed(9);
    const std::int64_t B = 2, E = 3, C = 2;
    auto base = torch::randn({B, E, C}, torch::kFloat64);
    std::vector<double> x(base.data_ptr<double>(), base.data_ptr<double>() + base.numel());
    auto at = [&](const std::vector<double>& v, std::int64_t b, std::int64_t i, std::int64_t c) {
        return v[(b * E + i) * C + c];
    };
    std::vector<double> teacher(x.size());
    for (std::int64_t b = 0; b < B; ++b)
        for (std::int64_t i = 0; i < E; ++i)
            for (std::int64_t c = 0; c < C; ++c) {
                double others = 0;
                for (std::int64_t j = 0; j < E; ++j)
                    if (j != i) others += at(x, b, j, c);
                teacher[(b * E + i) * C + c] = others / (E - 1);
            }
    auto f = [&](const std::vector<double>& v) {
        double s = 0;
        for (std::size_t k = 0; k < v.size(); ++k)
            s += (v[k] - teacher[k]) * (v[k] - teacher[k]);
        return s / static_cast<double>(v.size());
    };
    DistillOptions detached;
    detached.detachTeacher = true;
    auto e = base.clone().requires_grad_(true);
    auto loss = distillationLoss(e, detached);
    EXPECT_NEAR(loss.item<double>(), f(x), 1e-12)
        << "the value is the distance to the others' mean";
    loss.backward();
    const double h = 1e-6;
    for (std::size_t k = 0; k < x.size(); ++k) {
        auto plus = x, minus = x;
        plus[k] += h;
        minus[k] -= h;
        EXPECT_NEAR(e.grad().view({-1})[static_cast<std::int64_t>(k)].item<double>(),
                    (f(plus) - f(minus)) / (2 * h), 1e-7)
            << k;
    }
    // And it is not the undetached gradient (which is the same with the full mean detached).
    auto g = base.clone().requires_grad_(true);
    distillationLoss(g, DistillOptions{}).backward();
    EXPECT_FALSE(torch::allclose(g.grad(), e.grad(), 1e-6, 1e-9));
}

TEST(DistillationLoss, GateWeightsScaleEachStudentsTerm) {
    // Expert deviations are all +-1 (per-student MSE 1); weights (2, 0) give mean(2, 0) = 1,
    // weights (0.5, 0.5) give 0.5.
    auto e = t3({1, 2, 3, 0}, 1, 2, 2);
    DistillOptions o;
    o.studentWeights = torch::tensor({2.0, 0.0}, torch::kFloat64).view({1, 2});
    EXPECT_DOUBLE_EQ(distillationLoss(e, o).item<double>(), 1.0);
    o.studentWeights = torch::tensor({0.5, 0.5}, torch::kFloat64).view({1, 2});
    EXPECT_DOUBLE_EQ(distillationLoss(e, o).item<double>(), 0.5);
}

// Gate-weighted distillation through the objective (which scales the gate by E): a uniform gate
// (1/E everywhere) weights every student by 1, the unweighted loss; a gate that gives one expert
// everything weights its term by E and the others' by 0.
TEST(MutualDistillationLoss, GateWeightingByAUniformGateChangesNothing) {
    torch::manual_seed(6);
    const std::int64_t B = 5, E = 4, C = 3;
    auto experts = torch::randn({B, E, C}, torch::kFloat64);
    auto mixture = experts.mean(1);
    auto target = torch::randint(0, C, {B}, torch::kLong);
    LossConfig c;
    c.alpha = 1;
    c.gateWeighted = true;
    const MutualDistillationLoss objective(c);
    auto uniform = torch::full({B, E}, 1.0 / E, torch::kFloat64);
    const double weighted =
        objective(mixture, experts, uniform, uniform, target).distill.item<double>();
    EXPECT_NEAR(weighted, distillationLoss(experts, DistillOptions{}).item<double>(), 1e-12);
    // One expert gets the whole gate: only its term counts, times E.
    auto onlyFirst = torch::zeros({B, E}, torch::kFloat64);
    onlyFirst.select(1, 0).fill_(1.0);
    DistillOptions first;
    auto w = torch::zeros({B, E}, torch::kFloat64);
    w.select(1, 0).fill_(static_cast<double>(E));
    first.studentWeights = w;
    EXPECT_NEAR(objective(mixture, experts, onlyFirst, onlyFirst, target).distill.item<double>(),
                distillationLoss(experts, first).item<double>(), 1e-12);
}

TEST(LoadBalanceLoss, SwitchTransformerFormByHand) {
    // argmax shares f = (2/3, 1/3); mean probabilities P = (0.6, 0.4): 2 * (0.4 + 0.1333..).
    auto gate = torch::tensor({0.7, 0.3, 0.2, 0.8, 0.6, 0.4}, torch::kFloat64).view({3, 2});
    auto probs = torch::tensor({0.9, 0.1, 0.4, 0.6, 0.5, 0.5}, torch::kFloat64).view({3, 2});
    EXPECT_NEAR(loadBalanceLoss(gate, probs).item<double>(), 2.0 * (2.0 / 3 * 0.6 + 1.0 / 3 * 0.4),
                1e-12);
    // A perfectly balanced uniform gate scores 1.
    auto uniform = torch::full({4, 4}, 0.25, torch::kFloat64);
    uniform[0][0] += 1e-3;
    uniform[1][1] += 1e-3;
    uniform[2][2] += 1e-3;
    uniform[3][3] += 1e-3;
    EXPECT_NEAR(loadBalanceLoss(uniform, uniform).item<double>(), 1.0, 1e-2);
}

TEST(MutualDistillationLoss, AlphaZeroIsExactlyThePlainMoE) {
    torch::manual_seed(5);
    auto experts = torch::randn({6, 3, 4}, torch::kFloat64).requires_grad_(true);
    auto gate = torch::softmax(torch::randn({6, 3}, torch::kFloat64), 1);
    auto mixture = (gate.unsqueeze(-1) * experts).sum(1);
    auto y = torch::tensor({0, 1, 2, 3, 0, 1}, torch::kLong);
    LossConfig c;
    c.alpha = 0;
    auto terms = MutualDistillationLoss(c)(mixture, experts, gate, gate, y);
    auto plain = torch::nn::functional::cross_entropy(mixture, y);
    EXPECT_EQ(terms.total.item<double>(), plain.item<double>());
    EXPECT_GT(terms.distill.item<double>(), 0.0) << "the distillation loss is still reported";
    auto gTotal = torch::autograd::grad({terms.total}, {experts}, {}, true)[0];
    auto gPlain = torch::autograd::grad({plain}, {experts})[0];
    EXPECT_TRUE(torch::equal(gTotal, gPlain));
}

TEST(MutualDistillationLoss, TotalIsTaskPlusAlphaTimesDistillPlusBalance) {
    torch::manual_seed(6);
    auto experts = torch::randn({5, 4, 3}, torch::kFloat64);
    auto gate = torch::softmax(torch::randn({5, 4}, torch::kFloat64), 1);
    auto mixture = (gate.unsqueeze(-1) * experts).sum(1);
    auto y = torch::tensor({0, 1, 2, 1, 0}, torch::kLong);
    LossConfig c;
    c.alpha = 0.3;
    c.balanceWeight = 0.01;
    c.distill = "mse-pairwise";
    auto t = MutualDistillationLoss(c)(mixture, experts, gate, gate, y);
    DistillOptions o;
    o.kind = DistillKind::MsePairwise;
    const double expected = torch::nn::functional::cross_entropy(mixture, y).item<double>() +
                            0.3 * distillationLoss(experts, o).item<double>() +
                            0.01 * loadBalanceLoss(gate, gate).item<double>();
    EXPECT_NEAR(t.total.item<double>(), expected, 1e-12);
}

TEST(TaskLoss, MseForRegressionTargets) {
    auto pred = torch::tensor({1.0, 2.0, 4.0}, torch::kFloat32).view({3, 1});
    auto y = torch::tensor({1.0, 0.0, 1.0}, torch::kFloat32);
    EXPECT_FLOAT_EQ(taskLoss(pred, y).item<float>(), (0 + 4 + 9) / 3.0f);
}

// SPDX-License-Identifier: GPL-3.0-or-later
#include "model/MoDEModel.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

using namespace mode;

namespace {
ModelConfig modelConfig(int experts, std::vector<int> hidden, std::string activation = "relu") {
    ModelConfig c;
    c.experts = experts;
    c.hidden = std::move(hidden);
    c.activation = std::move(activation);
    return c;
}
} // namespace

TEST(ExpertBank, BatchedBankEqualsAPerExpertLoop) {
    torch::manual_seed(0);
    for (const auto& choice : choicesOf<Activation>()) {
        const std::string act = choice.name;
        ExpertBank bank(5, 7, std::vector<int>{16, 8}, 3, choice.value, 0.0);
        auto x = torch::randn({11, 7});
        auto batched = bank->forward(x); // [E, B, C]
        ASSERT_EQ(batched.sizes(), (std::vector<std::int64_t>{5, 11, 3}));
        for (int e = 0; e < 5; ++e) {
            auto h = x;
            for (int l = 0; l < bank->layers(); ++l) {
                auto [w, b] = bank->expertLayer(e, l);
                h = torch::nn::functional::linear(h, w.t(), b); // an ordinary Linear layer
                if (l + 1 < bank->layers()) h = bank->activate(h);
            }
            EXPECT_TRUE(torch::allclose(batched[e], h, 1e-5, 1e-6)) << act << " expert " << e;
        }
    }
}

TEST(ExpertBank, ExpertsAreInitialisedDifferently) {
    torch::manual_seed(0);
    ExpertBank bank(3, 4, std::vector<int>{8}, 2, Activation::Relu, 0.0);
    auto [w0, b0] = bank->expertLayer(0, 0);
    auto [w1, b1] = bank->expertLayer(1, 0);
    EXPECT_FALSE(torch::equal(w0, w1));
    const double bound = 1.0 / std::sqrt(4.0);
    EXPECT_LE(w0.abs().max().item<double>(), bound);
}

TEST(TopKSoftmax, KeepsKLargestRenormalisesAndZeroesTheRest) {
    auto logits = torch::tensor({1.0, 3.0, 2.0, 0.0}, torch::kFloat64).view({1, 4});
    auto g = topKSoftmax(logits, 2);
    const double e = std::exp(1.0);
    EXPECT_EQ(g[0][0].item<double>(), 0.0);
    EXPECT_EQ(g[0][3].item<double>(), 0.0);
    EXPECT_NEAR(g[0][1].item<double>(), e / (e + 1), 1e-12);
    EXPECT_NEAR(g[0][2].item<double>(), 1 / (e + 1), 1e-12);
}

TEST(TopKSoftmax, ExactlyEMinusKZerosPerRow) {
    torch::manual_seed(1);
    for (int k = 1; k <= 6; ++k) {
        auto g = topKSoftmax(torch::randn({50, 6}), k);
        auto zeros = (g == 0).sum(1);
        EXPECT_TRUE(torch::all(zeros == 6 - k).item<bool>()) << "k = " << k;
        EXPECT_TRUE(torch::allclose(g.sum(1), torch::ones({50}), 1e-6, 1e-6));
    }
}

// A noisy top-k gate draws noise in training only: evaluated, it is the clean top-k softmax and
// gives the same weights twice (what predictions, probing and routing rely on).
TEST(Gate, ANoisyTopKGateIsCleanAndDeterministicWhenEvaluated) {
    torch::manual_seed(5);
    Gate gate(6, 4, GateKind::TopK, 2, /*noisy=*/true);
    auto x = torch::randn({32, 6});
    gate->train();
    auto [noisy, probsTrain] = gate->forward(x);
    const auto clean = topKSoftmax(torch::log(probsTrain), 2); // the same logits, shifted per row
    EXPECT_FALSE(torch::allclose(noisy, clean)) << "the noise is drawn in training";
    gate->eval();
    auto [first, probs] = gate->forward(x);
    auto [second, unused] = gate->forward(x);
    EXPECT_TRUE(torch::equal(first, second));
    EXPECT_TRUE(torch::allclose(first, clean, 1e-6, 1e-7));
}

TEST(MoDEModel, MixtureIsTheGateWeightedSumOfExperts) {
    torch::manual_seed(2);
    MoDEModel m(modelConfig(4, {8}), 5, 3);
    auto x = torch::randn({9, 5});
    auto out = m->forward(x);
    EXPECT_EQ(out.experts.sizes(), (std::vector<std::int64_t>{9, 4, 3}));
    EXPECT_EQ(out.gate.sizes(), (std::vector<std::int64_t>{9, 4}));
    for (int b = 0; b < 9; ++b) {
        auto manual = torch::zeros({3});
        for (int i = 0; i < 4; ++i)
            manual += out.gate[b][i] * out.experts[b][i];
        EXPECT_TRUE(torch::allclose(out.mixture[b], manual, 1e-5, 1e-6));
    }
    EXPECT_TRUE(torch::allclose(out.gate.sum(1), torch::ones({9}), 1e-6, 1e-6));
}

TEST(MoDEModel, TopKGateRoutesThroughKExperts) {
    torch::manual_seed(3);
    auto c = modelConfig(5, {8});
    c.gate = "topk";
    c.topK = 2;
    c.noisyGate = true;
    MoDEModel m(c, 4, 2);
    m->train();
    auto out = m->forward(torch::randn({20, 4}));
    EXPECT_TRUE(torch::all((out.gate == 0).sum(1) == 3).item<bool>());
    // gateProbs is the clean softmax over all experts (for the balance loss).
    EXPECT_TRUE(torch::all(out.gateProbs > 0).item<bool>());
}

TEST(MoDEModel, GradientsReachEveryExpertAndTheGate) {
    torch::manual_seed(4);
    MoDEModel m(modelConfig(3, {6}), 4, 2);
    auto out = m->forward(torch::randn({16, 4}));
    out.mixture.pow(2).sum().backward();
    for (const auto& p : m->named_parameters()) {
        ASSERT_TRUE(p.value().grad().defined()) << p.key();
        EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    }
}

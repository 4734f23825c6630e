// SPDX-License-Identifier: GPL-3.0-or-later
#include "loss/MutualDistillationLoss.h"
#include "model/MoDEModel.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <map>

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

// The dense baseline (model.kind dense): one expert MLP whose hidden widths are the experts'
// scaled by one factor, sized to the mixture's parameters (experts and gate; the backbone is the
// same in both and left out).
TEST(DenseBaseline, HasAboutTheMixturesParameterCount) {
    // By hand: 8 inputs, 3 classes, 4 experts of one hidden layer of 32: each expert has
    // 8*32+32 + 32*3+3 = 387 parameters, the gate 8*4+4 = 36: 4*387+36 = 1584. One hidden layer
    // of w has 8w+w + 3w+3 = 12w+3: w = 132 gives 1587 (131 gives 1575).
    auto c = modelConfig(4, {32});
    c.kind = "dense";
    EXPECT_EQ(denseHiddenWidths(c, 8, 3), (std::vector<int>{132}));
    MoDEModel dense(c, 8, 3);
    EXPECT_EQ(dense->parameterCount(), 1587);
    EXPECT_EQ(dense->experts(), 1);
    EXPECT_TRUE(dense->gate.is_empty()) << "no gate";

    struct Case {
        int experts;
        std::vector<int> hidden;
        int inputs, outputs;
        std::string backbone;
        bool noisyTopK;
    };
    const std::vector<Case> cases{
        {4, {32}, 8, 3, "none", false},    {8, {64, 32}, 784, 10, "none", false},
        {2, {16, 16}, 5, 2, "mlp", false}, {4, {}, 20, 3, "none", false},
        {16, {32}, 64, 10, "none", true},  {3, {128, 8}, 30, 1, "none", false}};
    for (const auto& k : cases) {
        auto moe = modelConfig(k.experts, k.hidden);
        moe.backbone = k.backbone;
        if (k.noisyTopK) {
            moe.gate = "topk";
            moe.noisyGate = true;
        }
        auto denseConfig = moe;
        denseConfig.kind = "dense";
        torch::manual_seed(0);
        const MoDEModel mixture(moe, k.inputs, k.outputs),
            network(denseConfig, k.inputs, k.outputs);
        const double m = static_cast<double>(mixture->parameterCount()),
                     d = static_cast<double>(network->parameterCount());
        EXPECT_NEAR(d / m, 1.0, 0.10) << k.experts << " experts, " << k.hidden.size() << " layers, "
                                      << m << " against " << d << " parameters";
        EXPECT_EQ(network->named_parameters().size(),
                  2 * (std::max<std::size_t>(k.hidden.size(), 1) + 1) +
                      mixture->backbone->named_parameters().size())
            << "a backbone and one MLP, no gate";
    }
}

// The ensemble baseline's prediction, worked out here from each expert's own layers: the mean
// of the experts' class probabilities (classification) or of their values (regression).
TEST(EnsembleBaseline, PredictsTheMeanOfItsExpertsProbabilities) {
    for (int outputs : {4, 1}) {
        SCOPED_TRACE(outputs == 1 ? "regression" : "classification");
        torch::manual_seed(5);
        auto c = modelConfig(3, {8, 6});
        c.kind = "ensemble";
        MoDEModel m(c, 5, outputs);
        m->eval();
        const auto x = torch::randn({7, 5}, torch::kFloat64);
        m->to(torch::kFloat64);
        const auto out = m->forward(x);
        auto expected = torch::zeros({7, outputs}, torch::kFloat64);
        for (int e = 0; e < 3; ++e) {
            auto h = x;
            for (int l = 0; l < m->bank->layers(); ++l) {
                auto [w, b] = m->bank->expertLayer(e, l);
                h = torch::mm(h, w) + b;
                if (l + 1 < m->bank->layers()) h = torch::relu(h);
            }
            expected += (outputs > 1 ? torch::softmax(h, 1) : h) / 3.0;
        }
        const auto predicted = outputs > 1 ? torch::softmax(out.mixture, 1) : out.mixture;
        EXPECT_TRUE(torch::allclose(predicted, expected, 1e-12, 1e-12))
            << (predicted - expected).abs().max().item<double>();
        EXPECT_TRUE(torch::allclose(out.gate, torch::full({7, 3}, 1.0 / 3, torch::kFloat64)))
            << "the constant mixing weight";
    }
}

// Trained independently: each expert's gradient under the ensemble's loss is exactly the one its
// own task loss alone gives, for its own backbone too (each member has its own copy).
TEST(EnsembleBaseline, ExpertsReceiveNoGradientFromEachOther) {
    torch::manual_seed(6);
    auto c = modelConfig(3, {8});
    c.kind = "ensemble";
    c.backbone = "mlp";
    c.backboneDim = 6;
    MoDEModel m(c, 5, 4);
    ASSERT_TRUE(m->memberBackbones) << "one backbone per expert";
    const auto x = torch::randn({16, 5});
    const auto y = torch::randint(0, 4, {16}, torch::kLong);
    LossConfig lc;
    lc.alpha = 0;
    const MutualDistillationLoss loss(lc);

    m->zero_grad();
    loss.independent(m->forward(x).experts, y).total.backward();
    std::map<std::string, torch::Tensor> together;
    for (const auto& p : m->named_parameters())
        together[p.key()] = p.value().grad().clone();

    for (int e = 0; e < 3; ++e) {
        m->zero_grad();
        const auto out = m->forward(x);
        torch::cross_entropy_loss(out.experts.select(1, e), y).backward(); // its own loss alone
        const std::string own = "backbones." + std::to_string(e) + ".";
        for (const auto& p : m->named_parameters()) {
            const auto& key = p.key();
            torch::Tensor alone = p.value().grad(), both = together[key];
            if (key.rfind("experts.", 0) == 0) { // the bank: expert e's slice
                alone = alone[e];
                both = both[e];
            } else if (key.rfind(own, 0) != 0) {
                continue; // another member's backbone
            }
            ASSERT_TRUE(alone.defined()) << key;
            EXPECT_TRUE(torch::allclose(both, alone, 1e-6, 1e-7))
                << "expert " << e << ", " << key << ": "
                << (both - alone).abs().max().item<double>();
        }
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Evaluator.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <ATen/Parallel.h>

#include <cmath>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace mode;

namespace {

// A hand-built model of 2 experts: row r of the split (its one feature holds r) gets the
// expert outputs experts[r] and the gate weights gate[r], mixed as MoDEModel mixes them.
struct TableModel {
    std::vector<std::vector<std::vector<float>>> experts; // [row][expert][output]
    std::vector<std::vector<float>> gate;                 // [row][expert]

    MoDEOutput operator()(const torch::Tensor& x) const {
        std::vector<torch::Tensor> e, g;
        for (std::int64_t i = 0; i < x.size(0); ++i) {
            const auto row = static_cast<std::size_t>(x[i][0].item<float>());
            std::vector<torch::Tensor> perExpert;
            for (const auto& out : experts[row])
                perExpert.push_back(torch::tensor(out));
            e.push_back(torch::stack(perExpert));
            g.push_back(torch::tensor(gate[row]));
        }
        MoDEOutput out;
        out.experts = torch::stack(e); // [B, E, C]
        out.gate = torch::stack(g);    // [B, E]
        out.gateProbs = out.gate;
        out.mixture = (out.gate.unsqueeze(-1) * out.experts).sum(1);
        return out;
    }
};

SplitTensors rowsOf(std::int64_t n, torch::Tensor y, std::vector<std::int64_t> subtasks = {}) {
    SplitTensors s;
    s.x = torch::arange(n, torch::kFloat32).unsqueeze(1);
    s.y = std::move(y);
    if (!subtasks.empty()) s.subtask = torch::tensor(subtasks, torch::kInt64);
    return s;
}

double entropy(const std::vector<float>& g) {
    double h = 0;
    for (float w : g)
        h -= w * std::log(static_cast<double>(w));
    return h;
}

// Cross-entropy of one row's logits for class y.
double crossEntropy(const std::vector<double>& logits, int y) {
    double sum = 0;
    for (double l : logits)
        sum += std::exp(l);
    return std::log(sum) - logits[static_cast<std::size_t>(y)];
}

} // namespace

// Five rows, three classes, two sub-tasks. Worked out by hand:
//   row  class  sub-task  gate (e0, e1)  expert 0   expert 1   mixture          top
//   0    0      0         0.9   0.1      [3 0 0]:0  [0 3 0]:1  [2.7 0.3 0]:0 ok  e0
//   1    1      0         0.8   0.2      [2 0 0]:0  [0 0 2]:2  [1.6 0 0.4]:0     e0
//   2    2      1         0.3   0.7      [0 0 1]:2  [0 0 4]:2  [0 0 3.1]:2 ok    e1
//   3    1      1         0.4   0.6      [0 5 0]:1  [0 1 0]:1  [0 2.6 0]:1 ok    e1
//   4    0      0         0.25  0.75     [1 0 0]:0  [0 2 0]:1  [0.25 1.5 0]:1    e1
// (":k" is the predicted class.) The mixture is right on rows 0, 2, 3: accuracy 3/5. Expert 0
// gets rows 0 and 1 and is right on row 0 alone: probing 1/2; expert 1 gets rows 2, 3, 4 and
// is right on 2 and 3: probing 2/3.
TEST(Evaluator, ClassificationMetricsOfAHandBuiltModel) {
    TableModel model;
    model.experts = {{{3, 0, 0}, {0, 3, 0}},
                     {{2, 0, 0}, {0, 0, 2}},
                     {{0, 0, 1}, {0, 0, 4}},
                     {{0, 5, 0}, {0, 1, 0}},
                     {{1, 0, 0}, {0, 2, 0}}};
    model.gate = {{0.9f, 0.1f}, {0.8f, 0.2f}, {0.3f, 0.7f}, {0.4f, 0.6f}, {0.25f, 0.75f}};
    const std::vector<int> labels{0, 1, 2, 1, 0};
    const auto split = rowsOf(5, torch::tensor({0, 1, 2, 1, 0}, torch::kInt64), {0, 0, 1, 1, 0});

    EvaluationTask task;
    task.classification = true;
    task.experts = 2;
    task.classNames = {"a", "b", "c"};
    task.subtaskNames = {"s0", "s1"};
    // Chunks of 2 rows: the sums run over three chunks (2, 2, 1 rows).
    const Evaluator evaluator(task, model, /*chunkRows=*/2);
    EpochMetrics m;
    const Scores s = evaluator.scoreWithDiagnostics(split, m);

    EXPECT_DOUBLE_EQ(s.accuracy, 3.0 / 5.0);
    const std::vector<std::vector<double>> mixture{
        {2.7, 0.3, 0}, {1.6, 0, 0.4}, {0, 0, 3.1}, {0, 2.6, 0}, {0.25, 1.5, 0}};
    double loss = 0;
    for (int r = 0; r < 5; ++r)
        loss += crossEntropy(mixture[r], labels[r]) / 5;
    EXPECT_NEAR(s.loss, loss, 1e-6);

    ASSERT_EQ(m.experts.size(), 2u);
    EXPECT_EQ(m.experts[0].allocated, 2);
    EXPECT_EQ(m.experts[1].allocated, 3);
    EXPECT_DOUBLE_EQ(m.experts[0].share, 2.0 / 5.0);
    EXPECT_DOUBLE_EQ(m.experts[1].share, 3.0 / 5.0);
    ASSERT_TRUE(m.experts[0].probingAccuracy && m.experts[1].probingAccuracy);
    EXPECT_DOUBLE_EQ(*m.experts[0].probingAccuracy, 1.0 / 2.0);
    EXPECT_DOUBLE_EQ(*m.experts[1].probingAccuracy, 2.0 / 3.0);
    EXPECT_FALSE(m.experts[0].probingError);
    EXPECT_NEAR(m.experts[0].load, (0.9 + 0.8 + 0.3 + 0.4 + 0.25) / 5, 1e-6);
    EXPECT_NEAR(m.experts[1].load, (0.1 + 0.2 + 0.7 + 0.6 + 0.75) / 5, 1e-6);

    // Routing by class: class 0 is rows 0 (top e0) and 4 (e1), class 1 rows 1 (e0) and 3
    // (e1), class 2 row 2 (e1).
    const auto& byClass = m.routingByClass;
    EXPECT_EQ(byClass.rowNames, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(byClass.experts, 2);
    EXPECT_EQ(byClass.rowCounts, (std::vector<std::int64_t>{2, 2, 1}));
    const std::vector<double> classShare{0.5, 0.5, 0.5, 0.5, 0, 1};
    const std::vector<double> classGate{
        (0.9 + 0.25) / 2, (0.1 + 0.75) / 2, (0.8 + 0.4) / 2, (0.2 + 0.6) / 2, 0.3, 0.7};
    ASSERT_EQ(byClass.argmaxShare.size(), 6u);
    for (std::size_t i = 0; i < 6; ++i) {
        EXPECT_DOUBLE_EQ(byClass.argmaxShare[i], classShare[i]) << i;
        EXPECT_NEAR(byClass.meanGate[i], classGate[i], 1e-6) << i;
    }
    // Routing by sub-task: s0 is rows 0, 1 (e0) and 4 (e1); s1 rows 2 and 3 (e1). The best
    // owners are e0 for s0 and e1 for s1, which get 2 + 2 of the 5 rows.
    ASSERT_TRUE(m.routingBySubtask);
    EXPECT_EQ(m.routingBySubtask->rowCounts, (std::vector<std::int64_t>{3, 2}));
    const std::vector<double> subtaskShare{2.0 / 3.0, 1.0 / 3.0, 0, 1};
    for (std::size_t i = 0; i < 4; ++i)
        EXPECT_DOUBLE_EQ(m.routingBySubtask->argmaxShare[i], subtaskShare[i]) << i;
    ASSERT_TRUE(m.gateRoutingAccuracy);
    EXPECT_DOUBLE_EQ(*m.gateRoutingAccuracy, 4.0 / 5.0);

    double meanEntropy = 0;
    for (const auto& g : model.gate)
        meanEntropy += entropy(g) / 5;
    EXPECT_NEAR(m.gateEntropy, meanEntropy, 1e-6);

    // Similarity: the cosine of the two experts' outputs, each row's logits centred (logits are
    // shift-invariant), over all rows and classes.
    double dot = 0, norm0 = 0, norm1 = 0;
    for (const auto& row : model.experts) {
        const double mean0 = (row[0][0] + row[0][1] + row[0][2]) / 3.0;
        const double mean1 = (row[1][0] + row[1][1] + row[1][2]) / 3.0;
        for (int c = 0; c < 3; ++c) {
            const double a = row[0][c] - mean0, b = row[1][c] - mean1;
            dot += a * b;
            norm0 += a * a;
            norm1 += b * b;
        }
    }
    const double cosine = dot / std::sqrt(norm0 * norm1);
    EXPECT_NEAR(m.experts[0].similarity, cosine, 1e-9);
    EXPECT_NEAR(m.experts[1].similarity, cosine, 1e-9);
    EXPECT_NEAR(m.expertSimilarity, cosine, 1e-9);

    // The per-sample routing of the same pass: each row's top expert, its weight, the mixture's
    // and the top expert's own class (table above), and the similarity matrix.
    SampleRouting samples;
    EpochMetrics again;
    evaluator.scoreWithDiagnostics(split, again, &samples);
    EXPECT_EQ(samples.topExpert, (std::vector<std::uint8_t>{0, 0, 1, 1, 1}));
    EXPECT_EQ(samples.prediction, (std::vector<float>{0, 0, 2, 1, 1}));
    EXPECT_EQ(samples.expertPrediction, (std::vector<float>{0, 0, 2, 1, 1}));
    EXPECT_EQ(samples.label, (std::vector<float>{0, 1, 2, 1, 0}));
    EXPECT_EQ(samples.topWeight, (std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f, 0.75f}));
    ASSERT_EQ(samples.similarity.size(), 4u);
    EXPECT_NEAR(samples.similarity[0], 1.0, 1e-6);
    EXPECT_NEAR(samples.similarity[1], cosine, 1e-6);
    EXPECT_NEAR(samples.similarity[2], cosine, 1e-6);
    EXPECT_NEAR(samples.similarity[3], 1.0, 1e-6);

    // A top-1 gate's kept experts: each row's largest weight and its expert.
    EvaluationTask topOne = task;
    topOne.topK = 1;
    SampleRouting sparse;
    EpochMetrics third;
    Evaluator(topOne, model, 2).scoreWithDiagnostics(split, third, &sparse);
    EXPECT_EQ(sparse.k, 1);
    EXPECT_EQ(sparse.gateExperts, (std::vector<std::uint8_t>{0, 0, 1, 1, 1}));
    EXPECT_EQ(sparse.gateWeights, (std::vector<float>{0.9f, 0.8f, 0.7f, 0.6f, 0.75f}));
    EXPECT_EQ(samples.k, 0) << "a dense gate keeps no k experts";

    // Without diagnostics: the same scores.
    const Scores plain = evaluator.score(split);
    EXPECT_EQ(plain.loss, s.loss);
    EXPECT_EQ(plain.accuracy, s.accuracy);
}

// Four rows, one output. Worked out by hand:
//   row  target  gate (e0, e1)  expert 0  expert 1  mixture  top
//   0    1       0.75  0.25     1         3         1.5      e0
//   1    2       0.6   0.4      2.5       2         2.3      e0
//   2    3       0.2   0.8      0         3         2.4      e1
//   3    4       0.3   0.7      5         4.5       4.65     e1
// Squared errors of the mixture 0.25, 0.09, 0.36, 0.4225: MSE 0.280625. The targets' variance
// is 1.25: R^2 = 1 - 0.280625 / 1.25. Expert 0 alone on rows 0, 1: errors 0 and 0.25, probing
// MSE 0.125; expert 1 on rows 2, 3: 0 and 0.25, 0.125.
TEST(Evaluator, RegressionMetricsOfAHandBuiltModel) {
    TableModel model;
    model.experts = {{{1}, {3}}, {{2.5f}, {2}}, {{0}, {3}}, {{5}, {4.5f}}};
    model.gate = {{0.75f, 0.25f}, {0.6f, 0.4f}, {0.2f, 0.8f}, {0.3f, 0.7f}};
    const auto split = rowsOf(4, torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}));

    EvaluationTask task;
    task.classification = false;
    task.experts = 2;
    const Evaluator evaluator(task, model, /*chunkRows=*/3);
    EpochMetrics m;
    const Scores s = evaluator.scoreWithDiagnostics(split, m);

    const double mse = (0.25 + 0.09 + 0.36 + 0.4225) / 4;
    EXPECT_NEAR(s.loss, mse, 1e-6);
    EXPECT_NEAR(s.rmse, std::sqrt(mse), 1e-6);
    EXPECT_NEAR(s.r2, 1.0 - mse / 1.25, 1e-6);
    EXPECT_EQ(s.accuracy, s.r2) << "a regression's accuracy is its R^2";

    ASSERT_EQ(m.experts.size(), 2u);
    EXPECT_EQ(m.experts[0].allocated, 2);
    EXPECT_EQ(m.experts[1].allocated, 2);
    EXPECT_DOUBLE_EQ(m.experts[0].share, 0.5);
    ASSERT_TRUE(m.experts[0].probingError && m.experts[1].probingError);
    EXPECT_FALSE(m.experts[0].probingAccuracy);
    EXPECT_NEAR(*m.experts[0].probingError, 0.125, 1e-9);
    EXPECT_NEAR(*m.experts[1].probingError, 0.125, 1e-9);
    // One routing row for all samples; no sub-tasks, so no sub-task routing.
    EXPECT_EQ(m.routingByClass.rowNames, (std::vector<std::string>{"all"}));
    EXPECT_EQ(m.routingByClass.rowCounts, (std::vector<std::int64_t>{4}));
    EXPECT_DOUBLE_EQ(m.routingByClass.argmaxShare[0], 0.5);
    EXPECT_FALSE(m.routingBySubtask);
    EXPECT_FALSE(m.gateRoutingAccuracy);
}

TEST(Evaluator, AnEmptySplitScoresZeroAndLeavesTheMetrics) {
    EvaluationTask task;
    task.experts = 2;
    task.classNames = {"a", "b"};
    const Evaluator evaluator(task, [](const torch::Tensor&) -> MoDEOutput {
        ADD_FAILURE() << "no forward pass for an empty split";
        return {};
    });
    EpochMetrics m;
    m.gateEntropy = 7;
    const Scores s = evaluator.scoreWithDiagnostics(SplitTensors{}, m);
    EXPECT_EQ(s.loss, 0);
    EXPECT_EQ(s.accuracy, 0);
    EXPECT_EQ(m.gateEntropy, 7);
    EXPECT_TRUE(m.experts.empty());
}

// On the CPU the chunks are evaluated on LibTorch's threads (the forward pass is seen on two
// threads when two are allowed) and the figures are the same, bit for bit, as on one thread:
// each chunk's sums are added in chunk order.
TEST(Evaluator, TheFiguresDoNotDependOnTheNumberOfThreads) {
    torch::manual_seed(11);
    ModelConfig c;
    c.experts = 4;
    c.hidden = {8};
    MoDEModel model(c, 6, 3);
    model->eval();
    SplitTensors split;
    split.x = torch::randn({1000, 6});
    split.y = torch::randint(0, 3, {1000});
    split.subtask = torch::randint(0, 2, {1000});
    EvaluationTask task;
    task.experts = 4;
    task.classNames = {"a", "b", "c"};
    task.subtaskNames = {"s", "t"};
    const int before = at::get_num_threads();
    std::mutex m;
    std::set<std::thread::id> threads;
    const Evaluator evaluator(
        task,
        [&](const torch::Tensor& x) {
            {
                std::lock_guard<std::mutex> lock(m);
                threads.insert(std::this_thread::get_id());
            }
            return model->forward(x);
        },
        /*chunkRows=*/64);
    const auto evaluate = [&](int n, EpochMetrics& metrics, SampleRouting& samples) {
        at::set_num_threads(n);
        threads.clear();
        return evaluator.scoreWithDiagnostics(split, metrics, &samples);
    };
    EpochMetrics one, two;
    SampleRouting oneRows, twoRows;
    const Scores a = evaluate(1, one, oneRows);
    EXPECT_EQ(threads.size(), 1u);
    const Scores b = evaluate(2, two, twoRows);
    at::set_num_threads(before);
    EXPECT_EQ(threads.size(), 2u) << "the chunks ran on two threads";
    EXPECT_EQ(a.loss, b.loss);
    EXPECT_EQ(a.accuracy, b.accuracy);
    EXPECT_EQ(one.gateEntropy, two.gateEntropy);
    EXPECT_EQ(one.expertSimilarity, two.expertSimilarity);
    EXPECT_EQ(one.gateRoutingAccuracy, two.gateRoutingAccuracy);
    EXPECT_EQ(one.routingByClass.meanGate, two.routingByClass.meanGate);
    EXPECT_EQ(one.routingByClass.argmaxShare, two.routingByClass.argmaxShare);
    EXPECT_EQ(one.routingBySubtask->meanGate, two.routingBySubtask->meanGate);
    ASSERT_EQ(one.experts.size(), two.experts.size());
    for (std::size_t e = 0; e < one.experts.size(); ++e) {
        EXPECT_EQ(one.experts[e].allocated, two.experts[e].allocated);
        EXPECT_EQ(one.experts[e].probingAccuracy, two.experts[e].probingAccuracy);
        EXPECT_EQ(one.experts[e].load, two.experts[e].load);
        EXPECT_EQ(one.experts[e].similarity, two.experts[e].similarity);
    }
    EXPECT_EQ(oneRows.topExpert, twoRows.topExpert) << "the rows in their order";
    EXPECT_EQ(oneRows.topWeight, twoRows.topWeight);
    EXPECT_EQ(oneRows.prediction, twoRows.prediction);
    EXPECT_EQ(oneRows.similarity, twoRows.similarity);
    EXPECT_EQ(oneRows.size(), 1000u);
}

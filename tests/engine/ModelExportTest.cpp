// SPDX-License-Identifier: GPL-3.0-or-later
// The TorchScript export: loaded back with torch::jit::load, the module gives what the run's own
// model gives on the same inputs (every backbone, both gates, one and three expert layers).

#include "TestSupport.h"
#include "model/MoDEModel.h"
#include "predict/Predictor.h"
#include "train/Trainer.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <sstream>

using namespace mode;

namespace {

struct Case {
    std::string backbone, gate, activation;
    std::vector<int> hidden;
    std::vector<std::int64_t> imageShape;
    std::int64_t vocabulary = 0;
    std::string kind = "moe";
};

// A freshly initialised model of the case, as a checkpoint holds it, with a recipe of its inputs.
std::pair<Checkpoint, FeatureRecipe> modelOf(const ExperimentConfig& c, const Case& k, int inputs) {
    torch::manual_seed(3);
    MoDEModel model(c.model, inputs, 4, k.imageShape, k.vocabulary);
    torch::serialize::OutputArchive archive, modelArchive;
    model->save(modelArchive);
    archive.write("model", modelArchive);
    std::ostringstream out;
    archive.save_to(out);
    Checkpoint checkpoint;
    checkpoint.epoch = 1;
    checkpoint.state = out.str();
    FeatureRecipe r;
    r.inputCount = inputs;
    r.mean.assign(static_cast<std::size_t>(inputs), 0.0);
    r.scale.assign(static_cast<std::size_t>(inputs), 1.0);
    r.fill.assign(static_cast<std::size_t>(inputs), std::nanf(""));
    r.classNames = {"a", "b", "c", "d"};
    r.imageShape = k.imageShape;
    if (k.vocabulary > 0) {
        for (std::int64_t w = 0; w < k.vocabulary; ++w)
            r.vocabulary.push_back("w" + std::to_string(w));
        r.textLength = inputs;
    }
    return {checkpoint, r};
}

} // namespace

TEST(ModelExport, TheScriptedModuleGivesWhatTheModelGives) {
    const std::vector<Case> cases{
        {"none", "dense", "relu", {16}, {}, 0},
        {"mlp", "topk", "gelu", {16, 8, 8}, {}, 0},
        {"none", "topk", "tanh", {}, {}, 0},
        {"cnn", "dense", "relu", {16}, {1, 8, 8}, 0},
        {"embedding-bag", "dense", "relu", {8}, {}, 30},
        {"transformer", "topk", "relu", {8}, {}, 30},
        {"transformer", "dense", "gelu", {}, {}, 30},
        // The baselines: a dense network; ensembles, with a backbone of each member's own.
        {"none", "dense", "relu", {16, 8}, {}, 0, "dense"},
        {"mlp", "dense", "tanh", {}, {}, 0, "dense"},
        {"none", "dense", "relu", {16}, {}, 0, "ensemble"},
        {"mlp", "dense", "gelu", {8, 8}, {}, 0, "ensemble"},
        {"cnn", "dense", "relu", {16}, {1, 8, 8}, 0, "ensemble"},
        {"transformer", "dense", "relu", {8}, {}, 30, "ensemble"},
    };
    test::TempDir dir;
    for (const auto& k : cases) {
        SCOPED_TRACE(k.kind + " " + k.backbone + " " + k.gate + " " + k.activation);
        ExperimentConfig c;
        c.model.kind = k.kind;
        c.model.backbone = k.backbone;
        c.model.gate = k.gate;
        c.model.activation = k.activation;
        c.model.hidden = k.hidden;
        c.model.experts = 3;
        c.model.topK = 2;
        c.model.backboneDim = 12;
        const int inputs = !k.imageShape.empty() ? 64 : k.vocabulary > 0 ? 10 : 7;
        const auto [checkpoint, recipe] = modelOf(c, k, inputs);
        const Predictor predictor(c, recipe, checkpoint);
        const std::string path = dir / (k.kind + k.backbone + k.gate + k.activation + ".pt");
        predictor.exportTorchScript(path);

        Dataset rows;
        rows.name = "rows";
        rows.rows = 100;
        rows.cols = inputs;
        torch::manual_seed(5);
        torch::Tensor x = k.vocabulary > 0
                              ? torch::randint(0, k.vocabulary, {100, inputs}).to(torch::kFloat)
                              : torch::randn({100, inputs});
        if (k.vocabulary > 0) { // a row of padding only, and one of three words then padding
            x[0].zero_();
            x[1].narrow(0, 3, inputs - 3).zero_();
        }
        rows.features.assign(x.data_ptr<float>(), x.data_ptr<float>() + x.numel());
        const Predictions expected = predictor.predict(rows);

        torch::jit::Module module = torch::jit::load(path);
        const auto out = module.forward({x}).toTuple();
        const torch::Tensor probs = torch::softmax(out->elements()[0].toTensor(), 1);
        const torch::Tensor gate = out->elements()[1].toTensor();
        const torch::Tensor experts = torch::softmax(out->elements()[2].toTensor(), 2);
        auto near = [](const torch::Tensor& got, const std::vector<float>& want) {
            const auto w = torch::from_blob(const_cast<float*>(want.data()),
                                            {static_cast<std::int64_t>(want.size())});
            return (got.contiguous().view(-1) - w).abs().max().item<float>();
        };
        EXPECT_LT(near(probs, expected.output), 1e-6f);
        EXPECT_LT(near(gate, expected.gate), 1e-6f);
        EXPECT_LT(near(experts, expected.expertOutput), 1e-6f);
        if (k.gate == "topk") {
            EXPECT_EQ((gate > 0).sum(1).eq(2).all().item<bool>(), true) << "two experts a row";
        }
    }
}

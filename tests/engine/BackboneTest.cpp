// SPDX-License-Identifier: GPL-3.0-or-later
// The shared feature extractors: shapes, the CNN learning a task only images solve by position,
// and a clear refusal of a CNN on tabular data.

#include "data/TextLoader.h"
#include "model/MoDEModel.h"
#include "train/Trainer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

using namespace mode;

namespace {
// 8x8 images, one bright 4x4 quadrant: the class is which quadrant (plus noise everywhere).
Dataset quadrants(int n) {
    Dataset d;
    d.name = "quadrants";
    d.rows = n;
    d.cols = 64;
    d.imageShape = {1, 8, 8};
    d.standardise.assign(64, false);
    d.classNames = {"top-left", "top-right", "bottom-left", "bottom-right"};
    std::uint64_t s = 12345;
    auto noise = [&] {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        return static_cast<float>((s >> 40) % 1000) / 4000.0f;
    };
    for (int i = 0; i < n; ++i) {
        const int q = i % 4;
        for (int y = 0; y < 8; ++y)
            for (int x = 0; x < 8; ++x) {
                const bool on = (y / 4) == q / 2 && (x / 4) == q % 2;
                d.features.push_back((on ? 0.6f : 0.0f) + noise());
            }
        d.labels.push_back(q);
    }
    return d;
}
} // namespace

TEST(Backbone, ShapesOfEachKind) {
    torch::manual_seed(0);
    ModelConfig c;
    c.experts = 3;
    c.backboneDim = 12;
    auto x = torch::rand({5, 64});
    for (const char* kind : {"none", "mlp", "cnn"}) {
        c.backbone = kind;
        MoDEModel m(c, 64, 4, std::vector<std::int64_t>{1, 8, 8});
        auto out = m->forward(x);
        EXPECT_EQ(out.mixture.sizes(), (std::vector<std::int64_t>{5, 4})) << kind;
        EXPECT_EQ(out.experts.sizes(), (std::vector<std::int64_t>{5, 3, 4})) << kind;
        EXPECT_EQ(m->backbone->outputs(), std::string(kind) == "none" ? 64 : 12) << kind;
    }
    // conv1 16x1x3x3 + 16, conv2 32x16x3x3 + 32, linear (32*2*2) x 12 + 12.
    c.backbone = "cnn";
    MoDEModel cnn(c, 64, 4, std::vector<std::int64_t>{1, 8, 8});
    std::int64_t backbone = 0;
    for (const auto& p : cnn->backbone->parameters())
        backbone += p.numel();
    EXPECT_EQ(backbone, 16 * 9 + 16 + 32 * 16 * 9 + 32 + 128 * 12 + 12);
}

TEST(Backbone, CnnLearnsWhereTheBrightQuadrantIs) {
    ExperimentConfig c;
    c.model.backbone = "cnn";
    c.model.backboneDim = 16;
    c.model.experts = 2;
    c.train.epochs = 8;
    c.train.device = "cpu";
    Trainer t(c, quadrants(800));
    auto r = t.run();
    ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
    EXPECT_GT(r.final->testAccuracy, 0.95);
    EXPECT_EQ(r.final->routingByClass.rowNames[3], "bottom-right");
}

TEST(Backbone, CnnOnTabularDataIsRefusedWithTheReason) {
    ExperimentConfig c;
    c.model.backbone = "cnn";
    Dataset d = quadrants(40);
    d.imageShape.clear(); // now it is a table of 64 columns
    try {
        Trainer t(c, d);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("cnn needs image data"), std::string::npos)
            << e.what();
    }
}

namespace {
// Reviews whose label is carried by one word among filler words.
std::string reviews(int n) {
    const char* filler[] = {"the",  "film",   "was", "a",     "story",
                            "with", "actors", "and", "music", "plot"};
    std::string text;
    for (int i = 0; i < n; ++i) {
        const bool pos = i % 2 == 0;
        text += pos ? "pos\t" : "neg\t";
        for (int w = 0; w < 6; ++w) {
            if (w == (i * 7) % 6) text += pos ? "wonderful " : "dreadful ";
            text += std::string(filler[(i * 3 + w * 5) % 10]) + " ";
        }
        text += "\n";
    }
    return text;
}
} // namespace

TEST(Backbone, TextBackbonesLearnWhichWordCarriesTheLabel) {
    for (const char* kind : {"auto", "transformer"}) {
        ExperimentConfig c;
        c.model.backbone = kind;
        c.model.backboneDim = 16;
        c.model.experts = 2;
        c.train.epochs = 15;
        c.train.lr = 0.01;
        c.train.device = "cpu";
        c.data.text.maxLength = 16;
        Trainer t(c, loadTsvText(reviews(600), "reviews.tsv"));
        struct Start : TrainingObserver {
            RunStart s;
            void onRunStart(const RunStart& x) override { s = x; }
        } start;
        t.addObserver(&start);
        auto r = t.run();
        ASSERT_EQ(r.status, RunStatus::Finished) << kind << ": " << r.message;
        EXPECT_GT(r.final->testAccuracy, 0.95) << kind;
        EXPECT_EQ(start.s.vocabulary[0], "<pad>") << "the vocabulary travels with the run";
        EXPECT_NE(std::find(start.s.vocabulary.begin(), start.s.vocabulary.end(), "wonderful"),
                  start.s.vocabulary.end());
    }
}

TEST(Backbone, ATextBackboneOnTabularDataIsRefused) {
    ExperimentConfig c;
    c.model.backbone = "embedding-bag";
    Dataset d = quadrants(40);
    d.imageShape.clear();
    try {
        Trainer t(c, d);
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("needs text data"), std::string::npos) << e.what();
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
#include "config/ExperimentConfig.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

using namespace mode;
using json = nlohmann::json;

namespace {
bool hasIssue(const std::vector<ConfigIssue>& issues, const std::string& field) {
    for (const auto& i : issues)
        if (i.field == field) return true;
    return false;
}
} // namespace

TEST(ExperimentConfig, DefaultIsValidAndTrainsRegimes) {
    ExperimentConfig c;
    EXPECT_TRUE(validate(c).empty()) << describe(validate(c));
    EXPECT_EQ(c.data.dataset, "regimes");
    EXPECT_EQ(c.loss.distill, "mse-mean");
}

TEST(ExperimentConfig, JsonRoundTripKeepsEveryKnob) {
    ExperimentConfig c;
    c.name = "sweep-a";
    c.model.experts = 7;
    c.model.gate = "topk";
    c.model.topK = 3;
    c.model.hidden = {16, 8};
    c.loss.alpha = 0.03;
    c.loss.distill = "kl";
    c.loss.temperature = 2.5;
    c.loss.detachTeacher = true;
    c.train.seed = 42;
    c.train.optimizer = "adamw";
    c.data.regimes.subtasks = 6;
    auto back = ExperimentConfig::fromJson(c.toJson());
    EXPECT_EQ(back.toJson(), c.toJson());
    EXPECT_EQ(back.model.hidden, (std::vector<int>{16, 8}));
    EXPECT_EQ(back.train.seed, 42u);
    EXPECT_DOUBLE_EQ(back.loss.temperature, 2.5);
}

TEST(ExperimentConfig, PartialJsonKeepsDefaultsForTheRest) {
    auto c = ExperimentConfig::fromJson(json::parse(R"({"loss": {"alpha": 0.5}})"));
    EXPECT_DOUBLE_EQ(c.loss.alpha, 0.5);
    EXPECT_EQ(c.model.experts, ExperimentConfig{}.model.experts);
}

TEST(ExperimentConfig, UnknownKeyIsAnErrorNamingIt) {
    try {
        ExperimentConfig::fromJson(json::parse(R"({"loss": {"alpah": 0.5}})"), "exp.json");
        FAIL() << "a misspelt key was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("exp.json: 'loss.alpah' is not a known setting"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ExperimentConfig, WrongTypeIsAnErrorNamingTheKey) {
    try {
        ExperimentConfig::fromJson(json::parse(R"({"model": {"experts": "four"}})"));
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("'model.experts' has the wrong type"),
                  std::string::npos)
            << e.what();
    }
}

TEST(ExperimentConfig, ImpossibleSettingsAreEachReported) {
    ExperimentConfig c;
    c.model.experts = 0;
    c.loss.alpha = -1;
    c.train.lr = 0;
    c.train.epochs = 0;
    auto issues = validate(c);
    EXPECT_TRUE(hasIssue(issues, "model.experts"));
    EXPECT_TRUE(hasIssue(issues, "loss.alpha"));
    EXPECT_TRUE(hasIssue(issues, "train.lr"));
    EXPECT_TRUE(hasIssue(issues, "train.epochs"));
}

TEST(ExperimentConfig, TopKMustBeBetweenOneAndExperts) {
    ExperimentConfig c;
    c.model.gate = "topk";
    c.model.experts = 4;
    c.model.topK = 5;
    EXPECT_TRUE(hasIssue(validate(c), "model.top_k"));
    c.model.topK = 0;
    EXPECT_TRUE(hasIssue(validate(c), "model.top_k"));
    c.model.topK = 4;
    EXPECT_FALSE(hasIssue(validate(c), "model.top_k"));
}

TEST(ExperimentConfig, ThreadCountIsBounded) {
    // --threads 100000 started hundreds of threads and trained nothing.
    ExperimentConfig c;
    c.train.threads = 100000;
    EXPECT_TRUE(hasIssue(validate(c), "train.threads"));
    c.train.threads = 1024;
    EXPECT_FALSE(hasIssue(validate(c), "train.threads"));
}

TEST(ExperimentConfig, KlIsRefusedForARegressionTask) {
    ExperimentConfig c;
    c.loss.distill = "kl";
    EXPECT_FALSE(hasIssue(validate(c), "loss.distill"));
    c.data.task = "regression";
    EXPECT_TRUE(hasIssue(validate(c), "loss.distill"));
    c.loss.distill = "mse-pairwise";
    EXPECT_FALSE(hasIssue(validate(c), "loss.distill"));
}

TEST(ExperimentConfig, AlphaZeroIsAllowed) {
    ExperimentConfig c;
    c.loss.alpha = 0;
    EXPECT_FALSE(hasIssue(validate(c), "loss.alpha"));
}

TEST(ExperimentConfig, MissingDataFileIsReported) {
    ExperimentConfig c;
    c.data.path = "/nonexistent/data.csv";
    auto issues = validate(c);
    ASSERT_TRUE(hasIssue(issues, "data.path"));
    EXPECT_FALSE(hasIssue(validate(c, /*checkFiles=*/false), "data.path"));
}

TEST(ExperimentConfig, FromFileResolvesDataRelativeToTheFileAndReportsJsonErrorsWithLine) {
    test::TempDir dir;
    auto path = dir.file("exp.json", R"({"data": {"path": "d.csv"}})");
    auto c = ExperimentConfig::fromFile(path);
    EXPECT_EQ(c.data.path, (dir.path() / "d.csv").string());

    auto bad = dir.file("bad.json", "{\n  \"model\": {\n    \"experts\": 4,,\n  }\n}\n");
    try {
        ExperimentConfig::fromFile(bad);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.json:3:"), std::string::npos) << e.what();
    }
}

// Found by fuzzing (tests/fuzz/corpus/config/regression-huge-int.json): a number too large for an
// integer field was converted with undefined behaviour; 2.5 became 2 and 4294967300 became 4
// without a word. Integer fields take whole numbers in range only, and say so.
TEST(Config, IntegerFieldsTakeWholeNumbersInRangeOnly) {
    auto error = [](const std::string& text) {
        try {
            ExperimentConfig::fromJson(nlohmann::json::parse(text), "exp.json");
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_CONTAINS(error(R"({"model": {"experts": 2.5}})"),
                    "exp.json: 'model.experts' must be a whole number (got 2.5)");
    EXPECT_CONTAINS(error(R"({"model": {"experts": 4294967300}})"),
                    "'model.experts' is out of range (got 4294967300)");
    EXPECT_CONTAINS(error(R"({"model": {"experts": 2.7777e92}})"),
                    "'model.experts' is out of range");
    EXPECT_CONTAINS(error(R"({"model": {"experts": "four"}})"),
                    "'model.experts' has the wrong type (string, expected a whole number)");
    EXPECT_CONTAINS(error(R"({"model": {"hidden": [64, 1e300]}})"),
                    "'model.hidden[1]' is out of range");
    EXPECT_CONTAINS(error(R"({"train": {"seed": -1}})"), "'train.seed' is out of range (got -1)");
    EXPECT_EQ(
        error(
            R"({"model": {"experts": 8.0, "hidden": [64, 32]}, "train": {"seed": 18446744073709551615}})"),
        "accepted");
    const auto c = ExperimentConfig::fromJson(nlohmann::json::parse(
        R"({"model": {"experts": 8.0}, "train": {"seed": 18446744073709551615}})"));
    EXPECT_EQ(c.model.experts, 8);
    EXPECT_EQ(c.train.seed, 18446744073709551615ULL);
}

TEST(ExperimentConfig, AKeyGivenTwiceOrAnOverflowingNumberIsRefusedNamingTheFile) {
    // {"train": {"epochs": 2, "epochs": 3000}} used to train 3000 epochs without a word.
    mode::test::TempDir dir;
    const std::string twice = dir.file("twice.json", R"({"train": {"epochs": 2, "epochs": 3000}})");
    try {
        ExperimentConfig::fromFile(twice);
        FAIL() << "a key given twice was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(twice + ": the key 'train.epochs' appears twice"),
                  std::string::npos)
            << e.what();
    }
    // The same key in two objects is fine.
    EXPECT_NO_THROW(ExperimentConfig::fromFile(
        dir.file("ok.json", R"({"train": {"seed": 1}, "data": {"regimes": {"seed": 2}}})")));
    // A number past a double's range was a raw library message without the file.
    const std::string huge = dir.file("huge.json", "{\n  \"loss\": {\"alpha\": 1e400}\n}");
    try {
        ExperimentConfig::fromFile(huge);
        FAIL() << "1e400 was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(huge + ": "), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("beyond the range of a double"), std::string::npos)
            << e.what();
    }
    // Syntax errors keep their line and column.
    try {
        ExperimentConfig::fromFile(dir.file("bad.json", "{\n  \"train\": {\"epochs\": }\n}"));
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("bad.json:2:"), std::string::npos) << e.what();
    }
}

TEST(ExperimentConfig, AnUnknownBuiltInBesideAPathIsNamed) {
    // data.dataset "nope" beside data.path was accepted (and ignored) without a word.
    ExperimentConfig c;
    c.data.path = "some.csv";
    c.data.dataset = "nope";
    EXPECT_TRUE(hasIssue(validate(c, false), "data.dataset"));
    c.data.dataset = "";
    EXPECT_FALSE(hasIssue(validate(c, false), "data.dataset"));
    c.data.dataset = "regimes"; // the default, ignored beside a path
    EXPECT_FALSE(hasIssue(validate(c, false), "data.dataset"));
}

TEST(ExperimentConfig, ASymbolicLinkLoopIsNamedAsSuch) {
    mode::test::TempDir dir;
    const std::string a = dir / "a.csv", b = dir / "b.csv";
    std::filesystem::create_symlink(b, a);
    std::filesystem::create_symlink(a, b);
    EXPECT_NE(dataPathProblem(a, false).find("is a loop of symbolic links"), std::string::npos)
        << dataPathProblem(a, false);
}

// model.kind: the mixture or one of its baselines. The baselines take no distillation: alpha > 0
// is refused on loss.alpha with what to do; their gate and loss settings do not apply.
TEST(ExperimentConfig, BaselinesRefuseDistillationAndIgnoreTheGate) {
    ExperimentConfig c;
    EXPECT_EQ(c.model.kind, "moe");
    for (const std::string kind : {"dense", "ensemble"}) {
        c.model.kind = kind;
        c.loss.alpha = 0.1;
        const auto issues = validate(c);
        ASSERT_TRUE(hasIssue(issues, "loss.alpha")) << kind;
        EXPECT_NE(describe(issues).find("set alpha to 0 (--alpha 0)"), std::string::npos)
            << describe(issues);
        c.loss.alpha = 0;
        c.model.gate = "topk";
        c.model.topK = 99; // the gate does not apply: k is not checked
        c.loss.distill = "nonsense";
        EXPECT_TRUE(validate(c).empty()) << kind << ": " << describe(validate(c));
        c.model.gate = "dense";
        c.model.topK = 2;
        c.loss.distill = "mse-mean";
    }
    c.model.kind = "moe";
    c.loss.alpha = 0.1;
    EXPECT_TRUE(validate(c).empty());
    c.model.kind = "forest";
    EXPECT_TRUE(hasIssue(validate(c), "model.kind"));
    EXPECT_EQ(ExperimentConfig::fromJson(json::parse(R"({"model": {"kind": "dense"}})")).model.kind,
              "dense");
}

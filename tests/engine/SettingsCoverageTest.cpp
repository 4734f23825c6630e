// SPDX-License-Identifier: GPL-3.0-or-later
// Every setting of the table (config/Settings.cpp) that changes the computation is exercised by
// a test with a value other than its default (issue 37: options off the default path had no
// test that would notice them ignored). Settings that apply to the built-in regimes data are
// walked here, each on a tiny run that must come out different from the same run at the
// base value; the others name the test that uses them; the rest say why they change nothing.
// A setting added to the table is walked here unless it is listed below, so it cannot go
// untested unnoticed.

#include "config/Settings.h"
#include "data/DatasetFactory.h"
#include "train/Trainer.h"

#include "SettingSamples.h"
#include "TestSupport.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

using namespace mode;
using json = nlohmann::json;

namespace {

// Settings that do not change what is computed, and why.
const std::map<std::string, std::string> kNotComputation = {
    {"name", "a label in the history"},
    {"train.threads", "how many cores compute it; the result is the same"},
    {"train.device", "where it is computed; Trainer.RunsOnCudaWhenAGpuIsPresent trains on a GPU "
                     "where one is present"},
};

// Settings that do not apply to the regimes data, or that choose the data itself: the test
// that uses a value other than the default.
const std::map<std::string, std::string> kTestedElsewhere = {
    {"data.dataset", "Settings.SwitchesNegateAndOneDataSourceReplacesTheFilesOwn"},
    {"data.path", "ModeTrainCli.SubtaskColumnOfOwnDataGivesGateRoutingAccuracy"},
    {"data.format", "ModeTrainCli.TextFileTrainsAndTheBuiltInDebianDescriptions"},
    {"data.idx_files", "IdxLoader.ExplicitFilesOrOneFileOfTheFolder"},
    {"data.target", "CsvLoader.TargetChosenByNameAnywhere"},
    {"data.task", "CsvLoader.RegressionTargetDetectedFromNonIntegerValues"},
    {"data.subtask_column", "CsvLoader.SubtaskColumnIsKeptApartFromTheFeatures"},
    {"data.impute", "CsvLoader.ImputationAndCategoryLevelsComeFromTheTrainingRowsOnly"},
    {"data.drop_columns", "CsvLoader.ThePreviewSaysWhatLoadingWouldRefuseAndWhy"},
    {"data.max_rows", "ModeTrainCli.FashionMnistWithACnnBackbone"},
    {"data.text.min_freq", "TextLoader.VocabularyComesFromTheTrainingRowsOnly"},
    {"data.text.max_vocab", "TextLoader.VocabularyLimitAndTruncation"},
    {"data.text.max_length", "TextLoader.VocabularyLimitAndTruncation"},
    {"model.backbone", "Backbone.CnnLearnsWhereTheBrightQuadrantIs"},
    {"model.backbone_dim", "Backbone.CnnLearnsWhereTheBrightQuadrantIs"},
};

bool walkedHere(const Setting& s) {
    return !kNotComputation.count(s.key) && !kTestedElsewhere.count(s.key);
}

// A small, quick run: the regimes data cut down, two epochs, one thread.
ExperimentConfig tinyBase() {
    ExperimentConfig c;
    c.data.regimes.samples = 300;
    c.train.epochs = 2;
    c.train.threads = 1;
    c.train.device = "cpu";
    c.train.weightDecay = 0.01; // else AdamW is Adam
    return c;
}

// What a run computed, as far as a changed setting could show.
struct Outcome {
    std::string status;
    std::int64_t steps = 0;
    std::vector<double> numbers;
    bool operator==(const Outcome& o) const {
        if (status != o.status || steps != o.steps || numbers.size() != o.numbers.size())
            return false;
        for (std::size_t i = 0; i < numbers.size(); ++i)
            if (!(numbers[i] == o.numbers[i])) return false; // NaN differs from everything
        return true;
    }
};

Outcome runOnce(const ExperimentConfig& c) {
    Trainer t(c, loadDataset(c.data));
    const RunResult r = t.run();
    Outcome o;
    o.status = std::to_string(static_cast<int>(r.status)) + r.message;
    o.steps = r.steps;
    if (r.final) {
        const auto& f = *r.final;
        o.numbers = {f.trainLoss, f.trainDistillLoss, f.valLoss,    f.valAccuracy,
                     f.testLoss,  f.testAccuracy,     f.gateEntropy};
    }
    return o;
}

// Valid values other than the base's: every other choice of a choice, else the sample of
// SettingSamples.h, moved on where the base already holds it.
std::vector<json> variantsOf(const Setting& s, const ExperimentConfig& base) {
    const json current = s.get(base);
    if (s.kind == SettingKind::Choice) {
        std::vector<json> out;
        for (const auto& c : s.choices)
            if (json(c.name) != current && c.name.find(":N") == std::string::npos)
                out.push_back(c.name);
        return out;
    }
    // A cap on the training rows must leave a split: 200 of the tiny run's 255 non-test rows.
    if (s.key == "data.max_train_rows") return {200};
    json v = mode::test::sampleValue(s);
    if (v == current && s.kind == SettingKind::Integer) v = v.get<long long>() + 1;
    if (v == current && s.kind == SettingKind::Real) v = v.get<double>() + 0.01;
    return {v};
}

std::set<std::string> listedTests() {
    std::set<std::string> names;
    for (const char* binary :
         {"mode_unit_tests", "mode_engine_tests", "mode_cli_tests", "mode_gui_tests"}) {
        const std::string path = mode::test::program(binary);
        if (!std::filesystem::exists(path)) continue;
        const auto r = mode::test::runCommand(path + " --gtest_list_tests");
        std::istringstream in(r.out);
        std::string line, suite;
        while (std::getline(in, line)) {
            if (line.empty()) continue;
            if (line[0] != ' ') {
                suite = line.substr(0, line.find('.'));
                continue;
            }
            const auto b = line.find_first_not_of(' ');
            names.insert(suite + "." + line.substr(b, line.find_first_of(" #", b) - b));
        }
    }
    return names;
}

} // namespace

TEST(SettingsCoverage, EverySettingIsWalkedNamedOrExplained) {
    std::set<std::string> keys;
    for (const auto& s : experimentSettings())
        keys.insert(s.key);
    for (const auto& [key, why] : kNotComputation)
        EXPECT_TRUE(keys.count(key)) << key << " is not a setting any more: remove it";
    const auto tests = listedTests();
    ASSERT_FALSE(tests.empty());
    for (const auto& [key, test] : kTestedElsewhere) {
        EXPECT_TRUE(keys.count(key)) << key << " is not a setting any more: remove it";
        EXPECT_TRUE(tests.count(test)) << key << ": no test named " << test;
    }
    // Walked here: a setting of the regimes data (all of them but the list above).
    for (const auto& s : experimentSettings())
        if (walkedHere(s))
            EXPECT_TRUE(s.applies & kRegimes)
                << s.key << " does not apply to the regimes data: name the test that uses it";
}

TEST(SettingsCoverage, EachComputationSettingChangesWhatATinyRunComputes) {
    std::map<std::string, Outcome> baseOutcome; // by the companion setting's value
    int walked = 0;
    for (const auto& s : experimentSettings()) {
        if (!walkedHere(s) || !(s.applies & kRegimes)) continue;
        SCOPED_TRACE(s.key);
        ExperimentConfig base = tinyBase();
        std::string companion;
        if (!s.onlyWhenKey.empty()) { // e.g. top_k only means something with the topk gate
            const Setting* other = findSetting(s.onlyWhenKey);
            ASSERT_NE(other, nullptr);
            other->set(base, json(s.onlyWhenValue), "test");
            companion = s.onlyWhenKey + "=" + s.onlyWhenValue;
        }
        // A baseline (model.kind dense or ensemble) takes no distillation: it is compared with
        // the mixture at alpha 0, so the difference is the model's, not alpha's.
        if (s.key == "model.kind") {
            base.loss.alpha = 0;
            companion = "loss.alpha=0";
        }
        if (!baseOutcome.count(companion)) baseOutcome[companion] = runOnce(base);
        for (const json& v : variantsOf(s, base)) {
            ExperimentConfig changed = base;
            s.set(changed, v, "test");
            ASSERT_NE(s.get(changed), s.get(base));
            Outcome o;
            try {
                o = runOnce(changed);
            } catch (const std::exception& e) {
                ADD_FAILURE() << s.key << " = " << v.dump() << " was refused: " << e.what();
                continue;
            }
            EXPECT_FALSE(o == baseOutcome[companion])
                << s.key << " = " << v.dump() << " computed the same as " << s.get(base).dump()
                << ": the setting is ignored";
        }
        ++walked;
    }
    EXPECT_GE(walked, 25) << "the regimes run's settings are walked";
}

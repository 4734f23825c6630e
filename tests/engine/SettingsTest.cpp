// SPDX-License-Identifier: GPL-3.0-or-later
// The settings table drives the experiment file, validation and mode-train's flags and help: the
// choices the engine accepts and those the help lists must be the same, and each declared range
// must be what validation enforces.

#include "SettingSamples.h"
#include "TestSupport.h"

#include "config/Choices.h"
#include "config/Settings.h"
#include "data/RegimesDataset.h"
#include "loss/MutualDistillationLoss.h"
#include "model/MoDEModel.h"
#include "train/Trainer.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

using namespace mode;
using mode::test::isDataSource;
using mode::test::runCommand;
using mode::test::sampleText;
using mode::test::sampleValue;

namespace {

// mode-train --help: the help text of each flag (CLI11 may wrap a flag's text onto its own line).
std::map<std::string, std::string> helpByFlag() {
    const auto r = runCommand(mode::test::programDir() + "/mode-train --help");
    EXPECT_EQ(r.exitCode, 0);
    std::map<std::string, std::string> out;
    std::istringstream in(r.out);
    std::string line, current;
    const std::regex option(R"(^\s+(-[-\w]+)(?:,[^ ]*)?\s*(.*)$)");
    for (std::string line; std::getline(in, line);) {
        std::smatch m;
        if (std::regex_match(line, m, option)) {
            current = m[1];
            out[current] = m[2];
        } else if (!current.empty() && !line.empty() && line[0] == ' ') {
            out[current] += " " + line;
        } else {
            current.clear();
        }
    }
    return out;
}

// The "(a | b | c)" list of a help text.
std::set<std::string> listedChoices(const std::string& help) {
    std::set<std::string> out;
    const std::regex list(R"(\(([A-Za-z0-9:-]+(?: \| [A-Za-z0-9:-]+)+)\))");
    std::smatch m;
    if (!std::regex_search(help, m, list)) return out;
    std::istringstream items(m[1].str());
    for (std::string item; std::getline(items, item, '|');) {
        item.erase(0, item.find_first_not_of(' '));
        item.erase(item.find_last_not_of(' ') + 1);
        out.insert(item);
    }
    return out;
}

// Builds what consumes `key` with `value`; throws where the engine refuses the value.
void buildWith(const std::string& key, const std::string& value) {
    ModelConfig m;
    if (key == "model.backbone") {
        m.backbone = value;
        const bool image = value == "cnn",
                   text = value == "embedding-bag" || value == "transformer";
        MoDEModel model(m, image ? 16 : 6, 3,
                        image ? std::vector<std::int64_t>{1, 4, 4} : std::vector<std::int64_t>{},
                        text ? 20 : 0);
    } else if (key == "model.gate" || key == "model.activation" || key == "model.kind") {
        (key == "model.gate" ? m.gate : key == "model.kind" ? m.kind : m.activation) = value;
        MoDEModel model(m, 6, 3);
    } else if (key == "loss.distill") {
        LossConfig l;
        l.distill = value;
        MutualDistillationLoss loss(l);
    } else if (key == "train.optimizer") {
        ExperimentConfig c;
        c.data.regimes.samples = 60;
        c.train.optimizer = value;
        Trainer t(c, makeRegimesDataset(c.data.regimes));
    } else if (key == "data.format") {
        (void)parseChoice<DataFormat>(value, key);
    } else if (key == "data.task") {
        (void)parseChoice<TaskKind>(value, key);
    } else if (key == "data.impute") {
        (void)parseChoice<ImputeKind>(value, key);
    } else {
        throw std::logic_error("no consumer known for " + key);
    }
}

} // namespace

TEST(Settings, EveryChoiceTheEngineAcceptsIsInTheHelpAndNoOther) {
    const auto help = helpByFlag();
    const std::set<std::string> engineChoices{"model.backbone", "model.gate", "model.activation",
                                              "loss.distill",   "model.kind", "train.optimizer",
                                              "data.format",    "data.task",  "data.impute"};
    int checked = 0;
    for (const auto& s : experimentSettings()) {
        if (!engineChoices.count(s.key)) continue;
        ASSERT_TRUE(help.count(s.flag)) << s.flag << " is missing from mode-train --help";
        const auto listed = listedChoices(help.at(s.flag));
        std::set<std::string> declared;
        for (const auto& c : s.choices)
            declared.insert(c.name);
        EXPECT_EQ(listed, declared)
            << s.flag << ": the help lists other choices than the table: " << help.at(s.flag);
        for (const auto& name : listed)
            EXPECT_NO_THROW(buildWith(s.key, name)) << s.key << " = " << name;
        EXPECT_ANY_THROW(buildWith(s.key, "no-such-choice"))
            << s.key; // refused, never a silent default
        ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(engineChoices.size()));
    // The spellings that drifted before the table: all listed now.
    EXPECT_EQ(listedChoices(help.at("--format")),
              (std::set<std::string>{"auto", "csv", "idx", "tsv"}));
    EXPECT_EQ(listedChoices(help.at("--device")),
              (std::set<std::string>{"auto", "cpu", "cuda", "cuda:N"}));
    EXPECT_TRUE(listedChoices(help.at("--backbone")).count("transformer"));
}

TEST(Settings, EverySettingWithAFlagIsInTheHelpWithItsDefault) {
    const auto help = helpByFlag();
    for (const auto& s : experimentSettings()) {
        if (s.flag.empty()) continue;
        ASSERT_TRUE(help.count(s.flag)) << s.flag;
        EXPECT_CONTAINS(help.at(s.flag), "[" + s.key + "]");
    }
    EXPECT_CONTAINS(help.at("--epochs"), "default 20");
    EXPECT_CONTAINS(help.at("--threads"), "between 0 and 1024 (0: one per core)");
}

TEST(Settings, EachDeclaredBoundIsWhatValidationEnforces) {
    int checked = 0;
    for (const auto& s : experimentSettings()) {
        if (!s.min || s.kind == SettingKind::IntegerList) continue;
        ExperimentConfig c;
        if (!s.onlyWhenKey.empty()) findSetting(s.onlyWhenKey)->set(c, s.onlyWhenValue, "test");
        auto hasIssue = [&] {
            for (const auto& i : validate(c, false))
                if (i.field == s.key) return true;
            return false;
        };
        if (*s.min > 0 ||
            s.kind == SettingKind::Real) { // below the bound (an unsigned member cannot hold -1)
            const double below =
                s.minOpen ? *s.min : *s.min - (s.kind == SettingKind::Integer ? 1 : 1e-3);
            s.set(c, below, "test");
            EXPECT_TRUE(hasIssue()) << s.key << " = " << below << " passed validation";
        }
        s.set(c, s.minOpen ? *s.min + 1e-3 : *s.min, "test");
        if (s.key == "data.test_fraction")
            c.data.valFraction = 0; // the two shares together are bounded too
        EXPECT_FALSE(hasIssue()) << s.key << " = its lower bound failed validation";
        if (s.max) {
            s.set(c, s.maxOpen ? *s.max : *s.max + 1, "test");
            EXPECT_TRUE(hasIssue()) << s.key << " above its upper bound passed validation";
        }
        ++checked;
    }
    EXPECT_GT(checked, 25);
}

TEST(Settings, TheExperimentFileHoldsEverySettingAndReadsBackTheSame) {
    ExperimentConfig c;
    c.name = "x";
    c.model.hidden = {7, 5};
    c.train.seed = 18446744073709551615ull;
    c.data.dropColumns = {"id"};
    const auto j = c.toJson();
    for (const auto& s : experimentSettings()) {
        std::string pointer = "/" + s.key;
        for (auto& ch : pointer)
            if (ch == '.') ch = '/';
        EXPECT_TRUE(j.contains(nlohmann::json::json_pointer(pointer))) << s.key;
    }
    EXPECT_EQ(ExperimentConfig::fromJson(j).toJson(), j);
}

// Every flag reaches its setting: one mode-train --print-config with each flag at a value other
// than its default, read back setting by setting.
TEST(Settings, EveryFlagSetsItsSetting) {
    std::string args;
    ExperimentConfig expected;
    for (const auto& s : experimentSettings()) {
        if (s.flag.empty() || isDataSource(s)) continue;
        // model.kind's sample is a baseline, which takes no distillation: alpha 0 (not the
        // default either).
        const auto v = s.key == "loss.alpha" ? nlohmann::json(0.0) : sampleValue(s);
        s.set(expected, v, "test");
        args += " " + s.flag;
        if (s.kind != SettingKind::Switch) args += " '" + sampleText(v) + "'";
    }
    const auto r = runCommand(mode::test::programDir() + "/mode-train --print-config" + args);
    ASSERT_EQ(r.exitCode, 0) << r.err << "\nargs:" << args;
    const auto got = ExperimentConfig::fromJson(nlohmann::json::parse(r.out), "printed");
    for (const auto& s : experimentSettings())
        if (!isDataSource(s)) EXPECT_EQ(s.get(got), s.get(expected)) << s.flag;
}

// A negated switch turns off what the file turned on; one data source replaces the file's, and
// two on the command line are refused.
TEST(Settings, SwitchesNegateAndOneDataSourceReplacesTheFilesOwn) {
    mode::test::TempDir dir;
    const std::string file = dir.file(
        "e.json",
        R"({"loss": {"detach_teacher": true}, "data": {"idx_files": ["a", "b", "c", "d"]}})");
    const std::string train = mode::test::programDir() + "/mode-train --config " + file;
    const auto r = runCommand(train + " --no-detach-teacher --dataset regimes --print-config");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_EQ(j["loss"]["detach_teacher"], false);
    EXPECT_EQ(j["data"]["idx_files"], nlohmann::json::array())
        << "--dataset replaces the file's IDX files";
    EXPECT_EQ(j["data"]["dataset"], "regimes");
    const auto two = runCommand(train + " --data x.csv --idx-files a,b,c,d --print-config");
    EXPECT_EQ(two.exitCode, 2);
    EXPECT_CONTAINS(two.err, "give one of --data, --dataset and --idx-files");
}

// Validation skips a setting that does not apply (onlyWhen), and the regimes data's settings
// when another dataset is used: a value there that would be refused passes.
TEST(Settings, SettingsThatDoNotApplyAreNotValidated) {
    auto fieldsOf = [](const ExperimentConfig& c) {
        std::set<std::string> out;
        for (const auto& i : validate(c, false))
            out.insert(i.field);
        return out;
    };
    ExperimentConfig c;
    c.train.momentum = 5; // adam: momentum is unused
    c.model.topK = 0;     // dense gate: k is unused
    EXPECT_TRUE(fieldsOf(c).empty());
    c.train.optimizer = "sgd";
    c.model.gate = "topk";
    EXPECT_EQ(fieldsOf(c), (std::set<std::string>{"train.momentum", "model.top_k"}));
    ExperimentConfig file;
    file.data.dataset.clear();
    file.data.path = "x.csv";
    file.data.regimes.samples = 1; // not the regimes data
    EXPECT_TRUE(fieldsOf(file).empty());
    file.data.path.clear();
    file.data.dataset = "regimes";
    EXPECT_EQ(fieldsOf(file), (std::set<std::string>{"data.regimes.samples"}));
}

TEST(Settings, ListsReadAsPeopleTypeThem) {
    const Setting* hidden = findSetting("model.hidden");
    EXPECT_EQ(settingValueFromText(*hidden, "64, 32", "--hidden"), nlohmann::json::array({64, 32}));
    try {
        settingValueFromText(*hidden, "64,x", "--hidden");
        FAIL() << "accepted";
    } catch (const ConfigError& e) {
        EXPECT_CONTAINS(e.what(), "--hidden: 'x' is not a whole number");
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
// mode-predict as a user runs it: a stored run's model on its own test split reproduces the
// accuracy and probing figures the run stored; a file with the columns in another order (and an
// extra one) gets identical predictions; every bad input exits 2 naming the column and line.

#include "CliTestSupport.h"
#include "store/RunStore.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace mode;
using namespace mode::test;
using json = nlohmann::json;

namespace {

const std::string kBin = mode::test::programDir();

// 400 rows: three numbers, a colour (text, one-hot) with a few missing cells, and a class that
// depends on them; the columns in the order asked for, with an optional extra column.
std::string table(const std::vector<std::string>& order, bool extra = false,
                  const std::string& colourOfFirst = "") {
    std::mt19937 rng(7);
    std::normal_distribution<double> n(0, 1);
    const char* colours[] = {"red", "green", "blue"};
    std::ostringstream out;
    for (std::size_t k = 0; k < order.size(); ++k)
        out << (k ? "," : "") << order[k];
    if (extra) out << ",comment";
    out << "\n";
    for (int i = 0; i < 400; ++i) {
        const double a = n(rng), b = n(rng), c = n(rng);
        std::string colour = colours[i % 3];
        if (i % 37 == 5) colour = "?";
        if (i == 0 && !colourOfFirst.empty()) colour = colourOfFirst;
        const std::string label = a + (i % 3 == 0 ? b : -b) > 0.3 ? "yes"
                                  : c > 0.5                       ? "maybe"
                                                                  : "no";
        std::map<std::string, std::string> cell{{"a", std::to_string(a)},
                                                {"b", std::to_string(b)},
                                                {"c", std::to_string(c)},
                                                {"colour", colour},
                                                {"label", label}};
        for (std::size_t k = 0; k < order.size(); ++k)
            out << (k ? "," : "") << cell[order[k]];
        if (extra) out << ",row " << i;
        out << "\n";
    }
    return out.str();
}

const std::vector<std::string> kOrder{"a", "b", "colour", "c", "label"};

struct TrainedRun {
    TempDir dir;
    std::string db = dir / "runs.sqlite";
    std::string csv = dir.file("train.csv", table(kOrder));
    std::int64_t id = 0;
    explicit TrainedRun(const std::string& more = "") {
        auto r = runCommand(kBin + "/mode-train --data " + csv +
                            " --impute mean --epochs 4 --experts 3 --threads 1 --device cpu --db " +
                            db + " --json " + more);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        id = json::parse(r.out)["run_id"].get<std::int64_t>();
    }
    ProcessResult predict(const std::string& args) const {
        return runCommand(kBin + "/mode-predict --run " + std::to_string(id) + " --db " + db + " " +
                          args);
    }
};

} // namespace

TEST(ModePredictCli, ItsOwnTestSplitReproducesTheStoredAccuracyAndProbing) {
    TrainedRun run;
    auto r = run.predict("--split test --format json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const json j = json::parse(r.out);
    RunStore store(run.db, RunStore::Mode::ReadOnly);
    const auto last = store.epochs(run.id).back();
    EXPECT_EQ(j["rows"].size(), static_cast<std::size_t>(store.run(run.id).start.testRows));
    EXPECT_EQ(j["score"]["accuracy"].get<double>(), last.testAccuracy) << "exactly";
    ASSERT_EQ(j["score"]["experts"].size(), last.experts.size());
    for (std::size_t e = 0; e < last.experts.size(); ++e) {
        EXPECT_EQ(j["score"]["experts"][e]["allocated"].get<std::int64_t>(),
                  last.experts[e].allocated);
        if (last.experts[e].probingAccuracy)
            EXPECT_EQ(j["score"]["experts"][e]["probing_accuracy"].get<double>(),
                      *last.experts[e].probingAccuracy);
    }
    // The rows' own predictions agree with the score: the share predicted right is the accuracy.
    int right = 0;
    for (const auto& row : j["rows"])
        right += row["prediction"] == row["target"];
    EXPECT_DOUBLE_EQ(right / static_cast<double>(j["rows"].size()), last.testAccuracy);
    EXPECT_NE(r.err.find("accuracy of the mixture"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("expert probing on these rows"), std::string::npos) << r.err;
}

// The models a run keeps: with --keep-models every, each epoch's model on the run's own test
// split gives exactly that epoch's stored test accuracy; an epoch not kept is refused naming
// those kept; by default the best validation epoch's model is kept beside the last.
TEST(ModePredictCli, EachKeptEpochsModelReproducesThatEpochsStoredAccuracy) {
    TrainedRun every("--keep-models every --lr 0.02");
    RunStore store(every.db, RunStore::Mode::ReadOnly);
    const auto epochs = store.epochs(every.id);
    ASSERT_EQ(epochs.size(), 4u);
    EXPECT_EQ(store.modelEpochs(every.id), (std::vector<int>{1, 2, 3, 4}));
    std::set<std::string> predictions;
    for (const auto& e : epochs) {
        SCOPED_TRACE("epoch " + std::to_string(e.epoch));
        auto r = every.predict("--split test --format json --epoch " + std::to_string(e.epoch));
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const json j = json::parse(r.out);
        EXPECT_EQ(j["epoch"].get<int>(), e.epoch);
        EXPECT_EQ(j["score"]["accuracy"].get<double>(), e.testAccuracy) << "exactly";
        EXPECT_EQ(j["score"]["loss"].get<double>(), e.testLoss);
        EXPECT_NE(r.err.find("the model of epoch " + std::to_string(e.epoch)), std::string::npos)
            << r.err;
        predictions.insert(j["rows"].dump());
    }
    EXPECT_EQ(predictions.size(), 4u) << "four different models";
    auto r = every.predict("--split test --epoch 9");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("keeps the models of epochs 1, 2, 3 and 4, not epoch 9"),
              std::string::npos)
        << r.err;
    r = runCommand(kBin + "/mode-runs --db " + every.db + " export-model " +
                   std::to_string(every.id) + " --epoch 2 --out " + (every.dir / "m2.pt"));
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("the model of epoch 2"), std::string::npos) << r.out;
    EXPECT_EQ(json::parse(readFile(every.dir / "m2.json"))["epoch"].get<int>(), 2);
    // A damaged kept model is refused, naming it; the others still predict.
    if (runCommand("sqlite3 " + every.db +
                   " \"UPDATE models SET state = substr(state, 1, 500) WHERE epoch = 2\"")
            .exitCode == 0) {
        r = every.predict("--split test --epoch 2");
        EXPECT_EQ(r.exitCode, 2);
        EXPECT_NE(r.err.find("the stored model of epoch 2 of run 1 fails its checksum"),
                  std::string::npos)
            << r.err;
        EXPECT_EQ(every.predict("--split test --epoch 3").exitCode, 0);
    }

    // The default: the last epoch's and the best validation epoch's (the first of equals).
    TrainedRun best("--lr 0.02");
    RunStore bestStore(best.db, RunStore::Mode::ReadOnly);
    const auto bestEpochs = bestStore.epochs(best.id);
    int top = 1;
    for (const auto& e : bestEpochs)
        if (e.valAccuracy > bestEpochs[static_cast<std::size_t>(top - 1)].valAccuracy)
            top = e.epoch;
    const std::set<int> kept{top, 4};
    EXPECT_EQ(bestStore.modelEpochs(best.id), std::vector<int>(kept.begin(), kept.end()));
    r = best.predict("--split test --format json --epoch " + std::to_string(top));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["score"]["accuracy"].get<double>(),
              bestEpochs[static_cast<std::size_t>(top - 1)].testAccuracy);
    r = runCommand(kBin + "/mode-runs --db " + best.db + " show " + std::to_string(best.id));
    EXPECT_NE(r.out.find("models       epoch"), std::string::npos) << r.out;

    TrainedRun last("--keep-models last");
    EXPECT_EQ(RunStore(last.db, RunStore::Mode::ReadOnly).modelEpochs(last.id),
              std::vector<int>{4});
    r = last.predict("--split test --epoch 2");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("keeps the model of epoch 4, not epoch 2"), std::string::npos) << r.err;
}

// A file of many chunks (9,000 rows: three of 4,096), predicted on one thread and on two (where
// the chunks run side by side): the same table to the last digit, with and without the target,
// and the accuracy it prints is the share of its own rows predicted right.
TEST(ModePredictCli, ManyChunksGiveTheSameTableOnOneThreadOrTwo) {
    TrainedRun run;
    std::ostringstream labelled, unlabelled;
    labelled << "a,b,colour,c,label\n";
    unlabelled << "a,b,colour,c\n";
    std::mt19937 rng(5);
    std::normal_distribution<double> n(0, 1);
    const char* colours[] = {"red", "green", "blue"};
    for (int i = 0; i < 9000; ++i) {
        const double a = n(rng), b = n(rng), c = n(rng);
        const std::string row = std::to_string(a) + "," + std::to_string(b) + "," + colours[i % 3] +
                                "," + std::to_string(c);
        labelled << row << "," << (a + b > 0.3 ? "yes" : c > 0.5 ? "maybe" : "no") << "\n";
        unlabelled << row << "\n";
    }
    const std::string withTarget = run.dir.file("big.csv", labelled.str());
    const std::string without = run.dir.file("new.csv", unlabelled.str());
    for (const std::string& file : {withTarget, without}) {
        const auto one = run.predict("--threads 1 --format json -q --data " + file);
        const auto two = run.predict("--threads 2 --format json -q --data " + file);
        ASSERT_EQ(one.exitCode, 0) << one.err;
        ASSERT_EQ(two.exitCode, 0) << two.err;
        EXPECT_EQ(one.out, two.out) << file;
        const json j = json::parse(one.out);
        ASSERT_EQ(j["rows"].size(), 9000u);
        if (file == withTarget) {
            int right = 0;
            for (const auto& row : j["rows"])
                right += row["prediction"] == row["target"];
            EXPECT_DOUBLE_EQ(j["score"]["accuracy"].get<double>(), right / 9000.0);
        }
    }
}

TEST(ModePredictCli, ColumnsInAnotherOrderGiveIdenticalPredictions) {
    TrainedRun run;
    const std::string same = run.dir.file("same.csv", table(kOrder));
    const std::string shuffled =
        run.dir.file("shuffled.csv", table({"label", "c", "colour", "b", "a"}, true));
    auto a = run.predict("--data " + same);
    auto b = run.predict("--data " + shuffled);
    ASSERT_EQ(a.exitCode, 0) << a.err;
    ASSERT_EQ(b.exitCode, 0) << b.err;
    EXPECT_EQ(a.out, b.out);
    EXPECT_NE(b.err.find("ignored): comment"), std::string::npos) << b.err;
    // One row per input, with the documented columns.
    std::istringstream lines(a.out);
    std::string headerLine;
    std::getline(lines, headerLine);
    EXPECT_EQ(headerLine, "row,prediction,target,p_maybe,p_no,p_yes,top_expert,gate_0,gate_1,"
                          "gate_2,expert_0_prediction,expert_1_prediction,expert_2_prediction");
    EXPECT_EQ(std::count(a.out.begin(), a.out.end(), '\n'), 401);
    // The same file without its target: the same predictions, no score.
    auto c =
        run.predict("--data " + run.dir.file("unlabelled.csv", table({"a", "b", "colour", "c"})));
    ASSERT_EQ(c.exitCode, 0) << c.err;
    EXPECT_EQ(c.err.find("accuracy"), std::string::npos);
    // Its lines are a.out's without the target column (the third).
    std::istringstream withTarget(a.out), without(c.out);
    std::string x, y;
    int count = 0;
    while (std::getline(withTarget, x) && std::getline(without, y)) {
        const auto second = x.find(',', x.find(',') + 1);
        EXPECT_EQ(x.substr(0, second) + x.substr(x.find(',', second + 1)), y);
        ++count;
    }
    EXPECT_EQ(count, 401);
}

TEST(ModePredictCli, AnUnseenCategoryIsCountedAndStated) {
    TrainedRun run;
    auto r = run.predict("--data " + run.dir.file("new.csv", table(kOrder, false, "purple")));
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.err.find("column 'colour': 1 cells with a category the run never saw"),
              std::string::npos)
        << r.err;
}

TEST(ModePredictCli, BadInputExitsTwoNamingColumnAndLine) {
    TrainedRun run;
    // A column the model reads is missing.
    auto r = run.predict("--data " + run.dir.file("nob.csv", table({"a", "colour", "c", "label"})));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("the column 'b' that the run was trained on is missing"),
              std::string::npos)
        << r.err;
    // Text in a numeric column, with its line.
    std::string text = table(kOrder);
    const auto third = text.find('\n', text.find('\n', text.find('\n') + 1) + 1) + 1; // line 4
    text.insert(third, "oops");
    r = run.predict("--data " + run.dir.file("oops.csv", text));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("oops.csv:4: column 'a': 'oops"), std::string::npos) << r.err;
    // A class the run does not know.
    r = run.predict("--data " +
                    run.dir.file("class.csv", "a,b,colour,c,label\n1,2,red,3,perhaps\n"));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("class.csv:2: the target 'label' has 'perhaps', a class the run does not"),
              std::string::npos)
        << r.err;
    // Another modality: text for a tabular run.
    r = run.predict("--data " + run.dir.file("text.tsv", "yes\tsome words here\n"));
    EXPECT_EQ(r.exitCode, 2) << r.err;
    // An epoch whose model is not kept (the test of kept models checks the message).
    r = run.predict("--split test --epoch 9");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("not epoch 9"), std::string::npos) << r.err;
    // Flags.
    EXPECT_EQ(runCommand(kBin + "/mode-predict --run 1").exitCode, 2) << "no rows named";
    EXPECT_EQ(run.predict("--split nope").exitCode, 2);
    r = runCommand(kBin + "/mode-predict --run 99 --split test --db " + run.db);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("no run with id 99"), std::string::npos) << r.err;
}

// The exported model in PyTorch: Debian's python3-torch (the same LibTorch) loads model.pt,
// prepares rows from model.json's preprocessing alone, and gets mode-predict's probabilities and
// gate weights to 1e-5 on 100 rows. Installs python3-torch where it is missing (as root).
TEST(ModePredictCli, TheExportedModelInPyTorchAgreesWithModePredict) {
    if (runCommand("/usr/bin/python3 -c 'import torch'").exitCode != 0 && geteuid() == 0)
        runCommand("DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "
                   "python3-torch");
    if (runCommand("/usr/bin/python3 -c 'import torch'").exitCode != 0)
        GTEST_SKIP() << "python3-torch is not installed and could not be installed here";
    TrainedRun run;
    const std::string pt = run.dir / "model.pt";
    auto r = runCommand(kBin + "/mode-runs --db " + run.db + " export-model " +
                        std::to_string(run.id) + " --out " + pt);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("model.json"), std::string::npos) << r.out;
    const std::string predictions = run.dir / "predictions.json";
    r = run.predict("--data " + run.csv + " --format json --quiet --out " + predictions);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string script = run.dir.file("load.py", R"py(
import csv, json, sys, torch
model = torch.jit.load(sys.argv[1])
prep = json.load(open(sys.argv[2]))["preprocessing"]
missing = ("", "?", "NA", "N/A", "NaN", "nan", "null")
onehot = {}
for g in prep["categoricals"]:
    for k, level in enumerate(g["levels"]):
        onehot[g["first"] + k] = (g["column"], level, k == g["fill"])
rows = []
for row in list(csv.DictReader(open(sys.argv[3])))[:100]:
    x = []
    for i, name in enumerate(prep["feature_names"]):
        if i in onehot:
            column, level, fill = onehot[i]
            v = row[column]
            x.append(1.0 if v == level or (v in missing and fill) else 0.0)
        else:
            v = row[name]
            value = (prep["fill"][i] if prep["fill"][i] is not None else prep["mean"][i]) if v in missing else float(v)
            x.append((value - prep["mean"][i]) / prep["scale"][i])
    rows.append(x)
mixture, gate, experts = model(torch.tensor(rows, dtype=torch.float32))
print(json.dumps({"p": torch.softmax(mixture, 1).tolist(), "gate": gate.tolist()}))
)py");
    r = runCommand("/usr/bin/python3 " + script + " " + pt + " " + (run.dir / "model.json") + " " +
                   run.csv);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const json py = json::parse(r.out);
    const json ours = json::parse(readFile(predictions));
    ASSERT_EQ(py["p"].size(), 100u);
    double worst = 0;
    const std::vector<std::string> classes{"maybe", "no", "yes"};
    for (std::size_t i = 0; i < 100; ++i) {
        const json& row = ours["rows"][i];
        for (std::size_t k = 0; k < classes.size(); ++k)
            worst = std::max(worst, std::abs(py["p"][i][k].get<double>() -
                                             std::stod(row["p_" + classes[k]].get<std::string>())));
        for (std::size_t e = 0; e < 3; ++e)
            worst = std::max(
                worst, std::abs(py["gate"][i][e].get<double>() -
                                std::stod(row["gate_" + std::to_string(e)].get<std::string>())));
    }
    EXPECT_LT(worst, 1e-5);
}

// The baselines as a user runs them: mode-train trains and stores a dense network and an
// ensemble (alpha 0), mode-predict reproduces the stored accuracy from the kept model, the
// absent routing stays absent (no top expert, nothing allocated, no probing), and the model
// exports.
TEST(ModePredictCli, DenseAndEnsembleBaselinesTrainStoreAndPredict) {
    for (const std::string kind : {"dense", "ensemble"}) {
        SCOPED_TRACE(kind);
        TrainedRun run("--model " + kind + " --alpha 0 --backbone mlp");
        RunStore store(run.db, RunStore::Mode::ReadOnly);
        EXPECT_EQ(store.run(run.id).config().model.kind, kind);
        const auto last = store.epochs(run.id).back();
        EXPECT_GT(last.testAccuracy, 0.5);
        auto r = run.predict("--split test --format json");
        ASSERT_EQ(r.exitCode, 0) << r.err;
        const json j = json::parse(r.out);
        EXPECT_EQ(j["score"]["accuracy"].get<double>(), last.testAccuracy) << "exactly";
        EXPECT_FALSE(j["rows"][0].contains("top_expert"));
        const std::size_t experts = kind == "dense" ? 1 : 3;
        EXPECT_TRUE(j["rows"][0].contains("gate_" + std::to_string(experts - 1)));
        EXPECT_FALSE(j["rows"][0].contains("gate_" + std::to_string(experts)));
        ASSERT_EQ(j["score"]["experts"].size(), experts);
        for (const auto& e : j["score"]["experts"]) {
            EXPECT_EQ(e["allocated"].get<std::int64_t>(), 0);
            EXPECT_TRUE(!e.contains("probing_accuracy") || e["probing_accuracy"].is_null()) << e;
        }
        r = runCommand(kBin + "/mode-runs --db " + run.db + " export-model " +
                       std::to_string(run.id) + " --out " + (run.dir / "m.pt"));
        EXPECT_EQ(r.exitCode, 0) << r.err;
        EXPECT_EQ(json::parse(readFile(run.dir / "m.json"))["model_kind"], kind);
        r = runCommand(kBin + "/mode-runs --db " + run.db + " show " + std::to_string(run.id));
        EXPECT_NE(r.out.find(kind == "dense" ? "dense baseline sized after 3 experts"
                                             : "ensemble baseline of 3 independent experts"),
                  std::string::npos)
            << r.out;
    }
}

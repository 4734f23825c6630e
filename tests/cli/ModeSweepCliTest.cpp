// SPDX-License-Identifier: GPL-3.0-or-later
// mode-sweep as a user and a batch scheduler run it: a grid into a store, resume, shards merged.

#include "TestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <thread>

using namespace mode::test;
using json = nlohmann::json;

namespace {
const std::string kBin = mode::test::programDir();
ProcessResult sweep(const std::string& args) {
    return runCommand(kBin + "/mode-sweep " + args);
}
json runsIn(const std::string& db) {
    return json::parse(runCommand(kBin + "/mode-runs list --json --db " + db).out);
}
const char* kSweep =
    R"({"name": "t", "base": {"train": {"epochs": 1, "threads": 1, "device": "cpu"},
                         "data": {"regimes": {"samples": 600}}},
                         "grid": {"loss.alpha": [0, 0.3], "train.seed": [1, 2, 3]}})";
} // namespace

TEST(ModeSweepCli, RunsTheGridAndResumesWithoutRedoingFinishedRuns) {
    TempDir dir;
    const std::string file = dir.file("s.json", kSweep), db = dir / "runs.sqlite";
    auto first = sweep(file + " --db " + db + " -j 2");
    ASSERT_EQ(first.exitCode, 0) << first.err;
    EXPECT_NE(first.err.find("[6/6]"), std::string::npos) << first.err;
    auto runs = runsIn(db);
    ASSERT_EQ(runs.size(), 6u);
    std::set<std::string> names;
    for (const auto& r : runs) {
        EXPECT_EQ(r["status"], "finished");
        names.insert(r["name"].get<std::string>());
    }
    EXPECT_EQ(names.size(), 6u);
    EXPECT_TRUE(names.count("t alpha=0.3 seed=2"));

    // One run deleted: the next call runs only that one.
    ASSERT_EQ(runCommand(kBin + "/mode-runs delete " + std::to_string(runs[0]["id"].get<int>()) +
                         " --db " + db)
                  .exitCode,
              0);
    auto again = sweep(file + " --db " + db);
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_NE(again.err.find("5 already finished"), std::string::npos) << again.err;
    EXPECT_NE(again.err.find("[1/1]"), std::string::npos) << again.err;
    EXPECT_EQ(runsIn(db).size(), 6u);
}

TEST(ModeSweepCli, ShardsIntoSeparateStoresMergeIntoTheWholeSweep) {
    TempDir dir;
    const std::string file = dir.file("s.json", kSweep);
    std::string merge = kBin + "/mode-runs merge";
    for (int i = 0; i < 3; ++i) {
        const std::string db = dir / ("shard" + std::to_string(i) + ".sqlite");
        auto r = sweep(file + " --db " + db + " --shard " + std::to_string(i) + "/3");
        ASSERT_EQ(r.exitCode, 0) << r.err;
        EXPECT_EQ(runsIn(db).size(), 2u) << "6 points over 3 shards";
        merge += " " + db;
    }
    const std::string all = dir / "all.sqlite";
    ASSERT_EQ(runCommand(merge + " --db " + all).exitCode, 0);
    EXPECT_EQ(runsIn(all).size(), 6u);
    auto dry = sweep(file + " --db " + all + " --dry-run");
    EXPECT_NE(dry.err.find("6 already finished"), std::string::npos) << dry.err;
    EXPECT_TRUE(dry.out.empty()) << "nothing left to run";
}

TEST(ModeSweepCli, BadSweepsAndFailingRunsSetTheExitCode) {
    TempDir dir;
    auto bad = sweep(dir.file("bad.json", R"({"grid": {"model.experts": [0]}})") + " --db " +
                     (dir / "r.sqlite"));
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("model.experts"), std::string::npos) << bad.err;
    EXPECT_EQ(sweep(dir.file("s.json", kSweep) + " --shard 3/3").exitCode, 2);
    // A point whose run diverges: SGD with a huge step.
    auto diverging = sweep(
        dir.file("d.json",
                 R"({"base": {"train": {"epochs": 3, "optimizer": "sgd", "lr": 50, "threads": 1},
                                                           "loss": {"alpha": 50}},
                                                  "grid": {"train.seed": [1]}})") +
        " --db " + (dir / "d.sqlite"));
    EXPECT_EQ(diverging.exitCode, 1) << diverging.err;
    EXPECT_NE(diverging.err.find("FAILED"), std::string::npos) << diverging.err;
}

TEST(ModeRunsCli, ComparePairsEachAlphaWithAlphaZeroBySeed) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(sweep(dir.file("s.json", kSweep) + " --db " + db + " -j 2").exitCode, 0);
    // A run of another configuration (another dataset size and expert count) in the same store:
    // never pooled.
    ASSERT_EQ(runCommand(kBin +
                         "/mode-train -q --epochs 1 --threads 1 --device cpu --experts 2 --db " +
                         db + " --alpha 0 --seed 1")
                  .exitCode,
              0);
    auto r = runCommand(kBin + "/mode-runs compare --json --scoring last --db " + db);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto result = json::parse(r.out);
    // By hand from the stored (last-epoch) accuracies: alpha 0.3 minus alpha 0, seed by seed.
    std::map<std::pair<double, int>, double> acc;
    for (const auto& run : runsIn(db))
        if (run["experts"].get<int>() != 2)
            acc[{run["alpha"].get<double>(), run["seed"].get<int>()}] =
                run["test_accuracy"].get<double>();
    double sum = 0;
    for (int seed = 1; seed <= 3; ++seed)
        sum += acc.at({0.3, seed}) - acc.at({0.0, seed});
    const json* study = nullptr;
    for (const auto& s : result)
        if (s["alphas"].size() == 2) study = &s;
    ASSERT_NE(study, nullptr) << result.dump(2);
    EXPECT_EQ(result.size(), 2u) << "two configurations, two tables";
    const auto& a = (*study)["alphas"][1];
    EXPECT_EQ(a["alpha"].get<double>(), 0.3);
    EXPECT_EQ(a["vs_alpha_0"]["pairs"].get<int>(), 3);
    EXPECT_NEAR(a["vs_alpha_0"]["mean_difference"].get<double>(), sum / 3, 1e-12);
    EXPECT_TRUE(a["vs_alpha_0"].contains("p_holm"));
    EXPECT_TRUE(a["vs_alpha_0"].contains("p_improve"));
    EXPECT_EQ((*study)["scoring"], "last epoch");
    EXPECT_EQ((*study)["older_repeats_set_aside"], 0);
    auto text = runCommand(kBin + "/mode-runs compare --db " + db);
    EXPECT_NE(text.out.find("at the best validation epoch: each alpha against alpha = 0, paired "
                            "by seed"),
              std::string::npos)
        << text.out;
    auto bad = runCommand(kBin + "/mode-runs compare --metric accuracy --db " + db);
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("unknown metric 'accuracy'"), std::string::npos) << bad.err;
}

TEST(ModeReportCli, ReportOfASmallRealStoreWithFiguresAndVerdicts) {
    if (!std::filesystem::exists(kBin + "/mode-report"))
        GTEST_SKIP() << "mode-report is built with the GUI libraries";
    TempDir dir;
    const std::string db = dir / "runs.sqlite", out = dir / "report";
    auto s = sweep(dir.file("s.json", kSweep) + " --db " + db + " -j 2");
    ASSERT_EQ(s.exitCode, 0) << s.err;
    auto best = runCommand(kBin + "/mode-report --db " + db + " --out " + out);
    ASSERT_EQ(best.exitCode, 0) << best.err;
    const std::string byBest = readFile(out + "/REPORT.md");
    EXPECT_NE(byBest.find("scored at the best validation epoch"), std::string::npos) << byBest;
    EXPECT_NE(byBest.find("| At the last epoch |"), std::string::npos) << "the other beside";
    auto plan = runCommand(kBin + "/mode-report --db " + db + " --plan");
    ASSERT_EQ(plan.exitCode, 0) << plan.err;
    EXPECT_NE(plan.out.find("Seeds needed to detect a test-accuracy gain of 0.010 at 0.05/1"),
              std::string::npos)
        << plan.out;
    // Scored at the last epoch, the table's means are the store's runs' own (their last epochs).
    auto r = runCommand(kBin + "/mode-report --db " + db + " --out " + out + " --scoring last");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string md = readFile(out + "/REPORT.md");
    EXPECT_NE(md.find("| 0 (MoE) | 3 |"), std::string::npos) << md;
    EXPECT_NE(md.find("Holm over 1 alphas"), std::string::npos) << md;
    EXPECT_NE(md.find("1. A moderate alpha (chosen on validation) beats alpha = 0"),
              std::string::npos);
    EXPECT_NE(md.find("Chosen on validation: alpha 0.3"), std::string::npos)
        << "one alpha > 0 to choose";
    EXPECT_NE(md.find("4. Gate routing accuracy"), std::string::npos);
    // The table's means are the store's: recompute the alpha = 0 mean from mode-runs.
    double sum = 0;
    int n = 0;
    for (const auto& run : runsIn(db))
        if (run["alpha"].get<double>() == 0) sum += run["test_accuracy"].get<double>(), ++n;
    ASSERT_EQ(n, 3);
    char expected[32];
    std::snprintf(expected, sizeof expected, "| 0 (MoE) | 3 | %.4f", sum / 3);
    EXPECT_NE(md.find(expected), std::string::npos) << expected << "\n" << md;
    for (const char* fig : {"regimes-test_accuracy.png", "regimes-test_accuracy_difference.png",
                            "regimes-expert_similarity.png", "regimes-gate_routing_accuracy.png"}) {
        const std::string png = readFile(out + "/figures/" + fig);
        ASSERT_GT(png.size(), 1000u) << fig;
        EXPECT_EQ(png.substr(1, 3), "PNG") << fig;
    }
    auto empty = runCommand(kBin + "/mode-report --db " + (dir / "none.sqlite") + " --out " + out);
    EXPECT_EQ(empty.exitCode, 2);
}

// The runs.csv a report writes beside it rebuilds the same REPORT.md, byte for byte, without the
// store (given the same title and preamble).
TEST(ModeReportCli, TheRunsCsvRebuildsTheSameReport) {
    if (!std::filesystem::exists(kBin + "/mode-report"))
        GTEST_SKIP() << "mode-report is built with the GUI libraries";
    TempDir dir;
    const std::string db = dir / "runs.sqlite", first = dir / "first", again = dir / "again";
    ASSERT_EQ(sweep(dir.file("s.json", kSweep) + " --db " + db + " -j 2").exitCode, 0);
    const std::string common =
        " --title 'T' --preamble " + dir.file("pre.md", "Made on a test machine.\n");
    auto r = runCommand(kBin + "/mode-report --db " + db + " --out " + first + common);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const std::string csv = readFile(first + "/runs.csv");
    EXPECT_EQ(csv.rfind("run_id,dataset,config_signature,mode_version,alpha,seed,", 0), 0u) << csv;
    std::filesystem::remove(db); // the CSV alone
    auto rebuilt =
        runCommand(kBin + "/mode-report --runs-csv " + first + "/runs.csv --out " + again + common);
    ASSERT_EQ(rebuilt.exitCode, 0) << rebuilt.err;
    const std::string report = readFile(first + "/REPORT.md");
    EXPECT_GT(report.size(), 1000u);
    EXPECT_EQ(readFile(again + "/REPORT.md"), report);
    EXPECT_EQ(readFile(again + "/runs.csv"), csv);
    auto both = runCommand(kBin + "/mode-report --db " + db + " --runs-csv " + first +
                           "/runs.csv --out " + again);
    EXPECT_EQ(both.exitCode, 2) << "a store or a CSV, not both";
}

namespace {
const char* kLongSweep =
    R"({"name": "long", "base": {"train": {"epochs": 400, "threads": 1, "device": "cpu"},
                              "data": {"regimes": {"samples": 600}}},
                              "grid": {"loss.alpha": [0, 0.3]}})";

// Starts mode-sweep in the background; returns its pid ("" if it did not start). Its exit code
// goes to DIR/rc.
std::string startSweep(TempDir& dir, const std::string& db) {
    const std::string file = dir.file("long.json", kLongSweep);
    const std::string command = kBin + "/mode-sweep " + file + " -j 2 --db " + db;
    runCommand("(" + command + " > " + (dir / "out") + " 2> " + (dir / "err") + "; echo $? > " +
               (dir / "rc") + ") >/dev/null 2>&1 &");
    std::string pid;
    for (int i = 0; i < 100 && pid.empty(); ++i) {
        pid = runCommand("pgrep -f '^" + command + "' | head -1").out;
        if (pid.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!pid.empty()) pid.pop_back();
    return pid;
}

bool waitFor(const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done();
}

// Both runs of the long sweep have stored at least `epochs` epochs.
bool bothRunsStored(const std::string& db, int epochs) {
    auto r = runCommand(kBin + "/mode-runs list --json --db " + db);
    auto list = json::parse(r.out, nullptr, false);
    if (!list.is_array() || list.size() < 2) return false;
    for (const auto& run : list)
        if (run["epochs_completed"].get<int>() < epochs) return false;
    return true;
}
} // namespace

TEST(ModeSweepCli, ASignalToTheSweepStopsItsRunsWhichTheNextInvocationResumes) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    const std::string pid = startSweep(dir, db);
    ASSERT_FALSE(pid.empty()) << readFile(dir / "err");
    ASSERT_TRUE(waitFor([&] { return bothRunsStored(db, 2); }, std::chrono::seconds(60)));
    const auto signalled = std::chrono::steady_clock::now();
    ASSERT_EQ(runCommand("kill -TERM " + pid).exitCode, 0);
    ASSERT_TRUE(
        waitFor([&] { return std::filesystem::exists(dir / "rc"); }, std::chrono::seconds(30)))
        << "the sweep waited for its runs instead of stopping them";
    EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(15));
    EXPECT_EQ(readFile(dir / "rc"), "130\n") << readFile(dir / "err");
    bool workFolderLeft = false; // mode-sweep-<host>-<pid>
    for (const auto& e :
         std::filesystem::directory_iterator(std::filesystem::temp_directory_path())) {
        const std::string name = e.path().filename().string();
        workFolderLeft |=
            name.rfind("mode-sweep-", 0) == 0 && name.size() > pid.size() &&
            name.compare(name.size() - pid.size() - 1, std::string::npos, "-" + pid) == 0;
    }
    EXPECT_FALSE(workFolderLeft) << "the work folder is removed";
    auto list = runsIn(db);
    ASSERT_EQ(list.size(), 2u);
    for (const auto& run : list)
        EXPECT_EQ(run["status"], "stopped");
    // The next invocation continues both runs from their checkpoints: no duplicate rows.
    auto again = sweep(dir / "long.json" + " -j 2 --db " + db);
    ASSERT_EQ(again.exitCode, 0) << again.err;
    EXPECT_CONTAINS(again.err, "2 of them resumed from their checkpoints");
    list = runsIn(db);
    ASSERT_EQ(list.size(), 2u) << "resumed in place, not run again";
    for (const auto& run : list) {
        EXPECT_EQ(run["status"], "finished");
        EXPECT_EQ(run["epochs_completed"], 400);
    }
    EXPECT_EQ(runCommand(kBin + "/mode-runs check --db " + db).exitCode, 0);
}

TEST(ModeSweepCli, RunsStopWhenTheSweepIsKilled) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    const std::string pid = startSweep(dir, db);
    ASSERT_FALSE(pid.empty()) << readFile(dir / "err");
    ASSERT_TRUE(waitFor([&] { return bothRunsStored(db, 2); }, std::chrono::seconds(60)));
    ASSERT_EQ(runCommand("kill -KILL " + pid).exitCode, 0);
    // Orphans no more: each run is told to stop (SIGINT) when its parent dies, and is stored so.
    EXPECT_TRUE(waitFor(
        [&] {
            auto list = runsIn(db);
            return list.size() == 2 && list[0]["status"] == "stopped" &&
                   list[1]["status"] == "stopped";
        },
        std::chrono::seconds(30)))
        << runCommand(kBin + "/mode-runs list --db " + db).out;
    EXPECT_EQ(
        runCommand("pgrep -f '[m]ode-train --config /tmp/mode-sweep-[^ ]*-" + pid + "/'").exitCode,
        1)
        << "no run left behind";
}

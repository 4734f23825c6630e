// mode-sweep as a user and a batch scheduler run it: a grid into a store, resume, shards merged.

#include "TestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

using namespace mode::test;
using json = nlohmann::json;

namespace {
const std::string kBin = std::string(MODE_BIN_DIR);
ProcessResult sweep(const std::string& args) { return runCommand(kBin + "/mode-sweep " + args); }
json runsIn(const std::string& db) { return json::parse(runCommand(kBin + "/mode-runs list --json --db " + db).out); }
const char* kSweep = R"({"name": "t", "base": {"train": {"epochs": 1, "threads": 1, "device": "cpu"},
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
    ASSERT_EQ(runCommand(kBin + "/mode-runs delete " + std::to_string(runs[0]["id"].get<int>()) + " --db " + db).exitCode, 0);
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
    auto bad = sweep(dir.file("bad.json", R"({"grid": {"model.experts": [0]}})") + " --db " + (dir / "r.sqlite"));
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("model.experts"), std::string::npos) << bad.err;
    EXPECT_EQ(sweep(dir.file("s.json", kSweep) + " --shard 3/3").exitCode, 2);
    // A point whose run diverges: SGD with a huge step.
    auto diverging = sweep(dir.file("d.json", R"({"base": {"train": {"epochs": 3, "optimizer": "sgd", "lr": 50, "threads": 1},
                                                           "loss": {"alpha": 50}},
                                                  "grid": {"train.seed": [1]}})") + " --db " + (dir / "d.sqlite"));
    EXPECT_EQ(diverging.exitCode, 1) << diverging.err;
    EXPECT_NE(diverging.err.find("FAILED"), std::string::npos) << diverging.err;
}

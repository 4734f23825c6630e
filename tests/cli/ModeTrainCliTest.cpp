// SPDX-License-Identifier: GPL-3.0-or-later
// mode-train as a user or a script runs it: exit codes, messages on stderr, JSON on stdout.

#include "CliTestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <thread>
#include <unistd.h>

using namespace mode::test;
using json = nlohmann::json;

namespace {
const std::string kTrain = mode::test::programDir() + "/mode-train";
ProcessResult train(const std::string& args) {
    return runCommand(kTrain + " " + args);
}
const char* kQuick = "--epochs 2 --threads 1 --device cpu";
} // namespace

TEST(ModeTrainCli, JsonOutputHasTheDocumentedKeys) {
    auto r = train(std::string(kQuick) + " --experts 3 --alpha 0.1 --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_TRUE(j.contains("run_id"));
    EXPECT_EQ(j["status"], "finished");
    ASSERT_TRUE(j["test_accuracy"].is_number());
    EXPECT_GT(j["test_accuracy"].get<double>(), 0.0);
    EXPECT_LE(j["test_accuracy"].get<double>(), 1.0);
    ASSERT_EQ(j["experts"].size(), 3u);
    std::int64_t allocated = 0;
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(j["experts"][i]["expert"], i);
        allocated += j["experts"][i]["allocated"].get<std::int64_t>();
        EXPECT_TRUE(j["experts"][i].contains("probing_accuracy"));
    }
    EXPECT_EQ(allocated, 600) << "every test row (15% of 4000) is allocated to one expert";
    ASSERT_TRUE(j["gate_routing_accuracy"].is_number()) << "regimes has known sub-tasks";
    EXPECT_EQ(j["config"]["model"]["experts"], 3);
    EXPECT_DOUBLE_EQ(j["config"]["loss"]["alpha"].get<double>(), 0.1);
}

TEST(ModeTrainCli, GateRoutingAccuracyIsNullWithoutKnownSubtasks) {
    TempDir dir;
    std::string csv = "a,b,y\n";
    for (int i = 0; i < 60; ++i)
        csv +=
            std::to_string(i % 7) + "," + std::to_string(i % 5) + "," + (i % 2 ? "p" : "q") + "\n";
    auto path = dir.file("small.csv", csv);
    auto r = train(std::string(kQuick) + " --data " + path + " --target y --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_TRUE(j["gate_routing_accuracy"].is_null());
    EXPECT_EQ(j["dataset"], "small.csv");
}

TEST(ModeTrainCli, HumanSummaryShowsAccuracyProbingAndRouting) {
    auto r = train(std::string(kQuick) + " --experts 2");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("test accuracy of the mixture"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("gate routing accuracy"), std::string::npos);
    EXPECT_NE(r.out.find("probing acc"), std::string::npos);
    EXPECT_NE(r.err.find("epoch   2/2"), std::string::npos)
        << "per-epoch lines when stderr is not a terminal";
}

TEST(ModeTrainCli, ImpossibleSettingExitsTwoNamingTheField) {
    auto r = train("--experts 0");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("model.experts"), std::string::npos) << r.err;
    r = train("--experts 4 --top-k 5");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("model.top_k"), std::string::npos) << r.err;
    r = train("--alpha -0.5");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("loss.alpha"), std::string::npos) << r.err;
    EXPECT_TRUE(r.out.empty());
}

TEST(ModeTrainCli, MissingOrMalformedDataExitsTwoWithFileAndLine) {
    auto r = train("--data /nonexistent/file.csv");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("/nonexistent/file.csv"), std::string::npos) << r.err;
    TempDir dir;
    auto path = dir.file("bad.csv", "a,b,y\n1,2,p\n3,q\n");
    r = train("--data " + path);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("bad.csv:3: ragged row"), std::string::npos) << r.err;
}

TEST(ModeTrainCli, UnknownFlagExitsTwo) {
    auto r = train("--alhpa 0.1");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_FALSE(r.err.empty());
}

TEST(ModeTrainCli, ConfigFileWithFlagOverrides) {
    TempDir dir;
    auto cfg = dir.file(
        "exp.json", R"({"model": {"experts": 5}, "loss": {"alpha": 0.7}, "train": {"epochs": 1}})");
    auto r = train("--config " + cfg + " --alpha 0.2 --print-config");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_EQ(j["model"]["experts"], 5);
    EXPECT_DOUBLE_EQ(j["loss"]["alpha"].get<double>(), 0.2);
    auto bad = dir.file("bad.json", R"({"loss": {"alpah": 0.7}})");
    r = train("--config " + bad);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("'loss.alpah' is not a known setting"), std::string::npos) << r.err;
}

TEST(ModeTrainCli, HelpAndVersion) {
    auto r = train("--help");
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("--alpha"), std::string::npos);
    EXPECT_NE(r.out.find("Examples"), std::string::npos);
    r = train("--version");
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("mode-train " MODE_VERSION), std::string::npos) << r.out;
}

// The OpenBLAS kernels: never the SSE3 fallback on a CPU with AVX-512 (or AVX2 and FMA), which
// OpenBLAS 0.3.21 picks for CPUs it does not know; a user's OPENBLAS_CORETYPE is kept.
TEST(ModeTrainCli, TheBlasKernelsFitTheCpuAndAUsersChoiceIsKept) {
    const auto r = runCommand("env -u OPENBLAS_CORETYPE " + kTrain + " --version");
    ASSERT_EQ(r.exitCode, 0);
    const auto at = r.out.find("OpenBLAS kernels ");
    ASSERT_NE(at, std::string::npos) << r.out;
    const std::string kernels = r.out.substr(at + 17, r.out.find(')', at) - at - 17);
    if (__builtin_cpu_supports("avx512f") ||
        (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
        EXPECT_NE(kernels, "Prescott");
    const auto chosen = runCommand("OPENBLAS_CORETYPE=Haswell " + kTrain + " --version");
    EXPECT_NE(chosen.out.find("OpenBLAS kernels Haswell"), std::string::npos) << chosen.out;
}

TEST(ModeTrainCli, SubtaskColumnOfOwnDataGivesGateRoutingAccuracy) {
    TempDir dir;
    // Two groups with opposite labelling rules: the group column is kept out of the features.
    std::string csv = "x1,x2,group,y\n";
    for (int i = 0; i < 200; ++i) {
        int g = i % 2;
        double x = (i % 10) - 4.5;
        bool positive = g == 0 ? x > 0 : x < 0;
        csv += std::to_string(x) + "," + std::to_string(g * 5.0) + "," + (g ? "B" : "A") + "," +
               (positive ? "yes" : "no") + "\n";
    }
    auto path = dir.file("groups.csv", csv);
    auto r = train(std::string(kQuick) + " --experts 2 --data " + path +
                   " --target y --subtask-column group --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = json::parse(r.out);
    ASSERT_TRUE(j["gate_routing_accuracy"].is_number()) << r.out;
    EXPECT_EQ(j["config"]["data"]["subtask_column"], "group");
}

TEST(ModeTrainCli, ShippedExperimentFileIsValid) {
    auto r = train(std::string("--config ") + MODE_SOURCE_DIR +
                   "/experiments/regimes.json --print-config");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_EQ(json::parse(r.out)["data"]["dataset"], "regimes");
}

TEST(ModeTrainCli, FashionMnistWithACnnBackbone) {
    if (!std::filesystem::is_directory("/usr/share/datasets/fashion-mnist"))
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    auto r = train("--epochs 1 --threads 1 --device cpu --no-store --dataset fashion-mnist "
                   "--max-rows 3000 --backbone cnn --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_GT(j["test_accuracy"].get<double>(), 0.5) << "ten classes: chance is 0.1";
    EXPECT_EQ(j["final"]["routing_by_class"]["rows"][9], "Ankle boot");
    EXPECT_EQ(j["config"]["model"]["backbone"], "cnn");
}

TEST(ModeTrainCli, ACnnOnTabularDataExitsTwoSayingWhy) {
    auto r = train(std::string(kQuick) + " --no-store --backbone cnn");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("cnn needs image data"), std::string::npos) << r.err;
}

TEST(ModeTrainCli, KlOnARegressionTargetExitsTwoNamingTheSetting) {
    // A softmax over one output is always 1: kl would silently train a plain MoE.
    TempDir dir;
    std::string csv = "x1,x2,y\n";
    for (int i = 0; i < 60; ++i)
        csv += std::to_string(i % 7) + "," + std::to_string(i % 5) + "," +
               std::to_string(i * 0.37) + "\n";
    const std::string file = dir.file("reg.csv", csv);
    auto r = train(std::string(kQuick) + " --no-store --data " + file + " --distill kl");
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("loss.distill"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("regression"), std::string::npos) << r.err;
    EXPECT_EQ(train(std::string(kQuick) + " --no-store --data " + file + " --distill mse-pairwise")
                  .exitCode,
              0);
    // Said before any data is read where the task is set explicitly.
    const std::string config =
        dir.file("reg.json", R"({"data": {"task": "regression"}, "loss": {"distill": "kl"}})");
    auto early = train(std::string(kQuick) + " --no-store --data " + file + " --config " + config);
    EXPECT_EQ(early.exitCode, 2);
    EXPECT_NE(early.err.find("loss.distill"), std::string::npos) << early.err;
}

TEST(ModeTrainCli, TextFileTrainsAndTheBuiltInDebianDescriptions) {
    TempDir dir;
    std::string text;
    for (int i = 0; i < 300; ++i)
        text += (i % 3 == 0   ? "sport\tthe match ended with a late goal "
                 : i % 3 == 1 ? "food\ta recipe with garlic and basil "
                              : "tech\ta new compiler release for chips ") +
                std::to_string(i % 7) + "\n";
    auto path = dir.file("news.tsv", text);
    auto r = train(std::string(kQuick) + " --no-store --data " + path + " --json");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    auto j = json::parse(r.out);
    EXPECT_GT(j["test_accuracy"].get<double>(), 0.9);
    EXPECT_EQ(j["final"]["routing_by_class"]["rows"], json::array({"food", "sport", "tech"}));

    auto bad = train(std::string(kQuick) + " --no-store --format tsv --data " +
                     dir.file("bad.tsv", "a\tx\nno tab\n"));
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("bad.tsv:2: no TAB"), std::string::npos) << bad.err;

    auto dd = train(
        "--epochs 1 --threads 1 --device cpu --no-store --dataset debian-descriptions --json");
    if (dd.exitCode == 2 && dd.err.find("is not built yet") != std::string::npos)
        GTEST_SKIP()
            << "debian-descriptions was not built here (setup.sh builds it from apt's lists)";
    ASSERT_EQ(dd.exitCode, 0) << dd.err;
    auto d = json::parse(dd.out);
    EXPECT_EQ(d["final"]["routing_by_class"]["rows"].size(), 15u) << "the 15 most common sections";
    EXPECT_GT(d["test_accuracy"].get<double>(), 1.0 / 15) << "better than chance after one epoch";
}

// kill -9 in the middle of a run, then `mode-train --resume`: the run ends as `finished` with the
// test accuracy and loss of the same run left alone, its steps written once each.
TEST(ModeTrainCli, AStoreLockedByAnotherProgramForSecondsLosesNoEpoch) {
    // Another program holds an exclusive lock for 7 s mid-run, past SQLite's 5 s busy timeout
    // (issue: the run went on, failed at the end and its row claimed epochs it never stored).
    TempDir dir;
    const std::string db = dir / "c.sqlite";
    const std::string runs = mode::test::programDir() + "/mode-runs --db " + db;
    runCommand("(" + kTrain + " --db " + db +
               " --epochs 30 --batch-size 16 --threads 1 --device cpu -q --json > " +
               (dir / "out") + " 2>" + (dir / "err") + "; echo $? > " + (dir / "rc") +
               ") >/dev/null 2>&1 &");
    ASSERT_GE(waitForStoredEpochs(runs, 2), 2);
    auto lock = runCommand("(echo 'BEGIN EXCLUSIVE;'; sleep 7; echo 'COMMIT;') | sqlite3 " + db);
    EXPECT_EQ(lock.exitCode, 0) << lock.err;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!std::filesystem::exists(dir / "rc") && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(readFile(dir / "rc"), "0\n") << readFile(dir / "err");
    auto list = json::parse(runCommand(runs + " list --json").out);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["status"], "finished");
    EXPECT_EQ(list[0]["epochs_completed"], 30);
    EXPECT_EQ(json::parse(readFile(dir / "out"))["test_accuracy"], list[0]["test_accuracy"]);
    auto check = runCommand(runs + " check");
    EXPECT_EQ(check.exitCode, 0) << check.out;
    EXPECT_CONTAINS(check.out, "every run's row agrees with its stored data");
}

TEST(ModeTrainCli, CtrlCWhileTheDataLoadsEndsAtOnce) {
    // A SIGINT during a long load used to be ignored (a shell starts background jobs with SIGINT
    // ignored, and the handler came only with training) until training had run for a while.
    TempDir dir;
    std::string csv = "a,b,c,d,e,f,g,h,y\n";
    for (int r = 0; r < 1200000; ++r) { // about 85 MB: a few seconds to load
        for (int c = 0; c < 8; ++c)
            csv += std::to_string((r * 7 + c * 13) % 1000 / 7.0) + ",";
        csv += (r % 3 ? "p\n" : "q\n");
    }
    const std::string file = dir.file("big.csv", csv);
    runCommand("(" + kTrain + " --data " + file + " --no-store --epochs 50 --threads 1 -q 2> " +
               (dir / "err") + "; echo $? > " + (dir / "rc") + ") >/dev/null 2>&1 &");
    std::string pid;
    for (int i = 0; i < 100 && pid.empty(); ++i) {
        pid = runCommand("pgrep -f '^" + kTrain + " --data " + file + "'").out;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ASSERT_FALSE(pid.empty());
    pid.pop_back();
    // Wait until it reads the file (past the start-up, where the handler is not yet installed).
    auto reading = [&] {
        std::error_code ec;
        for (const auto& fd : std::filesystem::directory_iterator("/proc/" + pid + "/fd", ec))
            if (std::filesystem::read_symlink(fd.path(), ec).string() == file) return true;
        return false;
    };
    for (int i = 0; i < 500 && !reading() && !std::filesystem::exists(dir / "rc"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_FALSE(std::filesystem::exists(dir / "rc")) << "it ended before the signal";
    const auto sent = std::chrono::steady_clock::now();
    ASSERT_EQ(runCommand("kill -INT " + pid).exitCode, 0);
    while (!std::filesystem::exists(dir / "rc") &&
           std::chrono::steady_clock::now() - sent < std::chrono::seconds(20))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_LT(std::chrono::steady_clock::now() - sent, std::chrono::seconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(readFile(dir / "rc"), "130\n");
    EXPECT_CONTAINS(readFile(dir / "err"), "mode-train: interrupted");
}

TEST(ModeTrainCli, ARunThatDidNotLearnSaysSo) {
    // --lr 100 "finished" with a loss of 3e10 and accuracy 0.11, exit 0, without a word.
    auto bad = train(std::string(kQuick) + " --no-store --lr 100");
    EXPECT_EQ(bad.exitCode, 0);
    EXPECT_CONTAINS(bad.out + bad.err, "no better than always predicting the most common class");
    auto good = train(std::string(kQuick) + " --no-store");
    EXPECT_EQ((good.out + good.err).find("no better than always predicting"), std::string::npos)
        << good.out;
}

TEST(ModeTrainCli, AKilledRunResumesToTheResultOfAnUninterruptedOne) {
    TempDir dir;
    const std::string args =
        " --epochs 12 --batch-size 8 --seed 5 --threads 1 --device cpu -q --json";
    auto whole = train("--db " + dir / "whole.sqlite" + args);
    ASSERT_EQ(whole.exitCode, 0) << whole.err;
    const auto expected = json::parse(whole.out);

    const std::string db = dir / "killed.sqlite";
    auto started = runCommand("(" + kTrain + " --db " + db + args + " >/dev/null 2>&1 & echo $!)");
    const std::string pid = started.out.substr(0, started.out.find('\n'));
    ASSERT_FALSE(pid.empty());
    const std::string runs = mode::test::programDir() + "/mode-runs --db " + db;
    const int epochs = waitForStoredEpochs(runs, 3);
    ASSERT_EQ(runCommand("kill -9 " + pid).exitCode, 0);
    for (int i = 0; i < 100 && runCommand("kill -0 " + pid + " 2>/dev/null").exitCode == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto before = json::parse(runCommand(runs + " list --json").out)[0];
    ASSERT_EQ(before["status"], "interrupted") << "killed before it finished";
    ASSERT_LT(before["epochs_completed"].get<int>(), 12);

    auto resumed = train("--resume 1 --db " + db + " --json -q");
    ASSERT_EQ(resumed.exitCode, 0) << resumed.err;
    const auto got = json::parse(resumed.out);
    EXPECT_EQ(got["run_id"], 1);
    EXPECT_EQ(got["test_accuracy"], expected["test_accuracy"]);
    EXPECT_EQ(got["final"]["test_loss"], expected["final"]["test_loss"]);
    EXPECT_EQ(got["steps"], expected["steps"]);
    auto after = json::parse(runCommand(runs + " list --json").out);
    ASSERT_EQ(after.size(), 1u) << "the same run continued, no new one";
    EXPECT_EQ(after[0]["status"], "finished");
    auto exported = json::parse(runCommand(runs + " export 1 --json").out);
    EXPECT_EQ(exported["epochs"].size(), 12u);
    ASSERT_EQ(exported["steps"].size(), expected["steps"].get<std::size_t>()) << "every step once";
    for (std::size_t i = 0; i < exported["steps"].size(); ++i)
        ASSERT_EQ(exported["steps"][i]["step"].get<std::size_t>(), i + 1);

    // Nothing left to resume now; other flags are refused; unknown runs are named.
    auto again = train("--resume 1 --db " + db);
    EXPECT_EQ(again.exitCode, 2);
    EXPECT_CONTAINS(again.err, "run 1 finished; there is nothing to resume");
    auto mixed = train("--resume 1 --alpha 3 --db " + db);
    EXPECT_EQ(mixed.exitCode, 2);
    EXPECT_CONTAINS(mixed.err, "--alpha cannot be combined with --resume");
    auto unknown = train("--resume 99 --db " + db);
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_CONTAINS(unknown.err, "99");
}

// Paths in experiments may come from anywhere: a device would be read forever, a pipe would
// block, a missing file is named with where it was looked for.
TEST(ModeTrainCli, DataPathsMustNameRegularFiles) {
    auto r = train("--data /dev/zero");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "data.path: /dev/zero is not a regular file (a device, pipe or socket)");
    TempDir dir;
    ASSERT_EQ(runCommand("mkfifo " + dir / "pipe.csv").exitCode, 0);
    r = train("--data " + dir / "pipe.csv");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "is not a regular file");
    const std::string config = dir.file("exp.json", R"({"data": {"path": "sub/../missing.csv"}})");
    r = train("--config " + config);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "data.path: " + dir / "missing.csv" + " does not exist");
    r = train("--data nowhere.csv");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "data.path: nowhere.csv does not exist (looked for /");
    r = train("--idx-files /dev/null,/dev/null,/dev/null,/dev/null");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "data.idx_files: /dev/null is not a regular file");
}

// ---- data-parallel training on c10d (Gloo), two processes on loopback ----
namespace {
// A port of its own per test process, so parallel ctest runs do not meet at one rendezvous.
std::string freshPort(int offset) {
    return std::to_string(20000 + (::getpid() * 7 + offset) % 20000);
}
json lastJson(const std::string& out) {
    return json::parse(out.substr(out.find('{')));
}
} // namespace

TEST(ModeTrainDistributed, TwoRanksTrainTheModelOneProcessTrainsWithTheCombinedBatch) {
    TempDir dir;
    const std::string port = freshPort(1);
    const std::string common = " --epochs 3 --threads 1 --device cpu -q";
    auto rank1 =
        runCommand("((WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " " +
                   kTrain + common + " --batch-size 32 > " + dir / "rank1.out" + " 2> " +
                   dir / "rank1.err; echo $? > " + dir / "rank1.rc) &) ; echo ok");
    ASSERT_EQ(rank1.exitCode, 0);
    auto rank0 =
        runCommand("WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " " + kTrain +
                   common + " --batch-size 32 --json --db " + dir / "runs.sqlite");
    ASSERT_EQ(rank0.exitCode, 0) << rank0.err;
    EXPECT_CONTAINS(rank0.err, "rank 0 of 2 (world size 2)");
    for (int i = 0; i < 200 && !std::filesystem::exists(dir / "rank1.rc"); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(readFile(dir / "rank1.rc"), "0\n") << "rank 1 finished too";
    EXPECT_CONTAINS(readFile(dir / "rank1.err"), "rank 1 of 2 (world size 2)");
    EXPECT_EQ(readFile(dir / "rank1.out"), "") << "rank 0 alone reports";

    auto single = train(common.substr(1) + " --batch-size 64 --json --no-store");
    ASSERT_EQ(single.exitCode, 0) << single.err;
    const auto a = lastJson(rank0.out), b = lastJson(single.out);
    EXPECT_EQ(a["steps"], b["steps"]) << "the same number of global minibatches";
    // Same parameters up to the order of float sums: the all-reduce adds the two halves'
    // gradients where one process sums over the whole batch at once.
    EXPECT_NEAR(a["final"]["test_loss"].get<double>(), b["final"]["test_loss"].get<double>(), 1e-4);
    EXPECT_NEAR(a["final"]["train_loss"].get<double>(), b["final"]["train_loss"].get<double>(),
                1e-4);
    EXPECT_NEAR(a["test_accuracy"].get<double>(), b["test_accuracy"].get<double>(), 2.0 / 600);
    EXPECT_NE(a["run_id"], nullptr) << "rank 0 stored the run";
}

TEST(ModeTrainDistributed, ARankThatDiesStopsTheOtherWithAClearErrorAndKeepsTheStoredEpochs) {
    TempDir dir;
    const std::string port = freshPort(2);
    const std::string db = dir / "runs.sqlite";
    auto started =
        runCommand("(WORLD_SIZE=2 RANK=1 MASTER_PORT=" + port + " " + kTrain +
                   " --epochs 100000 --threads 1 --device cpu -q >/dev/null 2>&1 & echo $!)");
    const std::string pid = started.out.substr(0, started.out.find('\n'));
    ASSERT_FALSE(pid.empty());
    auto rank0 = runCommand("(WORLD_SIZE=2 RANK=0 MASTER_PORT=" + port + " " + kTrain +
                            " --epochs 100000 --threads 1 --device cpu -q --db " + db + " 2> " +
                            dir / "err; echo $? > " + dir / "rc) >/dev/null 2>&1 & echo ok");
    ASSERT_EQ(rank0.exitCode, 0);
    const std::string runs = mode::test::programDir() + "/mode-runs --db " + db;
    const int epochs = waitForStoredEpochs(runs, 2);
    ASSERT_GE(epochs, 2);
    ASSERT_EQ(runCommand("kill -9 " + pid).exitCode, 0);
    const auto killed = std::chrono::steady_clock::now();
    while (!std::filesystem::exists(dir / "rc") &&
           std::chrono::steady_clock::now() - killed < std::chrono::seconds(45))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(std::filesystem::exists(dir / "rc")) << "rank 0 did not stop";
    // A dead peer resets its connections: rank 0 notices at once, well inside the 30 s timeout
    // that bounds a rank that hangs instead.
    EXPECT_LT(std::chrono::steady_clock::now() - killed, std::chrono::seconds(35));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(readFile(dir / "rc"), "1\n");
    EXPECT_CONTAINS(readFile(dir / "err"), "rank 0: an all-reduce with the other ranks failed");
    auto list = json::parse(runCommand(runs + " list --json").out);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(list[0]["status"], "failed");
    EXPECT_GE(list[0]["epochs_completed"].get<int>(), 2) << "the epochs before are kept";
    EXPECT_EQ(runCommand(runs + " check").exitCode, 0);
}

TEST(ModeTrainDistributed, ARankThatNeverComesAndImpossibleRanksAreReported) {
    auto alone = runCommand("WORLD_SIZE=2 RANK=0 MASTER_PORT=" + freshPort(3) + " " + kTrain +
                            " --epochs 1 --threads 1 --no-store -q --dist-timeout 2");
    EXPECT_EQ(alone.exitCode, 1);
    EXPECT_CONTAINS(alone.err, "rank 0: the 2 ranks did not all join at 127.0.0.1:");
    auto outside = runCommand("WORLD_SIZE=2 RANK=5 " + kTrain + " --no-store");
    EXPECT_EQ(outside.exitCode, 2);
    EXPECT_CONTAINS(outside.err, "RANK='5' is not a whole number from 0 to 1");
    auto flags = train("--world-size 2 --rank 2 --no-store");
    EXPECT_EQ(flags.exitCode, 2);
    EXPECT_CONTAINS(flags.err, "rank 2 is outside a world of 2 (ranks are 0 to 1)");
}

// A run is resumed only on the data it started on: a killed run whose CSV changed since is
// refused, naming the change, and the stored run is left as it was.
TEST(ModeTrainCli, AResumeAfterTheDataFileChangedIsRefused) {
    TempDir dir;
    std::string csv = "a,b,c,y\n";
    for (int r = 0; r < 400; ++r)
        csv += std::to_string(r % 7) + "," + std::to_string((r * 3) % 11) + "," +
               std::to_string((r * 5) % 13) + "," + (r % 7 < 3 ? "p\n" : "q\n");
    const std::string file = dir.file("d.csv", csv), db = dir / "s.sqlite";
    auto started = runCommand("(" + kTrain + " --data " + file + " --db " + db +
                              " --epochs 400 --batch-size 8 --threads 1 --device cpu -q "
                              ">/dev/null 2>&1 & echo $!)");
    const std::string pid = started.out.substr(0, started.out.find('\n'));
    ASSERT_FALSE(pid.empty());
    const std::string runs = mode::test::programDir() + "/mode-runs --db " + db;
    ASSERT_GE(waitForStoredEpochs(runs, 2), 2);
    ASSERT_EQ(runCommand("kill -9 " + pid).exitCode, 0);
    for (int i = 0; i < 100 && runCommand("kill -0 " + pid + " 2>/dev/null").exitCode == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto before = json::parse(runCommand(runs + " list --json").out)[0];
    dir.file("d.csv", csv + "6,6,6,q\n"); // one row more
    auto resumed = train("--resume 1 --db " + db + " -q");
    EXPECT_EQ(resumed.exitCode, 2) << resumed.out << resumed.err;
    EXPECT_CONTAINS(resumed.err, "the data changed since run 1 started");
    const auto after = json::parse(runCommand(runs + " list --json").out)[0];
    EXPECT_EQ(after["epochs_completed"], before["epochs_completed"]);
    EXPECT_EQ(after["test_accuracy"], before["test_accuracy"]);
}

// The baselines are a setting of mode-train: listed by --help; with distillation they are
// refused (exit 2) naming loss.alpha and what to do.
TEST(ModeTrainCli, HelpListsTheBaselinesAndDistillingOneIsRefused) {
    auto r = train("--help");
    ASSERT_EQ(r.exitCode, 0);
    EXPECT_NE(r.out.find("--model"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("(moe | dense | ensemble)"), std::string::npos) << r.out;
    r = train(std::string(kQuick) + " --model dense");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("loss.alpha: the dense baseline has no experts to distil among: set "
                         "alpha to 0 (--alpha 0)"),
              std::string::npos)
        << r.err;
    r = train(std::string(kQuick) + " --model ensemble --alpha 0 --no-store");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    EXPECT_NE(r.out.find("ensemble baseline of 4 independent experts"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("no gate, so no routing or expert probing"), std::string::npos) << r.out;
}

// SPDX-License-Identifier: GPL-3.0-or-later
// The run store through the programs: mode-train writes, mode-runs reads and edits; a writer
// killed with SIGKILL; a read-only store; a disk that fills up.

#include "CliTestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace mode::test;
using json = nlohmann::json;

namespace {
const std::string kBin = mode::test::programDir();
const char* kQuick = " --epochs 2 --threads 1 --device cpu";

ProcessResult train(const std::string& db, const std::string& args) {
    return runCommand(kBin + "/mode-train --db " + db + kQuick + " " + args);
}
ProcessResult runs(const std::string& db, const std::string& args) {
    return runCommand(kBin + "/mode-runs --db " + db + " " + args);
}
// The cells of each line of a CSV without quoted fields.
std::vector<std::vector<std::string>> csvRows(const std::string& text) {
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        rows.emplace_back();
        std::stringstream cells(line);
        for (std::string c; std::getline(cells, c, ',');)
            rows.back().push_back(c);
    }
    return rows;
}
std::size_t countLines(const std::string& s) {
    std::size_t n = 0;
    for (char c : s)
        n += c == '\n';
    return n;
}
json listJson(const std::string& db) {
    auto r = runs(db, "list --json");
    EXPECT_EQ(r.exitCode, 0) << r.err;
    return json::parse(r.out);
}
} // namespace

TEST(ModeRunsCli, TrainStoresTheRunAndListShowsIt) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    auto t = train(db, "--alpha 0 --name baseline --json");
    ASSERT_EQ(t.exitCode, 0) << t.err;
    const auto id = json::parse(t.out)["run_id"];
    ASSERT_TRUE(id.is_number_integer());
    ASSERT_EQ(train(db, "--alpha 0.3").exitCode, 0);

    auto list = listJson(db);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1]["id"], id) << "newest first";
    for (const char* key :
         {"id", "name", "status", "dataset", "alpha", "experts", "test_accuracy", "started"})
        EXPECT_TRUE(list[1].contains(key)) << key;
    EXPECT_EQ(list[1]["name"], "baseline");
    EXPECT_EQ(list[1]["status"], "finished");
    EXPECT_EQ(list[1]["dataset"], "regimes");
    EXPECT_DOUBLE_EQ(list[0]["alpha"].get<double>(), 0.3);
    EXPECT_EQ(list[1]["experts"], 4);
    EXPECT_DOUBLE_EQ(list[1]["test_accuracy"].get<double>(),
                     json::parse(t.out)["test_accuracy"].get<double>())
        << "the store holds what the run reported";

    auto human = runs(db, "list");
    EXPECT_EQ(human.exitCode, 0);
    EXPECT_NE(human.out.find("baseline"), std::string::npos) << human.out;
    auto filtered = runs(db, "list --json --alpha-min 0.1");
    EXPECT_EQ(json::parse(filtered.out).size(), 1u);
}

TEST(ModeRunsCli, ShowAndExportEveryStepAndEpoch) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    auto t = train(db, "--experts 3 --json");
    ASSERT_EQ(t.exitCode, 0) << t.err;
    const auto trained = json::parse(t.out);
    const std::string id = std::to_string(trained["run_id"].get<int>());
    const int steps = trained["steps"];

    auto show = runs(db, "show " + id);
    ASSERT_EQ(show.exitCode, 0) << show.err;
    EXPECT_NE(show.out.find("finished"), std::string::npos);
    EXPECT_NE(show.out.find("probing acc"), std::string::npos) << show.out;
    auto showJson = json::parse(runs(db, "show " + id + " --json").out);
    EXPECT_EQ(showJson["config"]["model"]["experts"], 3);

    auto csv = runs(db, "export " + id + " --csv");
    ASSERT_EQ(csv.exitCode, 0) << csv.err;
    EXPECT_EQ(countLines(csv.out), static_cast<std::size_t>(steps + 1))
        << "a header and one row per step";
    EXPECT_EQ(csv.out.rfind("step,epoch,wall_seconds,loss", 0), 0u);
    auto epochsCsv = runs(db, "export " + id + " --csv --epochs");
    EXPECT_EQ(countLines(epochsCsv.out), 3u) << "a header and two epochs";
    EXPECT_NE(epochsCsv.out.find("expert2_probing_accuracy"), std::string::npos);

    auto exported = runs(db, "export " + id + " --json -o " + (dir / "run.json"));
    ASSERT_EQ(exported.exitCode, 0) << exported.err;
    auto j = json::parse(readFile(dir / "run.json"));
    EXPECT_EQ(j["steps"].size(), static_cast<std::size_t>(steps));
    ASSERT_EQ(j["epochs"].size(), 2u);
    EXPECT_EQ(j["epochs"][1]["experts"].size(), 3u);
    EXPECT_EQ(j["epochs"][1]["routing_by_class"]["experts"], 3);
    EXPECT_DOUBLE_EQ(j["epochs"][1]["test_accuracy"].get<double>(),
                     trained["test_accuracy"].get<double>());
}

TEST(ModeRunsCli, TagRenameNoteAndDelete) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "").exitCode, 0);
    ASSERT_EQ(train(db, "").exitCode, 0);
    EXPECT_EQ(runs(db, "tag 1 keep").exitCode, 0);
    EXPECT_EQ(runs(db, "rename 1 \"first run\"").exitCode, 0);
    EXPECT_EQ(runs(db, "note 1 \"looks good\"").exitCode, 0);
    auto one = json::parse(runs(db, "show 1 --json").out);
    EXPECT_EQ(one["name"], "first run");
    EXPECT_EQ(one["tags"], json::array({"keep"}));
    EXPECT_EQ(one["notes"], "looks good");
    EXPECT_EQ(json::parse(runs(db, "list --json --tag keep").out).size(), 1u);

    auto bad = runs(db, "delete 2 99");
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_NE(bad.err.find("no run with id 99"), std::string::npos) << bad.err;
    EXPECT_EQ(listJson(db).size(), 2u) << "one bad id deletes nothing";
    EXPECT_EQ(runs(db, "delete 2").exitCode, 0);
    EXPECT_EQ(listJson(db).size(), 1u);
}

TEST(ModeRunsCli, BadIdsAndMissingStoresExitTwoWithAMessage) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "").exitCode, 0);
    for (const char* args : {"show 7", "export 7 --csv", "rename 7 x", "tag 7 t"}) {
        auto r = runs(db, args);
        EXPECT_EQ(r.exitCode, 2) << args;
        EXPECT_NE(r.err.find("no run with id 7"), std::string::npos) << args << ": " << r.err;
    }
    auto notANumber = runs(db, "show seven");
    EXPECT_EQ(notANumber.exitCode, 2);
    auto missing = runs(dir / "nothing.sqlite", "list");
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_NE(missing.err.find("nothing.sqlite"), std::string::npos) << missing.err;
    auto exportWithoutFormat = runs(db, "export 1");
    EXPECT_EQ(exportWithoutFormat.exitCode, 2);
}

TEST(ModeRunsCli, DefaultStoreIsInTheUsersDataDirectory) {
    TempDir dir;
    auto r = runCommand("XDG_DATA_HOME=" + dir.path().string() + " " + kBin + "/mode-train" +
                        kQuick + " -q");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_TRUE(std::filesystem::exists(dir / "mode-workbench/runs.sqlite"));
    auto list =
        runCommand("XDG_DATA_HOME=" + dir.path().string() + " " + kBin + "/mode-runs list --json");
    EXPECT_EQ(json::parse(list.out).size(), 1u);
}

// A writer killed with SIGKILL mid-run, while another process reads: the file stays sound, the
// run is reported `interrupted`, and what was written before the kill is kept.
TEST(ModeRunsCli, AWriterKilledMidRunLeavesASoundStoreAndAnInterruptedRun) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "--name before").exitCode, 0);
    auto started = runCommand(
        "(" + kBin + "/mode-train --db " + db +
        " --epochs 100000 --threads 1 --device cpu -q --name victim >/dev/null 2>&1 & echo $!)");
    const std::string pid = started.out.substr(0, started.out.find('\n'));
    ASSERT_FALSE(pid.empty());

    // Read while it writes, from another process, until a few epochs are in.
    int epochs = 0, reads = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (epochs < 3 && std::chrono::steady_clock::now() < deadline) {
        auto r = runs(db, "export 2 --json");
        if (r.exitCode == 0) {
            auto j = json::parse(r.out);
            ++reads;
            epochs = static_cast<int>(j["epochs"].size());
            for (const auto& e : j["epochs"])
                ASSERT_EQ(e["experts"].size(), 4u) << "a reader never sees half an epoch";
            EXPECT_EQ(j["status"], "running");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ASSERT_GE(epochs, 3) << "the writer did not get going";
    ASSERT_EQ(runCommand("kill -9 " + pid).exitCode, 0);
    // Wait until it is gone (the shell that started it reaps it).
    for (int i = 0; i < 100 && runCommand("kill -0 " + pid + " 2>/dev/null").exitCode == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));

    auto check = runs(db, "check");
    EXPECT_EQ(check.exitCode, 0) << check.out << check.err;
    EXPECT_NE(check.out.find(": ok"), std::string::npos);
    auto list = listJson(db);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[0]["name"], "victim");
    EXPECT_EQ(list[0]["status"], "interrupted");
    EXPECT_GE(list[0]["epochs_completed"].get<int>(), 3);
    EXPECT_TRUE(list[0]["has_checkpoint"].get<bool>()) << "a checkpoint each epoch";
    EXPECT_EQ(list[1]["status"], "finished") << "the earlier run is untouched";
    EXPECT_GE(reads, 1);

    // The next writer stores the verdict.
    ASSERT_EQ(runs(db, "tag 2 crashed").exitCode, 0);
    auto fromSql = runCommand("sqlite3 " + db + " \"SELECT status FROM runs WHERE id = 2\"");
    if (fromSql.exitCode == 0) EXPECT_EQ(fromSql.out, "interrupted\n");
    // Its row counts what the killed writer stored (steps written after its last epoch too).
    auto consistent = runs(db, "check");
    EXPECT_EQ(consistent.exitCode, 0) << consistent.out;
    EXPECT_CONTAINS(consistent.out, "every run's row agrees with its stored data");
}

TEST(ModeRunsCli, AReadOnlyStoreIsRefusedBeforeTrainingAndLeftIntact) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "--name kept").exitCode, 0);
    ASSERT_EQ(runs(db, "check").exitCode, 0); // folds the WAL back: one file to compare
    const std::string before = readFile(db);
    ASSERT_EQ(runCommand("chmod 755 " + dir.path().string() + " && chmod 444 " + db).exitCode, 0);
    // root writes read-only files anyway: run as an ordinary user where we are root.
    const std::string as =
        geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    auto r = runCommand(as + kBin + "/mode-train --db " + db + kQuick);
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_NE(r.err.find("read-only"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(db), std::string::npos) << r.err;
    EXPECT_EQ(readFile(db), before);
    auto list = runCommand(as + kBin + "/mode-runs --db " + db + " list --json");
    ASSERT_EQ(list.exitCode, 0) << list.err;
    EXPECT_EQ(json::parse(list.out)[0]["name"], "kept") << "a read-only store can still be read";
}

TEST(ModeRunsCli, ADiskThatFillsUpStopsTheRunCleanlyAndKeepsWhatWasStored) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "--name kept").exitCode, 0);
    const auto size = std::filesystem::file_size(db);
    // A file-size limit a little above what is there: the long run hits it within a few epochs.
    const std::uintmax_t limitKb = size / 1024 + 400;
    auto r = runCommand("ulimit -f " + std::to_string(limitKb) + "; " + kBin + "/mode-train --db " +
                        db + " --epochs 1000 --threads 1 --device cpu -q --name filler");
    EXPECT_EQ(r.exitCode, 1) << r.err;
    EXPECT_NE(r.err.find("run store"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(db), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("stopped"), std::string::npos) << r.err;

    auto check = runs(db, "check");
    EXPECT_EQ(check.exitCode, 0) << check.out << check.err;
    auto list = listJson(db);
    ASSERT_EQ(list.size(), 2u);
    EXPECT_EQ(list[1]["name"], "kept");
    EXPECT_EQ(list[1]["status"], "finished");
    EXPECT_NE(list[0]["status"], "running");
    EXPECT_NE(list[0]["status"], "finished");
    EXPECT_GE(list[0]["epochs_completed"].get<int>(), 1)
        << "the epochs before the disk filled are kept";
}

// The store's file deleted under a running mode-train: the run stops within an epoch and says
// what happened, instead of training on into a file nobody can open again.
TEST(ModeRunsCli, AStoreDeletedDuringARunStopsItWithAClearMessage) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    auto started =
        runCommand("(" + kBin + "/mode-train --db " + db +
                   " --epochs 100000 --threads 1 --device cpu -q > " + dir / "out" + " 2> " +
                   dir / "err" + "; echo $? > " + dir / "rc" + ") >/dev/null 2>&1 & echo started");
    ASSERT_EQ(started.exitCode, 0);
    const int epochs = waitForStoredEpochs(kBin + "/mode-runs --db " + db, 2);
    ASSERT_GE(epochs, 2);
    std::filesystem::remove(db);
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!std::filesystem::exists(dir / "rc") && std::chrono::steady_clock::now() < end)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(std::filesystem::exists(dir / "rc"))
        << "the run went on after its store was deleted";
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(readFile(dir / "rc"), "1\n");
    EXPECT_CONTAINS(readFile(dir / "err"),
                    "run store " + db + ": the file was deleted while a run was writing to it");
}

// A damaged checkpoint in the store: --resume refuses it by name and leaves the run as it was.
TEST(ModeRunsCli, ADamagedCheckpointIsRefusedAndTheStoredRunKept) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "-q").exitCode, 0);
    // Make it resumable (as a kill would) and cut its checkpoint in half.
    auto sql = runCommand(
        "sqlite3 " + db +
        " \"UPDATE runs SET status = 'stopped' WHERE id = 1; "
        "UPDATE checkpoints SET state = substr(state, 1, length(state) / 2) WHERE run_id = 1;\"");
    if (sql.exitCode != 0) GTEST_SKIP() << "sqlite3 is not installed";
    const auto before = runs(db, "export 1 --json").out;
    auto r = runCommand(kBin + "/mode-train --resume 1 --db " + db);
    EXPECT_EQ(r.exitCode, 2) << r.err;
    EXPECT_CONTAINS(r.err, "the stored checkpoint of run 1 (epoch 2) fails its checksum");
    EXPECT_EQ(runs(db, "export 1 --json").out, before) << "nothing stored was touched";
    const auto check = runs(db, "check"); // the rows agree; the checkpoint's bytes do not
    EXPECT_EQ(check.exitCode, 1);
    EXPECT_CONTAINS(check.out, "every run's row agrees with its stored data");
    EXPECT_CONTAINS(check.out, "the stored checkpoint of run 1 (epoch 2) fails its checksum");
}

TEST(ModeRunsCli, NamesThatAreNotUtf8AreRefusedAndNeverBreakTheStore) {
    // A 0xFF byte in a name used to be stored; from then on list/show/export --json failed for
    // the whole store.
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "-q").exitCode, 0);
    auto rename = runs(db, "rename 1 \"$(printf 'bad\\377')\"");
    EXPECT_EQ(rename.exitCode, 2);
    EXPECT_CONTAINS(rename.err, "not valid UTF-8");
    auto named = runCommand(kBin + "/mode-train --db " + db + kQuick +
                            " -q --name \"$(printf 'run\\377')\"");
    EXPECT_EQ(named.exitCode, 2) << named.err;
    EXPECT_CONTAINS(named.err, "name");
    // A store written by an older version with such a name (and a terminal escape) still lists.
    ASSERT_EQ(
        runCommand("sqlite3 " + db +
                   " \"UPDATE runs SET name = CAST(x'626164ff1b5b33316d' AS TEXT) WHERE id = 1\"")
            .exitCode,
        0);
    auto list = listJson(db);
    ASSERT_EQ(list.size(), 1u);
    EXPECT_EQ(runs(db, "show 1 --json").exitCode, 0);
    EXPECT_EQ(runs(db, "export 1 --json").exitCode, 0);
    auto text = runs(db, "list");
    EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << "no raw escape reaches the terminal";
    EXPECT_CONTAINS(text.out, "bad\\xff\\x1b[31m");
}

TEST(ModeRunsCli, ADataFileThatIsNotUtf8IsRefusedWithLineAndColumn) {
    TempDir dir;
    std::string csv = "x,label\n";
    for (int i = 0; i < 30; ++i)
        csv += std::to_string(i) + "," +
               (i == 17 ? std::string("caf\xff") : std::string(i % 2 ? "a" : "b")) + "\n";
    const std::string file = dir.file("bad.csv", csv);
    auto r = train(dir / "r.sqlite", "--data " + file);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "bad.csv:19: column 7: byte 0xff is not valid UTF-8");
}

// mode-runs routing: each test row's routing at an epoch. Counted independently from its rows,
// the top experts give each expert's stored allocation, the right predictions the stored test
// accuracy, and each expert's own right predictions on its rows its stored probing accuracy.
TEST(ModeRunsCli, RoutingExportsEachTestRowAndAgreesWithTheStoredEpoch) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "--name routed").exitCode, 0);
    auto r = runs(db, "routing 1 --csv");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto rows = csvRows(r.out);
    EXPECT_EQ(rows.at(0),
              (std::vector<std::string>{"sample", "row", "label", "top_expert", "top_weight",
                                        "prediction", "expert_prediction"}));
    std::map<int, int> allocated, ownRight;
    int right = 0;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto& f = rows[i];
        ASSERT_EQ(f.size(), 7u) << "line " << i;
        const int expert = std::stoi(f[3]);
        ++allocated[expert];
        right += f[5] == f[2];
        ownRight[expert] += f[6] == f[2];
        EXPECT_GT(std::stod(f[4]), 0.0);
        EXPECT_LE(std::stod(f[4]), 1.0);
    }
    const auto shown = json::parse(runs(db, "export 1 --json").out);
    const auto& last = shown["epochs"].back();
    EXPECT_EQ(rows.size(), 601u) << "every test row, after the header";
    EXPECT_DOUBLE_EQ(right / 600.0, last["test_accuracy"].get<double>());
    for (const auto& e : last["experts"]) {
        const int k = e["expert"].get<int>();
        EXPECT_EQ(allocated[k], e["allocated"].get<int>()) << "expert " << k;
        if (allocated[k] > 0)
            EXPECT_DOUBLE_EQ(ownRight[k] / static_cast<double>(allocated[k]),
                             e["probing_accuracy"].get<double>())
                << "expert " << k;
    }
    // An epoch whose routing was not kept, and a run without any.
    r = runs(db, "routing 1 --epoch 99 --csv");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_NE(r.err.find("kept the routing of epochs"), std::string::npos) << r.err;
}

// A top-2 gate's routing: each row's two experts and their weights, largest first (the first
// is the top expert with its weight); and the stored rows agree, row by row, with an
// evaluation made apart from training: mode-predict on the run's own test split restores the
// model from its checkpoint and gives each row's top expert and prediction.
TEST(ModeRunsCli, TopKRoutingKeepsEachRowsExpertsAndAgreesWithPredict) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    ASSERT_EQ(train(db, "--gate topk --top-k 2 --experts 4").exitCode, 0);
    auto r = runs(db, "routing 1 --csv");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    const auto p = runCommand(kBin + "/mode-predict -q --run 1 --db " + db + " --split test");
    ASSERT_EQ(p.exitCode, 0) << p.err;
    const auto routed = csvRows(r.out), predicted = csvRows(p.out);
    ASSERT_EQ(routed[0], (std::vector<std::string>{"sample", "row", "label", "top_expert",
                                                   "top_weight", "prediction", "expert_prediction",
                                                   "gate_experts", "gate_weights"}));
    const auto column = [&](const std::string& name) {
        const auto& h = predicted[0];
        return static_cast<std::size_t>(std::find(h.begin(), h.end(), name) - h.begin());
    };
    ASSERT_EQ(routed.size(), 601u) << "every test row, after the header";
    ASSERT_EQ(routed.size(), predicted.size()) << "every test row, in the same order";
    ASSERT_LT(column("top_expert"), predicted[0].size());
    ASSERT_LT(column("prediction"), predicted[0].size());
    for (std::size_t i = 1; i < routed.size(); ++i) {
        const auto& f = routed[i];
        ASSERT_EQ(f.size(), 9u) << "row " << i;
        ASSERT_EQ(predicted[i].size(), predicted[0].size()) << "row " << i;
        std::istringstream experts(f[7]), weights(f[8]);
        int first = -1, second = -1;
        double w1 = 0, w2 = 0;
        experts >> first >> second;
        weights >> w1 >> w2;
        EXPECT_EQ(first, std::stoi(f[3])) << "row " << i;
        EXPECT_NE(first, second) << "row " << i;
        EXPECT_EQ(f[8].substr(0, f[8].find(' ')), f[4]) << "row " << i;
        EXPECT_GE(w1, w2) << "row " << i;
        EXPECT_NEAR(w1 + w2, 1.0, 1e-4) << "a top-2 gate's weights sum to 1, row " << i;
        EXPECT_EQ(predicted[i][column("top_expert")], f[3]) << "row " << i;
        EXPECT_EQ(predicted[i][column("prediction")], f[5]) << "row " << i;
    }
}

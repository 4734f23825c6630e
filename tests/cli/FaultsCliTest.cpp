// SPDX-License-Identifier: GPL-3.0-or-later
// The third hostile pass (issue 32) as a user meets it: outputs never land on the store or an
// input and are written whole or not at all; a full standard output is an error; damaged stored
// bytes are refused by every reader; numbers a 32-bit model cannot hold, files that are not
// regular files, nulls, huge configs and models too big for the machine are refused with a
// message naming what is wrong.

#include "CliTestSupport.h"
#include "store/RunStore.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <random>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace mode;
using namespace mode::test;
using json = nlohmann::json;

namespace {

const std::string kBin = programDir();

std::string table(int rows, const std::string& firstA = "") {
    std::mt19937 rng(11);
    std::normal_distribution<double> n(0, 1);
    std::ostringstream out;
    out << "a,b,c,label\n";
    for (int i = 0; i < rows; ++i) {
        const double a = n(rng), b = n(rng), c = n(rng);
        out << (i == 0 && !firstA.empty() ? firstA : std::to_string(a)) << "," << b << "," << c
            << "," << (a + b > 0 ? "yes" : "no") << "\n";
    }
    return out.str();
}

// One trained run (3 epochs, every epoch's model kept) in a store of its own.
struct StoredRun {
    TempDir dir;
    std::string db = dir / "runs.sqlite";
    std::string csv;
    std::int64_t id = 0;
    explicit StoredRun(int rows = 300, const std::string& more = "")
        : csv(dir.file("train.csv", table(rows))) {
        const auto r = runCommand(kBin + "/mode-train --data " + csv +
                                  " --epochs 3 --experts 3 --threads 1 --device cpu "
                                  "--keep-models every -q --json --db " +
                                  db + " " + more);
        EXPECT_EQ(r.exitCode, 0) << r.err;
        id = json::parse(r.out)["run_id"].get<std::int64_t>();
    }
    std::string runs(const std::string& args) const {
        return kBin + "/mode-runs --db " + db + " " + args;
    }
    std::string predict(const std::string& args) const {
        return kBin + "/mode-predict -q --run " + std::to_string(id) + " --db " + db + " " + args;
    }
    std::string idText() const { return std::to_string(id); }
};

// The files of a folder whose name starts with a dot and holds ".tmp-": temporaries left behind.
std::vector<std::string> temporaries(const std::filesystem::path& folder) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(folder)) {
        const auto name = e.path().filename().string();
        if (name.find(".tmp-") != std::string::npos) out.push_back(name);
    }
    return out;
}

} // namespace

// --out onto the store (by its name, or a link to it), onto the data file, or a model whose
// sidecar is itself or the store: refused before anything is written; both stay byte-identical.
TEST(FaultsCli, AnOutputOntoTheStoreOrAnInputIsRefusedAndChangesNothing) {
    StoredRun run;
    const std::string link = run.dir / "link.sqlite";
    ASSERT_EQ(::symlink(run.db.c_str(), link.c_str()), 0);
    const std::string storeLinkJson = run.dir / "store.json"; // the sidecar of store.pt
    ASSERT_EQ(::symlink(run.db.c_str(), storeLinkJson.c_str()), 0);
    const std::string store = readFile(run.db), data = readFile(run.csv);
    const std::vector<std::pair<std::string, std::string>> cases{
        {run.predict("--split test --out " + run.db), "is the run store"},
        {run.predict("--split test --out " + link), "is the run store"},
        {run.predict("--data " + run.csv + " --out " + run.csv), "is the data file"},
        {run.predict("--split test --out " + run.csv), "is the run's data file"},
        {run.runs("export " + run.idText() + " --csv -o " + link), "is the run store"},
        {run.runs("routing " + run.idText() + " -o " + run.db), "is the run store"},
        {run.runs("export-model " + run.idText() + " --out " + link), "is the run store"},
        {run.runs("export-model " + run.idText() + " --out " + (run.dir / "store.pt")),
         "the sidecar " + storeLinkJson + " is the run store"},
        {run.runs("export-model " + run.idText() + " --out " + (run.dir / "m.json")),
         "would be replaced by the model's sidecar"}};
    for (const auto& [command, message] : cases) {
        SCOPED_TRACE(command);
        const auto r = runCommand(command);
        EXPECT_NE(r.exitCode, 0);
        EXPECT_CONTAINS(r.err, message);
        EXPECT_TRUE(readFile(run.db) == store) << "the store changed";
        EXPECT_TRUE(readFile(run.csv) == data) << "the data file changed";
    }
    EXPECT_FALSE(std::filesystem::exists(run.dir / "m.json"));
    EXPECT_EQ(runCommand(run.runs("list")).exitCode, 0);
}

// An output that fails part-way (here: at a file-size limit of 64 KiB, as on a full disk)
// leaves the file that was there untouched and no temporary file beside it; the exit is
// non-zero with the reason. (The predictions of 2,100 rows and the model are larger.)
TEST(FaultsCli, AnOutputThatFailsPartWayLeavesNoPartialFile) {
    StoredRun run(3000, "--hidden 128,128");
    const std::string out = run.dir.file("predictions.csv", "the previous predictions\n");
    const std::string limit = "trap '' XFSZ; ulimit -f 64; "; // bash counts KiB
    for (const auto& command :
         {run.predict("--split train --out " + out),
          run.runs("export-model " + run.idText() + " --out " + (run.dir / "m.pt"))}) {
        SCOPED_TRACE(command);
        const auto r = runCommand("bash -c \"" + limit + command + "\"");
        EXPECT_NE(r.exitCode, 0);
        EXPECT_CONTAINS(r.err, "cannot write");
        EXPECT_TRUE(readFile(out) == "the previous predictions\n") << "the file was replaced";
        EXPECT_TRUE(temporaries(run.dir.path()).empty());
    }
    EXPECT_FALSE(std::filesystem::exists(run.dir / "m.pt"));
    // Without the limit the same commands replace the file whole.
    ASSERT_EQ(runCommand(run.predict("--split train --out " + out)).exitCode, 0);
    EXPECT_EQ(readFile(out).rfind("row,prediction,target", 0), 0u);
}

// Standard output that cannot be written (a full disk: /dev/full) is an error for every program
// that writes to it, and export-model into /dev/full ends with a message, not an abort.
TEST(FaultsCli, AFullStandardOutputExitsNonZeroForEveryProgram) {
    if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full here";
    StoredRun run;
    for (const auto& command :
         {run.predict("--split test"), run.predict("--split test --format json"), run.runs("list"),
          run.runs("list --json"), run.runs("show " + run.idText()),
          run.runs("export " + run.idText() + " --csv"), run.runs("routing " + run.idText()),
          run.runs("check"), run.runs("compare"), kBin + "/mode-train --print-config",
          kBin + "/mode-sweep --help", kBin + "/mode-runs --help"}) {
        SCOPED_TRACE(command);
        const auto r = runCommand("(" + command + " > /dev/full)");
        EXPECT_NE(r.exitCode, 0);
        EXPECT_CONTAINS(r.err, "cannot write to standard output");
    }
    const auto r = runCommand(run.runs("export-model " + run.idText() + " --out /dev/full"));
    EXPECT_NE(r.exitCode, 0);
    EXPECT_LT(r.exitCode, 128) << "killed by a signal";
    EXPECT_CONTAINS(r.err, "cannot write /dev/full");
    EXPECT_EQ(r.err.find("Exception raised from"), std::string::npos) << "a LibTorch trace";
    // A missing folder: the reason, no trace.
    const auto missing =
        runCommand(run.runs("export-model " + run.idText() + " --out " + (run.dir / "no/m.pt")));
    EXPECT_NE(missing.exitCode, 0);
    EXPECT_CONTAINS(missing.err, "does not exist");
    EXPECT_EQ(missing.err.find("Exception raised from"), std::string::npos);
}

namespace {

// Changes one byte of a stored blob (its checksum left as it was), as a disk error would.
void damage(const std::string& db, const std::string& table, const std::string& column,
            const std::string& where, std::size_t at) {
    SQLite::Database d(db, SQLite::OPEN_READWRITE);
    std::string blob =
        d.execAndGet("SELECT " + column + " FROM " + table + " WHERE " + where).getString();
    ASSERT_LT(at, blob.size());
    blob[at] = static_cast<char>(blob[at] ^ 0x5a);
    SQLite::Statement put(d, "UPDATE " + table + " SET " + column + " = ? WHERE " + where);
    put.bind(1, blob.data(), static_cast<int>(blob.size()));
    put.exec();
}

} // namespace

// A byte changed in a kept model, the checkpoint or a routing blob: mode-predict, export-model,
// routing and mode-runs check refuse it by name, a resume from the damaged checkpoint is refused
// with the stored epochs left as they are; the intact models still predict.
TEST(FaultsCli, DamagedStoredBytesAreRefusedByEveryReader) {
    StoredRun run;
    for (const std::size_t at : {std::size_t{83}, std::size_t{1500}}) {
        SCOPED_TRACE("byte " + std::to_string(at));
        StoredRun fresh;
        damage(fresh.db, "models", "state", "epoch = 2", at);
        damage(fresh.db, "checkpoints", "state", "run_id = 1", at + 1);
        damage(fresh.db, "sample_routing", "samples", "epoch = 1", at / 4);
        const std::string model = "the stored model of epoch 2 of run 1 fails its checksum";
        const std::string checkpoint =
            "the stored checkpoint of run 1 (epoch 3) fails its checksum";
        const std::string routing = "the stored routing of epoch 1 of run 1 fails its checksum";
        for (const auto& [command, message] : std::vector<std::pair<std::string, std::string>>{
                 {fresh.predict("--split test --epoch 2"), model},
                 {fresh.predict("--split test"), checkpoint},
                 {fresh.runs("export-model 1 --epoch 2 --out " + (fresh.dir / "m.pt")), model},
                 {fresh.runs("routing 1 --epoch 1"), routing}}) {
            SCOPED_TRACE(command);
            const auto r = runCommand(command);
            EXPECT_EQ(r.exitCode, 2);
            EXPECT_CONTAINS(r.err, message);
        }
        EXPECT_FALSE(std::filesystem::exists(fresh.dir / "m.pt"));
        const auto check = runCommand(fresh.runs("check"));
        EXPECT_EQ(check.exitCode, 1);
        EXPECT_CONTAINS(check.out, model);
        EXPECT_CONTAINS(check.out, checkpoint);
        EXPECT_CONTAINS(check.out, routing);
        EXPECT_CONTAINS(check.out, "3 damaged stored blobs");
        EXPECT_EQ(runCommand(fresh.predict("--split test --epoch 1")).exitCode, 0);
        // A run stopped before its end, resumed from the damaged checkpoint: refused.
        SQLite::Database(fresh.db, SQLite::OPEN_READWRITE)
            .exec("UPDATE runs SET status = 'stopped' WHERE id = 1");
        const auto resume =
            runCommand(kBin + "/mode-train -q --threads 1 --db " + fresh.db + " --resume 1");
        EXPECT_EQ(resume.exitCode, 2);
        EXPECT_CONTAINS(resume.err, checkpoint);
        EXPECT_CONTAINS(resume.err, "Its 3 stored epochs stay as they are");
        RunStore store(fresh.db, RunStore::Mode::ReadOnly);
        EXPECT_EQ(store.epochs(1).size(), 3u);
    }
    // The undamaged store checks clean.
    const auto clean = runCommand(run.runs("check"));
    EXPECT_EQ(clean.exitCode, 0) << clean.out;
    EXPECT_CONTAINS(clean.out, "every stored model, checkpoint and routing reads back intact");
}

// A cell a 32-bit model cannot hold (1e308, 4e38) is refused as mode-train refuses it, naming
// the column and line, never predicted as NaN and counted right; so is a stored scale of 0.
TEST(FaultsCli, NumbersAFloatCannotHoldAndAZeroScaleAreRefused) {
    StoredRun run;
    for (const std::string cell : {"1e308", "4e38", "-3.5e38"}) {
        SCOPED_TRACE(cell);
        const std::string file = run.dir.file("big.csv", table(50, cell));
        const auto r = runCommand(run.predict("--data " + file));
        EXPECT_EQ(r.exitCode, 2);
        EXPECT_CONTAINS(r.err, "big.csv:2: column 'a': " + cell + " is too large");
    }
    const std::string file = run.dir.file("ok.csv", table(50));
    ASSERT_EQ(runCommand(run.predict("--data " + file)).exitCode, 0);
    {
        SQLite::Database d(run.db, SQLite::OPEN_READWRITE);
        json start = json::parse(d.execAndGet("SELECT start_json FROM runs").getString());
        start["preprocessing"]["scale"][0] = 0.0;
        SQLite::Statement put(d, "UPDATE runs SET start_json = ?");
        put.bind(1, start.dump());
        put.exec();
    }
    const auto r = runCommand(run.predict("--data " + file));
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "the run's stored preprocessing is damaged: input 'a' has mean");
}

// A folder, FIFO or device given as data, store or experiment/sweep file is refused at once with
// the right reason (never a hang, never "disk I/O error"); an experiment file is read up to
// 16 MiB, so /dev/zero or a huge file fails fast.
TEST(FaultsCli, OnlyRegularFilesAreReadAsDataStoreOrConfig) {
    StoredRun run;
    const std::string fifo = run.dir / "fifo";
    if (::mkfifo(fifo.c_str(), 0600) != 0) GTEST_SKIP() << "cannot make a FIFO here";
    const std::string folder = run.dir / "folder";
    std::filesystem::create_directory(folder);
    const std::string nullLink = run.dir / "null.sqlite";
    ASSERT_EQ(::symlink("/dev/null", nullLink.c_str()), 0);
    // "timeout": a hang is a failure, not a stuck test.
    const std::string t = "timeout 60 ";
    const std::string train = t + kBin + "/mode-train -q --epochs 1 --device cpu --data " + run.csv;
    for (const auto& [command, message] : std::vector<std::pair<std::string, std::string>>{
             {t + run.predict("--data " + fifo), "is not a regular file"},
             {t + run.predict("--data " + folder), "is a folder"},
             {t + kBin + "/mode-runs --db " + fifo + " list", "is not a regular file"},
             {t + kBin + "/mode-runs --db " + fifo + " check", "is not a regular file"},
             {t + kBin + "/mode-runs --db " + folder + " list", "it is a folder"},
             {t + kBin + "/mode-runs --db " + nullLink + " list", "is not a regular file"},
             {t + kBin + "/mode-predict --run 1 --split test --db " + folder, "it is a folder"},
             {train + " --db " + folder, "it is a folder"},
             {train + " --db " + fifo, "is not a regular file"},
             {t + kBin + "/mode-train --config /dev/zero", "is not a regular file"},
             {t + kBin + "/mode-train --config " + fifo, "is not a regular file"},
             {t + kBin + "/mode-train --config " + folder, "directory"},
             {t + kBin + "/mode-sweep /dev/zero --dry-run", "is not a regular file"}}) {
        SCOPED_TRACE(command);
        const auto r = runCommand(command);
        EXPECT_EQ(r.exitCode, 2);
        EXPECT_CONTAINS(r.err, message);
        EXPECT_EQ(r.err.find("disk I/O error"), std::string::npos);
    }
    // A 17 MiB experiment file: refused by its size, before it is parsed.
    const std::string huge =
        run.dir.file("huge.json", "{\"name\": \"" + std::string(17u << 20, 'x') + "\"}");
    auto r = runCommand(kBin + "/mode-train --print-config --config " + huge);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "is larger than 16 MiB");
    const std::string sweep =
        run.dir.file("sweep.json", "{\"base_file\": \"huge.json\", \"grid\": {}}");
    r = runCommand(kBin + "/mode-sweep " + sweep + " --dry-run");
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "is larger than 16 MiB");
}

// null anywhere in an experiment file is an error naming the key (it trained the default 20
// epochs); --shard and --epoch take no negative numbers.
TEST(FaultsCli, NullSettingsAndNegativeNumbersAreRefused) {
    StoredRun run;
    for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
             {R"({"train": {"epochs": null}})", "'train.epochs' is null"},
             {R"({"model": null})", "'model' is null"},
             {R"({"loss": {"alpha": null}})", "'loss.alpha' is null"}}) {
        const std::string file = run.dir.file("null.json", text);
        const auto r = runCommand(kBin + "/mode-train --print-config --config " + file);
        EXPECT_EQ(r.exitCode, 2) << text;
        EXPECT_CONTAINS(r.err, key);
    }
    const std::string sweep =
        run.dir.file("sweep.json", R"({"base": {}, "grid": {"loss.alpha": [0, 0.1]}})");
    for (const std::string shard : {"0/-2", "-1/2", "0/ 2", "0/2x"}) {
        const auto r = runCommand(kBin + "/mode-sweep " + sweep + " --dry-run --shard '" + shard +
                                  "' --db " + (run.dir / "s.sqlite"));
        EXPECT_EQ(r.exitCode, 2) << shard;
        EXPECT_CONTAINS(r.err, "--shard '" + shard + "'");
    }
    for (const auto& command :
         {run.predict("--split test --epoch -5"), run.runs("routing 1 --epoch -5"),
          run.runs("export-model 1 --epoch -5 --out " + (run.dir / "m.pt"))}) {
        const auto r = runCommand(command);
        EXPECT_EQ(r.exitCode, 2) << command;
        EXPECT_CONTAINS(r.err, "--epoch");
    }
}

// A model too big for the machine is refused before training (and before anything is stored),
// naming model.hidden, where it grew until the kernel killed it or printed an allocator trace.
TEST(FaultsCli, AModelTooBigForTheMachineIsRefusedNamingItsSize) {
    StoredRun run;
    const std::string db = run.dir / "big.sqlite";
    const auto r = runCommand("timeout 120 " + kBin + "/mode-train -q --device cpu --data " +
                              run.csv + " --hidden 65536,65536 --experts 16 --db " + db);
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_CONTAINS(r.err, "model.hidden [65536, 65536] with model.experts 16");
    EXPECT_CONTAINS(r.err, "of memory");
    EXPECT_EQ(r.err.find("Exception raised from"), std::string::npos);
    EXPECT_CONTAINS(runCommand(kBin + "/mode-runs --db " + db + " list").out, "no runs");
}

// `mode-runs delete` of a run that a live process is training is refused (the trainer would
// report epochs the store no longer holds); once the trainer is gone, delete works.
TEST(FaultsCli, ARunBeingTrainedIsNotDeleted) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    const std::string csv = dir.file("train.csv", table(300));
    const auto started = runCommand("(" + kBin + "/mode-train --data " + csv +
                                    " --epochs 100000 --threads 1 --device cpu -q --db " + db +
                                    " >/dev/null 2>&1 & echo $!)");
    const std::string pid = started.out.substr(0, started.out.find('\n'));
    ASSERT_FALSE(pid.empty());
    const std::string runs = kBin + "/mode-runs --db " + db;
    ASSERT_GE(waitForStoredEpochs(runs, 1), 1);
    const auto refused = runCommand(runs + " delete 1");
    EXPECT_EQ(refused.exitCode, 2);
    EXPECT_CONTAINS(refused.err, "run 1 is being trained by a live process");
    EXPECT_CONTAINS(runCommand(runs + " list").out, "running");
    runCommand("kill -INT " + pid);
    for (int i = 0; i < 600 && runCommand("kill -0 " + pid + " 2>/dev/null").exitCode == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const auto deleted = runCommand(runs + " delete 1");
    EXPECT_EQ(deleted.exitCode, 0) << deleted.err;
    EXPECT_CONTAINS(runCommand(runs + " list").out, "no runs");
}

// A second mode-sweep on the sweep file and store another is running is refused at once (it ran
// every point twice); the first releases its claim when it ends.
TEST(FaultsCli, ASecondSweepOnTheSameFileAndStoreIsRefused) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    const std::string file = dir.file(
        "long.json",
        R"({"name": "long", "base": {"train": {"epochs": 400, "threads": 1, "device": "cpu"},
            "data": {"regimes": {"samples": 600}}}, "grid": {"loss.alpha": [0, 0.3]}})");
    const auto started = runCommand("(" + kBin + "/mode-sweep " + file + " -j 2 -q --db " + db +
                                    " >/dev/null 2>" + (dir / "err") + " & echo $!)");
    const std::string pid = started.out.substr(0, started.out.find('\n'));
    ASSERT_FALSE(pid.empty());
    ASSERT_GE(waitForStoredEpochs(kBin + "/mode-runs --db " + db, 1), 1);
    const auto second = runCommand(kBin + "/mode-sweep " + file + " -q --db " + db);
    EXPECT_EQ(second.exitCode, 2);
    EXPECT_CONTAINS(second.err, "another mode-sweep (process " + pid);
    EXPECT_CONTAINS(second.err, "is running this sweep into this store");
    runCommand("kill -INT " + pid);
    for (int i = 0; i < 600 && runCommand("kill -0 " + pid + " 2>/dev/null").exitCode == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    SQLite::Database store(db);
    EXPECT_EQ(store.execAndGet("SELECT count(*) FROM sweep_claims").getInt(), 0)
        << "released on its way out";
    EXPECT_EQ(store.execAndGet("SELECT count(*) FROM runs").getInt(), 2) << "each point once";
}

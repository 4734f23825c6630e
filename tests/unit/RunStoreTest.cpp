// SPDX-License-Identifier: GPL-3.0-or-later
// The run store: round trips, migration, filters, downsampling, stale writers, concurrent reads,
// bad files and bad ids.

#include "store/RunStore.h"
#include "store/RunExport.h"
#include "store/SampleBlob.h"
#include "train/Metrics.h"

#include "TestSupport.h"

#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace mode;
using namespace mode::test;

namespace {

ExperimentConfig config(double alpha = 0.1, int experts = 3,
                        const std::string& dataset = "regimes") {
    ExperimentConfig c;
    c.loss.alpha = alpha;
    c.model.experts = experts;
    c.data.dataset = dataset;
    c.train.seed = 7;
    return c;
}

RunStart start(int experts = 3, const std::string& dataset = "regimes") {
    RunStart s;
    s.device = "cpu";
    s.libtorchVersion = "1.13.0";
    s.datasetName = dataset;
    s.datasetFingerprint = "100:abc";
    s.trainRows = 70;
    s.valRows = 15;
    s.testRows = 15;
    s.features = 8;
    s.parameters = 1234;
    s.stepsPerEpoch = 5;
    s.epochs = 2;
    s.experts = experts;
    s.classNames = {"a", "b"};
    s.subtaskNames = {"r0", "r1"};
    return s;
}

RoutingMatrix routing(int experts, double base) {
    RoutingMatrix m;
    m.rowNames = {"a", "b"};
    m.experts = experts;
    for (int i = 0; i < 2 * experts; ++i) {
        m.meanGate.push_back(base + i * 0.01);
        m.argmaxShare.push_back(base / 2 + i * 0.02);
    }
    m.rowCounts = {9, 6};
    return m;
}

EpochMetrics epoch(int e, int experts = 3) {
    EpochMetrics m;
    m.epoch = e;
    m.step = e * 5;
    m.wallSeconds = e * 0.5;
    m.trainLoss = 1.0 / e;
    m.trainTaskLoss = 0.9 / e;
    m.trainDistillLoss = 0.1 / e;
    m.trainAccuracy = 0.5 + e * 0.1;
    m.valLoss = 1.1 / e;
    m.valAccuracy = 0.4 + e * 0.1;
    m.testLoss = 1.2 / e;
    m.testAccuracy = 0.45 + e * 0.1;
    m.gateEntropy = 0.9;
    m.expertSimilarity = 0.3;
    m.gateRoutingAccuracy = 0.75;
    m.routingByClass = routing(experts, 0.1 * e);
    m.routingBySubtask = routing(experts, 0.2 * e);
    for (int x = 0; x < experts; ++x) {
        ExpertMetrics em;
        em.expert = x;
        em.allocated = 5;
        if (x != 1) em.probingAccuracy = 0.6 + x * 0.1; // expert 1 got no samples: no probing
        em.load = 1.0 / experts;
        em.share = 1.0 / experts;
        em.similarity = 0.2 + x * 0.05;
        m.experts.push_back(em);
    }
    return m;
}

std::vector<StepMetrics> steps(int epochNo, std::int64_t first, int n) {
    std::vector<StepMetrics> v;
    for (int i = 0; i < n; ++i) {
        StepMetrics s;
        s.epoch = epochNo;
        s.step = first + i;
        s.stepInEpoch = i + 1;
        s.total = static_cast<double>(s.step);
        s.task = s.step * 0.5;
        s.distill = s.step * 0.25;
        s.balance = 0.125;
        s.samplesPerSecond = 1000;
        s.wallSeconds = s.step * 0.01;
        v.push_back(s);
    }
    return v;
}

// A process id that is certainly not running: a child that has exited and been reaped.
std::int64_t deadPid() {
    pid_t p = fork();
    if (p == 0) _exit(0);
    int status = 0;
    waitpid(p, &status, 0);
    return p;
}

} // namespace

TEST(RunStore, CreatesTheFileWithTheCurrentSchemaInWalMode) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    EXPECT_EQ(store.schemaVersion(), RunStore::kSchemaVersion);
    SQLite::Database db(dir / "runs.sqlite");
    EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
}

TEST(RunStore, RoundTripOfEveryKindOfRecord) {
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    std::int64_t id = 0;
    {
        RunStore store(path);
        id = store.beginRun(config(0.3, 3), start(), "first");
        store.appendSteps(id, steps(1, 1, 5));
        store.appendEpoch(id, epoch(1));
        store.appendEpoch(id, epoch(2), steps(2, 6, 5));
        store.saveCheckpoint(id, Checkpoint{2, 10, 1.0, std::string("\0bytes\xff", 7)});
        RunResult r;
        r.status = RunStatus::Finished;
        r.epochsCompleted = 2;
        r.steps = 10;
        r.wallSeconds = 1.25;
        store.finishRun(id, r);
        store.addTag(id, "baseline");
        store.addTag(id, "a-tag");
        store.setNotes(id, "notes with 'quotes'; DROP TABLE runs;");
        store.rename(id, "renamed");
    }
    RunStore store(path, RunStore::Mode::ReadOnly);
    auto rec = store.run(id);
    EXPECT_EQ(rec.name, "renamed");
    EXPECT_EQ(rec.status, RunStatus::Finished);
    EXPECT_DOUBLE_EQ(rec.alpha, 0.3);
    EXPECT_EQ(rec.experts, 3);
    EXPECT_EQ(rec.seed, 7);
    EXPECT_EQ(rec.device, "cpu");
    EXPECT_EQ(rec.libtorchVersion, "1.13.0");
    EXPECT_EQ(rec.modeVersion, MODE_VERSION);
    EXPECT_EQ(rec.dataset, "regimes");
    EXPECT_EQ(rec.datasetFingerprint, "100:abc");
    EXPECT_EQ(rec.configHash.size(), 16u);
    EXPECT_EQ(rec.config().loss.alpha, 0.3);
    EXPECT_EQ(rec.start.classNames, (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(rec.start.parameters, 1234);
    EXPECT_EQ(rec.epochsCompleted, 2);
    EXPECT_EQ(rec.steps, 10);
    EXPECT_DOUBLE_EQ(rec.wallSeconds, 1.25);
    EXPECT_DOUBLE_EQ(*rec.testAccuracy, 0.65);
    EXPECT_DOUBLE_EQ(*rec.bestValAccuracy, 0.6);
    EXPECT_DOUBLE_EQ(*rec.gateRoutingAccuracy, 0.75);
    EXPECT_EQ(rec.tags, (std::vector<std::string>{"a-tag", "baseline"}));
    EXPECT_EQ(rec.notes, "notes with 'quotes'; DROP TABLE runs;");
    EXPECT_TRUE(rec.endedAt.has_value());
    EXPECT_TRUE(rec.hasCheckpoint);

    auto s = store.steps(id);
    ASSERT_EQ(s.size(), 10u);
    EXPECT_EQ(s[7].step, 8);
    EXPECT_EQ(s[7].epoch, 2);
    EXPECT_EQ(s[7].stepInEpoch, 3);
    EXPECT_DOUBLE_EQ(s[7].total, 8.0);
    EXPECT_DOUBLE_EQ(s[7].distill, 2.0);

    auto e = store.epochs(id);
    ASSERT_EQ(e.size(), 2u);
    const auto want = epoch(2);
    EXPECT_DOUBLE_EQ(e[1].valAccuracy, want.valAccuracy);
    EXPECT_DOUBLE_EQ(e[1].trainDistillLoss, want.trainDistillLoss);
    EXPECT_FALSE(e[1].testR2.has_value());
    EXPECT_EQ(e[1].routingByClass.meanGate, want.routingByClass.meanGate);
    EXPECT_EQ(e[1].routingByClass.rowNames, want.routingByClass.rowNames);
    ASSERT_TRUE(e[1].routingBySubtask.has_value());
    EXPECT_EQ(e[1].routingBySubtask->argmaxShare, want.routingBySubtask->argmaxShare);
    ASSERT_EQ(e[1].experts.size(), 3u);
    EXPECT_FALSE(e[1].experts[1].probingAccuracy.has_value());
    EXPECT_DOUBLE_EQ(*e[1].experts[2].probingAccuracy, 0.8);
    EXPECT_DOUBLE_EQ(e[1].experts[2].similarity, 0.3);

    auto c = store.checkpoint(id);
    ASSERT_TRUE(c.has_value());
    EXPECT_EQ(c->epoch, 2);
    EXPECT_EQ(c->state, std::string("\0bytes\xff", 7));
}

TEST(RunStore, ACheckpointReplacesThePreviousOne) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    auto id = store.beginRun(config(), start(), "");
    store.saveCheckpoint(id, Checkpoint{1, 5, 0.5, "one"});
    store.saveCheckpoint(id, Checkpoint{2, 10, 1.0, "two"});
    EXPECT_EQ(store.checkpoint(id)->state, "two");
    const auto where = store.checkpoint(id, /*withState=*/false); // the position alone
    ASSERT_TRUE(where.has_value());
    EXPECT_EQ(where->epoch, 2);
    EXPECT_EQ(where->step, 10);
    EXPECT_TRUE(where->state.empty());
    SQLite::Database db(dir / "runs.sqlite");
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM checkpoints").getInt(), 1);
}

// Kept models: the best validation epoch's replaces the one kept only when it scores higher (the
// first of equals stays; an epoch without a score never replaces one); every epoch's are all
// kept; the checkpoint's epoch counts among the kept.
TEST(RunStore, KeepsTheBestValidationEpochsModelOrEveryEpochs) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    const auto id = store.beginRun(config(), start(), "best");
    const double val[] = {0.50, 0.70, 0.60, 0.70, std::nan(""), 0.80};
    std::vector<int> keptAfter;
    for (int e = 1; e <= 6; ++e) {
        EpochMetrics m = epoch(e);
        m.valAccuracy = val[e - 1];
        store.appendEpoch(id, m);
        store.saveModel(id, e, "model " + std::to_string(e), /*ifBest=*/true);
        store.saveCheckpoint(id, Checkpoint{e, e * 5, 0.1 * e, "state " + std::to_string(e)});
        const auto kept = store.modelEpochs(id); // the best so far and the checkpoint's
        keptAfter.push_back(kept.front());
        EXPECT_EQ(kept.back(), e);
    }
    EXPECT_EQ(keptAfter, (std::vector<int>{1, 2, 2, 2, 2, 6}));
    EXPECT_EQ(store.modelEpochs(id), std::vector<int>{6});
    EXPECT_EQ(store.model(id, 6)->state, "model 6") << "the kept model before the checkpoint";
    EXPECT_FALSE(store.model(id, 2)) << "replaced by epoch 6's";

    const auto every = store.beginRun(config(), start(), "every");
    for (int e = 1; e <= 3; ++e) {
        store.appendEpoch(every, epoch(e));
        store.saveModel(every, e, "m" + std::to_string(e), false);
    }
    store.saveCheckpoint(every, Checkpoint{3, 15, 0.3, "state 3"});
    EXPECT_EQ(store.modelEpochs(every), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(store.model(every, 2)->state, "m2");
    EXPECT_FALSE(store.model(every, 4));
    // Resumed keeping the best: a better epoch is added, and every epoch's models stay.
    EpochMetrics better = epoch(4);
    better.valAccuracy = 0.99;
    store.appendEpoch(every, better);
    store.saveModel(every, 4, "m4", /*ifBest=*/true);
    EpochMetrics worse = epoch(5);
    worse.valAccuracy = 0.10;
    store.appendEpoch(every, worse);
    store.saveModel(every, 5, "m5", /*ifBest=*/true);
    EpochMetrics best = epoch(6);
    best.valAccuracy = 0.995;
    store.appendEpoch(every, best);
    store.saveModel(every, 6, "m6", /*ifBest=*/true);
    EXPECT_EQ(store.modelEpochs(every), (std::vector<int>{1, 2, 3, 6}))
        << "epoch 4's (the previous best) replaced, epoch 5 not kept, 1-3 kept";

    // Only the checkpoint: its epoch is the one model.
    const auto last = store.beginRun(config(), start(), "last");
    store.saveCheckpoint(last, Checkpoint{2, 10, 0.2, "state"});
    EXPECT_EQ(store.modelEpochs(last), std::vector<int>{2});
    EXPECT_EQ(store.model(last, 2)->state, "state");
}

TEST(RunStore, MigratesAFileOfTheFirstVersion) {
    TempDir dir;
    const std::string path = dir / "v1.sqlite";
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec(runStoreSchemaV1());
        db.exec("PRAGMA user_version = 1");
        db.exec("INSERT INTO runs (name, status, started_at, ended_at, config_json, config_hash, "
                "dataset, experts, alpha, "
                "epochs_completed, test_accuracy) VALUES ('old run', 'finished', 1700000000, "
                "1700000060, '" +
                config(0.01, 5).toJson().dump() + "', 'h', 'regimes', 5, 0.01, 3, 0.875)");
        db.exec("INSERT INTO steps (run_id, step, epoch, loss) VALUES (1, 1, 1, 2.5)");
        db.exec("INSERT INTO run_tags (run_id, tag) VALUES (1, 'v1')");
    }
    RunStore store(path);
    EXPECT_EQ(store.schemaVersion(), RunStore::kSchemaVersion);
    auto r = store.run(1);
    EXPECT_EQ(r.name, "old run");
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.experts, 5);
    EXPECT_DOUBLE_EQ(*r.testAccuracy, 0.875);
    EXPECT_DOUBLE_EQ(r.heartbeatAt, 1700000060) << "the heartbeat of an old run is its end";
    EXPECT_EQ(r.tags, std::vector<std::string>{"v1"});
    EXPECT_EQ(r.notes, "");
    EXPECT_EQ(store.steps(1).size(), 1u);
    store.setNotes(1, "added after the migration");
    store.saveCheckpoint(1, Checkpoint{3, 3, 1, "state"});
    EXPECT_EQ(store.run(1).notes, "added after the migration");
    EXPECT_EQ(store.integrityCheck(), "ok");
}

TEST(RunStore, RefusesANewerSchemaAForeignDatabaseAndJunk) {
    TempDir dir;
    {
        SQLite::Database db(dir / "newer.sqlite", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA user_version = 99");
    }
    {
        SQLite::Database db(dir / "other.sqlite", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE invoices (id INTEGER)");
    }
    dir.file("junk.sqlite", std::string(4096, 'x'));
    auto message = [](const std::string& path) {
        try {
            RunStore s(path);
        } catch (const RunStoreError& e) {
            return std::string(e.what());
        }
        return std::string("opened");
    };
    EXPECT_NE(message(dir / "newer.sqlite").find("newer than this program"), std::string::npos)
        << message(dir / "newer.sqlite");
    EXPECT_NE(message(dir / "other.sqlite").find("another program"), std::string::npos)
        << message(dir / "other.sqlite");
    const auto junk = message(dir / "junk.sqlite");
    EXPECT_NE(junk.find("junk.sqlite"), std::string::npos) << junk;
    EXPECT_NE(junk.find("not a run store"), std::string::npos) << junk;
    EXPECT_EQ(readFile(dir / "junk.sqlite"), std::string(4096, 'x'))
        << "a refused file is left as it was";
    SQLite::Database other(dir / "other.sqlite");
    EXPECT_TRUE(other.tableExists("invoices"));
    EXPECT_FALSE(other.tableExists("runs"));
}

TEST(RunStore, AForeignOrReadOnlyFileIsNotChangedByteForByte) {
    TempDir dir;
    const std::string foreign = dir / "foreign.sqlite", lookalike = dir / "lookalike.sqlite",
                      app = dir / "app.sqlite", versioned = dir / "versioned.sqlite";
    {
        SQLite::Database db(foreign, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("CREATE TABLE invoices (id INTEGER)");
        SQLite::Database l(lookalike, SQLite::OPEN_READWRITE |
                                          SQLite::OPEN_CREATE); // has a `runs` table of its own
        l.exec("CREATE TABLE runs (id INTEGER, name TEXT)");
        SQLite::Database a(app, SQLite::OPEN_READWRITE |
                                    SQLite::OPEN_CREATE); // another program's application id
        a.exec("PRAGMA application_id = 1234; PRAGMA user_version = 2; CREATE TABLE t (x)");
        SQLite::Database v(versioned, SQLite::OPEN_READWRITE |
                                          SQLite::OPEN_CREATE); // a schema version, not ours
        v.exec("PRAGMA user_version = 2; CREATE TABLE t (x)");
    }
    for (const auto& path : {foreign, lookalike, app, versioned}) {
        const std::string before = readFile(path);
        for (auto mode : {RunStore::Mode::ReadWrite, RunStore::Mode::ReadOnly}) {
            try {
                RunStore s(path, mode);
                ADD_FAILURE() << path << " opened";
            } catch (const RunStoreError& e) {
                EXPECT_NE(std::string(e.what()).find("another program"), std::string::npos)
                    << e.what();
            }
        }
        EXPECT_EQ(readFile(path), before)
            << path << ": the header (journal mode bytes 18-19) or anything else changed";
        EXPECT_FALSE(std::filesystem::exists(path + "-wal")) << path;
    }
    // A store made read-only is refused for writing even where the file system would allow it
    // (root), and still read.
    const std::string ro = dir / "ro.sqlite";
    { RunStore s(ro); }
    std::filesystem::permissions(ro, std::filesystem::perms::owner_read |
                                         std::filesystem::perms::group_read |
                                         std::filesystem::perms::others_read);
    const std::string before = readFile(ro);
    try {
        RunStore s(ro);
        ADD_FAILURE() << "a read-only store opened for writing";
    } catch (const RunStoreError& e) {
        EXPECT_NE(std::string(e.what()).find("read-only"), std::string::npos) << e.what();
    }
    EXPECT_NO_THROW(RunStore(ro, RunStore::Mode::ReadOnly).listRuns());
    EXPECT_EQ(readFile(ro), before);
    // The project's own stores carry its application id ("MoDE").
    SQLite::Database own(ro, SQLite::OPEN_READONLY);
    EXPECT_EQ(own.execAndGet("PRAGMA application_id").getInt(), 0x4D6F4445);
}

TEST(RunStore, UnknownIdsGiveClearErrors) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    for (auto f : std::vector<std::function<void()>>{
             [&] { store.run(42); }, [&] { store.deleteRun(42); }, [&] { store.rename(42, "x"); },
             [&] { store.addTag(42, "t"); }, [&] { store.steps(42); }, [&] { store.epochs(42); },
             [&] { store.series({42}, "loss"); }}) {
        try {
            f();
            ADD_FAILURE() << "no error for an unknown id";
        } catch (const RunStoreError& e) {
            EXPECT_NE(std::string(e.what()).find("no run with id 42"), std::string::npos)
                << e.what();
        }
    }
    EXPECT_THROW(store.series({}, "no_such_metric"), RunStoreError);
}

TEST(RunStore, ListsNewestFirstWithFilters) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    auto a = store.beginRun(config(0.0, 4), start(), "moe baseline");
    auto b = store.beginRun(config(0.1, 4), start(), "mode");
    auto c = store.beginRun(config(1.0, 8, "iris"), start(8, "iris"), "big alpha");
    RunResult done;
    store.finishRun(a, done);
    store.finishRun(b, done);
    done.status = RunStatus::Diverged;
    store.finishRun(c, done);
    store.addTag(b, "keep");
    store.setNotes(a, "the reference");

    auto ids = [&](const RunFilter& f) {
        std::vector<std::int64_t> v;
        for (const auto& r : store.listRuns(f))
            v.push_back(r.id);
        return v;
    };
    EXPECT_EQ(ids({}), (std::vector<std::int64_t>{c, b, a}));
    RunFilter f;
    f.alphaMin = 0.05;
    f.alphaMax = 0.5;
    EXPECT_EQ(ids(f), std::vector<std::int64_t>{b});
    f = {};
    f.experts = 8;
    EXPECT_EQ(ids(f), std::vector<std::int64_t>{c});
    f = {};
    f.status = RunStatus::Diverged;
    EXPECT_EQ(ids(f), std::vector<std::int64_t>{c});
    f = {};
    f.tag = "keep";
    EXPECT_EQ(ids(f), std::vector<std::int64_t>{b});
    f = {};
    f.dataset = "regimes";
    EXPECT_EQ(ids(f), (std::vector<std::int64_t>{b, a}));
    f = {};
    f.search = "REFERENCE";
    EXPECT_EQ(ids(f), std::vector<std::int64_t>{a});
    f = {};
    f.search = "' OR 1=1 --";
    EXPECT_TRUE(ids(f).empty());
    f = {};
    f.limit = 2;
    EXPECT_EQ(ids(f).size(), 2u);
}

TEST(RunStore, SeriesOfManyRunsWithDownsamplingToBucketMeans) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    auto a = store.beginRun(config(), start(), "a");
    auto b = store.beginRun(config(), start(), "b");
    store.appendSteps(a, steps(1, 1, 1000)); // loss = step
    store.appendSteps(b, steps(1, 1, 7));
    store.appendEpoch(a, epoch(1));
    store.appendEpoch(a, epoch(2));

    auto full = store.series({a, b}, "loss");
    ASSERT_EQ(full[a].size(), 1000u);
    ASSERT_EQ(full[b].size(), 7u);
    EXPECT_DOUBLE_EQ(full[a][999].value, 1000.0);

    auto thin = store.series({a, b}, "loss", 10);
    ASSERT_EQ(thin[a].size(), 10u);
    // Buckets of 100 steps: the mean of 1..100 is 50.5, of 901..1000 is 950.5.
    EXPECT_DOUBLE_EQ(thin[a][0].value, 50.5);
    EXPECT_DOUBLE_EQ(thin[a][0].step, 50.5);
    EXPECT_DOUBLE_EQ(thin[a][9].value, 950.5);
    EXPECT_EQ(thin[b].size(), 7u) << "a series shorter than maxPoints is left whole";

    // 1000 steps into 3 points: buckets of ceil(1000/3) = 334, 334 and 332 steps.
    auto three = store.series({a}, "distill_loss", 3);
    ASSERT_EQ(three[a].size(), 3u);
    EXPECT_DOUBLE_EQ(three[a][0].value, 0.25 * 167.5);
    EXPECT_DOUBLE_EQ(three[a][2].value, 0.25 * (669 + 1000) / 2.0);

    auto val = store.series({a}, "val_accuracy");
    ASSERT_EQ(val[a].size(), 2u);
    EXPECT_DOUBLE_EQ(val[a][1].value, 0.6);
    EXPECT_DOUBLE_EQ(val[a][1].epoch, 2);
}

TEST(RunStore, ARunOfADeadWriterIsMarkedInterruptedOnOpen) {
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    std::int64_t dead = 0, live = 0;
    {
        RunStore store(path);
        dead = store.beginRun(config(), start(), "crashed");
        store.appendSteps(dead, steps(1, 1, 3));
        live = store.beginRun(config(), start(), "still running");
    }
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("UPDATE runs SET writer_pid = " + std::to_string(deadPid()) +
                " WHERE id = " + std::to_string(dead));
    }
    {
        RunStore reader(path, RunStore::Mode::ReadOnly);
        EXPECT_EQ(reader.run(dead).status, RunStatus::Interrupted) << "readers report it at once";
        SQLite::Database db(path);
        EXPECT_EQ(
            db.execAndGet("SELECT status FROM runs WHERE id = " + std::to_string(dead)).getString(),
            "running")
            << "a reader does not write";
    }
    RunStore store(path);
    EXPECT_EQ(store.run(dead).status, RunStatus::Interrupted);
    EXPECT_NE(store.run(dead).message.find("killed or crashed"), std::string::npos);
    EXPECT_EQ(store.steps(dead).size(), 3u) << "what was stored is kept";
    EXPECT_EQ(store.run(live).status, RunStatus::Running) << "this process is alive";
    SQLite::Database db(path);
    EXPECT_EQ(
        db.execAndGet("SELECT status FROM runs WHERE id = " + std::to_string(dead)).getString(),
        "interrupted");
}

// A writer on another host cannot be asked whether its process lives: its heartbeat decides. A
// run whose heartbeat is a minute old is running; one silent for an hour (past the 15 minutes
// allowed) is interrupted. Both ways, so a reversed age comparison fails.
TEST(RunStore, AWriterOnAnotherHostIsJudgedByItsHeartbeatsAge) {
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    std::int64_t recent = 0, silent = 0;
    {
        RunStore store(path);
        recent = store.beginRun(config(), start(), "on another host, writing");
        silent = store.beginRun(config(), start(), "on another host, silent");
    }
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        const double now =
            std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
                .count();
        auto set = [&](std::int64_t id, double age) {
            db.exec("UPDATE runs SET writer_host = 'elsewhere.example', writer_pid = 1, "
                    "heartbeat_at = " +
                    std::to_string(now - age) + " WHERE id = " + std::to_string(id));
        };
        set(recent, 60);
        set(silent, 3600);
    }
    RunStore store(path, RunStore::Mode::ReadOnly);
    EXPECT_EQ(store.run(recent).status, RunStatus::Running) << "a heartbeat a minute old";
    EXPECT_EQ(store.run(silent).status, RunStatus::Interrupted) << "silent for an hour";
}

TEST(RunStore, AReaderSeesWholeEpochsWhileAWriterAppends) {
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    RunStore writer(path);
    const int experts = 4;
    auto id = writer.beginRun(config(0.1, experts), start(experts), "busy");
    std::atomic<bool> done{false};
    std::atomic<int> reads{0}, torn{0};
    std::thread reader([&] {
        RunStore r(path, RunStore::Mode::ReadOnly);
        while (!done) {
            for (const auto& e : r.epochs(id)) {
                if (e.experts.size() != experts || !e.routingBySubtask ||
                    e.routingByClass.experts != experts)
                    ++torn;
            }
            auto s = r.series({id}, "loss");
            if (s[id].size() % 10 != 0) ++torn; // steps are written ten at a time
            ++reads;
        }
    });
    for (int e = 1; e <= 60; ++e)
        writer.appendEpoch(id, epoch(e, experts), steps(e, (e - 1) * 10 + 1, 10));
    while (reads < 5)
        std::this_thread::yield();
    done = true;
    reader.join();
    EXPECT_GT(reads.load(), 0);
    EXPECT_EQ(torn.load(), 0) << "a reader never sees half an epoch";
    EXPECT_EQ(writer.epochs(id).size(), 60u);
}

TEST(RunStore, DeletingARunRemovesEverythingStoredForIt) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    auto a = store.beginRun(config(), start(), "a");
    auto b = store.beginRun(config(), start(), "b");
    for (auto id : {a, b}) {
        store.appendEpoch(id, epoch(1), steps(1, 1, 5));
        store.saveCheckpoint(id, Checkpoint{1, 5, 0.1, "x"});
        store.saveModel(id, 1, "m", false);
        store.addTag(id, "t");
    }
    store.deleteRun(a);
    EXPECT_FALSE(store.hasRun(a));
    EXPECT_EQ(store.epochs(b).size(), 1u);
    SQLite::Database db(dir / "runs.sqlite");
    for (const char* table :
         {"steps", "epochs", "routing", "expert_epochs", "checkpoints", "run_tags", "models"})
        EXPECT_EQ(db.execAndGet(std::string("SELECT count(*) FROM ") + table +
                                " WHERE run_id = " + std::to_string(a))
                      .getInt(),
                  0)
            << table;
}

TEST(RunStore, DefaultPathFollowsXdgDataHome) {
    const char* old = std::getenv("XDG_DATA_HOME");
    std::string saved = old ? old : "";
    setenv("XDG_DATA_HOME", "/some/where", 1);
    EXPECT_EQ(RunStore::defaultPath(), "/some/where/mode-workbench/runs.sqlite");
    setenv("XDG_DATA_HOME", "relative/is/ignored", 1);
    setenv("HOME", "/home/u", 1);
    EXPECT_EQ(RunStore::defaultPath(), "/home/u/.local/share/mode-workbench/runs.sqlite");
    if (old)
        setenv("XDG_DATA_HOME", saved.c_str(), 1);
    else
        unsetenv("XDG_DATA_HOME");
}

TEST(RunStore, MergeCopiesEveryRecordUnderNewIdsAndOnlyOnce) {
    TempDir dir;
    {
        RunStore a(dir / "a.sqlite");
        auto id = a.beginRun(config(0.1), start(), "from a");
        a.appendEpoch(id, epoch(1), steps(1, 1, 5));
        a.saveCheckpoint(id, Checkpoint{1, 5, 0.5, "state-a"});
        a.saveModel(id, 1, "model-a", false);
        a.addTag(id, "shard-a");
        a.finishRun(id, RunResult{});
    }
    RunStore target(dir / "all.sqlite");
    auto own = target.beginRun(config(0.0), start(), "already here");
    target.finishRun(own, RunResult{});
    auto n = target.mergeFrom(dir / "a.sqlite");
    EXPECT_EQ(n.copied, 1);
    EXPECT_EQ(n.skipped, 0);
    auto runs = target.listRuns();
    ASSERT_EQ(runs.size(), 2u);
    const auto& copied = runs[0].name == "from a" ? runs[0] : runs[1];
    EXPECT_NE(copied.id, own);
    EXPECT_EQ(copied.tags, std::vector<std::string>{"shard-a"});
    EXPECT_EQ(target.steps(copied.id).size(), 5u);
    ASSERT_EQ(target.epochs(copied.id).size(), 1u);
    EXPECT_EQ(target.epochs(copied.id)[0].experts.size(), 3u);
    EXPECT_EQ(target.checkpoint(copied.id)->state, "state-a");
    EXPECT_EQ(target.model(copied.id, 1)->state, "model-a") << "the kept model, not the checkpoint";
    EXPECT_EQ(target.mergeFrom(dir / "a.sqlite").skipped, 1) << "merging again copies nothing";
    EXPECT_EQ(target.listRuns().size(), 2u);
    EXPECT_THROW(target.mergeFrom(dir / "all.sqlite"), RunStoreError);
    EXPECT_THROW(target.mergeFrom(dir / "absent.sqlite"), RunStoreError);
}

// Two programs opening a store that does not exist yet, at the same moment (two workbench
// windows, mode-sweep -j 2 on a new file): one creates it, the other waits and finds it made.
// Before the schema was created under the write lock, one of them failed with "table runs
// already exists" about one time in three under load.
TEST(RunStore, OpeningANewStoreFromManyConnectionsAtOnceCreatesItOnce) {
    for (int round = 0; round < 20; ++round) {
        test::TempDir dir;
        const std::string path = dir / "runs.sqlite";
        std::atomic<int> ready{0};
        std::vector<std::string> errors(4);
        std::vector<std::thread> openers;
        for (int i = 0; i < 4; ++i)
            openers.emplace_back([&, i] {
                ++ready;
                while (ready < 4)
                    std::this_thread::yield();
                try {
                    RunStore store(path);
                    store.listRuns();
                } catch (const std::exception& e) {
                    errors[static_cast<std::size_t>(i)] = e.what();
                }
            });
        for (auto& t : openers)
            t.join();
        for (const auto& e : errors)
            ASSERT_TRUE(e.empty()) << "round " << round << ": " << e;
        EXPECT_EQ(RunStore(path).schemaVersion(), RunStore::kSchemaVersion);
    }
}

// The store reads and writes metrics by the catalog's names: every metric comes back as the
// metric it was written as (a value per metric that no other metric has), whatever the order
// of the table's columns.
TEST(RunStoreMetrics, EveryCatalogMetricComesBackUnderItsOwnName) {
    TempDir dir;
    RunStore store(dir / "r.sqlite");
    const auto id = store.beginRun(config(), start(), "named");
    EpochMetrics m = epoch(1);
    double v = 0.125;
    for (const auto& metric : epochMetrics())
        metric.set(m, v += 1.0);
    store.appendEpoch(id, m);
    const auto back = store.epochs(id).at(0);
    v = 0.125;
    for (const auto& metric : epochMetrics())
        EXPECT_EQ(metric.get(back), v += 1.0) << metric.name;
    StepMetrics s;
    s.step = 1;
    s.epoch = 1;
    double w = 0.5;
    for (const auto& metric : stepMetrics())
        metric.set(s, w += 1.0);
    store.appendSteps(id, {s});
    const auto stepBack = store.steps(id).at(0);
    w = 0.5;
    for (const auto& metric : stepMetrics())
        EXPECT_EQ(metric.get(stepBack), w += 1.0) << metric.name;
}

// A metric declared in one place (addEpochMetric) is a column of the store, read back, loaded
// as a series and exported; a store made before it gains its column when opened for writing,
// and read-only it reads as missing.
TEST(RunStoreMetrics, AMetricAddedInOnePlaceIsStoredSeriesAndExported) {
    TempDir dir;
    const std::string path = dir / "old.sqlite";
    std::int64_t oldRun = 0;
    {
        RunStore store(path);
        oldRun = store.beginRun(config(), start(), "before the metric");
        store.appendEpoch(oldRun, epoch(1));
    }
    // Declared once per process (the catalog is the program's; --gtest_repeat runs this again).
    if (!findEpochMetric("test_error_rate")) addEpochMetric({"test_error_rate", "test error rate"});
    EXPECT_THROW(addEpochMetric({"test_error_rate", "twice"}), std::invalid_argument);
    EXPECT_THROW(addEpochMetric({"Bad Name; DROP", "x"}), std::invalid_argument);
    {
        RunStore reader(path, RunStore::Mode::ReadOnly); // the old file, not yet upgraded
        EXPECT_FALSE(findEpochMetric("test_error_rate")->get(reader.epochs(oldRun).at(0)));
    }
    RunStore store(path);
    const auto id = store.beginRun(config(), start(), "with the metric");
    for (int e = 1; e <= 2; ++e) {
        EpochMetrics m = epoch(e);
        m.extra["test_error_rate"] = 0.25 * e;
        store.appendEpoch(id, m);
    }
    const auto epochs = store.epochs(id);
    EXPECT_EQ(epochs.at(1).extra.at("test_error_rate"), 0.5);
    const auto series = store.series({id}, "test_error_rate");
    ASSERT_EQ(series.at(id).size(), 2u);
    EXPECT_EQ(series.at(id)[0].value, 0.25);
    std::ostringstream csv;
    exportEpochsCsv(store, id, csv);
    std::vector<std::vector<std::string>> rows;
    std::istringstream lines(csv.str());
    for (std::string line; std::getline(lines, line);) {
        rows.emplace_back();
        std::istringstream cells(line);
        for (std::string cell; std::getline(cells, cell, ',');)
            rows.back().push_back(cell);
    }
    ASSERT_EQ(rows.size(), 3u);
    const auto column =
        std::find(rows[0].begin(), rows[0].end(), "test_error_rate") - rows[0].begin();
    ASSERT_LT(column, static_cast<long>(rows[0].size())) << "the export has the metric's column";
    EXPECT_EQ(rows[1][static_cast<std::size_t>(column)], "0.25");
    EXPECT_EQ(rows[2][static_cast<std::size_t>(column)], "0.5");
    EXPECT_EQ(exportRunJson(store, id)["epochs"][0]["test_error_rate"], 0.25);
    EXPECT_FALSE(findEpochMetric("test_error_rate")->get(store.epochs(oldRun).at(0)))
        << "an old run has none";
}

// A store named in a folder that does not exist is refused, naming the folder, and nothing is
// created (a typo in --db must not scatter folders).
TEST(RunStoreOpen, AMissingFolderIsNamedAndNotCreated) {
    TempDir dir;
    const std::string path = dir / "no/such/runs.sqlite";
    try {
        RunStore store(path);
        FAIL() << "opened";
    } catch (const RunStoreError& e) {
        EXPECT_CONTAINS(e.what(), "the folder " + (dir / "no/such") + " does not exist");
    }
    EXPECT_FALSE(std::filesystem::exists(dir / "no"));
}

// A metric named like an SQL keyword is still a column: the store quotes its names.
TEST(RunStoreMetrics, AMetricNamedLikeAnSqlKeywordIsStored) {
    if (!findEpochMetric("order")) addEpochMetric({"order", "an SQL keyword"});
    TempDir dir;
    RunStore store(dir / "k.sqlite");
    const auto id = store.beginRun(config(), start(), "keyword");
    EpochMetrics m = epoch(1);
    m.extra["order"] = 7.5;
    store.appendEpoch(id, m);
    EXPECT_EQ(store.epochs(id).at(0).extra.at("order"), 7.5);
    EXPECT_EQ(store.series({id}, "order").at(id).at(0).value, 7.5);
}

// Merging keeps every epoch metric of the source, one this program does not know included (a
// newer version's): the target gains its column and the values.
TEST(RunStoreMetrics, MergeKeepsAMetricOnlyTheSourceHas) {
    TempDir dir;
    const std::string src = dir / "src.sqlite", dst = dir / "dst.sqlite";
    {
        RunStore store(src);
        const auto id = store.beginRun(config(), start(), "from a newer version");
        store.appendEpoch(id, epoch(1));
        RunResult r;
        r.epochsCompleted = 1;
        store.finishRun(id, r);
    }
    {
        SQLite::Database db(src, SQLite::OPEN_READWRITE);
        db.exec("ALTER TABLE epochs ADD COLUMN newer_metric REAL");
        db.exec("UPDATE epochs SET newer_metric = 0.625");
    }
    RunStore target(dst);
    EXPECT_EQ(target.mergeFrom(src).copied, 1);
    SQLite::Database db(dst, SQLite::OPEN_READONLY);
    EXPECT_EQ(db.execAndGet("SELECT newer_metric FROM epochs").getDouble(), 0.625);
    EXPECT_EQ(target.mergeFrom(src).skipped, 1) << "merging twice changes nothing";
}

// Each kept epoch's routing of the test rows: written with the epoch, read back as written
// (weights to 1/65535), deleted with the run, copied by a merge; an epoch without it reads as
// none; a store of version 2 reads (read-only) without it.
TEST(RunStore, KeepsTheTestRowsRoutingOfAnEpoch) {
    TempDir dir;
    const std::string path = dir / "r.sqlite";
    RunStore store(path);
    RunStart four = start(4); // the routing's: 4 experts, 3 classes (values are range-checked)
    four.classNames = {"a", "b", "c"};
    const auto id = store.beginRun(config(0.1, 4), four, "samples");
    auto s = std::make_shared<SampleRouting>();
    s->classification = true;
    s->experts = 4;
    s->row = {7, 3, 11};
    s->label = {2, 0, 1};
    s->topExpert = {3, 0, 1};
    s->topWeight = {0.5f, 0.999f, 0.25f};
    s->prediction = {2, 1, 1};
    s->expertPrediction = {2, 0, 2};
    EpochMetrics m = epoch(1);
    m.samples = s;
    store.appendEpoch(id, m);
    store.appendEpoch(id, epoch(2)); // a thinned epoch: none kept
    EXPECT_EQ(store.sampleRoutingEpochs(id), std::vector<int>{1});
    EXPECT_FALSE(store.sampleRouting(id, 2));
    const auto back = store.sampleRouting(id, 1);
    ASSERT_TRUE(back);
    EXPECT_EQ(back->experts, 4);
    EXPECT_EQ(back->row, s->row);
    EXPECT_EQ(back->label, s->label);
    EXPECT_EQ(back->topExpert, s->topExpert);
    EXPECT_EQ(back->prediction, s->prediction);
    EXPECT_EQ(back->expertPrediction, s->expertPrediction);
    for (std::size_t i = 0; i < 3; ++i)
        EXPECT_NEAR(back->topWeight[i], s->topWeight[i], 1.0 / 65535);
    EXPECT_TRUE(back->similarity.empty()) << "none given, none kept";
    // With the experts' similarity matrix (a later epoch), kept exactly.
    auto withSimilarity = std::make_shared<SampleRouting>(*s);
    withSimilarity->similarity.assign(16, 0.25f);
    withSimilarity->similarity[5] = -0.5f;
    withSimilarity->k = 2; // a top-2 gate: each row's two experts and weights
    withSimilarity->gateExperts = {3, 1, 0, 2, 1, 0};
    withSimilarity->gateWeights = {0.5f, 0.25f, 0.999f, 0.001f, 0.25f, 0.125f};
    EpochMetrics third = epoch(3);
    third.samples = withSimilarity;
    store.appendEpoch(id, third);
    const auto third3 = store.sampleRouting(id, 3);
    EXPECT_EQ(third3->similarity, withSimilarity->similarity);
    EXPECT_EQ(third3->k, 2);
    EXPECT_EQ(third3->gateExperts, withSimilarity->gateExperts);
    for (std::size_t i = 0; i < 6; ++i)
        EXPECT_NEAR(third3->gateWeights[i], withSimilarity->gateWeights[i], 1.0 / 65535);
    // Merged into another store with the run.
    RunStore other(dir / "other.sqlite");
    other.mergeFrom(path);
    const auto merged = other.listRuns().at(0).id;
    EXPECT_EQ(other.sampleRouting(merged, 1)->topExpert, s->topExpert);
    // Deleted with the run.
    store.deleteRun(id);
    SQLite::Database db(path);
    EXPECT_EQ(db.execAndGet("SELECT count(*) FROM sample_routing").getInt(), 0);
}

TEST(RunStore, AStoreOfVersionTwoReadsWithoutPerSampleRouting) {
    TempDir dir;
    const std::string path = dir / "v2.sqlite";
    std::int64_t id = 0;
    {
        RunStore store(path);
        id = store.beginRun(config(), start(), "old");
        store.appendEpoch(id, epoch(1));
    }
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("DROP TABLE sample_routing; DROP TABLE models; DROP TABLE sweep_claims; ALTER "
                "TABLE checkpoints DROP COLUMN checksum; PRAGMA user_version = 2");
    }
    RunStore reader(path, RunStore::Mode::ReadOnly);
    EXPECT_EQ(reader.listRuns().size(), 1u);
    EXPECT_TRUE(reader.sampleRoutingEpochs(id).empty());
    EXPECT_FALSE(reader.sampleRouting(id, 1));
    EXPECT_TRUE(reader.modelEpochs(id).empty());
    EXPECT_FALSE(reader.model(id, 1));
    RunStore writer(path); // opened for writing, it gains the table
    EXPECT_EQ(writer.schemaVersion(), RunStore::kSchemaVersion);
    EXPECT_TRUE(writer.sampleRoutingEpochs(id).empty());
}

// A damaged per-sample blob (cut anywhere, or a byte changed in its header) is refused with an
// error, never read past its end; one of the older format (MSR1: no similarity, no top-k) reads.
TEST(SampleBlob, ADamagedBlobIsRefusedAndAnOlderOneReads) {
    SampleRouting s;
    s.experts = 3;
    s.row = {4, 9};
    s.label = {1, 0};
    s.topExpert = {2, 0};
    s.topWeight = {0.75f, 0.5f};
    s.prediction = {1, 1};
    s.expertPrediction = {1, 0};
    s.similarity.assign(9, 0.5f);
    s.k = 2;
    s.gateExperts = {2, 1, 0, 2};
    s.gateWeights = {0.75f, 0.25f, 0.5f, 0.5f};
    const std::string blob = encodeSamples(s);
    EXPECT_EQ(blob.substr(0, 4), "MSR2");
    EXPECT_EQ(decodeSamples(blob).gateExperts, s.gateExperts);
    for (std::size_t cut = 0; cut < blob.size(); ++cut)
        EXPECT_THROW(decodeSamples(blob.substr(0, cut)), std::runtime_error) << "cut at " << cut;
    std::string huge = blob;
    huge[5] = '\xff'; // experts: 65535 * 65535 similarity cells in a blob of 60 bytes
    huge[6] = '\xff';
    EXPECT_THROW(decodeSamples(huge), std::runtime_error);
    SampleRouting older = s;
    older.similarity.clear(); // written as MSR1
    const std::string v1 = encodeSamples(older);
    EXPECT_EQ(v1.substr(0, 4), "MSR1");
    const SampleRouting back = decodeSamples(v1);
    EXPECT_EQ(back.topExpert, s.topExpert);
    EXPECT_EQ(back.k, 0);
}

namespace {

// A run of 4 experts and 3 classes with a checkpoint, a kept model and an epoch's routing.
std::int64_t runWithEveryBlob(RunStore& store) {
    RunStart s = start(4);
    s.classNames = {"a", "b", "c"};
    const auto id = store.beginRun(config(0.1, 4), s, "blobs");
    auto samples = std::make_shared<SampleRouting>();
    samples->experts = 4;
    for (int i = 0; i < 40; ++i) {
        samples->row.push_back(i);
        samples->label.push_back(static_cast<float>(i % 3));
        samples->topExpert.push_back(static_cast<std::uint8_t>(i % 4));
        samples->topWeight.push_back(0.5f);
        samples->prediction.push_back(static_cast<float>((i + 1) % 3));
        samples->expertPrediction.push_back(static_cast<float>(i % 3));
    }
    EpochMetrics m = epoch(1, 4);
    m.samples = samples;
    store.appendEpoch(id, m);
    std::string state;
    for (int i = 0; i < 3000; ++i)
        state.push_back(static_cast<char>((i * 131 + 7) % 256));
    store.saveModel(id, 1, state, /*ifBest=*/false);
    store.saveCheckpoint(id, Checkpoint{1, 5, 0.5, state + "checkpoint"});
    return id;
}

struct BlobKind {
    const char* table;
    const char* column;
    std::string name; // as the refusal names it
    std::function<void(const RunStore&)> read;
};

} // namespace

// A byte changed anywhere in a stored model, checkpoint or routing blob is refused by the reader
// every program uses, naming the blob, and by the store check; the blob put back reads again.
TEST(RunStore, AByteChangedAnywhereInAStoredBlobIsRefusedByName) {
    TempDir dir;
    const std::string path = dir / "blobs.sqlite";
    std::int64_t id = 0;
    {
        RunStore store(path);
        id = runWithEveryBlob(store);
    }
    const std::vector<BlobKind> kinds{
        {"models", "state", "the stored model of epoch 1 of run 1",
         [&](const RunStore& s) { s.model(id, 1); }},
        {"checkpoints", "state", "the stored checkpoint of run 1 (epoch 1)",
         [&](const RunStore& s) { s.checkpoint(id); }},
        {"sample_routing", "samples", "the stored routing of epoch 1 of run 1",
         [&](const RunStore& s) { s.sampleRouting(id, 1); }}};
    for (const auto& kind : kinds) {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        const std::string select =
            std::string("SELECT ") + kind.column + " FROM " + kind.table + " WHERE run_id = 1";
        const std::string original = db.execAndGet(select).getString();
        ASSERT_GT(original.size(), 100u) << kind.table;
        std::vector<std::size_t> offsets{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, original.size() - 1};
        for (std::size_t at = 11; at < original.size(); at += original.size() / 37 + 1)
            offsets.push_back(at);
        for (const std::size_t at : offsets) {
            for (const unsigned char flip : {0x01, 0x80, 0xff}) {
                std::string damaged = original;
                damaged[at] = static_cast<char>(damaged[at] ^ flip);
                SQLite::Statement put(db, std::string("UPDATE ") + kind.table + " SET " +
                                              kind.column + " = ? WHERE run_id = 1");
                put.bind(1, damaged.data(), static_cast<int>(damaged.size()));
                put.exec();
                const RunStore reader(path, RunStore::Mode::ReadOnly);
                try {
                    kind.read(reader);
                    ADD_FAILURE() << kind.table << ": byte " << at << " ^ " << int(flip)
                                  << " was read";
                } catch (const RunStoreError& e) {
                    EXPECT_NE(std::string(e.what()).find(kind.name + " fails its checksum"),
                              std::string::npos)
                        << e.what();
                }
                const auto report = reader.blobCheck();
                ASSERT_EQ(report.problems.size(), 1u) << kind.table << " byte " << at;
                EXPECT_NE(report.problems[0].find(kind.name), std::string::npos);
            }
        }
        SQLite::Statement put(db, std::string("UPDATE ") + kind.table + " SET " + kind.column +
                                      " = ? WHERE run_id = 1");
        put.bind(1, original.data(), static_cast<int>(original.size()));
        put.exec();
        const RunStore reader(path, RunStore::Mode::ReadOnly);
        EXPECT_NO_THROW(kind.read(reader));
        const auto report = reader.blobCheck();
        EXPECT_TRUE(report.problems.empty());
        EXPECT_EQ(report.checked, 3);
        EXPECT_EQ(report.unchecked, 0);
    }
}

// A store of version 4 (no checksums) is read as it is, its blobs unchecked; opened for writing
// it gains the column, and what is written from then on is checked. Values of a routing blob
// that no checksum guards are range-checked: an expert or a class the run does not have.
TEST(RunStore, AStoreWithoutChecksumsReadsAndRoutingValuesAreRangeChecked) {
    TempDir dir;
    const std::string path = dir / "v4.sqlite";
    std::int64_t id = 0;
    {
        RunStore store(path);
        id = runWithEveryBlob(store);
    }
    {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.exec("ALTER TABLE checkpoints DROP COLUMN checksum; ALTER TABLE models DROP COLUMN "
                "checksum; ALTER TABLE sample_routing DROP COLUMN checksum; DROP TABLE "
                "sweep_claims; PRAGMA user_version = 4");
    }
    {
        const RunStore reader(path, RunStore::Mode::ReadOnly);
        EXPECT_EQ(reader.schemaVersion(), 4);
        EXPECT_TRUE(reader.model(id, 1));
        EXPECT_TRUE(reader.checkpoint(id));
        EXPECT_TRUE(reader.sampleRouting(id, 1));
        const auto report = reader.blobCheck();
        EXPECT_TRUE(report.problems.empty());
        EXPECT_EQ(report.unchecked, 3);
    }
    RunStore writer(path);
    EXPECT_EQ(writer.schemaVersion(), RunStore::kSchemaVersion);
    EXPECT_EQ(writer.blobCheck().unchecked, 3) << "older blobs stay unchecked";
    // Out-of-range values in a blob without a checksum: refused, naming the value.
    SampleRouting bad = *writer.sampleRouting(id, 1);
    for (const auto& [change, what] :
         std::vector<std::pair<std::function<void(SampleRouting&)>, std::string>>{
             {[](SampleRouting& s) { s.topExpert[3] = 200; }, "top expert 200"},
             {[](SampleRouting& s) { s.label[5] = 60928; }, "label 60928"},
             {[](SampleRouting& s) { s.prediction[0] = 3; }, "prediction 3"},
             {[](SampleRouting& s) { s.experts = 5; }, "5 experts"}}) {
        SampleRouting s = bad;
        change(s);
        const std::string blob = encodeSamples(s);
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        SQLite::Statement put(db, "UPDATE sample_routing SET samples = ? WHERE run_id = 1");
        put.bind(1, blob.data(), static_cast<int>(blob.size()));
        put.exec();
        try {
            writer.sampleRouting(id, 1);
            ADD_FAILURE() << what << " was read";
        } catch (const RunStoreError& e) {
            EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
        }
        EXPECT_EQ(writer.blobCheck().problems.size(), 1u) << what;
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
// A real training run recorded into the store: what the trainer reported is what is stored,
// and each epoch's checkpoint holds the model and the optimiser.

#include "store/RunRecorder.h"
#include "data/RegimesDataset.h"
#include "store/RunStore.h"
#include "train/Trainer.h"

#include "TestSupport.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>
#include <sstream>
#include <thread>

using namespace mode;
using namespace mode::test;

namespace {
struct Collect : TrainingObserver {
    std::vector<StepMetrics> steps;
    std::vector<EpochMetrics> epochs;
    void onStep(const StepMetrics& m) override { steps.push_back(m); }
    void onEpoch(const EpochMetrics& m) override { epochs.push_back(m); }
};

ExperimentConfig small() {
    ExperimentConfig c;
    c.train.epochs = 3;
    c.train.device = "cpu";
    c.data.regimes.samples = 800;
    return c;
}
} // namespace

TEST(RunRecorder, StoresWhatTheTrainerReported) {
    TempDir dir;
    RunStore store(dir / "runs.sqlite");
    auto c = small();
    Trainer trainer(c, makeRegimesDataset(c.data.regimes));
    Collect seen;
    RecorderOptions o;
    o.flushSteps = 4; // many small transactions
    RunRecorder recorder(store, c, "recorded", &trainer.control(), o);
    trainer.addObserver(&seen);
    trainer.addObserver(&recorder);
    auto result = trainer.run();
    ASSERT_EQ(result.status, RunStatus::Finished) << result.message;
    ASSERT_FALSE(recorder.error()) << *recorder.error();
    ASSERT_TRUE(recorder.runId());

    const auto id = *recorder.runId();
    auto rec = store.run(id);
    EXPECT_EQ(rec.status, RunStatus::Finished);
    EXPECT_EQ(rec.name, "recorded");
    EXPECT_EQ(rec.epochsCompleted, 3);
    EXPECT_EQ(rec.steps, result.steps);
    EXPECT_DOUBLE_EQ(*rec.testAccuracy, result.final->testAccuracy);
    EXPECT_EQ(rec.start.subtaskNames.size(), 4u);

    auto steps = store.steps(id);
    ASSERT_EQ(steps.size(), seen.steps.size());
    for (std::size_t i = 0; i < steps.size(); ++i) {
        EXPECT_EQ(steps[i].step, seen.steps[i].step);
        EXPECT_DOUBLE_EQ(steps[i].total, seen.steps[i].total);
        EXPECT_DOUBLE_EQ(steps[i].distill, seen.steps[i].distill);
    }
    auto epochs = store.epochs(id);
    ASSERT_EQ(epochs.size(), 3u);
    for (std::size_t e = 0; e < 3; ++e) {
        EXPECT_DOUBLE_EQ(epochs[e].valLoss, seen.epochs[e].valLoss);
        EXPECT_EQ(epochs[e].routingByClass.meanGate, seen.epochs[e].routingByClass.meanGate);
        ASSERT_TRUE(epochs[e].routingBySubtask);
        EXPECT_EQ(epochs[e].routingBySubtask->argmaxShare,
                  seen.epochs[e].routingBySubtask->argmaxShare);
        ASSERT_EQ(epochs[e].experts.size(), 4u);
        EXPECT_EQ(epochs[e].experts[2].allocated, seen.epochs[e].experts[2].allocated);
    }

    auto ck = store.checkpoint(id);
    ASSERT_TRUE(ck);
    EXPECT_EQ(ck->epoch, 3);
    EXPECT_EQ(ck->step, result.steps);
    std::istringstream in(ck->state);
    torch::serialize::InputArchive archive;
    archive.load_from(in);
    torch::serialize::InputArchive model, optimizer;
    ASSERT_TRUE(archive.try_read("model", model));
    ASSERT_TRUE(archive.try_read("optimizer", optimizer));
    torch::Tensor order;
    ASSERT_TRUE(archive.try_read("order", order));
    EXPECT_EQ(order.numel(), rec.start.trainRows);
    torch::Tensor epoch;
    archive.read("epoch", epoch);
    EXPECT_EQ(epoch.item<std::int64_t>(), 3);
}

TEST(RunRecorder, AStoreThatCannotBeWrittenStopsTheRunAndSaysWhy) {
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    RunStore store(path);
    auto c = small();
    c.train.epochs = 50;
    Trainer trainer(c, makeRegimesDataset(c.data.regimes));
    RecorderOptions options;
    options.lockWait = std::chrono::milliseconds(1500);
    auto recorderOwner = std::make_unique<RunRecorder>(store, c, "", &trainer.control(), options);
    RunRecorder& recorder = *recorderOwner;
    trainer.addObserver(&recorder);
    // Another program takes the write lock after epoch 2 and keeps it past the lock wait.
    struct LockHolder : TrainingObserver {
        std::string path;
        std::unique_ptr<SQLite::Database> db;
        void onEpoch(const EpochMetrics& m) override {
            if (m.epoch == 2) {
                db = std::make_unique<SQLite::Database>(path, SQLite::OPEN_READWRITE, 10000);
                // The recorder writes on its own thread: wait until epoch 2 is in, then lock.
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (db->execAndGet("SELECT count(*) FROM epochs").getInt() < 2 &&
                       std::chrono::steady_clock::now() < deadline)
                    std::this_thread::sleep_for(std::chrono::milliseconds(2));
                db->exec("BEGIN IMMEDIATE");
            }
        }
    } holder;
    holder.path = path;
    trainer.addObserver(&holder);
    auto result = trainer.run();
    ASSERT_TRUE(recorder.error()) << "the recorder saw no error";
    EXPECT_NE(recorder.error()->find(path), std::string::npos) << *recorder.error();
    EXPECT_EQ(result.status, RunStatus::Stopped) << "the run was asked to stop";
    EXPECT_LT(result.epochsCompleted, 50);
    EXPECT_NE(recorder.error()->find("locked"), std::string::npos) << *recorder.error();
    const auto id = *recorder.runId();
    holder.db.reset();
    recorderOwner.reset(); // stores the end now that the lock is gone
    RunStore reopened(path);
    EXPECT_EQ(reopened.integrityCheck(), "ok");
    auto r = reopened.run(id);
    EXPECT_EQ(r.status, RunStatus::Failed) << "the end is stored once the lock is gone";
    const auto stored = store.epochs(r.id);
    EXPECT_GE(stored.size(), 2u) << "the epochs before the failure are kept";
    // The row counts what is stored, not what was trained: the trainer ran at most one epoch past
    // the one whose write failed.
    EXPECT_EQ(r.epochsCompleted, static_cast<int>(stored.size()));
    EXPECT_EQ(r.steps, stored.back().step);
    EXPECT_EQ(*r.testAccuracy, stored.back().testAccuracy);
    EXPECT_LE(result.epochsCompleted, static_cast<int>(stored.size()) + 2);
    EXPECT_NE(r.message.find("the store holds epochs 1-" + std::to_string(stored.size())),
              std::string::npos)
        << r.message;
    EXPECT_NE(r.message.find("another program holds it locked"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("s; the store holds"), std::string::npos)
        << "the time waited is stated: " << r.message;
    EXPECT_TRUE(reopened.consistencyCheck().empty());
}

TEST(RunRecorder, AStoreLockedForAWhileLosesNothing) {
    // Another program holds the write lock for 6.5 s, past SQLite's 5 s busy timeout: the
    // recorder tries again (training waits meanwhile) and every epoch is stored.
    TempDir dir;
    const std::string path = dir / "runs.sqlite";
    RunStore store(path);
    auto c = small();
    c.train.epochs = 12;
    Trainer trainer(c, makeRegimesDataset(c.data.regimes));
    RecorderOptions options;
    options.lockWait = std::chrono::seconds(30);
    RunRecorder recorder(store, c, "", &trainer.control(), options);
    trainer.addObserver(&recorder);
    struct LockFor : TrainingObserver {
        std::string path;
        std::thread locker;
        void onEpoch(const EpochMetrics& m) override {
            if (m.epoch != 3) return;
            locker = std::thread([p = path] {
                SQLite::Database db(p, SQLite::OPEN_READWRITE, 10000);
                db.exec("BEGIN EXCLUSIVE");
                std::this_thread::sleep_for(
                    std::chrono::milliseconds(6500)); // past the 5 s busy timeout
                db.exec("COMMIT");
            });
        }
    } lock;
    lock.path = path;
    trainer.addObserver(&lock);
    auto result = trainer.run();
    lock.locker.join();
    EXPECT_FALSE(recorder.error()) << *recorder.error();
    EXPECT_EQ(result.status, RunStatus::Finished);
    auto r = store.run(*recorder.runId());
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.epochsCompleted, 12);
    EXPECT_EQ(store.epochs(r.id).size(), 12u);
    EXPECT_EQ(r.steps, result.steps);
    EXPECT_TRUE(store.consistencyCheck().empty());
}

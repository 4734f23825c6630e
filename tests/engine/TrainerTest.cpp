// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Trainer.h"
#include "TestSupport.h"
#include "data/RegimesDataset.h"
#include "model/MoDEModel.h"
#include "train/GradientSync.h"

#include <ATen/record_function.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <sstream>
#include <thread>

using namespace mode;

namespace {

struct Recorder : TrainingObserver {
    RunStart start;
    std::vector<StepMetrics> steps;
    std::vector<EpochMetrics> epochs;
    std::optional<RunResult> end;
    std::function<void(const StepMetrics&)> onEachStep;
    void onRunStart(const RunStart& s) override { start = s; }
    void onStep(const StepMetrics& m) override {
        steps.push_back(m);
        if (onEachStep) onEachStep(m);
    }
    void onEpoch(const EpochMetrics& m) override { epochs.push_back(m); }
    void onRunEnd(const RunResult& r) override { end = r; }
};

ExperimentConfig smallConfig(int epochs) {
    ExperimentConfig c;
    c.train.epochs = epochs;
    c.train.device = "cpu";
    c.data.regimes.samples = 1200;
    return c;
}

RunResult train(const ExperimentConfig& c, Recorder& rec) {
    Trainer t(c, makeRegimesDataset(c.data.regimes));
    t.addObserver(&rec);
    return t.run();
}

} // namespace

TEST(Trainer, LearnsRegimesAndRoutesSubtasksToTheirOwnExperts) {
    // The default experiment (4000 rows, 4 sub-tasks, 4 experts, alpha 0.1, 20 epochs). With 5%
    // label noise over 3 classes the best possible accuracy is about 0.967.
    ExperimentConfig c;
    c.train.device = "cpu";
    Recorder rec;
    auto r = train(c, rec);
    ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
    ASSERT_TRUE(r.final);
    EXPECT_GE(r.final->testAccuracy, 0.85);
    ASSERT_TRUE(r.final->gateRoutingAccuracy);
    EXPECT_GE(*r.final->gateRoutingAccuracy, 0.85);
    EXPECT_LT(rec.epochs.back().trainTaskLoss, rec.epochs.front().trainTaskLoss);
    // Each expert's probing accuracy is measured on the samples allocated to it.
    std::int64_t allocated = 0;
    for (const auto& e : r.final->experts) {
        allocated += e.allocated;
        if (e.allocated) {
            ASSERT_TRUE(e.probingAccuracy);
            EXPECT_GE(*e.probingAccuracy, 0.0);
            EXPECT_LE(*e.probingAccuracy, 1.0);
        }
    }
    EXPECT_EQ(allocated, rec.start.testRows);
}

TEST(Trainer, EventsCoverEveryStepAndEpoch) {
    auto c = smallConfig(3);
    c.train.batchSize = 100;
    Recorder rec;
    auto r = train(c, rec);
    ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
    const auto perEpoch = rec.start.stepsPerEpoch;
    EXPECT_EQ(perEpoch, (rec.start.trainRows + 99) / 100);
    ASSERT_EQ(rec.steps.size(), static_cast<std::size_t>(3 * perEpoch));
    for (std::size_t i = 0; i < rec.steps.size(); ++i)
        EXPECT_EQ(rec.steps[i].step, static_cast<std::int64_t>(i + 1));
    ASSERT_EQ(rec.epochs.size(), 3u);
    EXPECT_EQ(rec.epochs[2].step, 3 * perEpoch);
    const auto& rm = rec.epochs[2].routingByClass;
    EXPECT_EQ(rm.rowNames.size(), 3u);
    EXPECT_EQ(rm.experts, 4);
    for (std::size_t row = 0; row < 3; ++row) {
        double gateSum = 0, shareSum = 0;
        for (int e = 0; e < 4; ++e) {
            gateSum += rm.meanGate[row * 4 + e];
            shareSum += rm.argmaxShare[row * 4 + e];
        }
        EXPECT_NEAR(gateSum, 1.0, 1e-6);
        EXPECT_NEAR(shareSum, 1.0, 1e-9);
    }
    ASSERT_TRUE(rec.epochs[2].routingBySubtask);
    EXPECT_EQ(rec.epochs[2].routingBySubtask->rowNames.size(), 4u);
    ASSERT_TRUE(rec.end);
    EXPECT_EQ(rec.end->status, RunStatus::Finished);
}

TEST(Trainer, SameSeedSameLossesOtherSeedOtherLosses) {
    auto c = smallConfig(2);
    Recorder a, b, other;
    train(c, a);
    train(c, b);
    c.train.seed = 9;
    train(c, other);
    ASSERT_EQ(a.steps.size(), b.steps.size());
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
        ASSERT_EQ(a.steps[i].total, b.steps[i].total) << "step " << i;
        ASSERT_EQ(a.steps[i].distill, b.steps[i].distill) << "step " << i;
    }
    EXPECT_EQ(a.epochs.back().testAccuracy, b.epochs.back().testAccuracy);
    EXPECT_NE(a.steps.back().total, other.steps.back().total);
}

TEST(Trainer, AlphaZeroTrainsThePlainMoE) {
    auto c = smallConfig(2);
    c.loss.alpha = 0;
    Recorder rec;
    auto r = train(c, rec);
    ASSERT_EQ(r.status, RunStatus::Finished);
    for (const auto& s : rec.steps) {
        EXPECT_EQ(s.total, s.task); // no balance weight, no distillation
        EXPECT_GT(s.distill, 0.0);  // but the disagreement is still measured
    }
}

TEST(Trainer, StopRequestEndsTheRunAsStopped) {
    auto c = smallConfig(5);
    Trainer t(c, makeRegimesDataset(c.data.regimes));
    Recorder rec;
    rec.onEachStep = [&](const StepMetrics& m) {
        if (m.step == 5) t.control().requestStop();
    };
    t.addObserver(&rec);
    auto r = t.run();
    EXPECT_EQ(r.status, RunStatus::Stopped);
    EXPECT_EQ(r.steps, 5);
    EXPECT_EQ(rec.steps.size(), 5u);
    ASSERT_TRUE(rec.end);
    EXPECT_EQ(rec.end->status, RunStatus::Stopped);
}

TEST(Trainer, PauseHoldsTheRunUntilResumed) {
    auto c = smallConfig(1);
    Trainer t(c, makeRegimesDataset(c.data.regimes));
    Recorder rec;
    std::atomic<std::int64_t> lastStep{0};
    rec.onEachStep = [&](const StepMetrics& m) {
        lastStep = m.step;
        if (m.step == 3) t.control().requestPause();
    };
    t.addObserver(&rec);
    RunResult r;
    std::thread worker([&] { r = t.run(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_EQ(lastStep.load(), 3) << "no step may run while paused";
    EXPECT_TRUE(t.control().paused());
    t.control().requestResume();
    worker.join();
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.steps, rec.start.stepsPerEpoch);
}

TEST(Trainer, NaNInTheDataStopsTheRunAsDivergedNamingTheStep) {
    auto c = smallConfig(2);
    auto d = makeRegimesDataset(c.data.regimes);
    for (auto& v : d.features)
        v = std::nanf(""); // every row poisoned: the first step diverges
    Trainer t(c, std::move(d));
    Recorder rec;
    t.addObserver(&rec);
    auto r = t.run();
    EXPECT_EQ(r.status, RunStatus::Diverged);
    EXPECT_NE(r.message.find("diverged at step 1 (epoch 1): the total loss is nan"),
              std::string::npos)
        << r.message;
    EXPECT_TRUE(rec.epochs.empty());
}

TEST(Trainer, TopKGateAndEveryVariantTrain) {
    for (std::string v : {"mse-mean", "mse-pairwise", "kl"}) {
        auto c = smallConfig(2);
        c.model.gate = "topk";
        c.model.topK = 2;
        c.model.noisyGate = true;
        c.loss.distill = v;
        c.loss.balanceWeight = 0.01;
        Recorder rec;
        auto r = train(c, rec);
        ASSERT_EQ(r.status, RunStatus::Finished) << v << ": " << r.message;
        EXPECT_GT(r.final->testAccuracy, 1.0 / 3) << v << " learns better than chance";
    }
}

TEST(Trainer, CudaDeviceIsRefusedClearlyWithoutAGpu) {
    const auto devices = availableDevices();
    if (std::find(devices.begin(), devices.end(), "cuda") != devices.end())
        GTEST_SKIP() << "a GPU is present";
    auto c = smallConfig(1);
    c.train.device = "cuda";
    try {
        Trainer t(c, makeRegimesDataset(c.data.regimes));
        FAIL() << "cuda accepted without a GPU";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("train.device"), std::string::npos);
    }
}

TEST(Trainer, RunsOnCudaWhenAGpuIsPresent) {
    auto devices = availableDevices();
    if (std::find(devices.begin(), devices.end(), "cuda") == devices.end())
        GTEST_SKIP() << "no CUDA device";
    auto c = smallConfig(2);
    c.train.device = "cuda";
    Recorder rec;
    auto r = train(c, rec);
    ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
    EXPECT_EQ(rec.start.device.rfind("cuda", 0), 0u);
    EXPECT_GT(r.final->testAccuracy, 0.5);
}

namespace {

// Keeps every checkpoint the trainer hands out; stops the run after epoch `stopAfter` if set.
struct CheckpointKeeper : Recorder {
    std::vector<Checkpoint> checkpoints;
    TrainerControl* control = nullptr;
    int stopAfter = 0;
    bool models = false; // wants the model alone too (Checkpoint::model)
    bool wantsCheckpoints() const override { return true; }
    bool wantsModels() const override { return models; }
    void onCheckpoint(const Checkpoint& c) override {
        checkpoints.push_back(c);
        if (control && c.epoch == stopAfter) control->requestStop();
    }
};

// Dropout and a noisy top-k gate: the resumed run must also restore the random streams.
ExperimentConfig resumableConfig() {
    auto c = smallConfig(6);
    c.model.dropout = 0.1;
    c.model.gate = "topk";
    c.model.topK = 2;
    c.model.noisyGate = true;
    return c;
}

} // namespace

TEST(Trainer, AResumedRunEndsExactlyAsAnUninterruptedOne) {
    const auto c = resumableConfig();
    CheckpointKeeper whole;
    ASSERT_EQ(train(c, whole).status, RunStatus::Finished);

    // Stop after epoch 3 (the step after the checkpoint), then continue in a new trainer.
    CheckpointKeeper first;
    Trainer t1(c, makeRegimesDataset(c.data.regimes));
    first.control = &t1.control();
    first.stopAfter = 3;
    t1.addObserver(&first);
    ASSERT_EQ(t1.run().status, RunStatus::Stopped);
    ASSERT_EQ(first.checkpoints.size(), 3u);

    Trainer t2(c, makeRegimesDataset(c.data.regimes));
    t2.resumeFrom(first.checkpoints.back(), first.epochs.back());
    Recorder second;
    t2.addObserver(&second);
    const auto r = t2.run();
    ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
    EXPECT_EQ(second.start.resumedFromEpoch, 3);
    EXPECT_EQ(r.epochsCompleted, 6);
    EXPECT_EQ(r.steps, whole.end->steps);
    ASSERT_EQ(second.epochs.size(), 3u) << "epochs 4 to 6 only";
    EXPECT_EQ(second.epochs.front().epoch, 4);
    // Every step after the checkpoint has the loss of the uninterrupted run, bit for bit (CPU).
    const auto offset = static_cast<std::size_t>(first.checkpoints.back().step);
    ASSERT_EQ(second.steps.size(), whole.steps.size() - offset);
    EXPECT_EQ(second.steps.front().step, static_cast<std::int64_t>(offset) + 1);
    for (std::size_t i = 0; i < second.steps.size(); ++i)
        ASSERT_EQ(second.steps[i].total, whole.steps[offset + i].total)
            << "step " << second.steps[i].step;
    ASSERT_TRUE(r.final && whole.end->final);
    EXPECT_EQ(r.final->testAccuracy, whole.end->final->testAccuracy);
    EXPECT_EQ(r.final->testLoss, whole.end->final->testLoss);
    EXPECT_EQ(r.final->valLoss, whole.end->final->valLoss);
    EXPECT_GT(r.final->wallSeconds, first.checkpoints.back().wallSeconds) << "the clock continues";
}

// The model alone comes with a checkpoint only where an observer keeps models, and holds the
// parameters the checkpoint's model holds.
TEST(Trainer, TheModelAloneComesOnlyWhereWantedAndMatchesTheCheckpoint) {
    const auto c = smallConfig(2);
    CheckpointKeeper without;
    ASSERT_EQ(train(c, without).status, RunStatus::Finished);
    ASSERT_EQ(without.checkpoints.size(), 2u);
    EXPECT_TRUE(without.checkpoints.back().model.empty());
    CheckpointKeeper with;
    with.models = true;
    ASSERT_EQ(train(c, with).status, RunStatus::Finished);
    ASSERT_FALSE(with.checkpoints.back().model.empty());
    const Dataset data = makeRegimesDataset(c.data.regimes);
    const auto restore = [&](const std::string& blob) {
        torch::serialize::InputArchive archive, modelArchive;
        std::istringstream in(blob);
        archive.load_from(in, torch::kCPU);
        archive.read("model", modelArchive);
        MoDEModel m(c.model, static_cast<int>(data.cols), static_cast<int>(data.classNames.size()));
        m->load(modelArchive);
        return m;
    };
    const auto alone = restore(with.checkpoints.back().model);
    const auto whole = restore(with.checkpoints.back().state);
    const auto a = alone->named_parameters(), b = whole->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (const auto& p : a)
        EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
}

TEST(Trainer, ResumingFromTheLastEpochFinishesAtOnceWithItsMetrics) {
    const auto c = smallConfig(2);
    CheckpointKeeper whole;
    ASSERT_EQ(train(c, whole).status, RunStatus::Finished);
    Trainer t(c, makeRegimesDataset(c.data.regimes));
    t.resumeFrom(whole.checkpoints.back(), whole.epochs.back());
    const auto r = t.run();
    EXPECT_EQ(r.status, RunStatus::Finished);
    ASSERT_TRUE(r.final);
    EXPECT_EQ(r.final->testAccuracy, whole.epochs.back().testAccuracy);
}

TEST(Trainer, ADamagedOrForeignCheckpointIsRefusedAndTheTrainerUntouched) {
    const auto c = smallConfig(2);
    CheckpointKeeper whole;
    ASSERT_EQ(train(c, whole).status, RunStatus::Finished);
    auto good = whole.checkpoints.front();

    Trainer t(c, makeRegimesDataset(c.data.regimes));
    auto truncated = good;
    truncated.state.resize(truncated.state.size() / 2);
    try {
        t.resumeFrom(truncated);
        FAIL() << "a truncated checkpoint was accepted";
    } catch (const CheckpointError& e) {
        EXPECT_CONTAINS(e.what(), "checkpoint of epoch 1 cannot be read");
    }
    auto garbage = good;
    garbage.state = std::string(4096, '\x7f');
    EXPECT_THROW(t.resumeFrom(garbage), CheckpointError);
    auto wrongEpoch = good;
    wrongEpoch.epoch = 9;
    EXPECT_THROW(t.resumeFrom(wrongEpoch), CheckpointError);

    // Written for 8 experts, offered to a 4-expert model.
    auto other = c;
    other.model.experts = 8;
    CheckpointKeeper eight;
    ASSERT_EQ(train(other, eight).status, RunStatus::Finished);
    try {
        t.resumeFrom(eight.checkpoints.front());
        FAIL() << "a checkpoint of 8 experts was accepted by a 4-expert model";
    } catch (const CheckpointError& e) {
        EXPECT_CONTAINS(e.what(), "written for another model: parameter 'experts.w0' has shape [8, "
                                  "8, 32], this model's [4, 8, 32]");
    }

    // After all that the trainer still trains from scratch, as an untouched one does.
    Recorder rec;
    t.addObserver(&rec);
    const auto r = t.run();
    EXPECT_EQ(r.status, RunStatus::Finished);
    EXPECT_EQ(r.final->testLoss, whole.end->final->testLoss);
}

namespace {

// Counts, on the calling thread, the step's reads from the device (the trainer's named scope)
// and every item(), which is a read of its own (aten::_local_scalar_dense). On the CPU nothing
// waits, but the count is the one a CUDA run pays for: each read waits for the GPU's queue.
// A .cpu() outside readBack would go uncounted (a CPU tensor's is a no-op); the trainer reads
// through readBack only.
std::atomic<int> stepReadBacks{0}, scalarReads{0};

std::unique_ptr<at::ObserverContext> countReads(const at::RecordFunction& fn) {
    const std::string name = fn.name();
    if (name == kStepReadBackScope)
        ++stepReadBacks;
    else if (name == "aten::_local_scalar_dense")
        ++scalarReads;
    return nullptr;
}

// The reads of each step: from the previous step (or the run's or the epoch's start, which
// leaves out the evaluation) to its report.
struct ReadsPerStep : TrainingObserver {
    std::vector<std::pair<int, int>> reads; // (step read-backs, item() calls)
    static void reset() { stepReadBacks = 0, scalarReads = 0; }
    void onRunStart(const RunStart&) override { reset(); }
    void onStep(const StepMetrics&) override {
        reads.emplace_back(stepReadBacks.load(), scalarReads.load());
        reset();
    }
    void onEpoch(const EpochMetrics&) override { reset(); }
};

} // namespace

TEST(Trainer, EachStepReadsFromTheDeviceOnce) {
    // A dense gate, and a noisy top-k gate with dropout and the kl variant.
    auto dense = smallConfig(2);
    auto sparse = resumableConfig();
    sparse.train.epochs = 2;
    sparse.loss.distill = "kl";
    for (auto c : {dense, sparse}) {
        c.train.batchSize = 100;
        ReadsPerStep counter;
        Trainer t(c, makeRegimesDataset(c.data.regimes));
        t.addObserver(&counter);
        const auto handle = at::addThreadLocalCallback(
            at::RecordFunctionCallback(countReads)
                .scopes({at::RecordScope::FUNCTION, at::RecordScope::USER_SCOPE}));
        const auto r = t.run();
        at::removeCallback(handle);
        ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
        ASSERT_EQ(counter.reads.size(), static_cast<std::size_t>(r.steps));
        for (std::size_t i = 0; i < counter.reads.size(); ++i) {
            EXPECT_EQ(counter.reads[i].first, 1) << c.model.gate << " gate, step " << i + 1;
            EXPECT_EQ(counter.reads[i].second, 0) << c.model.gate << " gate, step " << i + 1;
        }
    }
}

// The baselines train like any run. They have no gate, so no routing: the routing tables, gate
// routing accuracy, allocation and probing are absent (never made up), and no sample routing is
// kept; the ensemble's similarity is measured. A resumed baseline ends as an uninterrupted one.
TEST(Trainer, DenseAndEnsembleBaselinesTrainWithoutRouting) {
    for (const std::string kind : {"dense", "ensemble"}) {
        SCOPED_TRACE(kind);
        auto c = smallConfig(4);
        c.model.kind = kind;
        c.loss.alpha = 0;
        c.loss.balanceWeight = 0.5; // does not apply to a baseline: ignored
        Recorder rec;
        const auto r = train(c, rec);
        ASSERT_EQ(r.status, RunStatus::Finished) << r.message;
        ASSERT_TRUE(r.final);
        EXPECT_GE(r.final->testAccuracy, 0.45) << "above chance (1/3) after 4 short epochs";
        const int experts = kind == "dense" ? 1 : c.model.experts;
        EXPECT_EQ(rec.start.experts, experts);
        EXPECT_TRUE(r.final->routingByClass.rowNames.empty());
        EXPECT_FALSE(r.final->routingBySubtask);
        EXPECT_FALSE(r.final->gateRoutingAccuracy);
        EXPECT_FALSE(r.final->samples);
        EXPECT_EQ(r.final->gateEntropy, 0.0);
        ASSERT_EQ(r.final->experts.size(), static_cast<std::size_t>(experts));
        for (const auto& e : r.final->experts) {
            EXPECT_EQ(e.allocated, 0);
            EXPECT_EQ(e.share, 0.0);
            EXPECT_FALSE(e.probingAccuracy);
            EXPECT_DOUBLE_EQ(e.load, 1.0 / experts);
        }
        for (const auto& s : rec.steps) {
            if (kind == "dense") {
                EXPECT_EQ(s.total, s.task);
            } else { // the sum of the experts' own losses; task is their mean
                EXPECT_NEAR(s.total, experts * s.task, 1e-9 * s.total);
            }
        }
        if (kind == "ensemble") {
            EXPECT_LT(r.final->expertSimilarity, 1.0);
        }

        CheckpointKeeper first;
        Trainer t1(c, makeRegimesDataset(c.data.regimes));
        first.control = &t1.control();
        first.stopAfter = 2;
        t1.addObserver(&first);
        ASSERT_EQ(t1.run().status, RunStatus::Stopped);
        Trainer t2(c, makeRegimesDataset(c.data.regimes));
        t2.resumeFrom(first.checkpoints.back(), first.epochs.back());
        const auto resumed = t2.run();
        ASSERT_EQ(resumed.status, RunStatus::Finished) << resumed.message;
        EXPECT_EQ(resumed.final->testLoss, r.final->testLoss);
    }
}

TEST(Trainer, ABaselineWithDistillationIsRefused) {
    auto c = smallConfig(1);
    c.model.kind = "ensemble";
    c.loss.alpha = 0.1;
    try {
        Trainer t(c, makeRegimesDataset(c.data.regimes));
        FAIL() << "an ensemble with alpha 0.1 was accepted";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("loss.alpha: the ensemble baseline's experts are "
                                             "trained independently"),
                  std::string::npos)
            << e.what();
    }
}

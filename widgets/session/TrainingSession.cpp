// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/TrainingSession.h"

#include "data/DatasetFactory.h"
#include "store/Resume.h"
#include "store/RunRecorder.h"
#include "store/RunStore.h"
#include "train/Trainer.h"

#include <algorithm>

namespace mode {

namespace {

// The worker's side: load, train, record. Everything it reports goes through the buffer.
// resumeRun > 0 continues that stored run from its checkpoint instead of starting a new one.
void runExperiment(ExperimentConfig config, std::string storePath, std::int64_t resumeRun,
                   MetricsBuffer* buffer, TrainerControl* control) {
    std::unique_ptr<Trainer> trainer;
    std::unique_ptr<RunStore> store;
    std::optional<ResumePlan> plan;
    // The Stop button ends a long load within a block of the file.
    const LoadProgress progress = [buffer, control](std::uint64_t done, std::uint64_t total) {
        buffer->setLoaded(done, total);
        return !control->stopRequested();
    };
    try {
        store = std::make_unique<RunStore>(storePath);
        if (resumeRun > 0) {
            plan = planResume(*store, resumeRun);
            trainer = resumedTrainer(*plan, config.train.threads, progress);
            config = trainer->config();
        } else {
            trainer = std::make_unique<Trainer>(config, loadDataset(config.data, progress));
        }
    } catch (const LoadStopped& e) {
        buffer->failToStart(e.what(), true);
        return;
    } catch (const std::exception& e) {
        buffer->failToStart(e.what());
        return;
    }
    trainer->useControl(control);
    RunRecorder recorder(*store, config, config.name, control);
    if (plan) recorder.resumeRun(plan->run);
    trainer->addObserver(
        &recorder); // first: the run id is known when the buffer hears of the start
    struct IdForwarder : TrainingObserver {
        RunRecorder* recorder;
        MetricsBuffer* buffer;
        void onRunStart(const RunStart&) override {
            if (auto id = recorder->runId()) buffer->setRunId(*id);
        }
    } forward;
    forward.recorder = &recorder;
    forward.buffer = buffer;
    trainer->addObserver(&forward);
    trainer->addObserver(buffer);
    buffer->finish(recorder.storedResult(trainer->run()));
}

} // namespace

TrainingSession::TrainingSession(QObject* parent) : QObject(parent) {
    timer_.setInterval(40); // ~25 repaints a second at most
    connect(&timer_, &QTimer::timeout, this, &TrainingSession::drain);
}

TrainingSession::~TrainingSession() {
    stopAndWait();
}

bool TrainingSession::start(const ExperimentConfig& config, const QString& storePath) {
    return launch(config, storePath, 0);
}

bool TrainingSession::continueRun(qint64 runId, const QString& storePath) {
    return runId > 0 && launch(ExperimentConfig{}, storePath, runId);
}

bool TrainingSession::launch(const ExperimentConfig& config, const QString& storePath,
                             qint64 resumeRun) {
    if (running_) return false;
    join();
    buffer_.take(); // nothing of an earlier run is left
    control_ = std::make_unique<TrainerControl>();
    running_ = true;
    runId_ = -1;
    ExperimentConfig c = config;
    // One core stays with the GUI: LibTorch gets the others (at least one).
    if (c.train.threads == 0)
        c.train.threads = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    configureThreads(c.train.threads);
    worker_ = std::thread(runExperiment, c, storePath.toStdString(),
                          static_cast<std::int64_t>(resumeRun), &buffer_, control_.get());
    timer_.start();
    return true;
}

void TrainingSession::pause() {
    if (!running_ || !control_ || control_->paused()) return;
    control_->requestPause();
    emit pausedChanged(true);
}

void TrainingSession::resume() {
    if (!running_ || !control_ || !control_->paused()) return;
    control_->requestResume();
    emit pausedChanged(false);
}

void TrainingSession::stop() {
    if (running_ && control_) control_->requestStop();
}

void TrainingSession::stopAndWait() {
    stop();
    join();
    if (running_) drain(); // the end of the run reaches the window before it closes
}

void TrainingSession::join() {
    if (worker_.joinable()) worker_.join();
}

void TrainingSession::drain() {
    MetricsBatch b = buffer_.take();
    if (b.empty()) return;
    if (b.runId) runId_ = *b.runId;
    if (b.loaded && !b.startError && !b.start)
        emit dataLoading(static_cast<qint64>(b.loaded->first),
                         static_cast<qint64>(b.loaded->second));
    if (b.startError) {
        running_ = false;
        timer_.stop();
        join();
        if (b.stoppedBeforeStart)
            emit stoppedWhileLoading(QString::fromStdString(*b.startError));
        else
            emit runFailedToStart(QString::fromStdString(*b.startError));
        return;
    }
    if (b.start) emit runStarted(*b.start, runId_);
    if (!b.steps.empty()) emit stepsArrived(b.steps);
    for (const auto& e : b.epochs)
        emit epochArrived(e);
    if (b.end) {
        running_ = false;
        timer_.stop();
        join();
        emit runEnded(*b.end, runId_);
    }
}

} // namespace mode

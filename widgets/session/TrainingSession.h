// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Runs one experiment at a time on a worker thread and hands its metrics to the GUI thread.
// The GUI never waits on the trainer: the trainer writes into a MetricsBuffer, and a coalescing
// timer on the GUI thread drains it and emits the signals below (all on the GUI thread). Every
// run is recorded in the run store by the worker.

#include "config/ExperimentConfig.h"
#include "session/MetricsBuffer.h"
#include "train/TrainerControl.h"

#include <QObject>
#include <QString>
#include <QTimer>

#include <atomic>
#include <memory>
#include <thread>

namespace mode {

class TrainingSession : public QObject {
    Q_OBJECT
  public:
    explicit TrainingSession(QObject* parent = nullptr);
    ~TrainingSession() override; // stops a run and waits for it

    bool isRunning() const { return running_; }
    bool isPaused() const { return control_ && control_->paused(); }
    qint64 runId() const { return runId_; } // the stored run being trained, -1 before it is known

    // Starts the experiment; false if a run is already going.
    bool start(const ExperimentConfig& config, const QString& storePath);
    // Continues stored run `runId` (stopped, interrupted, failed) from its last checkpoint, with
    // its stored experiment; false if a run is already going. Problems (finished run, no
    // checkpoint, changed data) arrive as runFailedToStart.
    bool continueRun(qint64 runId, const QString& storePath);
    void pause();
    void resume();
    void stop();
    // Stops the run and waits until it has ended and been stored (closing the window).
    void stopAndWait();

    void setDrainInterval(int ms) { timer_.setInterval(ms); }

  signals:
    void runStarted(const mode::RunStart& start, qint64 runId);
    void stepsArrived(const std::vector<mode::StepMetrics>& steps);
    void epochArrived(const mode::EpochMetrics& epoch);
    void runEnded(const mode::RunResult& result, qint64 runId);
    void runFailedToStart(const QString& message);
    // The data file is loading: `done` bytes of `total` (0 when unknown).
    void dataLoading(qint64 done, qint64 total);
    // Stop was pressed while the data loaded: nothing was stored.
    void stoppedWhileLoading(const QString& message);
    void pausedChanged(bool paused);

  private:
    bool launch(const ExperimentConfig& config, const QString& storePath, qint64 resumeRun);
    void drain();
    void join();

    QTimer timer_;
    MetricsBuffer buffer_;
    std::unique_ptr<TrainerControl> control_;
    std::thread worker_;
    bool running_ = false;
    qint64 runId_ = -1;
};

} // namespace mode

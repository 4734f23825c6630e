// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/RunRecorder.h"

#include <algorithm>

namespace mode {

RunRecorder::RunRecorder(RunStore& store, ExperimentConfig config, std::string name,
                         TrainerControl* control, RecorderOptions options)
    : store_(store), config_(std::move(config)), name_(std::move(name)), control_(control),
      options_(options) {
    pending_.reserve(static_cast<std::size_t>(options_.flushSteps));
}

RunRecorder::~RunRecorder() {
    stopWriter();
    if (!unstoredEnd_) return;
    try {
        store_.finishRun(*runId_, *unstoredEnd_);
    } catch (const std::exception&) {
        // Still not writable: the next writer marks the run interrupted.
    }
}

std::optional<std::string> RunRecorder::error() const {
    std::lock_guard<std::mutex> lock(m_);
    return error_;
}

RunResult RunRecorder::storedResult(RunResult result) const {
    std::lock_guard<std::mutex> lock(m_);
    if (error_) {
        result.status = RunStatus::Failed;
        result.message = "the run store failed and the run was stopped: " + *error_ +
                         "; the store holds " +
                         (lastStoredEpoch_ > 0 ? "epochs 1-" + std::to_string(lastStoredEpoch_)
                                               : std::string("no epoch")) +
                         " of it" +
                         (runId_ && lastStoredEpoch_ > 0
                              ? " (continue with --resume " + std::to_string(*runId_) + ")"
                              : "");
        result.epochsCompleted = std::min(result.epochsCompleted, lastStoredEpoch_);
    }
    return result;
}

void RunRecorder::fail(const std::string& what) {
    {
        std::lock_guard<std::mutex> lock(m_);
        if (!error_) error_ = what;
        cv_.notify_all(); // a trainer waiting for an epoch to be written goes on (and stops)
    }
    if (control_) control_->requestStop();
}

void RunRecorder::post(std::function<void()> write) {
    std::unique_lock<std::mutex> lock(m_);
    if (error_ || !writer_.joinable()) return;
    cv_.wait(lock, [&] { return queue_.size() < options_.maxQueued || error_; });
    if (error_) return;
    queue_.push_back(std::move(write));
    cv_.notify_all();
}

void RunRecorder::writerLoop() {
    for (;;) {
        std::function<void()> write;
        {
            std::unique_lock<std::mutex> lock(m_);
            cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
            if (queue_.empty()) return;
            write = std::move(queue_.front());
            queue_.pop_front();
            cv_.notify_all();
            if (error_) continue; // after a failure nothing more is written
        }
        // A store locked by another program: try again until lockWait has passed (each write is
        // one transaction, rolled back whole when it fails).
        const auto started = std::chrono::steady_clock::now();
        for (;;) {
            try {
                write();
            } catch (const RunStoreBusy& e) {
                if (std::chrono::steady_clock::now() - started < options_.lockWait) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(200));
                    continue;
                }
                const auto waited = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::steady_clock::now() - started);
                fail(std::string(e.what()) + " for more than " + std::to_string(waited.count()) +
                     " s");
            } catch (const std::exception& e) {
                fail(e.what());
            }
            break;
        }
    }
}

void RunRecorder::stopWriter() {
    {
        std::lock_guard<std::mutex> lock(m_);
        closing_ = true;
        cv_.notify_all();
    }
    if (writer_.joinable()) writer_.join();
}

void RunRecorder::onRunStart(const RunStart& start) {
    validationRows_ = start.valRows;
    try {
        if (resumeId_) {
            store_.resumeRun(*resumeId_, start.resumedFromEpoch, start.resumedFromStep, start);
            runId_ = resumeId_;
            lastStoredEpoch_ = start.resumedFromEpoch;
        } else {
            runId_ = store_.beginRun(config_, start, name_);
        }
    } catch (const std::exception& e) {
        fail(e.what());
        return;
    }
    lastFlush_ = std::chrono::steady_clock::now();
    writer_ = std::thread([this] { writerLoop(); });
}

void RunRecorder::onStep(const StepMetrics& step) {
    if (!runId_) return;
    pending_.push_back(step);
    if (static_cast<int>(pending_.size()) >= options_.flushSteps ||
        std::chrono::steady_clock::now() - lastFlush_ >= options_.flushInterval) {
        post([this, id = *runId_, batch = std::move(pending_)] { store_.appendSteps(id, batch); });
        pending_ = {};
        pending_.reserve(static_cast<std::size_t>(options_.flushSteps));
        lastFlush_ = std::chrono::steady_clock::now();
    }
}

void RunRecorder::onEpoch(const EpochMetrics& epoch) {
    if (!runId_) return;
    {
        // At most one epoch ahead of the store: a failing store stops the run within an epoch.
        std::unique_lock<std::mutex> lock(m_);
        // A stop request (Stop, Ctrl-C) ends the wait too, checked every 0.2 s (it does not
        // notify).
        while (!(epochsWritten_ >= epochsPosted_ || error_ || !writer_.joinable() ||
                 (control_ && control_->stopRequested())))
            cv_.wait_for(lock, std::chrono::milliseconds(200));
    }
    ++epochsPosted_;
    post([this, id = *runId_, epoch, batch = std::move(pending_)] {
        store_.requireFileInPlace(); // once an epoch: a deleted store would swallow the run unseen
        store_.appendEpoch(id, epoch, batch);
        std::lock_guard<std::mutex> lock(m_);
        ++epochsWritten_;
        lastStoredEpoch_ = epoch.epoch;
        cv_.notify_all();
    });
    pending_ = {};
    lastFlush_ = std::chrono::steady_clock::now();
}

KeepModels RunRecorder::keptModels() const {
    return options_.models == KeepModels::Best && validationRows_ == 0 ? KeepModels::Last
                                                                       : options_.models;
}

void RunRecorder::onCheckpoint(const Checkpoint& checkpoint) {
    if (!runId_) return;
    const KeepModels keep = keptModels();
    post([this, id = *runId_, checkpoint, keep] {
        store_.saveCheckpoint(id, checkpoint);
        if (keep != KeepModels::Last && !checkpoint.model.empty())
            store_.saveModel(id, checkpoint.epoch, checkpoint.model, keep == KeepModels::Best);
    });
}

void RunRecorder::onRunEnd(const RunResult& result) {
    if (!runId_) return;
    if (!pending_.empty())
        post([this, id = *runId_, batch = std::move(pending_)] { store_.appendSteps(id, batch); });
    pending_ = {};
    stopWriter(); // everything queued is written before the end is
    const RunResult stored = storedResult(result);
    try {
        store_.finishRun(*runId_, stored); // tried even after an error: it may still fit
    } catch (const std::exception& e) {
        fail(e.what());
        unstoredEnd_ = stored;
    }
}

} // namespace mode

#include "store/RunRecorder.h"

namespace mode {

RunRecorder::RunRecorder(RunStore& store, ExperimentConfig config, std::string name, TrainerControl* control,
                         RecorderOptions options)
    : store_(store), config_(std::move(config)), name_(std::move(name)), control_(control), options_(options) {
    pending_.reserve(static_cast<std::size_t>(options_.flushSteps));
}

template <typename F> void RunRecorder::write(F&& f) {
    if (error_) return;
    try {
        f();
    } catch (const std::exception& e) {
        error_ = e.what();
        if (control_) control_->requestStop();
    }
}

void RunRecorder::onRunStart(const RunStart& start) {
    write([&] { runId_ = store_.beginRun(config_, start, name_); });
    lastFlush_ = std::chrono::steady_clock::now();
}

void RunRecorder::onStep(const StepMetrics& step) {
    if (!runId_ || error_) return;
    pending_.push_back(step);
    if (static_cast<int>(pending_.size()) >= options_.flushSteps ||
        std::chrono::steady_clock::now() - lastFlush_ >= options_.flushInterval)
        flush();
}

void RunRecorder::flush() {
    write([&] { store_.appendSteps(*runId_, pending_); });
    pending_.clear();
    lastFlush_ = std::chrono::steady_clock::now();
}

void RunRecorder::onEpoch(const EpochMetrics& epoch) {
    if (!runId_) return;
    write([&] { store_.appendEpoch(*runId_, epoch, pending_); });
    pending_.clear();
    lastFlush_ = std::chrono::steady_clock::now();
}

void RunRecorder::onCheckpoint(const Checkpoint& checkpoint) {
    if (!runId_) return;
    write([&] { store_.saveCheckpoint(*runId_, checkpoint); });
}

void RunRecorder::onRunEnd(const RunResult& result) {
    if (!runId_) return;
    if (!pending_.empty()) flush();
    RunResult stored = result;
    if (error_) {
        stored.status = RunStatus::Failed;
        stored.message = "the run store failed: " + *error_;
    }
    try {
        store_.finishRun(*runId_, stored); // tried even after an error: it may still fit
    } catch (const std::exception& e) {
        if (!error_) error_ = e.what();
    }
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/MetricsBuffer.h"

namespace mode {

void MetricsBuffer::onRunStart(const RunStart& start) {
    std::lock_guard<std::mutex> lock(m_);
    pending_.start = start;
}

void MetricsBuffer::onStep(const StepMetrics& step) {
    std::lock_guard<std::mutex> lock(m_);
    if (pending_.steps.size() >= maxPendingSteps_) {
        pending_.steps.erase(pending_.steps.begin(),
                             pending_.steps.begin() + static_cast<long>(maxPendingSteps_ / 2));
        pending_.droppedSteps += static_cast<std::int64_t>(maxPendingSteps_ / 2);
    }
    pending_.steps.push_back(step);
}

void MetricsBuffer::onEpoch(const EpochMetrics& epoch) {
    std::lock_guard<std::mutex> lock(m_);
    pending_.epochs.push_back(epoch);
}

void MetricsBuffer::setRunId(std::int64_t id) {
    std::lock_guard<std::mutex> lock(m_);
    pending_.runId = id;
}

void MetricsBuffer::finish(const RunResult& result) {
    std::lock_guard<std::mutex> lock(m_);
    pending_.end = result;
}

void MetricsBuffer::failToStart(const std::string& message, bool stopped) {
    std::lock_guard<std::mutex> lock(m_);
    pending_.startError = message;
    pending_.stoppedBeforeStart = stopped;
}

void MetricsBuffer::setLoaded(std::uint64_t done, std::uint64_t total) {
    std::lock_guard<std::mutex> lock(m_);
    pending_.loaded = std::make_pair(done, total);
}

MetricsBatch MetricsBuffer::take() {
    std::lock_guard<std::mutex> lock(m_);
    MetricsBatch out = std::move(pending_);
    pending_ = MetricsBatch{};
    return out;
}

} // namespace mode

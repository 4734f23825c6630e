// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Pause, resume and stop, requested from any thread and honoured by the trainer between steps.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace mode {

class TrainerControl {
  public:
    void requestStop() {
        std::lock_guard<std::mutex> lock(m_);
        stop_ = true;
        cv_.notify_all();
    }
    // For a signal handler: only sets the lock-free flag (no mutex, async-signal-safe). A trainer
    // that is paused notices it when resumed; one that runs, before its next step.
    void requestStopFromSignal() noexcept { stop_.store(true, std::memory_order_relaxed); }
    void requestPause() { paused_ = true; }
    void requestResume() {
        std::lock_guard<std::mutex> lock(m_);
        paused_ = false;
        cv_.notify_all();
    }
    bool stopRequested() const { return stop_; }
    bool paused() const { return paused_; }

    // Called by the trainer between steps: blocks while paused; returns false when stopped.
    // The time spent paused is returned through pausedFor so throughput ignores it.
    bool checkpoint(std::chrono::steady_clock::duration* pausedFor = nullptr) {
        if (stop_) return false;
        if (!paused_) return true;
        auto t0 = std::chrono::steady_clock::now();
        std::unique_lock<std::mutex> lock(m_);
        cv_.wait(lock, [&] { return !paused_ || stop_; });
        if (pausedFor) *pausedFor += std::chrono::steady_clock::now() - t0;
        return !stop_;
    }

  private:
    static_assert(std::atomic<bool>::is_always_lock_free, "a signal handler sets stop_");
    std::atomic<bool> stop_{false};
    std::atomic<bool> paused_{false};
    std::mutex m_;
    std::condition_variable cv_;
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Shared by the GUI tests: running the event loop until something has happened.

#include <QTest>

#include <chrono>
#include <functional>

namespace mode::test {

// Runs the event loop until the condition holds (true) or the time is up (false).
inline bool waitUntil(const std::function<bool()>& condition, int timeoutMs = 60000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeoutMs);
    while (!condition()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        QTest::qWait(10);
    }
    return true;
}

} // namespace mode::test

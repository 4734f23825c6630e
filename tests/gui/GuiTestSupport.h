// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Shared by the GUI tests: running the event loop until something has happened, and a
// workbench window on a store of its own.

#include "MainWindow.h"
#include "store/RunStore.h"

#include "TestSupport.h"

#include <QTest>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <string>

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

// The workbench shown on a new store in a temporary folder.
struct StoreWindow {
    TempDir dir;
    std::string db = dir / "runs.sqlite";
    MainWindow window{QString::fromStdString(db)};
    StoreWindow() {
        window.show();
        EXPECT_TRUE(QTest::qWaitForWindowExposed(&window));
    }
    RunStore store() const { return RunStore(db, RunStore::Mode::ReadOnly); }
};

} // namespace mode::test

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Helpers of the command-line tests.

#include "TestSupport.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <thread>

namespace mode::test {

// Polls `RUNS list --json` (RUNS: a mode-runs command with its --db) until the newest run has
// at least `epochs` epochs stored, or `timeout` passes; returns the epochs it last saw.
inline int waitForStoredEpochs(const std::string& runs, int epochs,
                               std::chrono::seconds timeout = std::chrono::seconds(60)) {
    int seen = 0;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen < epochs && std::chrono::steady_clock::now() < deadline) {
        const auto r = runCommand(runs + " list --json");
        if (r.exitCode == 0) {
            const auto list = nlohmann::json::parse(r.out, nullptr, false);
            if (list.is_array() && !list.empty()) seen = list[0]["epochs_completed"].get<int>();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return seen;
}

} // namespace mode::test

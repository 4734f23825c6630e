// SPDX-License-Identifier: GPL-3.0-or-later
// mode-sweep: runs every point of a sweep (datasets x alphas x experts x seeds, any config field)
// as mode-train processes, N at a time, each run into the store. Finished points are skipped, so
// an interrupted sweep resumes where it stopped; --shard i/n splits a sweep over machines or
// scheduler array jobs (each with its own store; `mode-runs merge` joins them).
// The command lives in cli/SweepCommand.cpp.

#include "cli/SweepCommand.h"

#include "cli/CliCommon.h"

int main(int argc, char** argv) {
    return mode::exitAfterFlushingStdout("mode-sweep", mode::sweepCommand(argc, argv));
}

// SPDX-License-Identifier: GPL-3.0-or-later
// mode-runs: list, show, export, compare, tag, rename and delete the runs of a run store. The
// command lives in cli/RunsCommand.cpp.

#include "cli/RunsCommand.h"

#include "cli/CliCommon.h"

int main(int argc, char** argv) {
    return mode::exitAfterFlushingStdout("mode-runs", mode::runsCommand(argc, argv));
}

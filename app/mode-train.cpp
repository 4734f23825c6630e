// SPDX-License-Identifier: GPL-3.0-or-later
// mode-train: trains one MoDE experiment headless (a server, a GPU box, a sweep) and stores it.
// The command lives in cli/TrainCommand.cpp; its flags come from the settings table.

#include "cli/TrainCommand.h"

#include "cli/CliCommon.h"

int main(int argc, char** argv) {
    return mode::exitAfterFlushingStdout("mode-train", mode::trainCommand(argc, argv));
}

// SPDX-License-Identifier: GPL-3.0-or-later
// mode-predict: predict with a stored run's model. The command lives in cli/PredictCommand.cpp.

#include "cli/PredictCommand.h"

#include "cli/CliCommon.h"

int main(int argc, char** argv) {
    return mode::exitAfterFlushingStdout("mode-predict", mode::predictCommand(argc, argv));
}

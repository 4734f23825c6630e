// SPDX-License-Identifier: GPL-3.0-or-later
// mode-report: the reproduction report of a store of sweep runs, as Markdown with PNG figures.
// The command lives in gui/ReportCommand.cpp.

#include "gui/ReportCommand.h"

#include "cli/CliCommon.h"

int main(int argc, char** argv) {
    return mode::exitAfterFlushingStdout("mode-report", mode::reportCommand(argc, argv));
}

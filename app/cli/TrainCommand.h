// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-train as a function: parses the command line, trains, stores and reports one run.
// Returns the process's exit code (0 finished, 1 failed or diverged, 2 bad input, 130 stopped).

namespace mode {

int trainCommand(int argc, char** argv);

} // namespace mode

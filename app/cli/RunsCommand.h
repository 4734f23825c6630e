// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-runs as a function: list, show, export, compare, tag, rename, delete, merge and check the
// runs of a store. Returns the exit code (0 done, 1 a check found problems, 2 bad input).

namespace mode {

int runsCommand(int argc, char** argv);

} // namespace mode

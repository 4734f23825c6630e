// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-sweep as a function: runs a sweep file's points as mode-train processes into a store.
// Returns the exit code (0 all finished, 1 some failed, 2 bad input, 130 interrupted).

namespace mode {

int sweepCommand(int argc, char** argv);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-workbench as a function: reads the command line (before any display is touched), opens
// the main window on the store and what the command line names, and runs the event loop.

namespace mode {

int workbenchCommand(int argc, char** argv);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
// mode-workbench: the desktop workbench. The command lives in gui/WorkbenchCommand.cpp.

#include "gui/WorkbenchCommand.h"

int main(int argc, char** argv) {
    return mode::workbenchCommand(argc, argv);
}

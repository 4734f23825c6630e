// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-report as a function: the reproduction report of a store of sweep runs, as Markdown with
// figures drawn by the widgets' alpha-sweep plot. Returns the exit code.

namespace mode {

int reportCommand(int argc, char** argv);

} // namespace mode

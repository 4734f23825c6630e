// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// mode-predict: a stored run's model applied to new rows or to its own split.

namespace mode {

int predictCommand(int argc, char** argv);

} // namespace mode

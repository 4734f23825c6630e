// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Colours that follow the palette: the same widgets read on a light and on a dark desktop.

#include <QColor>
#include <QPalette>
#include <QString>

namespace mode {

// A dark palette: the window's colour is darker than mid grey.
bool isDark(const QPalette& palette);
// Text that says something is wrong (a field's error, a refused column).
QColor errorTextColor(const QPalette& palette);
// The style sheet of the message banner: an error or a note, in the palette's tone.
QString bannerStyle(const QPalette& palette, bool error);
// A dark palette for the Fusion style (mode-workbench --palette dark), for desktops without a
// dark theme of their own.
QPalette darkPalette();

} // namespace mode

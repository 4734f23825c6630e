// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The wheel scrolls, it never edits: combo boxes, spin boxes and sliders take the wheel only
// when they have the focus (clicked or tabbed into, the Qt convention of StrongFocus plus an
// event filter). Unfocused, the wheel goes on to the scroll area around them.

#include <QObject>

namespace mode {

class WheelGuard : public QObject {
    Q_OBJECT
  public:
    // Installs the guard on the application once, for every window and dialog of the process
    // (further calls do nothing). Needs a QApplication.
    static void install();
    // Whether the guard is installed (tests).
    static bool installed();

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    using QObject::QObject;
};

} // namespace mode

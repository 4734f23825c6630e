// SPDX-License-Identifier: GPL-3.0-or-later
#include "WheelGuard.h"

#include <QAbstractSlider>
#include <QAbstractSpinBox>
#include <QApplication>
#include <QComboBox>
#include <QEvent>
#include <QPointer>

namespace mode {

namespace {
QPointer<WheelGuard> theGuard;

// The fields a wheel would edit.
bool editsOnWheel(const QObject* o) {
    return qobject_cast<const QComboBox*>(o) || qobject_cast<const QAbstractSpinBox*>(o) ||
           qobject_cast<const QAbstractSlider*>(o);
}
} // namespace

void WheelGuard::install() {
    if (theGuard || !qApp) return;
    theGuard = new WheelGuard(qApp);
    qApp->installEventFilter(theGuard);
}

bool WheelGuard::installed() {
    return !theGuard.isNull();
}

bool WheelGuard::eventFilter(QObject* watched, QEvent* event) {
    const auto type = event->type();
    if (type != QEvent::Wheel && type != QEvent::Polish) return false;
    if (!watched->isWidgetType() || !editsOnWheel(watched)) return false;
    auto* field = static_cast<QWidget*>(watched);
    if (type == QEvent::Polish) {
        // WheelFocus would give the field the focus on the first wheel turn, before this filter
        // sees it; a scroll bar (a slider too) keeps its own policy.
        if (field->focusPolicy() == Qt::WheelFocus) field->setFocusPolicy(Qt::StrongFocus);
        return false;
    }
    if (field->hasFocus() || field->inherits("QScrollBar")) return false;
    event->ignore(); // on to the parent: the scroll area scrolls
    return true;
}

} // namespace mode

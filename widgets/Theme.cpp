// SPDX-License-Identifier: GPL-3.0-or-later
#include "Theme.h"

namespace mode {

bool isDark(const QPalette& palette) {
    return palette.color(QPalette::Window).lightness() < 128;
}

QColor errorTextColor(const QPalette& palette) {
    return isDark(palette) ? QColor(239, 154, 154) : QColor(198, 40, 40);
}

QString bannerStyle(const QPalette& palette, bool error) {
    if (isDark(palette))
        return error ? "QLabel { background: #4a1d1b; color: #f8d7d5; padding: 6px; border: 1px "
                       "solid #7a2e2a; }"
                     : "QLabel { background: #0d2a40; color: #cfe8fb; padding: 6px; }";
    return error ? "QLabel { background: #fdecea; color: #611a15; padding: 6px; border: 1px solid "
                   "#f5c2c0; }"
                 : "QLabel { background: #e8f4fd; color: #0d3c61; padding: 6px; }";
}

QPalette darkPalette() {
    QPalette p;
    const QColor window(45, 45, 48), base(30, 30, 32), text(225, 225, 225), mid(90, 90, 95);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, QColor(60, 60, 64));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(150, 150, 150));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(255, 90, 90));
    p.setColor(QPalette::Highlight, QColor(42, 130, 218));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(100, 170, 255));
    p.setColor(QPalette::Mid, mid);
    p.setColor(QPalette::Dark, QColor(25, 25, 27));
    p.setColor(QPalette::Light, QColor(70, 70, 74));
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, QColor(120, 120, 120));
    return p;
}

} // namespace mode

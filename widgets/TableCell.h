// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A cell of a read-only table (the run table's computed columns, the explorer's and compare's
// tables): shown and selectable, never edited.

#include <QFont>
#include <QTableWidgetItem>

namespace mode {

inline QTableWidgetItem* readOnlyCell(QTableWidgetItem* item, bool bold = false) {
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    if (bold) {
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
    }
    return item;
}

inline QTableWidgetItem* readOnlyCell(const QString& text, bool bold = false) {
    return readOnlyCell(new QTableWidgetItem(text), bold);
}

} // namespace mode

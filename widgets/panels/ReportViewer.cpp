// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/ReportViewer.h"

#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QKeySequence>
#include <QScrollBar>
#include <QShortcut>
#include <QTextBlock>
#include <QTextCursor>
#include <QTextDocument>
#include <QTextFragment>
#include <QTextImageFormat>
#include <QUrl>

#include <algorithm>

namespace mode {

void closeOnEscapeOrCtrlW(QWidget* w) {
    QList<QKeySequence> keys{QKeySequence(Qt::Key_Escape), QKeySequence(Qt::CTRL | Qt::Key_W)};
    for (const QKeySequence& key : QKeySequence::keyBindings(QKeySequence::Close))
        if (!keys.contains(key)) keys << key; // one shortcut per key: two would be ambiguous
    for (const QKeySequence& key : keys) {
        auto* shortcut = new QShortcut(key, w);
        QObject::connect(shortcut, &QShortcut::activated, w, &QWidget::close);
    }
}

ReportViewer::ReportViewer(QWidget* parent) : QTextBrowser(parent) {
    setObjectName("reportViewer");
    setOpenExternalLinks(true);
    closeOnEscapeOrCtrlW(this);
}

bool ReportViewer::openFile(const QString& path, QString* error) {
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        if (error) *error = file.errorString();
        return false;
    }
    setWindowTitle(tr("Report: %1").arg(QFileInfo(path).fileName()));
    setSearchPaths({QFileInfo(path).absolutePath()}); // the figures are relative to it
    setMarkdown(QString::fromUtf8(file.readAll()));
    fitFigures();
    return true;
}

void ReportViewer::resizeEvent(QResizeEvent* event) {
    QTextBrowser::resizeEvent(event);
    fitFigures();
}

// Each image of the document at its own width, or at the text's width where that is smaller
// (its height follows: only the width is set).
void ReportViewer::fitFigures() {
    const int room =
        std::max(100, viewport()->width() - 2 * static_cast<int>(document()->documentMargin()) - 4);
    for (QTextBlock block = document()->begin(); block.isValid(); block = block.next())
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const QTextFragment fragment = it.fragment();
            if (!fragment.charFormat().isImageFormat()) continue;
            QTextImageFormat image = fragment.charFormat().toImageFormat();
            const QVariant resource =
                document()->resource(QTextDocument::ImageResource, QUrl(image.name()));
            const int natural = resource.value<QImage>().width();
            if (natural <= 0) continue;
            const int width = std::min(natural, room);
            if (static_cast<int>(image.width()) == width) continue;
            image.setWidth(width);
            image.setHeight(resource.value<QImage>().height() * width / double(natural));
            QTextCursor cursor(document());
            cursor.setPosition(fragment.position());
            cursor.setPosition(fragment.position() + fragment.length(), QTextCursor::KeepAnchor);
            cursor.setCharFormat(image);
        }
}

int ReportViewer::figureWidth(const QString& name) const {
    for (QTextBlock block = document()->begin(); block.isValid(); block = block.next())
        for (auto it = block.begin(); !it.atEnd(); ++it) {
            const auto format = it.fragment().charFormat();
            if (format.isImageFormat() && format.toImageFormat().name() == name)
                return static_cast<int>(format.toImageFormat().width());
        }
    return -1;
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A Markdown report (mode-report's REPORT.md) with its figures, in a window of its own: the
// figures scale down to the window's width (never up), Esc and Ctrl+W close it.

#include <QTextBrowser>

namespace mode {

class ReportViewer : public QTextBrowser {
    Q_OBJECT
  public:
    explicit ReportViewer(QWidget* parent = nullptr);
    // The report at `path`, its figures found relative to it; false if it cannot be read.
    bool openFile(const QString& path, QString* error);
    // The width each figure is drawn at (its own, or the text's width where that is smaller).
    int figureWidth(const QString& name) const;

  protected:
    void resizeEvent(QResizeEvent* event) override;

  private:
    void fitFigures();
};

// Esc and Ctrl+W close the window `w` (a help or report window of its own).
void closeOnEscapeOrCtrlW(QWidget* w);

} // namespace mode

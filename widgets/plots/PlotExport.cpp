// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/PlotExport.h"

#include "util/Csv.h"

#include <QApplication>
#include <QClipboard>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QMessageBox>
#include <QSvgGenerator>
#include <QTableWidget>
#include <QTextStream>
#include <qcustomplot.h>

namespace mode {

namespace {
QString csvField(const QString& v) {
    return QString::fromStdString(mode::csvField(v.toStdString()));
}
} // namespace

QString plotToCsv(QCustomPlot* plot) {
    QString csv =
        "series," +
        csvField(plot->xAxis->label().isEmpty() ? QStringLiteral("x") : plot->xAxis->label()) +
        "," +
        csvField(plot->yAxis->label().isEmpty() ? QStringLiteral("value") : plot->yAxis->label()) +
        "\n";
    for (int i = 0; i < plot->plottableCount(); ++i) {
        QCPAbstractPlottable* p = plot->plottable(i);
        const QCPPlottableInterface1D* data = p->interface1D();
        if (!data) continue;
        for (int k = 0; k < data->dataCount(); ++k)
            csv += csvField(p->name()) + "," + QString::number(data->dataMainKey(k), 'g', 10) +
                   "," + QString::number(data->dataMainValue(k), 'g', 10) + "\n";
    }
    return csv;
}

bool exportPlot(QCustomPlot* plot, const QString& file, int width, int height) {
    const QString ext = QFileInfo(file).suffix().toLower();
    if (ext == "csv") {
        QFile out(file);
        if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
        return out.write(plotToCsv(plot).toUtf8()) >= 0;
    }
    // What the plot shows now: the replot runs what styles it on each replot (tick labels and
    // legend once it has data, the legend's corner), which a plot drawn without an event loop
    // (mode-report's figures) never got from its queued replots.
    plot->replot(QCustomPlot::rpImmediateRefresh);
    const int w = width > 0 ? width : plot->width(), h = height > 0 ? height : plot->height();
    if (ext == "png") return plot->savePng(file, w, h, 2.0);
    if (ext == "pdf") return plot->savePdf(file, w, h);
    if (ext == "svg") {
        QSvgGenerator svg;
        svg.setFileName(file);
        svg.setSize(QSize(w, h));
        svg.setViewBox(QRect(0, 0, w, h));
        svg.setTitle(plot->objectName());
        QCPPainter painter;
        if (!painter.begin(&svg)) return false;
        plot->toPainter(&painter, w, h);
        painter.end();
        return QFileInfo(file).size() > 0;
    }
    return false;
}

void copyPlotToClipboard(QCustomPlot* plot) {
    plot->replot(QCustomPlot::rpImmediateRefresh);
    QApplication::clipboard()->setPixmap(plot->toPixmap(0, 0, 2.0));
}

QString tableToCsv(const QTableWidget* table) {
    QString out;
    QTextStream s(&out);
    QStringList header;
    for (int c = 0; c < table->columnCount(); ++c) {
        auto* h = table->horizontalHeaderItem(c);
        header << csvField(h ? h->text().replace('\n', ' ') : QString::number(c));
    }
    s << header.join(',') << '\n';
    for (int r = 0; r < table->rowCount(); ++r) {
        if (table->isRowHidden(r)) continue;
        QStringList row;
        for (int c = 0; c < table->columnCount(); ++c) {
            auto* item = table->item(r, c);
            row << csvField(item ? item->text() : QString());
        }
        s << row.join(',') << '\n';
    }
    return out;
}

bool exportTable(const QTableWidget* table, const QString& file) {
    QFile f(file);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    const QByteArray bytes = tableToCsv(table).toUtf8();
    return f.write(bytes) == bytes.size();
}

void copyTableToClipboard(const QTableWidget* table) {
    QApplication::clipboard()->setText(tableToCsv(table));
}

void exportPlotInteractively(QCustomPlot* plot, QWidget* parent, const QString& baseName) {
    const QString file = QFileDialog::getSaveFileName(
        parent, QObject::tr("Export the plot"), baseName + ".png",
        QObject::tr("PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf);;"
                    "CSV data (*.csv)"));
    if (file.isEmpty()) return;
    if (!exportPlot(plot, file))
        QMessageBox::warning(
            parent, QObject::tr("Export"),
            QObject::tr("Cannot write %1 (use .png, .svg, .pdf or .csv).").arg(file));
}

void exportTableInteractively(const QTableWidget* table, QWidget* parent, const QString& baseName) {
    const QString file =
        QFileDialog::getSaveFileName(parent, QObject::tr("Export the table"), baseName + ".csv",
                                     QObject::tr("CSV file (*.csv)"));
    if (file.isEmpty()) return;
    if (!exportTable(table, file))
        QMessageBox::warning(parent, QObject::tr("Export"),
                             QObject::tr("Cannot write %1.").arg(file));
}

} // namespace mode

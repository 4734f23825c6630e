// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Plots and tables out of the workbench: PNG, SVG and PDF files, CSV files, the clipboard.

#include <QString>

class QCustomPlot;
class QTableWidget;
class QWidget;

namespace mode {

// The data of the plot's curves and bars as CSV: one row per point, "series,x,y".
QString plotToCsv(QCustomPlot* plot);
// Writes the plot in the format its extension names (.png, .svg, .pdf, or .csv for its data);
// false if it cannot.
bool exportPlot(QCustomPlot* plot, const QString& file, int width = 0, int height = 0);
void copyPlotToClipboard(QCustomPlot* plot);
// The table as CSV: the header row, then the rows as shown (sorted, filtered), RFC 4180 quoting.
QString tableToCsv(const QTableWidget* table);
bool exportTable(const QTableWidget* table, const QString& file);
void copyTableToClipboard(const QTableWidget* table);
// Asks for a file name and exports; reports a failure in a message box.
void exportPlotInteractively(QCustomPlot* plot, QWidget* parent, const QString& baseName);
void exportTableInteractively(const QTableWidget* table, QWidget* parent, const QString& baseName);

} // namespace mode

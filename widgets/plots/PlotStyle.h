// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The look shared by every plot: colours that read on light and dark palettes, the same
// interactions (drag to pan, wheel to zoom, double-click to fit), a legend in the emptiest
// corner whose entries hide and show their curves when clicked.

#include <QColor>
#include <QString>

class QCustomPlot;

namespace mode {

// Distinct colours for series and runs (Tableau 10).
QColor seriesColor(int index);
// Fonts, colours from the widget's palette, interactions; returns nothing, styles in place.
void stylePlot(QCustomPlot* plot, bool withLegend = true);
// The corner of the plot area whose legend-sized rectangle covers the fewest data points (top
// right first on a tie); stylePlot keeps the legend there before each repaint.
Qt::Alignment emptiestCorner(QCustomPlot* plot);
void placeLegendInEmptiestCorner(QCustomPlot* plot);
// Fits the axes to the data; the plot stays where the user zoomed until this is called again.
void fitPlot(QCustomPlot* plot);

} // namespace mode

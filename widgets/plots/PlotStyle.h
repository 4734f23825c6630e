// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The look shared by every plot: colours that read on light and dark palettes, the same
// interactions (drag to pan, wheel to zoom, double-click to fit), a legend in the emptiest
// corner whose entries hide and show their curves when clicked, a crosshair with the values
// under the mouse, a context menu to export or copy the plot and its data, and a note in place
// of empty axes.

#include <QColor>
#include <QString>

class QCustomPlot;
class QCPColorGradient;
class QToolButton;
class QWidget;

namespace mode {

// Distinct colours for series and runs: Tableau 10, then 20 more of high contrast (30 in all).
QColor seriesColor(int index);
// A plot's help as What's This (Shift+F1) and a "?" button that shows it: never a tooltip, which
// would replace the crosshair's values while the mouse rests on the plot.
QToolButton* helpButton(QWidget* owner, const QString& help);
// Fonts, colours from the widget's palette, interactions; returns nothing, styles in place.
// `emptyNote` is shown while no plottable has data.
void stylePlot(QCustomPlot* plot, bool withLegend = true,
               const QString& emptyNote = QStringLiteral("No data yet"));
// The corner of the plot area whose legend-sized rectangle covers the fewest data points (top
// right first on a tie); stylePlot keeps the legend there before each repaint.
Qt::Alignment emptiestCorner(QCustomPlot* plot);
void placeLegendInEmptiestCorner(QCustomPlot* plot);
// For small plots, where any corner would hide data: the legend as one row above the plot area
// (wrapping after `perRow` entries); call after stylePlot.
void placeLegendAbove(QCustomPlot* plot, int perRow = 4);
// Fits the axes to the data; the plot stays where the user zoomed until this is called again.
void fitPlot(QCustomPlot* plot);
// The crosshair's tooltip at x-coordinate `key`: the x label and the nearest point's key, then
// each visible curve's value at its point nearest to `key` (with that point's key where it is
// another one, as for runs logged at other steps). Empty when no curve has a point.
QString crosshairText(QCustomPlot* plot, double key);
// Whether any visible plottable holds data (an empty plot shows a note instead of bare 0-5
// axes, and no legend).
bool plotHasData(QCustomPlot* plot);
// The colour scale of every heatmap (viridis: ordered, readable in grey, for colour-blind eyes).
QCPColorGradient viridis();
// Its colour at t in [0, 1].
QColor viridisColor(double t);

} // namespace mode

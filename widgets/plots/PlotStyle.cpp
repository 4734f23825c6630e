// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/PlotStyle.h"

#include <qcustomplot.h>

namespace mode {

QColor seriesColor(int index) {
    static const QColor colors[] = {
        QColor(31, 119, 180),  QColor(255, 127, 14), QColor(44, 160, 44),   QColor(214, 39, 40),
        QColor(148, 103, 189), QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127),
        QColor(188, 189, 34),  QColor(23, 190, 207)};
    return colors[((index % 10) + 10) % 10];
}

void stylePlot(QCustomPlot* plot, bool withLegend) {
    const QPalette pal = plot->palette();
    const QColor fg = pal.color(QPalette::WindowText);
    const QColor bg = pal.color(QPalette::Base);
    const QColor grid = QColor::fromRgbF(fg.redF(), fg.greenF(), fg.blueF(), 0.15);
    plot->setBackground(bg);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        axis->setBasePen(QPen(fg));
        axis->setTickPen(QPen(fg));
        axis->setSubTickPen(QPen(fg));
        axis->setTickLabelColor(fg);
        axis->setLabelColor(fg);
        axis->grid()->setPen(QPen(grid));
    }
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->setNoAntialiasingOnDrag(true);
    if (withLegend) {
        plot->legend->setVisible(true);
        plot->legend->setBrush(QBrush(QColor::fromRgbF(bg.redF(), bg.greenF(), bg.blueF(), 0.85)));
        plot->legend->setTextColor(fg);
        plot->legend->setBorderPen(QPen(grid));
        plot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    }
    QObject::connect(plot, &QCustomPlot::mouseDoubleClick, plot,
                     [plot](QMouseEvent*) { fitPlot(plot); });
}

void fitPlot(QCustomPlot* plot) {
    plot->rescaleAxes(true);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        QCPRange r = axis->range();
        if (axis->scaleType() == QCPAxis::stLinear) {
            const double pad = r.size() > 0 ? r.size() * 0.04 : 0.5;
            axis->setRange(r.lower - (axis == plot->yAxis ? pad : 0), r.upper + pad);
        }
    }
    plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace mode

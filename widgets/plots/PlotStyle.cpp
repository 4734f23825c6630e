// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>

namespace mode {

QColor seriesColor(int index) {
    static const QColor colors[] = {
        QColor(31, 119, 180),  QColor(255, 127, 14), QColor(44, 160, 44),   QColor(214, 39, 40),
        QColor(148, 103, 189), QColor(140, 86, 75),  QColor(227, 119, 194), QColor(127, 127, 127),
        QColor(188, 189, 34),  QColor(23, 190, 207)};
    return colors[((index % 10) + 10) % 10];
}

Qt::Alignment emptiestCorner(QCustomPlot* plot) {
    const QRect area = plot->axisRect()->rect();
    const QSize legend = plot->legend->outerRect().size();
    const Qt::Alignment corners[] = {Qt::AlignTop | Qt::AlignRight, Qt::AlignTop | Qt::AlignLeft,
                                     Qt::AlignBottom | Qt::AlignRight,
                                     Qt::AlignBottom | Qt::AlignLeft};
    int fewest = -1;
    Qt::Alignment best = corners[0];
    for (const Qt::Alignment corner : corners) {
        const int x = corner & Qt::AlignLeft ? area.left() : area.right() - legend.width();
        const int y = corner & Qt::AlignTop ? area.top() : area.bottom() - legend.height();
        const QRect under(x, y, legend.width(), legend.height());
        int points = 0;
        for (int g = 0; g < plot->graphCount(); ++g) {
            QCPGraph* graph = plot->graph(g);
            if (!graph->visible()) continue;
            const int n = graph->dataCount();
            const int stride = std::max(1, n / 2000); // a bounded cost per repaint
            for (int i = 0; i < n; i += stride) {
                const auto it = graph->data()->at(i);
                const QPointF p(graph->keyAxis()->coordToPixel(it->key),
                                graph->valueAxis()->coordToPixel(it->value));
                if (under.contains(p.toPoint())) ++points;
            }
        }
        if (fewest < 0 || points < fewest) {
            fewest = points;
            best = corner;
        }
    }
    return best;
}

void placeLegendInEmptiestCorner(QCustomPlot* plot) {
    if (!plot->legend->visible() || plot->graphCount() == 0) return;
    plot->axisRect()->insetLayout()->setInsetAlignment(0, emptiestCorner(plot));
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
        // A click on a legend entry hides its curve (and shows it again); the entry greys out.
        QObject::connect(plot, &QCustomPlot::legendClick, plot,
                         [plot, fg](QCPLegend*, QCPAbstractLegendItem* item, QMouseEvent*) {
                             auto* entry = qobject_cast<QCPPlottableLegendItem*>(item);
                             if (!entry) return;
                             QCPAbstractPlottable* curve = entry->plottable();
                             curve->setVisible(!curve->visible());
                             QColor text = fg;
                             if (!curve->visible()) text.setAlphaF(0.35);
                             entry->setTextColor(text);
                             plot->replot(QCustomPlot::rpQueuedReplot);
                         });
        // The legend sits in the corner with the fewest data points under it.
        QObject::connect(plot, &QCustomPlot::beforeReplot, plot,
                         [plot] { placeLegendInEmptiestCorner(plot); });
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

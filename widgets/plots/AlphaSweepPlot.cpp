// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/AlphaSweepPlot.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

#include <algorithm>
#include <set>

namespace mode {

double alphaAxisPosition(double alpha, const std::vector<double>& alphas) {
    if (alpha > 0) return std::log10(alpha);
    double smallest = 0;
    for (double a : alphas)
        if (a > 0 && (smallest == 0 || a < smallest)) smallest = a;
    return (smallest > 0 ? std::log10(smallest) : 0.0) - 1.0;
}

void drawAlphaSweep(QCustomPlot* plot, const std::vector<AlphaSeries>& series,
                    const QString& yLabel, std::optional<double> reference,
                    const QString& referenceLabel) {
    plot->clearPlottables();
    plot->clearItems();
    std::set<double> alphaSet;
    for (const auto& s : series)
        for (const auto& p : s.points)
            alphaSet.insert(p.alpha);
    const std::vector<double> alphas(alphaSet.begin(), alphaSet.end());
    // One labelled tick per alpha; alpha = 0 set apart.
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (double a : alphas)
        ticker->addTick(alphaAxisPosition(a, alphas),
                        a == 0 ? QObject::tr("0 (MoE)") : QString::number(a));
    plot->xAxis->setScaleType(QCPAxis::stLinear);
    plot->xAxis->setTicker(ticker);
    plot->xAxis->setLabel(
        QObject::tr("distillation weight \u03b1 (log scale; \u03b1 = 0 on its own tick)"));
    plot->yAxis->setLabel(yLabel);
    const double offset = series.size() > 1 ? 0.06 : 0.0; // series side by side at an alpha
    double lo = HUGE_VAL, hi = -HUGE_VAL;
    bool markInLegend = false;
    for (std::size_t k = 0; k < series.size(); ++k) {
        const QColor c = seriesColor(static_cast<int>(k));
        const double shift =
            (static_cast<double>(k) - (static_cast<double>(series.size()) - 1) / 2) * offset;
        QVector<double> x, y, xm, ym, errLo, errHi;
        QVector<double> x0, y0, err0Lo, err0Hi; // alpha = 0, not joined to the others
        for (const auto& p : series[k].points) {
            const double at = alphaAxisPosition(p.alpha, alphas) + shift;
            const bool bar = std::isfinite(p.lower) && std::isfinite(p.upper);
            auto& xs = p.alpha == 0 ? x0 : x;
            auto& ys = p.alpha == 0 ? y0 : y;
            xs << at;
            ys << p.value;
            (p.alpha == 0 ? err0Lo : errLo) << (bar ? p.value - p.lower : 0.0);
            (p.alpha == 0 ? err0Hi : errHi) << (bar ? p.upper - p.value : 0.0);
            if (p.marked) {
                xm << at;
                ym << p.value;
            }
            lo = std::min({lo, p.value, bar ? p.lower : p.value});
            hi = std::max({hi, p.value, bar ? p.upper : p.value});
        }
        auto addGraph = [&](const QVector<double>& xs, const QVector<double>& ys,
                            const QVector<double>& eLo, const QVector<double>& eHi, bool line,
                            const QString& name) {
            if (xs.isEmpty()) return;
            auto* g = plot->addGraph();
            g->setName(name);
            if (!line) g->removeFromLegend(); // alpha = 0 shares the series' entry
            g->setPen(line ? QPen(c, 1.6) : QPen(Qt::NoPen));
            g->setLineStyle(line ? QCPGraph::lsLine : QCPGraph::lsNone);
            g->setScatterStyle(
                QCPScatterStyle(line ? QCPScatterStyle::ssCircle : QCPScatterStyle::ssDiamond, c,
                                Qt::white, line ? 7 : 10));
            g->setData(xs, ys, true);
            auto* bars = new QCPErrorBars(plot->xAxis, plot->yAxis);
            bars->removeFromLegend();
            bars->setDataPlottable(g);
            bars->setData(eLo, eHi);
            bars->setPen(QPen(c, 1.2));
        };
        addGraph(x, y, errLo, errHi, true, series[k].name);
        addGraph(x0, y0, err0Lo, err0Hi, false, series[k].name + QObject::tr(" at \u03b1 = 0"));
        if (!xm.isEmpty()) { // marked: filled, with a star above
            auto* m = plot->addGraph();
            m->setName(QObject::tr("filled: significant after Holm"));
            if (markInLegend) m->removeFromLegend(); // one legend entry for the marks of all series
            markInLegend = true;
            m->setLineStyle(QCPGraph::lsNone);
            m->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, c, c, 9));
            m->setData(xm, ym, true);
            for (int i = 0; i < xm.size(); ++i) {
                auto* t = new QCPItemText(plot);
                t->position->setType(QCPItemPosition::ptPlotCoords);
                t->position->setCoords(xm[i], ym[i]);
                t->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
                t->setText("*  ");
                t->setColor(c);
            }
        }
    }
    if (reference) { // a dashed graph across the plot, so that its label goes to the legend, not
                     // onto the data
        const double left = alphas.empty() ? -1.0 : alphaAxisPosition(alphas.front(), alphas) - 0.5;
        const double right = alphas.empty() ? 1.0 : alphaAxisPosition(alphas.back(), alphas) + 0.5;
        auto* line = plot->addGraph();
        line->setName(referenceLabel);
        if (referenceLabel.isEmpty()) line->removeFromLegend();
        line->setPen(QPen(QColor(120, 120, 120), 1, Qt::DashLine));
        line->setData(QVector<double>{left, right}, QVector<double>{*reference, *reference}, true);
        lo = std::min(lo, *reference);
        hi = std::max(hi, *reference);
    }
    if (!alphas.empty()) {
        const double left = alphaAxisPosition(alphas.front(), alphas),
                     right = alphaAxisPosition(alphas.back(), alphas);
        plot->xAxis->setRange(left - 0.5, right + 0.5);
        if (alphas.front() == 0 &&
            alphas.size() > 1) { // the break between alpha = 0 and the log scale
            const double at = left + 0.5;
            auto* brk = new QCPItemText(plot);
            brk->position->setTypeX(QCPItemPosition::ptPlotCoords);
            brk->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
            brk->position->setCoords(at, 1.0);
            brk->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
            brk->setText("//");
            brk->setColor(QColor(110, 110, 110));
            auto* sep = new QCPItemStraightLine(plot);
            sep->point1->setCoords(at, 0);
            sep->point2->setCoords(at, 1);
            sep->setPen(QPen(QColor(200, 200, 200), 1, Qt::DotLine));
        }
    }
    if (std::isfinite(lo) && std::isfinite(hi)) {
        const double pad = std::max(1e-4, 0.12 * (hi - lo));
        plot->yAxis->setRange(lo - pad, hi + 2.2 * pad); // room above for the legend
    }
    plot->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/CurvePlot.h"

#include "plots/PlotStyle.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QPushButton>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>

namespace mode {

CurvePlot::CurvePlot(const QString& xLabel, const QString& yLabel, QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    toolbar_ = new QHBoxLayout;
    logY_ = new QCheckBox(tr("log y"), this);
    logY_->setToolTip(tr("Logarithmic y axis"));
    auto* fit = new QPushButton(tr("Fit"), this);
    fit->setToolTip(
        tr("Fit the axes to the data and follow new points (also: double-click the plot)"));
    toolbar_->addStretch();
    toolbar_->addWidget(logY_);
    toolbar_->addWidget(fit);
    layout->addLayout(toolbar_);
    plot_ = new QCustomPlot(this);
    // Small enough for four plots and the run table in a 1024x640 window.
    plot_->setMinimumSize(160, 100);
    layout->addWidget(plot_, 1);
    stylePlot(plot_);
    placeLegendAbove(plot_);
    plot_->setPlottingHint(QCP::phFastPolylines, true);
    plot_->xAxis->setLabel(xLabel);
    plot_->yAxis->setLabel(yLabel);

    connect(logY_, &QCheckBox::toggled, this, [this](bool on) {
        plot_->yAxis->setScaleType(on ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
        plot_->yAxis->setTicker(on ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                                   : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        follow_ = true;
        fitPlot(plot_);
    });
    connect(fit, &QPushButton::clicked, this, [this] {
        follow_ = true;
        fitPlot(plot_);
    });
    // The user takes over the view by dragging or zooming; Fit hands it back.
    connect(plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent*) { follow_ = false; });
    connect(plot_, &QCustomPlot::mouseWheel, this, [this](QWheelEvent*) { follow_ = false; });
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { follow_ = true; });
}

void CurvePlot::setHelp(const QString& help) {
    toolbar_->addWidget(helpButton(this, help));
}

int CurvePlot::addCurve(const QString& name, const QColor& color, bool markers,
                        std::size_t maxPoints) {
    QCPGraph* g = plot_->addGraph();
    g->setName(name);
    // A cosmetic 1-pixel pen keeps QPainter on its fast path: thick antialiased polylines cost
    // time in proportion to the points drawn, and a long run has many.
    g->setPen(markers ? QPen(color, 1.6) : QPen(color, 0));
    g->setAdaptiveSampling(true);
    if (markers) g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, color, 5));
    curves_.push_back({g, BoundedSeries(maxPoints)});
    return static_cast<int>(curves_.size()) - 1;
}

void CurvePlot::append(int curve, double key, double value) {
    if (!std::isfinite(value)) return;
    auto& c = curves_[static_cast<std::size_t>(curve)];
    c.series.add(key, value);
    c.dirty = true;
}

void CurvePlot::setCurveVisible(int curve, bool visible) {
    auto* g = curves_[static_cast<std::size_t>(curve)].graph;
    g->setVisible(visible);
    if (visible)
        g->addToLegend();
    else
        g->removeFromLegend();
}

void CurvePlot::publish() {
    bool changed = false;
    for (auto& c : curves_) {
        if (!c.dirty) continue;
        const auto& k = c.series.keys();
        const auto& v = c.series.values();
        c.graph->setData(QVector<double>(k.begin(), k.end()), QVector<double>(v.begin(), v.end()),
                         true);
        c.dirty = false;
        changed = true;
    }
    if (!changed) return;
    if (follow_)
        fitPlot(plot_);
    else
        plot_->replot(QCustomPlot::rpQueuedReplot);
}

int CurvePlot::pointCount(int curve) const {
    return curves_[static_cast<std::size_t>(curve)].graph->dataCount();
}
bool CurvePlot::logY() const {
    return logY_->isChecked();
}
void CurvePlot::setLogY(bool on) {
    logY_->setChecked(on);
}

void CurvePlot::clear() {
    for (auto& c : curves_) {
        c.series.clear();
        c.graph->data()->clear();
        c.dirty = false;
    }
    follow_ = true;
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

} // namespace mode

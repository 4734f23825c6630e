// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/ExpertPanel.h"

#include "plots/PlotStyle.h"

#include <QLabel>
#include <QVBoxLayout>
#include <qcustomplot.h>

#include <cmath>

namespace mode {

ExpertPanel::ExpertPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    caption_ = new QLabel(tr("no epoch yet"), this);
    captionRow_ = new QHBoxLayout;
    captionRow_->addWidget(caption_, 1);
    layout->addLayout(captionRow_);
    plot_ = new QCustomPlot(this);
    plot_->setMinimumSize(160, 100);
    layout->addWidget(plot_, 1);
    stylePlot(plot_);
    placeLegendAbove(plot_);
    plot_->setInteractions(QCP::Interactions());
    plot_->xAxis->setLabel(tr("expert"));
    plot_->yAxis->setRange(0, 1.05);
    auto* group = new QCPBarsGroup(plot_);
    probing_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    load_ = new QCPBars(plot_->xAxis, plot_->yAxis);
    for (auto [bars, i] : {std::pair{probing_, 0}, std::pair{load_, 1}}) {
        const QColor c = seriesColor(i == 0 ? 0 : 1);
        bars->setPen(QPen(c.darker(120)));
        bars->setBrush(c);
        bars->setWidth(0.38);
        bars->setBarsGroup(group);
    }
    load_->setName(tr("load (mean gate weight)"));
    setClassification(true);
    captionRow_->addWidget(helpButton(
        this, tr("Expert probing: each expert alone, on the test samples whose largest gate "
                 "weight is its own. "
                 "Load: the expert's mean gate weight over the test split.")));
}

void ExpertPanel::setClassification(bool classification) {
    classification_ = classification;
    probing_->setName(classification ? tr("probing accuracy") : tr("probing error (MSE)"));
    plot_->yAxis->setLabel(classification ? tr("accuracy / load") : tr("error / load"));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertPanel::clear() {
    probing_->data()->clear();
    load_->data()->clear();
    caption_->setText(tr("no epoch yet"));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

void ExpertPanel::showEpoch(const EpochMetrics& e) {
    QVector<double> keys, probing, load;
    QSharedPointer<QCPAxisTickerText> ticks(new QCPAxisTickerText);
    double top = 1.0;
    for (const auto& x : e.experts) {
        keys << x.expert;
        const auto p = classification_ ? x.probingAccuracy : x.probingError;
        probing << (p ? *p : std::nan(""));
        load << x.load;
        if (p) top = std::max(top, *p);
        ticks->addTick(x.expert, QString("%1\n(%2)").arg(x.expert).arg(x.allocated));
    }
    probing_->setData(keys, probing, true);
    load_->setData(keys, load, true);
    plot_->xAxis->setTicker(ticks);
    plot_->xAxis->setLabel(tr("expert (test samples allocated)"));
    plot_->xAxis->setRange(-0.6, e.experts.size() - 0.4);
    plot_->yAxis->setRange(0, top * 1.05); // the legend is above the plot area
    caption_->setText(
        tr("epoch %1: mixture test accuracy %2").arg(e.epoch).arg(e.testAccuracy, 0, 'f', 4));
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int ExpertPanel::expertCount() const {
    return probing_->data()->size();
}
double ExpertPanel::probing(int i) const {
    return (probing_->data()->constBegin() + i)->value;
}
double ExpertPanel::load(int i) const {
    return (load_->data()->constBegin() + i)->value;
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/AccuracyPlot.h"

#include "plots/PlotStyle.h"

#include <qcustomplot.h>

namespace mode {

AccuracyPlot::AccuracyPlot(QWidget* parent) : CurvePlot(tr("epoch"), tr("accuracy"), parent) {
    addCurve(tr("train"), seriesColor(0), true);
    addCurve(tr("validation"), seriesColor(3), true);
    addCurve(tr("test"), seriesColor(2), true);
    setHelp(tr("Accuracy of the mixture after each epoch (R\u00b2 for a regression target)."));
}

void AccuracyPlot::setClassification(bool classification) {
    plot()->yAxis->setLabel(classification ? tr("accuracy")
                                           : tr("R\u00b2 (test) / 1 - MSE/var (train)"));
}

void AccuracyPlot::addEpoch(const EpochMetrics& e) {
    const double x = e.epoch;
    append(Train, x, e.trainAccuracy);
    append(Validation, x, e.valAccuracy);
    append(Test, x, e.testR2 ? *e.testR2 : e.testAccuracy);
    publish();
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "plots/LossPlot.h"

#include "plots/PlotStyle.h"

namespace mode {

LossPlot::LossPlot(QWidget* parent) : CurvePlot(tr("step"), tr("loss"), parent) {
    addCurve(tr("total"), seriesColor(0));
    addCurve(tr("task"), seriesColor(1));
    addCurve(tr("distillation"), seriesColor(2));
    addCurve(tr("validation"), seriesColor(3), true);
    setHelp(tr("Training losses per step (total = task + alpha x distillation + balance) and "
               "the validation "
               "loss after each epoch. Drag to pan, wheel to zoom, double-click to fit."));
}

void LossPlot::addSteps(const std::vector<StepMetrics>& steps) {
    for (const auto& s : steps) {
        const double x = static_cast<double>(s.step);
        append(Total, x, s.total);
        append(Task, x, s.task);
        append(Distillation, x, s.distill);
    }
    publish();
}

void LossPlot::addEpoch(const EpochMetrics& e) {
    append(Validation, static_cast<double>(e.step), e.valLoss);
    publish();
}

} // namespace mode

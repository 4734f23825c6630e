// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Loss curves of a run: total, task and distillation loss per step, validation loss per epoch.

#include "plots/CurvePlot.h"
#include "train/TrainingEvents.h"

namespace mode {

class LossPlot : public CurvePlot {
    Q_OBJECT
  public:
    enum Curve { Total, Task, Distillation, Validation };
    explicit LossPlot(QWidget* parent = nullptr);
    void addSteps(const std::vector<StepMetrics>& steps);
    void addEpoch(const EpochMetrics& epoch);
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Accuracy per epoch on the train, validation and test splits (R^2 for regression).

#include "plots/CurvePlot.h"
#include "train/TrainingEvents.h"

namespace mode {

class AccuracyPlot : public CurvePlot {
    Q_OBJECT
  public:
    enum Curve { Train, Validation, Test };
    explicit AccuracyPlot(QWidget* parent = nullptr);
    void setClassification(bool classification);
    void addEpoch(const EpochMetrics& epoch);
};

} // namespace mode

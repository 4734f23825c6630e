// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Each expert's probing accuracy (its own accuracy on the test samples the gate sends to it,
// by the largest gate weight) and its load (mean gate weight), as grouped bars.

#include "train/TrainingEvents.h"

#include <QWidget>

class QCustomPlot;
class QCPBars;
class QHBoxLayout;
class QLabel;

namespace mode {

class ExpertPanel : public QWidget {
    Q_OBJECT
  public:
    explicit ExpertPanel(QWidget* parent = nullptr);
    void clear();
    void setClassification(bool classification);
    void showEpoch(const EpochMetrics& epoch);

    int expertCount() const;
    double probing(int expert) const; // NaN where the expert got no samples
    double load(int expert) const;
    QCustomPlot* plot() const { return plot_; }

  private:
    QCustomPlot* plot_;
    QCPBars* probing_;
    QCPBars* load_;
    QLabel* caption_;
    QHBoxLayout* captionRow_;
    bool classification_ = true;
};

} // namespace mode

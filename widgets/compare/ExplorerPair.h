// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Two runs' routing explorers side by side (Compare's Explorer tab), typically the plain MoE
// (alpha = 0) and a distilled run of the same seed: the right one follows the left one's expert,
// mapped through the alignment of the two runs' experts by routing (analysis/RunComparison), its
// class and its page, so the same expert of each run is on show and what distillation changed
// in it can be read off.

#include "store/RunStore.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;

namespace mode {

class RoutingExplorer;

class ExplorerPair : public QWidget {
    Q_OBJECT
  public:
    explicit ExplorerPair(QWidget* parent = nullptr);

    // The runs to choose from, with their epochs (in the same order). The left run is the
    // plain MoE where there is one, the right the best other run of its seed by final test
    // accuracy. The same runs again (a reload) keep what is chosen.
    void setRuns(const QString& storePath, std::vector<RunRecord> runs,
                 std::vector<std::vector<EpochMetrics>> epochs);
    void choose(int left, int right); // indices into the runs
    RoutingExplorer* left() const { return explorers_[0]; }
    RoutingExplorer* right() const { return explorers_[1]; }
    // Position k: the right run's expert aligned with the left run's expert k.
    const std::vector<int>& alignment() const { return alignment_; }

  private:
    void show(int side);
    void follow(int expert, int classIndex);

    QComboBox* runs_[2];
    RoutingExplorer* explorers_[2];
    QCheckBox* link_;
    QLabel* note_;
    QString path_;
    std::vector<RunRecord> records_;
    std::vector<std::int64_t> ids_;
    std::vector<std::vector<EpochMetrics>> epochs_;
    std::vector<int> alignment_;
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "compare/ExplorerPair.h"

#include "analysis/RunComparison.h"
#include "panels/RoutingExplorer.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSplitter>
#include <QVBoxLayout>

namespace mode {

ExplorerPair::ExplorerPair(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    const char* names[2] = {"explorerLeftRun", "explorerRightRun"};
    auto* split = new QSplitter(Qt::Horizontal, this);
    for (int side = 0; side < 2; ++side) {
        runs_[side] = new QComboBox(this);
        runs_[side]->setObjectName(names[side]);
        runs_[side]->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
        runs_[side]->setMinimumContentsLength(16); // long run names show whole in the list
        bar->addWidget(new QLabel(side == 0 ? tr("Left") : tr("Right"), this));
        bar->addWidget(runs_[side]);
        explorers_[side] = new RoutingExplorer(split);
        // Two fit a 1366-pixel screen: each may be narrower than its controls would like.
        explorers_[side]->setMinimumWidth(300);
        connect(runs_[side], &QComboBox::currentIndexChanged, this, [this, side] { show(side); });
    }
    link_ = new QCheckBox(tr("follow the left expert, aligned by routing"), this);
    link_->setObjectName("explorerLink");
    link_->setChecked(true);
    link_->setToolTip(tr("The right run shows the expert whose routing matches the left run's "
                         "expert (the experts' columns of mean gate weights at the last epoch, "
                         "matched one to one), and the same class and page"));
    bar->addWidget(link_);
    bar->addStretch();
    layout->addLayout(bar);
    note_ = new QLabel(tr("Compare two or more runs to see their experts side by side."), this);
    note_->setObjectName("explorerPairNote");
    note_->setWordWrap(true);
    layout->addWidget(note_);
    layout->addWidget(split, 1);
    connect(explorers_[0], &RoutingExplorer::filterChanged, this, &ExplorerPair::follow);
    connect(explorers_[0], &RoutingExplorer::pageChanged, this, [this](const QString& page) {
        if (link_->isChecked()) explorers_[1]->showPage(page);
    });
    connect(link_, &QCheckBox::toggled, this,
            [this] { follow(explorers_[0]->expert(), explorers_[0]->classIndex()); });
}

void ExplorerPair::setRuns(const QString& storePath, std::vector<RunRecord> runs,
                           std::vector<std::vector<EpochMetrics>> epochs) {
    std::vector<std::int64_t> ids;
    for (const auto& r : runs)
        ids.push_back(r.id);
    if (storePath == path_ && ids == ids_) return; // the same runs: the choices stay
    ids_ = ids;
    path_ = storePath;
    records_ = std::move(runs);
    epochs_ = std::move(epochs);
    const int left = static_cast<int>(baselineRun(records_));
    int right = -1;
    const auto& base = records_.empty() ? RunRecord{} : records_[static_cast<std::size_t>(left)];
    for (std::size_t i = 0; i < records_.size(); ++i) {
        const auto& r = records_[i];
        if (static_cast<int>(i) == left || r.seed != base.seed || !r.testAccuracy) continue;
        if (right < 0 || !records_[static_cast<std::size_t>(right)].testAccuracy ||
            *r.testAccuracy > *records_[static_cast<std::size_t>(right)].testAccuracy)
            right = static_cast<int>(i);
    }
    if (right < 0) right = records_.size() > 1 ? (left == 0 ? 1 : 0) : left;
    for (auto* combo : runs_) {
        const QSignalBlocker block(combo);
        combo->clear();
        for (const auto& r : records_)
            combo->addItem(tr("run %1 (\u03b1 %2, seed %3)").arg(r.id).arg(r.alpha).arg(r.seed));
    }
    choose(left, right);
}

void ExplorerPair::choose(int left, int right) {
    for (int side = 0; side < 2; ++side) {
        const QSignalBlocker block(runs_[side]);
        runs_[side]->setCurrentIndex(side == 0 ? left : right);
    }
    show(0);
    show(1);
}

// A side's run into its explorer, and the alignment of the two runs' experts.
void ExplorerPair::show(int side) {
    const int i = runs_[side]->currentIndex();
    if (i < 0 || static_cast<std::size_t>(i) >= records_.size()) return;
    const auto index = static_cast<std::size_t>(i);
    const RunRecord& r = records_[index];
    explorers_[side]->showRun(path_, r.id, r.start.classNames);
    for (const auto& e : epochs_[index])
        explorers_[side]->addEpoch(e, r.start.classNames);
    const auto& a = epochs_[static_cast<std::size_t>(runs_[0]->currentIndex())];
    const auto& b = epochs_[static_cast<std::size_t>(std::max(0, runs_[1]->currentIndex()))];
    alignment_ = !a.empty() && !b.empty()
                     ? alignExperts(a.back().routingByClass, b.back().routingByClass)
                     : std::vector<int>{};
    QStringList pairs;
    for (std::size_t k = 0; k < alignment_.size(); ++k)
        pairs << tr("%1 \u2194 %2").arg(k).arg(alignment_[k]);
    note_->setText(alignment_.empty() ? tr("No epochs to align the experts by.")
                                      : tr("Experts aligned by routing at the last epoch (left "
                                           "\u2194 right): %1")
                                            .arg(pairs.join(", ")));
    follow(explorers_[0]->expert(), explorers_[0]->classIndex());
}

void ExplorerPair::follow(int expert, int classIndex) {
    if (!link_->isChecked()) return;
    const bool aligned = expert >= 0 && static_cast<std::size_t>(expert) < alignment_.size();
    explorers_[1]->setExpert(aligned ? alignment_[static_cast<std::size_t>(expert)] : -1);
    explorers_[1]->setClass(classIndex);
}

} // namespace mode

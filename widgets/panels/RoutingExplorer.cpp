// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/RoutingExplorer.h"

#include "store/RunStore.h"
#include "util/Format.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <numeric>

namespace mode {

namespace {
QTableWidgetItem* readOnly(const QString& text) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(item->flags() & ~Qt::ItemIsEditable);
    return item;
}
} // namespace

RoutingExplorer::RoutingExplorer(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    epoch_ = new QComboBox(this);
    epoch_->setObjectName("explorerEpoch");
    epoch_->setToolTip(tr("The epochs whose test rows' routing was kept"));
    expert_ = new QComboBox(this);
    expert_->setObjectName("explorerExpert");
    bar->addWidget(new QLabel(tr("Epoch"), this));
    bar->addWidget(epoch_);
    bar->addWidget(new QLabel(tr("Expert"), this));
    bar->addWidget(expert_);
    bar->addStretch();
    layout->addLayout(bar);
    summary_ = new QLabel(tr("Open a stored run, or start one: each kept epoch's test rows show "
                             "here, expert by expert."),
                          this);
    summary_->setObjectName("explorerSummary");
    summary_->setWordWrap(true);
    layout->addWidget(summary_);
    auto* split = new QSplitter(Qt::Horizontal, this);
    samples_ = new QTableWidget(split);
    samples_->setObjectName("explorerSamples");
    confusion_ = new QTableWidget(split);
    confusion_->setObjectName("explorerConfusion");
    confusion_->setToolTip(tr("The expert's own predictions (columns) against the labels (rows) "
                              "on the test rows routed to it"));
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    layout->addWidget(split, 1);
    connect(epoch_, &QComboBox::currentIndexChanged, this, [this] {
        if (epoch_->currentIndex() >= 0) loadEpoch(epoch_->currentData().toInt());
    });
    connect(expert_, &QComboBox::currentIndexChanged, this, [this] { fill(); });
}

RoutingExplorer::~RoutingExplorer() {
    if (watcher_) watcher_->waitForFinished();
}

void RoutingExplorer::clear() {
    ++generation_;
    ready_ = false;
    run_ = -1;
    epochs_.clear();
    const QSignalBlocker a(epoch_), b(expert_);
    epoch_->clear();
    expert_->clear();
    samples_->clear();
    samples_->setRowCount(0);
    confusion_->clear();
    confusion_->setRowCount(0);
}

void RoutingExplorer::showRun(const QString& storePath, qint64 run,
                              const std::vector<std::string>& classNames) {
    clear();
    path_ = storePath;
    run_ = run;
    classes_ = classNames;
    const int generation = generation_;
    // The kept epochs' list first (small), then the last one's rows.
    auto* list = new QFutureWatcher<std::vector<int>>(this);
    connect(list, &QFutureWatcherBase::finished, this, [this, list, generation] {
        list->deleteLater();
        if (generation != generation_) return;
        const QSignalBlocker block(epoch_);
        for (int e : list->result())
            epoch_->addItem(tr("epoch %1").arg(e), e);
        if (epoch_->count() == 0) {
            summary_->setText(tr("Run %1 kept no per-sample routing (stored by an older version, "
                                 "or no epoch ended).")
                                  .arg(run_));
            ready_ = true;
            emit shown();
            return;
        }
        epoch_->setCurrentIndex(epoch_->count() - 1);
        loadEpoch(epoch_->currentData().toInt());
    });
    const std::string path = storePath.toStdString();
    list->setFuture(QtConcurrent::run([path, run]() -> std::vector<int> {
        try {
            return RunStore(path, RunStore::Mode::ReadOnly).sampleRoutingEpochs(run);
        } catch (const std::exception&) {
            return {};
        }
    }));
}

void RoutingExplorer::addEpoch(const EpochMetrics& e, const std::vector<std::string>& classNames) {
    if (!e.samples) return;
    classes_ = classNames;
    epochs_[e.epoch] = e.samples;
    const bool follow = epoch_->currentIndex() == epoch_->count() - 1;
    {
        const QSignalBlocker block(epoch_);
        epoch_->addItem(tr("epoch %1").arg(e.epoch), e.epoch);
        if (follow) epoch_->setCurrentIndex(epoch_->count() - 1);
    }
    if (follow) loadEpoch(e.epoch);
}

void RoutingExplorer::loadEpoch(int epoch) {
    if (epochs_.count(epoch) || run_ <= 0) {
        fill();
        return;
    }
    const int generation = ++generation_;
    if (watcher_) watcher_.release()->deleteLater();
    watcher_ = std::make_unique<QFutureWatcher<std::shared_ptr<const SampleRouting>>>();
    connect(watcher_.get(), &QFutureWatcherBase::finished, this,
            [this, w = watcher_.get(), generation, epoch] {
                if (generation != generation_) return;
                if (auto s = w->result()) epochs_[epoch] = s;
                fill();
            });
    const std::string path = path_.toStdString();
    const qint64 run = run_;
    watcher_->setFuture(
        QtConcurrent::run([path, run, epoch]() -> std::shared_ptr<const SampleRouting> {
            try {
                auto s = RunStore(path, RunStore::Mode::ReadOnly).sampleRouting(run, epoch);
                return s ? std::make_shared<const SampleRouting>(std::move(*s)) : nullptr;
            } catch (const std::exception&) {
                return nullptr;
            }
        }));
}

// The expert's rows of the epoch on show, sorted by its gate weight, and its confusion matrix.
void RoutingExplorer::fill() {
    const auto it = epochs_.find(shownEpoch());
    if (it == epochs_.end()) return;
    const SampleRouting& s = *it->second;
    if (expert_->count() != s.experts + 1) {
        const QSignalBlocker block(expert_);
        const int keep = expert_->currentIndex() >= 0 ? expert_->currentData().toInt() : 0;
        expert_->clear();
        expert_->addItem(tr("every expert"), -1);
        for (int e = 0; e < s.experts; ++e)
            expert_->addItem(tr("expert %1").arg(e), e);
        expert_->setCurrentIndex(std::max(0, expert_->findData(keep)));
    }
    const int expert = expert_->currentData().toInt();
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < s.size(); ++i)
        if (expert < 0 || s.topExpert[i] == expert) rows.push_back(i);
    std::stable_sort(rows.begin(), rows.end(),
                     [&](std::size_t a, std::size_t b) { return s.topWeight[a] > s.topWeight[b]; });
    auto name = [&](float v) {
        const auto k = static_cast<std::size_t>(v);
        return QString::fromStdString(s.classification && k < classes_.size() ? classes_[k]
                                                                              : formatShortest(v));
    };
    samples_->clear();
    samples_->setColumnCount(7);
    samples_->setHorizontalHeaderLabels({tr("row"), tr("label"), tr("mixture"), tr(""),
                                         tr("top expert's own"), tr(""), tr("gate weight")});
    samples_->setRowCount(static_cast<int>(rows.size()));
    std::int64_t mixtureRight = 0, ownRight = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const std::size_t i = rows[r];
        const bool mix = s.prediction[i] == s.label[i], own = s.expertPrediction[i] == s.label[i];
        mixtureRight += mix;
        ownRight += own;
        const QString none; // regression: no right or wrong
        const QStringList cells{QString::number(s.row[i]),
                                name(s.label[i]),
                                name(s.prediction[i]),
                                s.classification ? (mix ? "\u2713" : "\u2717") : none,
                                name(s.expertPrediction[i]),
                                s.classification ? (own ? "\u2713" : "\u2717") : none,
                                QString::number(s.topWeight[i], 'f', 3)};
        for (int c = 0; c < cells.size(); ++c)
            samples_->setItem(static_cast<int>(r), c, readOnly(cells[c]));
    }
    samples_->resizeColumnsToContents();
    const auto n = static_cast<double>(std::max<std::size_t>(1, rows.size()));
    QString text = tr("%1 at epoch %2: %3 of %4 test rows (%5%)")
                       .arg(expert < 0 ? tr("Every expert") : tr("Expert %1").arg(expert))
                       .arg(shownEpoch())
                       .arg(rows.size())
                       .arg(s.size())
                       .arg(100.0 * static_cast<double>(rows.size()) /
                                static_cast<double>(std::max<std::size_t>(1, s.size())),
                            0, 'f', 1);
    if (s.classification)
        text += tr("; the mixture right on %1%, the top expert alone on %2% (its probing accuracy)")
                    .arg(100.0 * static_cast<double>(mixtureRight) / n, 0, 'f', 1)
                    .arg(100.0 * static_cast<double>(ownRight) / n, 0, 'f', 1);
    summary_->setText(text);
    confusion_->clear();
    const int classes = s.classification ? static_cast<int>(classes_.size()) : 0;
    confusion_->setRowCount(classes);
    confusion_->setColumnCount(classes);
    QStringList labels;
    for (const auto& c : classes_)
        labels << QString::fromStdString(c);
    if (classes > 0) {
        confusion_->setHorizontalHeaderLabels(labels);
        confusion_->setVerticalHeaderLabels(labels);
        std::vector<std::int64_t> counts(static_cast<std::size_t>(classes * classes), 0);
        for (std::size_t i : rows) {
            const auto l = static_cast<int>(s.label[i]),
                       p = static_cast<int>(s.expertPrediction[i]);
            if (l >= 0 && l < classes && p >= 0 && p < classes)
                ++counts[static_cast<std::size_t>(l * classes + p)];
        }
        for (int l = 0; l < classes; ++l)
            for (int p = 0; p < classes; ++p)
                confusion_->setItem(
                    l, p,
                    readOnly(QString::number(counts[static_cast<std::size_t>(l * classes + p)])));
        confusion_->resizeColumnsToContents();
    }
    ready_ = true;
    emit shown();
}

void RoutingExplorer::setExpert(int expert) {
    const int i = expert_->findData(expert);
    if (i >= 0) expert_->setCurrentIndex(i);
}

void RoutingExplorer::setEpochIndex(int index) {
    epoch_->setCurrentIndex(index);
}

int RoutingExplorer::shownEpoch() const {
    return epoch_->currentIndex() >= 0 ? epoch_->currentData().toInt() : 0;
}

QString RoutingExplorer::summary() const {
    return summary_->text();
}

} // namespace mode

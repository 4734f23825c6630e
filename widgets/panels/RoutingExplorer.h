// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What each expert is given, sample by sample: for an epoch whose test rows' routing was kept,
// pick an expert and see the rows routed to it (sorted by its gate weight) with their labels, the
// mixture's and the expert's own predictions, right or wrong; and the expert's confusion matrix
// on its rows (the probing view, class by class). Stored runs are read in the background; a live
// run's kept epochs arrive with its epochs.

#include "train/TrainingEvents.h"

#include <QFutureWatcher>
#include <QWidget>

#include <map>
#include <memory>

class QComboBox;
class QLabel;
class QTableWidget;

namespace mode {

class RoutingExplorer : public QWidget {
    Q_OBJECT
  public:
    explicit RoutingExplorer(QWidget* parent = nullptr);
    ~RoutingExplorer() override;

    // A stored run: its kept epochs, the last one shown (shown() when it is).
    void showRun(const QString& storePath, qint64 run, const std::vector<std::string>& classNames);
    // A live run's epoch (kept ones carry their samples).
    void addEpoch(const EpochMetrics& epoch, const std::vector<std::string>& classNames);
    void clear();

    void setExpert(int expert);    // -1: every row
    void setEpochIndex(int index); // into the kept epochs
    int shownEpoch() const;        // 0: none
    QTableWidget* samplesTable() const { return samples_; }
    QTableWidget* confusionTable() const { return confusion_; }
    QString summary() const;
    bool isReady() const { return ready_; } // what showRun asked for is on show

  signals:
    void shown();

  private:
    void fill();
    void loadEpoch(int epoch);

    QComboBox* epoch_;
    QComboBox* expert_;
    QLabel* summary_;
    QTableWidget* samples_;
    QTableWidget* confusion_;
    QString path_;
    qint64 run_ = -1;
    std::vector<std::string> classes_;
    std::map<int, std::shared_ptr<const SampleRouting>> epochs_; // read so far (stored: on demand)
    int generation_ = 0;
    bool ready_ = false;
    std::unique_ptr<QFutureWatcher<std::shared_ptr<const SampleRouting>>> watcher_;
};

} // namespace mode

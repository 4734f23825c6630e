// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The runs of the store: a sortable, filterable table (search; dataset, status, tag, alpha
// range, experts), with the last and best values of the main metrics. Name, tags and notes are
// edited in place and written to the store. Double-click (or Enter) opens a run; select two or
// more and Compare puts them side by side.
//
// The table follows the store, whoever writes it (mode-train, mode-sweep, another window): the
// store file and its WAL are watched once a second (a stat, no read), and on a change the runs
// are read on a worker thread, never on the GUI thread; while a listed run is running the table
// is read again every 2 s, so a run that ends or dies elsewhere shows its final status.

#include "train/TrainingEvents.h"

#include <QFutureWatcher>
#include <QList>
#include <QThreadPool>
#include <QWidget>

#include <memory>

class QComboBox;
class QLineEdit;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTableWidgetItem;

namespace mode {

class RunBrowser : public QWidget {
    Q_OBJECT
  public:
    explicit RunBrowser(QWidget* parent = nullptr);
    ~RunBrowser() override;
    void setStorePath(const QString& path);
    // Reads the runs again, in the background; refreshed() when the table shows them.
    void refresh();
    bool isLoading() const;
    int runCount() const;
    qint64 runIdAt(int row) const;
    QList<qint64> selectedRunIds() const;
    void selectRuns(const QList<qint64>& ids);
    // The row of a run training in this window, brought up to an epoch at once (the next read
    // of the store confirms it): epochs, last test accuracy, best validation accuracy, routing.
    void showEpoch(qint64 id, const EpochMetrics& epoch, int epochs);
    // The live run's row says "paused" while it is (the store keeps "running": nothing is
    // written meanwhile), and "running" again after.
    void showPaused(qint64 id, bool paused);
    QTableWidget* table() const { return table_; }

    // Filters, as a user sets them.
    void setSearch(const QString& text);
    void setStatusFilter(const QString& status); // "" for any
    void setTagFilter(const QString& tag);
    void setAlphaRange(const QString& min, const QString& max);
    void setExpertsFilter(int experts); // 0 for any

    enum Column {
        Id,
        Name,
        Status,
        Dataset,
        Experts,
        Alpha,
        Distill,
        Seed,
        TestAcc,
        BestVal,
        Routing,
        Epochs,
        Started,
        Tags,
        Notes,
        ColumnCount
    };

  signals:
    void runActivated(qint64 id);
    void compareRequested(const QList<qint64>& ids);
    void storeError(const QString& message);
    void refreshed();

  public:
    struct Listing; // what a background read returns

  private:
    QList<qint64> pendingSelection_; // asked for, not yet listed
    void onItemChanged(QTableWidgetItem* item);
    void showListing(const Listing& listing);
    void poll();
    QString fileStamp() const;

    QString path_;
    QLineEdit* search_;
    QComboBox* dataset_;
    QComboBox* status_;
    QLineEdit* tag_;
    QLineEdit* alphaMin_;
    QLineEdit* alphaMax_;
    QSpinBox* experts_;
    QPushButton* compare_;
    QTableWidget* table_;
    bool filling_ = false;
    std::unique_ptr<QFutureWatcher<std::shared_ptr<Listing>>> watcher_;
    // Edits of names, tags and notes, written in the order made, one at a time, off the GUI
    // thread (a store locked by another program would otherwise freeze the window).
    QThreadPool writes_;
    bool again_ = false;      // a refresh was asked for while one ran
    bool loading_ = false;    // a read is under way or its result not yet shown
    QString shownStamp_;      // the store file's stamp when the table was last read
    qint64 pausedRun_ = 0;    // the run this window has paused (the store says "running")
    qint64 lastRead_ = 0;     // ms since the epoch
    bool anyRunning_ = false; // a listed run is running: read again every 2 s
};

} // namespace mode

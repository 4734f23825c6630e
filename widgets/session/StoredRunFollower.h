// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A stored run, read off the GUI thread and, while it is running (written by any process: a
// sweep, mode-train on a server, another window), followed: the store's file and WAL are looked
// at once a second and only the steps and epochs past those already read are read.

#include "store/RunStore.h"
#include "train/TrainingEvents.h"

#include <QFutureWatcher>
#include <QObject>
#include <QString>
#include <QTimer>

#include <memory>
#include <vector>

namespace mode {

// The size and time of a store's file and its WAL: what changes when anything is written.
QString storeFileStamp(const QString& path);

struct StoredRunUpdate {
    qint64 id = -1;
    RunRecord record;
    std::vector<StepMetrics> steps;   // past those of the last update
    std::vector<EpochMetrics> epochs; // idem
    int checkpointEpoch = 0;          // where its checkpoint is (0: none)
    std::int64_t checkpointStep = 0;
    QString error; // the run could not be read
    QString stamp; // the store's file stamp when it was read
};

class StoredRunFollower : public QObject {
    Q_OBJECT
  public:
    explicit StoredRunFollower(QObject* parent = nullptr);
    ~StoredRunFollower() override;

    // Reads run `id` of the store whole (opened), then, while its status is running, what it
    // adds (grew) within about a second of each write, until its status changes (the last
    // grew()) or forget() is called.
    void follow(const QString& storePath, qint64 id);
    void forget();
    qint64 runId() const { return id_; }
    bool isReading() const { return reading_; }
    bool isFollowing() const { return id_ > 0 && following_; }

  signals:
    void opened(const mode::StoredRunUpdate& whole);
    void grew(const mode::StoredRunUpdate& added);
    void failed(const QString& message);

  private:
    void read();
    void poll();
    void handle(const StoredRunUpdate& update);

    QString path_;
    qint64 id_ = -1;
    int generation_ = 0; // a read for a run no longer followed is dropped
    bool reading_ = false, following_ = false, first_ = true;
    std::int64_t lastStep_ = 0;
    int lastEpoch_ = 0;
    QString shownStamp_;
    qint64 lastRead_ = 0;
    QTimer timer_;
    std::unique_ptr<QFutureWatcher<StoredRunUpdate>> watcher_;
};

} // namespace mode

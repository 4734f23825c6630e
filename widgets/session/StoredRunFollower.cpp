// SPDX-License-Identifier: GPL-3.0-or-later
#include "session/StoredRunFollower.h"

#include <QDateTime>
#include <QFileInfo>
#include <QtConcurrent/QtConcurrentRun>

namespace mode {

QString storeFileStamp(const QString& path) {
    QString stamp;
    for (const QString& f : {path, path + "-wal"}) {
        const QFileInfo info(f);
        stamp += QString::number(info.exists() ? info.size() : -1) + ":" +
                 QString::number(info.exists() ? info.lastModified().toMSecsSinceEpoch() : 0) + ";";
    }
    return stamp;
}

namespace {
// On a worker thread: the run's row and what it stored past (afterStep, afterEpoch).
StoredRunUpdate readRun(const QString& path, qint64 id, std::int64_t afterStep, int afterEpoch,
                        const QString& stamp) {
    StoredRunUpdate u;
    u.id = id;
    u.stamp = stamp;
    try {
        RunStore store(path.toStdString(), RunStore::Mode::ReadOnly);
        // Epochs first: every step of a stored epoch is stored before it (steps past the last
        // epoch come on the next read).
        u.epochs = store.epochs(id, afterEpoch);
        u.steps = store.steps(id, afterStep);
        u.record = store.run(id);
        if (u.record.hasCheckpoint)
            if (const auto at = store.checkpoint(id, /*withState=*/false)) {
                u.checkpointEpoch = at->epoch;
                u.checkpointStep = at->step;
            }
    } catch (const std::exception& e) {
        u.error = QString::fromStdString(e.what());
    }
    return u;
}
} // namespace

StoredRunFollower::StoredRunFollower(QObject* parent) : QObject(parent) {
    timer_.setInterval(1000);
    connect(&timer_, &QTimer::timeout, this, &StoredRunFollower::poll);
}

StoredRunFollower::~StoredRunFollower() {
    if (watcher_) watcher_->waitForFinished();
}

void StoredRunFollower::follow(const QString& storePath, qint64 id) {
    forget();
    path_ = storePath;
    id_ = id;
    first_ = true;
    following_ = true;
    read();
}

void StoredRunFollower::forget() {
    ++generation_;
    id_ = -1;
    following_ = false;
    lastStep_ = 0;
    lastEpoch_ = 0;
    shownStamp_.clear();
    timer_.stop();
}

void StoredRunFollower::read() {
    reading_ = true;
    lastRead_ = QDateTime::currentMSecsSinceEpoch();
    if (watcher_) watcher_.release()->deleteLater(); // its finished() may be running now
    watcher_ = std::make_unique<QFutureWatcher<StoredRunUpdate>>();
    const int generation = generation_;
    connect(watcher_.get(), &QFutureWatcher<StoredRunUpdate>::finished, this,
            [this, w = watcher_.get(), generation] {
                if (w != watcher_.get()) return; // a read replaced by a newer one
                reading_ = false;
                if (generation == generation_) handle(w->result());
            });
    watcher_->setFuture(QtConcurrent::run(readRun, path_, id_, first_ ? 0 : lastStep_,
                                          first_ ? 0 : lastEpoch_, storeFileStamp(path_)));
}

void StoredRunFollower::handle(const StoredRunUpdate& u) {
    if (!u.error.isEmpty()) {
        following_ = false;
        timer_.stop();
        emit failed(u.error);
        return;
    }
    shownStamp_ = u.stamp;
    if (!u.steps.empty()) lastStep_ = u.steps.back().step;
    if (!u.epochs.empty()) lastEpoch_ = u.epochs.back().epoch;
    following_ = u.record.status == RunStatus::Running;
    if (following_)
        timer_.start();
    else
        timer_.stop();
    const bool first = first_;
    first_ = false;
    if (first)
        emit opened(u);
    else
        emit grew(u);
}

void StoredRunFollower::poll() {
    if (id_ <= 0 || reading_ || !following_) return;
    // A run that dies elsewhere writes nothing: its row is read again every few seconds (a
    // store opened for writing marks a dead writer's run interrupted).
    const bool changed = storeFileStamp(path_) != shownStamp_;
    const bool stale = QDateTime::currentMSecsSinceEpoch() - lastRead_ >= 3000;
    if (changed || stale) read();
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/RunBrowser.h"
#include "TableCell.h"

#include "session/StoredRunFollower.h"

#include "store/RunExport.h"
#include "store/RunStore.h"

#include <QApplication>
#include <QComboBox>
#include <QDateTime>
#include <QDoubleValidator>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollBar>
#include <QShortcut>
#include <QSpinBox>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <set>

namespace mode {

namespace {
QTableWidgetItem* numberItem(double v, int decimals) {
    auto* item = new QTableWidgetItem;
    if (decimals < 0)
        item->setData(Qt::DisplayRole, v);
    else
        item->setData(Qt::DisplayRole, QString::number(v, 'f', decimals));
    item->setData(Qt::UserRole, v);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return readOnlyCell(item);
}
QTableWidgetItem* optionalItem(const std::optional<double>& v, int decimals) {
    return v ? numberItem(*v, decimals) : readOnlyCell(new QTableWidgetItem("-"));
}
QStringList splitTags(const QString& text) {
    QStringList tags;
    for (const QString& t : text.split(',', Qt::SkipEmptyParts))
        if (!t.trimmed().isEmpty()) tags << t.trimmed();
    tags.removeDuplicates();
    return tags;
}
} // namespace

RunBrowser::RunBrowser(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    search_ = new QLineEdit(this);
    search_->setPlaceholderText(tr("search name, dataset, notes"));
    search_->setClearButtonEnabled(true);
    dataset_ = new QComboBox(this);
    dataset_->setToolTip(tr("Only runs on this dataset"));
    status_ = new QComboBox(this);
    status_->addItem(tr("any status"), QString());
    for (const char* s : {"running", "finished", "stopped", "failed", "diverged", "interrupted"})
        status_->addItem(s, s);
    status_->setToolTip(tr("Only runs that ended this way"));
    tag_ = new QLineEdit(this);
    tag_->setPlaceholderText(tr("tag"));
    tag_->setToolTip(tr("Only runs with this tag"));
    tag_->setMaximumWidth(90);
    alphaMin_ = new QLineEdit(this);
    alphaMax_ = new QLineEdit(this);
    for (auto* a : {alphaMin_, alphaMax_}) {
        a->setValidator(new QDoubleValidator(0, 1e9, 6, a));
        a->setMaximumWidth(60);
    }
    alphaMin_->setPlaceholderText(tr("\u03b1 \u2265"));
    alphaMax_->setPlaceholderText(tr("\u03b1 \u2264"));
    alphaMin_->setToolTip(tr("Only runs with alpha at least this"));
    alphaMax_->setToolTip(tr("Only runs with alpha at most this"));
    experts_ = new QSpinBox(this);
    experts_->setRange(0, 256);
    experts_->setSpecialValueText(tr("any E"));
    experts_->setToolTip(tr("Only runs with this number of experts"));
    auto* reload = new QPushButton(tr("Refresh"), this);
    reload->setToolTip(tr("Read the run store again (F5 in the View menu)"));
    compare_ = new QPushButton(tr("Compare"), this);
    compare_->setObjectName("compare");
    compare_->setToolTip(tr("Put the selected runs (two or more) side by side"));
    compare_->setEnabled(false);
    bar->addWidget(search_, 1);
    bar->addWidget(dataset_);
    bar->addWidget(status_);
    bar->addWidget(tag_);
    bar->addWidget(alphaMin_);
    bar->addWidget(alphaMax_);
    bar->addWidget(experts_);
    bar->addWidget(reload);
    bar->addWidget(compare_);
    layout->addLayout(bar);

    table_ = new QTableWidget(0, ColumnCount, this);
    table_->setObjectName("runBrowser");
    table_->setHorizontalHeaderLabels({tr("id"), tr("name"), tr("status"), tr("dataset"), tr("E"),
                                       tr("\u03b1"), tr("distill"), tr("seed"), tr("test acc"),
                                       tr("best val"), tr("routing"), tr("epochs"), tr("started"),
                                       tr("tags"), tr("notes")});
    table_->horizontalHeaderItem(TestAcc)->setToolTip(
        tr("Test accuracy of the mixture at the last epoch"));
    table_->horizontalHeaderItem(BestVal)->setToolTip(
        tr("Best validation accuracy over the epochs"));
    table_->horizontalHeaderItem(Routing)->setToolTip(
        tr("Gate routing accuracy at the last epoch (known sub-tasks)"));
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    // F2 edits a name, tags or notes; a double-click anywhere on a run opens it (the file
    // managers' convention).
    table_->setEditTriggers(QAbstractItemView::EditKeyPressed);
    table_->verticalHeader()->setVisible(false);
    table_->setTextElideMode(Qt::ElideRight);
    table_->setWordWrap(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setSortingEnabled(true);
    table_->setToolTip(
        tr("Double-click a run (or press Enter) to open it; F2 on its name, tags or notes edits "
           "them. Select two or more runs and press Compare."));
    layout->addWidget(table_, 1);

    connect(reload, &QPushButton::clicked, this, &RunBrowser::refresh);
    connect(search_, &QLineEdit::textChanged, this, &RunBrowser::refresh);
    connect(tag_, &QLineEdit::textChanged, this, &RunBrowser::refresh);
    connect(alphaMin_, &QLineEdit::textChanged, this, &RunBrowser::refresh);
    connect(alphaMax_, &QLineEdit::textChanged, this, &RunBrowser::refresh);
    connect(experts_, &QSpinBox::valueChanged, this, &RunBrowser::refresh);
    connect(status_, &QComboBox::currentIndexChanged, this, &RunBrowser::refresh);
    connect(dataset_, &QComboBox::activated, this, &RunBrowser::refresh);
    connect(table_, &QTableWidget::cellDoubleClicked, this,
            [this](int row, int) { emit runActivated(runIdAt(row)); });
    for (auto key : {Qt::Key_Return, Qt::Key_Enter}) {
        auto* open = new QShortcut(QKeySequence(key), table_, nullptr, nullptr, Qt::WidgetShortcut);
        connect(open, &QShortcut::activated, this, [this] {
            if (table_->currentRow() >= 0) emit runActivated(runIdAt(table_->currentRow()));
        });
    }
    connect(table_, &QTableWidget::itemSelectionChanged, this,
            [this] { compare_->setEnabled(selectedRunIds().size() >= 2); });
    connect(compare_, &QPushButton::clicked, this,
            [this] { emit compareRequested(selectedRunIds()); });
    connect(table_, &QTableWidget::itemChanged, this, &RunBrowser::onItemChanged);
    auto* follow = new QTimer(this);
    follow->setInterval(1000);
    connect(follow, &QTimer::timeout, this, &RunBrowser::poll);
    follow->start();
    writes_.setMaxThreadCount(1);
}

RunBrowser::~RunBrowser() {
    writes_.waitForDone(); // an edit made is an edit stored
    if (watcher_) watcher_->waitForFinished();
}

void RunBrowser::setStorePath(const QString& path) {
    path_ = path;
    refresh();
}

void RunBrowser::setSearch(const QString& text) {
    search_->setText(text);
}
void RunBrowser::setStatusFilter(const QString& s) {
    status_->setCurrentIndex(std::max(0, status_->findData(s)));
}
void RunBrowser::setTagFilter(const QString& tag) {
    tag_->setText(tag);
}
void RunBrowser::setAlphaRange(const QString& min, const QString& max) {
    alphaMin_->setText(min);
    alphaMax_->setText(max);
}
void RunBrowser::setExpertsFilter(int e) {
    experts_->setValue(e);
}

struct RunBrowser::Listing {
    QString path; // the store it was read from
    std::vector<RunRecord> runs;
    std::set<std::string> datasets;
    QString error;
    QString stamp;
};

namespace {
std::shared_ptr<RunBrowser::Listing> readRuns(const QString& path, const RunFilter& filter,
                                              const QString& stamp) {
    auto out = std::make_shared<RunBrowser::Listing>();
    auto& l = *out;
    l.path = path;
    l.stamp = stamp;
    if (path.isEmpty() || !QFileInfo::exists(path)) return out;
    try {
        RunStore store(path.toStdString(), RunStore::Mode::ReadOnly);
        for (const auto& r : store.listRuns())
            l.datasets.insert(r.dataset);
        l.runs = store.listRuns(filter);
    } catch (const std::exception& e) {
        l.error = QString::fromStdString(e.what());
    }
    return out;
}
} // namespace

QString RunBrowser::fileStamp() const {
    return storeFileStamp(path_);
}

bool RunBrowser::isLoading() const {
    return loading_;
}

void RunBrowser::refresh() {
    if (isLoading()) {
        again_ = true; // once this read is shown, read again
        return;
    }
    RunFilter f;
    f.search = search_->text().trimmed().toStdString();
    f.dataset = dataset_->currentData().toString().toStdString();
    if (!status_->currentData().toString().isEmpty())
        f.status = runStatusFromString(status_->currentData().toString().toStdString());
    f.tag = tag_->text().trimmed().toStdString();
    bool ok = false;
    if (double a = alphaMin_->text().toDouble(&ok); ok) f.alphaMin = a;
    if (double a = alphaMax_->text().toDouble(&ok); ok) f.alphaMax = a;
    if (experts_->value() > 0) f.experts = experts_->value();
    lastRead_ = QDateTime::currentMSecsSinceEpoch();
    loading_ = true; // until the result is handled below (its signal may wait in the event queue)
    if (watcher_)
        watcher_.release()->deleteLater(); // may be the one whose finished() is running now
    watcher_ = std::make_unique<QFutureWatcher<std::shared_ptr<Listing>>>();
    connect(watcher_.get(), &QFutureWatcher<std::shared_ptr<Listing>>::finished, this,
            [this, w = watcher_.get()] {
                loading_ = false;
                const auto listing = w->result();
                const QWidget* focus = QApplication::focusWidget();
                if (listing->path != path_)
                    again_ =
                        true; // read from a store no longer shown: edits would go to the wrong one
                else if (focus && focus != table_ && table_->isAncestorOf(focus))
                    shownStamp_.clear(); // not under a user's typing: next poll
                else
                    showListing(*listing);
                if (again_) {
                    again_ = false;
                    refresh(); // at once, so that isLoading() stays true until the last asked-for
                               // read is shown
                }
            });
    watcher_->setFuture(QtConcurrent::run(readRuns, path_, f, fileStamp()));
}

void RunBrowser::poll() {
    if (path_.isEmpty() || isLoading() || !isVisible()) return;
    const bool changed = fileStamp() != shownStamp_;
    const bool stale = anyRunning_ && QDateTime::currentMSecsSinceEpoch() - lastRead_ >= 2000;
    if (changed || stale) refresh();
}

void RunBrowser::showEpoch(qint64 id, const EpochMetrics& e, int epochs) {
    for (int r = 0; r < table_->rowCount(); ++r) {
        if (runIdAt(r) != id) continue;
        const QSignalBlocker block(table_); // not an edit of the user's
        const bool sorting = table_->isSortingEnabled();
        table_->setSortingEnabled(false); // the row stays where it is while it changes
        table_->setItem(
            r, Epochs,
            readOnlyCell(new QTableWidgetItem(QString("%1/%2").arg(e.epoch).arg(epochs))));
        table_->setItem(r, TestAcc, numberItem(e.testAccuracy, 4));
        const auto* best = table_->item(r, BestVal);
        bool known = false;
        const double before = best ? best->text().toDouble(&known) : 0;
        if (!known || e.valAccuracy > before)
            table_->setItem(r, BestVal, numberItem(e.valAccuracy, 4));
        table_->setItem(r, Routing, optionalItem(e.gateRoutingAccuracy, 3));
        table_->setSortingEnabled(sorting);
        return;
    }
}

void RunBrowser::showPaused(qint64 id, bool paused) {
    // Kept for the listings that arrive while it is paused: the store only knows "running".
    pausedRun_ = paused ? id : (pausedRun_ == id ? 0 : pausedRun_);
    for (int r = 0; r < table_->rowCount(); ++r) {
        auto* status = table_->item(r, Status);
        if (runIdAt(r) != id || !status) continue;
        const QSignalBlocker block(table_);
        status->setText(paused ? tr("paused") : QStringLiteral("running"));
        return;
    }
}

void RunBrowser::showListing(const Listing& listing) {
    if (!listing.error.isEmpty()) emit storeError(listing.error);
    shownStamp_ = listing.stamp;
    const QList<qint64> selected = selectedRunIds();
    const int scroll = table_->verticalScrollBar()->value();
    filling_ = true;
    table_->setSortingEnabled(false);
    table_->setRowCount(0);
    const auto& runs = listing.runs;
    anyRunning_ = std::any_of(runs.begin(), runs.end(),
                              [](const auto& r) { return r.status == RunStatus::Running; });
    // The dataset filter offers what the store holds.
    const QString chosen = dataset_->currentData().toString();
    {
        QSignalBlocker block(dataset_);
        dataset_->clear();
        dataset_->addItem(tr("any dataset"), QString());
        for (const auto& d : listing.datasets)
            dataset_->addItem(QString::fromStdString(d), QString::fromStdString(d));
        dataset_->setCurrentIndex(std::max(0, dataset_->findData(chosen)));
    }
    table_->setRowCount(static_cast<int>(runs.size()));
    for (int r = 0; r < static_cast<int>(runs.size()); ++r) {
        const auto& run = runs[static_cast<std::size_t>(r)];
        table_->setItem(r, Id, numberItem(static_cast<double>(run.id), -1));
        auto* name = new QTableWidgetItem(QString::fromStdString(run.name));
        name->setToolTip(name->text()); // elided in its column
        table_->setItem(r, Name, name);
        auto* status = readOnlyCell(
            new QTableWidgetItem(run.id == pausedRun_ && run.status == RunStatus::Running
                                     ? tr("paused")
                                     : QString::fromStdString(toString(run.status))));
        status->setToolTip(QString::fromStdString(run.message));
        table_->setItem(r, Status, status);
        table_->setItem(r, Dataset,
                        readOnlyCell(new QTableWidgetItem(QString::fromStdString(run.dataset))));
        table_->setItem(r, Experts, numberItem(run.experts, -1));
        table_->setItem(r, Alpha, numberItem(run.alpha, -1));
        table_->setItem(r, Distill,
                        readOnlyCell(new QTableWidgetItem(QString::fromStdString(run.distill))));
        table_->setItem(r, Seed, numberItem(static_cast<double>(run.seed), -1));
        table_->setItem(r, TestAcc, optionalItem(run.testAccuracy, 4));
        table_->setItem(r, BestVal, optionalItem(run.bestValAccuracy, 4));
        table_->setItem(r, Routing, optionalItem(run.gateRoutingAccuracy, 3));
        table_->setItem(r, Epochs,
                        readOnlyCell(new QTableWidgetItem(
                            QString("%1/%2").arg(run.epochsCompleted).arg(run.start.epochs))));
        table_->setItem(r, Started,
                        readOnlyCell(new QTableWidgetItem(
                            QString::fromStdString(localTimeShort(run.startedAt)))));
        QStringList tags;
        for (const auto& t : run.tags)
            tags << QString::fromStdString(t);
        auto* tagItem = new QTableWidgetItem(tags.join(", "));
        tagItem->setToolTip(tagItem->text());
        table_->setItem(r, Tags, tagItem);
        table_->setItem(r, Notes, new QTableWidgetItem(QString::fromStdString(run.notes)));
    }
    table_->setSortingEnabled(true);
    table_->resizeColumnsToContents();
    // Free texts (a name of 300 characters) are elided to a fixed width, the full text in the
    // tooltip: status, accuracy and the other columns stay in view.
    const int textWidth = table_->fontMetrics().averageCharWidth() * 24;
    for (const int column : {int(Name), int(Dataset), int(Tags)})
        table_->setColumnWidth(column, std::min(table_->columnWidth(column), textWidth));
    filling_ = false;
    if (pendingSelection_.isEmpty()) {
        selectRuns(selected);
        table_->verticalScrollBar()->setValue(scroll);
    } else { // asked for before the runs were read: tried on this listing, once
        const QList<qint64> wanted = pendingSelection_;
        selectRuns(wanted);
        pendingSelection_.clear();
    }
    emit refreshed();
}

void RunBrowser::onItemChanged(QTableWidgetItem* item) {
    if (filling_) return;
    const int column = item->column();
    if (column != Name && column != Tags && column != Notes) return;
    const qint64 id = runIdAt(item->row());
    const QString text = item->text(), path = path_;
    auto* watcher = new QFutureWatcher<QString>(this); // the error, or empty
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher] {
        watcher->deleteLater();
        if (const QString error = watcher->result(); !error.isEmpty()) emit storeError(error);
        refresh(); // what the store holds now (a read made while it was written showed before)
    });
    watcher->setFuture(QtConcurrent::run(&writes_, [path, id, column, text]() -> QString {
        try {
            RunStore store(path.toStdString());
            if (column == Name) {
                store.rename(id, text.trimmed().toStdString());
            } else if (column == Notes) {
                store.setNotes(id, text.toStdString());
            } else {
                const QStringList wanted = splitTags(text);
                for (const auto& t : store.run(id).tags)
                    if (!wanted.contains(QString::fromStdString(t))) store.removeTag(id, t);
                for (const QString& t : wanted)
                    store.addTag(id, t.toStdString());
            }
            return {};
        } catch (const std::exception& e) {
            return QString::fromStdString(e.what());
        }
    }));
}

int RunBrowser::runCount() const {
    return table_->rowCount();
}

qint64 RunBrowser::runIdAt(int row) const {
    auto* item = table_->item(row, Id);
    return item ? item->data(Qt::UserRole).toLongLong() : -1;
}

QList<qint64> RunBrowser::selectedRunIds() const {
    QList<qint64> ids;
    for (const auto& index : table_->selectionModel()->selectedRows(Id))
        ids << runIdAt(index.row());
    std::sort(ids.begin(), ids.end());
    return ids;
}

void RunBrowser::selectRuns(const QList<qint64>& ids) {
    table_->clearSelection();
    int found = 0, first = -1;
    for (int r = 0; r < table_->rowCount(); ++r)
        if (ids.contains(runIdAt(r))) {
            table_->selectionModel()->select(table_->model()->index(r, 0),
                                             QItemSelectionModel::Select |
                                                 QItemSelectionModel::Rows);
            if (first < 0) first = r;
            ++found;
        }
    // Runs not listed yet (the table is read in the background) are selected when they are.
    pendingSelection_ = found < ids.size() ? ids : QList<qint64>{};
    if (first >= 0) table_->scrollToItem(table_->item(first, Id));
}

} // namespace mode

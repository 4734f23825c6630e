#include "panels/RunHistoryPanel.h"

#include "store/RunExport.h"
#include "store/RunStore.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QShortcut>
#include <QTableWidget>
#include <QVBoxLayout>

namespace mode {

namespace {
enum Column { Id, Name, Status, Dataset, Experts, Alpha, TestAcc, Routing, Epochs, Started, ColumnCount };

QTableWidgetItem* numberItem(double v, int decimals) {
    auto* item = new QTableWidgetItem;
    item->setData(Qt::DisplayRole, decimals < 0 ? QVariant(v) : QVariant(QString::number(v, 'f', decimals)));
    item->setData(Qt::UserRole, v);
    item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}
} // namespace

RunHistoryPanel::RunHistoryPanel(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    search_ = new QLineEdit(this);
    search_->setPlaceholderText(tr("search name, dataset, notes"));
    search_->setClearButtonEnabled(true);
    auto* reload = new QPushButton(tr("Refresh"), this);
    reload->setToolTip(tr("Read the run store again"));
    bar->addWidget(search_, 1);
    bar->addWidget(reload);
    layout->addLayout(bar);
    table_ = new QTableWidget(0, ColumnCount, this);
    table_->setObjectName("runHistory");
    table_->setHorizontalHeaderLabels({tr("id"), tr("name"), tr("status"), tr("dataset"), tr("E"), tr("\u03b1"),
                                       tr("test acc"), tr("routing"), tr("epochs"), tr("started")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setSortingEnabled(true);
    table_->setToolTip(tr("Double-click a run to open its curves, heatmaps and experts"));
    layout->addWidget(table_, 1);
    connect(reload, &QPushButton::clicked, this, &RunHistoryPanel::refresh);
    connect(search_, &QLineEdit::textChanged, this, &RunHistoryPanel::refresh);
    // Double-click or Enter opens a run.
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { emit runActivated(runIdAt(row)); });
    for (auto key : {Qt::Key_Return, Qt::Key_Enter}) {
        auto* open = new QShortcut(QKeySequence(key), table_, nullptr, nullptr, Qt::WidgetShortcut);
        connect(open, &QShortcut::activated, this, [this] {
            if (table_->currentRow() >= 0) emit runActivated(runIdAt(table_->currentRow()));
        });
    }
}

void RunHistoryPanel::setStorePath(const QString& path) {
    path_ = path;
    refresh();
}

void RunHistoryPanel::refresh() {
    table_->setSortingEnabled(false);
    table_->setRowCount(0);
    if (path_.isEmpty() || !QFileInfo::exists(path_)) {
        table_->setSortingEnabled(true);
        return;
    }
    std::vector<RunRecord> runs;
    try {
        RunStore store(path_.toStdString(), RunStore::Mode::ReadOnly);
        RunFilter f;
        f.search = search_->text().trimmed().toStdString();
        runs = store.listRuns(f);
    } catch (const std::exception& e) {
        emit storeError(QString::fromStdString(e.what()));
    }
    table_->setRowCount(static_cast<int>(runs.size()));
    for (int r = 0; r < static_cast<int>(runs.size()); ++r) {
        const auto& run = runs[static_cast<std::size_t>(r)];
        table_->setItem(r, Id, numberItem(static_cast<double>(run.id), -1));
        table_->setItem(r, Name, new QTableWidgetItem(QString::fromStdString(run.name)));
        table_->setItem(r, Status, new QTableWidgetItem(QString::fromStdString(toString(run.status))));
        table_->item(r, Status)->setToolTip(QString::fromStdString(run.message));
        table_->setItem(r, Dataset, new QTableWidgetItem(QString::fromStdString(run.dataset)));
        table_->setItem(r, Experts, numberItem(run.experts, -1));
        table_->setItem(r, Alpha, numberItem(run.alpha, -1));
        table_->setItem(r, TestAcc, run.testAccuracy ? numberItem(*run.testAccuracy, 4) : new QTableWidgetItem("-"));
        table_->setItem(r, Routing, run.gateRoutingAccuracy ? numberItem(*run.gateRoutingAccuracy, 3) : new QTableWidgetItem("-"));
        table_->setItem(r, Epochs, new QTableWidgetItem(QString("%1/%2").arg(run.epochsCompleted).arg(run.start.epochs)));
        table_->setItem(r, Started, new QTableWidgetItem(QString::fromStdString(localTimeShort(run.startedAt))));
    }
    table_->setSortingEnabled(true);
    table_->resizeColumnsToContents();
}

int RunHistoryPanel::runCount() const { return table_->rowCount(); }
qint64 RunHistoryPanel::runIdAt(int row) const {
    auto* item = table_->item(row, Id);
    return item ? item->data(Qt::UserRole).toLongLong() : -1;
}

} // namespace mode

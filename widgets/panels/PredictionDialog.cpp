// SPDX-License-Identifier: GPL-3.0-or-later
#include "panels/PredictionDialog.h"

#include "panels/RoutingExplorer.h"
#include "util/Utf8.h"

#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace mode {

PredictionDialog::PredictionDialog(StoredPrediction prediction, QWidget* parent)
    : QDialog(parent), prediction_(std::move(prediction)) {
    setWindowTitle(tr("Predictions of run %1").arg(prediction_.record.id));
    auto* layout = new QVBoxLayout(this);
    summary_ = new QLabel(this);
    summary_->setObjectName("predictionSummary");
    summary_->setWordWrap(true);
    summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(summary_);
    auto* tabs = new QTabWidget(this);
    tabs->setObjectName("predictionTabs");
    table_ = new QTableWidget(tabs);
    table_->setObjectName("predictionTable");
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    tabs->addTab(table_, tr("Rows"));
    explorer_ = new RoutingExplorer(tabs);
    explorer_->setObjectName("predictionExplorer");
    tabs->addTab(explorer_, tr("Routing"));
    layout->addWidget(tabs, 1);
    explorer_->showSamples(sampleRoutingOf(prediction_),
                           std::make_shared<const PredictionInput>(prediction_.input),
                           QString::fromStdString(printable(prediction_.input.what)));
    const Predictions& p = prediction_.predictions;
    const auto header = predictionHeader(p, prediction_.input.recipe, prediction_.input.hasTarget);
    table_->setColumnCount(static_cast<int>(header.size()));
    QStringList labels;
    for (const auto& h : header)
        labels << QString::fromStdString(printable(h));
    table_->setHorizontalHeaderLabels(labels);
    const auto shown = std::min<std::int64_t>(p.rows, kMaxShownRows);
    table_->setRowCount(static_cast<int>(shown));
    for (std::int64_t r = 0; r < shown; ++r) {
        const auto fields = predictionFields(p, prediction_.input, r);
        for (std::size_t c = 0; c < fields.size(); ++c)
            table_->setItem(static_cast<int>(r), static_cast<int>(c),
                            new QTableWidgetItem(QString::fromStdString(printable(fields[c]))));
    }
    table_->resizeColumnsToContents();
    summary_->setText(summary());
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    auto* save = buttons->addButton(tr("Save as CSV\u2026"), QDialogButtonBox::ActionRole);
    save->setObjectName("savePredictions");
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(save, &QPushButton::clicked, this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Save the predictions"),
                                                          "predictions.csv", tr("CSV (*.csv)"));
        if (!path.isEmpty() && !saveCsv(path))
            QMessageBox::warning(this, tr("Save"), tr("Cannot write %1.").arg(path));
    });
    layout->addWidget(buttons);
    resize(960, 600);
}

QString PredictionDialog::summary() const {
    const auto& in = prediction_.input;
    QString text = tr("Run %1 (the model of epoch %2) on %3: %4 rows")
                       .arg(prediction_.record.id)
                       .arg(prediction_.epoch)
                       .arg(QString::fromStdString(printable(in.what)).toHtmlEscaped())
                       .arg(in.data.rows);
    if (prediction_.predictions.rows > kMaxShownRows)
        text += tr(" (the first %1 shown; Save as CSV has them all)").arg(kMaxShownRows);
    if (prediction_.score)
        text += tr("<br><b>%1 of the mixture: %2</b>")
                    .arg(in.recipe.classification ? tr("accuracy") : tr("R²"))
                    .arg(prediction_.score->accuracy, 0, 'f', 4);
    if (prediction_.score) {
        QStringList experts;
        for (const auto& e : prediction_.score->experts) {
            const auto probe = in.recipe.classification ? e.probingAccuracy : e.probingError;
            experts << tr("expert %1: %2 rows, probing %3")
                           .arg(e.expert)
                           .arg(e.allocated)
                           .arg(probe ? QString::number(*probe, 'f', 4) : QString("-"));
        }
        text += "<br>" + experts.join("; ");
    }
    if (!in.ignored.empty()) {
        QStringList columns;
        for (const auto& c : in.ignored)
            columns << QString::fromStdString(printable(c)).toHtmlEscaped();
        text += tr("<br>columns the model does not read (ignored): %1").arg(columns.join(", "));
    }
    for (const auto& [column, n] : in.unseen)
        text += tr("<br>column '%1': %2 cells with a category the run never saw (all zeros in its "
                   "one-hot group)")
                    .arg(QString::fromStdString(printable(column)).toHtmlEscaped())
                    .arg(n);
    return text;
}

bool PredictionDialog::saveCsv(const QString& path) const {
    QFile out(path);
    if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate)) return false;
    return out.write(QByteArray::fromStdString(predictionsCsv(prediction_))) >= 0;
}

} // namespace mode

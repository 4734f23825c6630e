// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A stored run's predictions on a file, as mode-predict makes them: what was read, the
// mixture's accuracy and the probing table where the file has the target, and a table of the
// rows (prediction, class probabilities, top expert, gate weights, each expert's prediction),
// saved as CSV on request; and the rows' routing in a routing explorer (which expert each row
// goes to, with its inputs, confusion matrix and summary).

#include "predict/StoredPrediction.h"

#include <QDialog>

class QLabel;
class QTableWidget;

namespace mode {

class RoutingExplorer;

class PredictionDialog : public QDialog {
    Q_OBJECT
  public:
    static constexpr int kMaxShownRows = 2000; // the CSV has them all

    PredictionDialog(StoredPrediction prediction, QWidget* parent = nullptr);
    QString summary() const;
    QTableWidget* table() const { return table_; }
    RoutingExplorer* explorer() const { return explorer_; }
    bool saveCsv(const QString& path) const;

  private:
    StoredPrediction prediction_;
    QLabel* summary_;
    QTableWidget* table_;
    RoutingExplorer* explorer_;
};

} // namespace mode

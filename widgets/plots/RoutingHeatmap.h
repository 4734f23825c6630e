// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Which rows (classes, or the known sub-tasks) the gate sends to which expert: a rows x experts
// heatmap coloured by the mean gate weight or by the share of the row's samples whose top
// expert it is. Every epoch is kept; a slider scrubs back through them.

#include "train/TrainingEvents.h"

#include <QWidget>

#include <optional>
#include <vector>

class QComboBox;
class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QLabel;
class QSlider;

namespace mode {

class RoutingHeatmap : public QWidget {
    Q_OBJECT
  public:
    enum class Measure { MeanGate, ArgmaxShare };
    enum class Rows { Classes, Subtasks };

    explicit RoutingHeatmap(QWidget* parent = nullptr);
    void clear();
    void addEpoch(const EpochMetrics& epoch);

    void setMeasure(Measure m);
    void setRows(Rows r);
    // Columns in this order of experts (empty: by index); the ticks keep each expert's number.
    void setExpertOrder(std::vector<int> order);
    int expertAt(int column) const; // the expert shown in a column
    // Without its own controls and colour bar: for a grid of heatmaps that share them.
    void setCompact(bool compact);
    // The colour bar, 0 to 1, as a widget of its own (for a grid's shared one).
    static QWidget* colorBar(QWidget* parent);
    void showEpochIndex(int index); // 0-based into the epochs seen
    int epochCount() const { return static_cast<int>(history_.size()); }
    int shownEpoch() const; // the epoch number on display, 0 if none

    // The matrix on display, for tests and exports.
    int rowCount() const;
    int expertCount() const;
    double cellValue(int row, int expert) const;
    QStringList rowNames() const;
    QCustomPlot* plot() const { return plot_; }
    bool showsClasses() const; // the rows are classes (not sub-tasks)
    // Where the cell of a row and a column (not an expert: see expertAt) is drawn, in the
    // plot's pixels; a click there emits cellClicked.
    QPoint cellCenter(int row, int column) const;

  signals:
    // A click on a cell: its row (a class, or a sub-task: see classRows) and its expert.
    void cellClicked(int row, int expert, bool classRows);

  private:
    struct Entry {
        int epoch;
        RoutingMatrix byClass;
        std::optional<RoutingMatrix> bySubtask;
    };
    const RoutingMatrix* shownMatrix() const;
    void redraw();

    QComboBox* measure_;
    QComboBox* rows_;
    QSlider* slider_;
    QLabel* epochLabel_;
    QCustomPlot* plot_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    std::vector<Entry> history_;
    int shown_ = -1;
    bool follow_ = true;
    bool rowsChosen_ = false; // the user picked the rows: keep them
    std::vector<int> order_;
};

} // namespace mode

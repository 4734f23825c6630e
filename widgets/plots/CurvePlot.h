// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A plot of named curves with a small toolbar: log-y toggle, Fit. It follows new data (fits the
// axes) until the user drags or zooms, and again after Fit or a double-click.

#include "plots/BoundedSeries.h"

#include <QWidget>

#include <vector>

class QCheckBox;
class QCustomPlot;
class QCPGraph;
class QHBoxLayout;

namespace mode {

class CurvePlot : public QWidget {
    Q_OBJECT
  public:
    CurvePlot(const QString& xLabel, const QString& yLabel, QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    int curveCount() const { return static_cast<int>(curves_.size()); }
    int pointCount(int curve) const;
    bool logY() const;
    void setLogY(bool on);
    void clear();

  protected:
    // The plot's help: What's This and a "?" button in the toolbar (never a tooltip).
    void setHelp(const QString& help);
    // Adds a curve (maxPoints bounds its memory) and returns its index.
    int addCurve(const QString& name, const QColor& color, bool markers = false,
                 std::size_t maxPoints = 20000);
    void append(int curve, double key, double value);
    void setCurveVisible(int curve, bool visible);
    // Pushes changed curves to the plot and repaints once (call after a batch of appends).
    void publish();
    QHBoxLayout* toolbar() const { return toolbar_; }

  private:
    struct Curve {
        QCPGraph* graph;
        BoundedSeries series;
        bool dirty = false;
    };
    QCustomPlot* plot_;
    QCheckBox* logY_;
    QHBoxLayout* toolbar_;
    std::vector<Curve> curves_;
    bool follow_ = true;
};

} // namespace mode

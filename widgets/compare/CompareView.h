// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Two or more stored runs side by side: overlaid curves of any metric (smoothing, x by step,
// epoch or wall time, grouping into mean and standard-deviation bands), the config with its
// differences, final metrics with each alpha against alpha = 0 paired by seed (CI, tests, Holm,
// probability of improvement), routing heatmaps, expert probing, and a metric against alpha.
// Runs load off the GUI thread; every plot and table exports.

#include "analysis/AlphaStudy.h"
#include "store/RunStore.h"

#include <QFutureWatcher>
#include <QList>
#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QCheckBox;
class QSettings;
class QToolButton;
class QComboBox;
class QCustomPlot;
class QGridLayout;
class QScrollArea;
class QLabel;
class QSlider;
class QTabWidget;
class QTableWidget;

namespace mode {

class ExplorerPair;

class RoutingHeatmap;

struct CompareData {
    std::vector<RunRecord> runs;
    std::vector<std::vector<EpochMetrics>> epochs; // per run
    std::map<std::string, std::map<std::int64_t, std::vector<SeriesPoint>>>
        series; // step metric -> run -> points
    QString error;
};

class CompareView : public QWidget {
    Q_OBJECT
  public:
    enum class XAxis { Step, Epoch, WallTime };
    static constexpr int kMaxPointsPerRun = 2000; // step series are downsampled to this on load

    explicit CompareView(QWidget* parent = nullptr);
    ~CompareView() override;
    void setStorePath(const QString& path) { path_ = path; }
    // Loads the runs in the background; loaded() when they are drawn.
    void setRuns(const QList<qint64>& ids);
    bool isLoading() const;
    const CompareData& data() const { return data_; }

    void setMetric(const QString& metric);
    void setXAxis(XAxis x);
    void setSmoothing(double weight);      // 0 .. 0.99
    void setGroupBy(const QString& field); // "", "all but seed", "loss.alpha", ...
    void setDifferencesOnly(bool on);
    void setBaseline(int runIndex);
    void setSweepMetric(const QString& metric);
    void showTab(int index);
    // Several epoch metrics at once, a small plot each (empty: the one chosen metric).
    void setGridMetrics(const QStringList& metrics);
    QStringList gridMetrics() const;
    const std::vector<QCustomPlot*>& gridPlots() const { return gridPlots_; }
    // The tab's choices (metric, x axis, smoothing, grouping, grid, differences only, routing
    // measure and alignment, the tab shown), kept between sessions.
    void saveSettings(QSettings& settings) const;
    void restoreSettings(const QSettings& settings);

    QTabWidget* tabs() const { return tabs_; }
    QCustomPlot* curvesPlot() const { return curves_; }
    QCustomPlot* expertsPlot() const { return experts_; }
    QCustomPlot* sweepPlot() const { return sweep_; }
    QTableWidget* configTable() const { return config_; }
    QTableWidget* metricsTable() const { return metrics_; } // each run's final values
    QTableWidget* pairedTable() const {
        return paired_;
    } // each alpha against alpha = 0, paired by seed
    void setPairedMetric(const QString& metric);
    void setSweepMode(const QString& mode); // "difference" (default) or "values"
    const std::vector<RoutingHeatmap*>& heatmaps() const { return heatmaps_; }
    ExplorerPair* explorerPair() const { return pair_; }

  signals:
    void loaded();
    void loadFailed(const QString& message);

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    static constexpr int kGridPlotMinWidth = 160;
    // The grid's plots in as many columns as its width holds (1 to 3).
    void layOutGrid();
    QWidget* buildCurvesTab();
    QWidget* buildConfigTab();
    QWidget* buildMetricsTab();
    QWidget* buildRoutingTab();
    QWidget* buildExpertsTab();
    QWidget* buildSweepTab();
    QWidget* exportBar(QCustomPlot* plot, QTableWidget* table, const QString& name);
    // withRuns: the runs and their epochs too (else one more step series of the runs shown).
    void startLoad(const QList<qint64>& ids, const std::string& stepMetric, bool withRuns);
    void onLoaded();
    void drawAll();
    void drawCurves();
    void drawMetric(QCustomPlot* plot, const std::string& metric);
    void poll(); // reloads while a shown run is running and the store changed
    void fillConfig();
    void fillMetrics();
    void fillPaired();
    void drawRouting();
    void alignRouting();
    void drawExperts();
    void drawSweep();
    // One run's curve of the chosen metric: keys on the chosen x axis, values smoothed.
    bool curveOf(std::size_t run, const std::string& metric, std::vector<double>* x,
                 std::vector<double>* steps, std::vector<double>* y) const;
    QString runLabel(std::size_t run) const;

    QString path_;
    CompareData data_;
    QList<qint64> requested_;
    int generation_ = 0;
    std::unique_ptr<QFutureWatcher<CompareData>> watcher_;

    QTabWidget* tabs_;
    QLabel* status_;
    QComboBox* metric_;
    QComboBox* xAxis_;
    QSlider* smoothing_;
    QLabel* smoothingLabel_;
    QComboBox* groupBy_;
    QCustomPlot* curves_;
    QToolButton* gridButton_;
    QScrollArea* gridScroll_;
    QWidget* gridArea_;
    QGridLayout* grid_;
    int gridColumns_ = 0;
    std::vector<QCustomPlot*> gridPlots_;
    QString shownStamp_;     // the store's file stamp at the last load
    bool following_ = false; // a reload of the runs shown (poll), not a new comparison
    QCheckBox* differencesOnly_;
    QTableWidget* config_;
    QComboBox* baseline_;
    QTableWidget* metrics_;
    QComboBox* pairedMetric_;
    QLabel* pairedNote_;
    QTableWidget* paired_;
    std::vector<StudyRun> studyRuns_;  // the loaded runs with their last epochs, in the order shown
    std::vector<StudyRun> studyOrder_; // the same, newest first: what studies_ index
    std::vector<AlphaStudy> studies_;  // grouped by configuration
    QWidget* routingArea_;
    QGridLayout* routingGrid_;
    QComboBox* routingMeasure_;
    QComboBox* routingRows_;
    QCheckBox* alignExperts_;
    std::vector<RoutingHeatmap*> heatmaps_;
    QCustomPlot* experts_;
    QComboBox* sweepMetric_;
    QComboBox* sweepMode_;
    QCustomPlot* sweep_;
    ExplorerPair* pair_;
};

} // namespace mode

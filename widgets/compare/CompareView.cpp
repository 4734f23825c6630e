// SPDX-License-Identifier: GPL-3.0-or-later
#include "compare/CompareView.h"

#include "TableCell.h"
#include "analysis/AlphaStudy.h"
#include "analysis/RunComparison.h"
#include "analysis/Statistics.h"
#include "compare/ExplorerPair.h"
#include "plots/AlphaSweepPlot.h"
#include "plots/PlotExport.h"
#include "plots/PlotStyle.h"
#include "plots/RoutingHeatmap.h"
#include "session/StoredRunFollower.h"
#include "train/Metrics.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <qcustomplot.h>

#include <algorithm>
#include <cmath>
#include <future>
#include <set>
#include <thread>

namespace mode {

namespace {

bool isStepMetric(const std::string& m) {
    return findStepMetric(m) != nullptr;
}

std::optional<double> epochValue(const EpochMetrics& e, const std::string& m) {
    const EpochMetric* metric = findEpochMetric(m);
    return metric ? metric->get(e) : std::nullopt;
}

CompareData load(const QString& path, const QList<qint64>& ids, const std::string& stepMetric,
                 bool withRuns) {
    CompareData d;
    try {
        RunStore store(path.toStdString(), RunStore::Mode::ReadOnly);
        std::vector<std::int64_t> v(ids.begin(), ids.end());
        if (withRuns) {
            for (auto id : v) {
                d.runs.push_back(store.run(id));
                d.epochs.push_back(store.epochs(id));
            }
        }
        if (!stepMetric.empty()) {
            // Long step series dominate the time: read them on every core, one connection each
            // (WAL readers do not block one another).
            const std::size_t parts = std::clamp<std::size_t>(
                std::thread::hardware_concurrency(), 1, std::max<std::size_t>(1, v.size() / 4));
            std::vector<std::future<std::map<std::int64_t, std::vector<SeriesPoint>>>> jobs;
            for (std::size_t p = 0; p < parts; ++p) {
                std::vector<std::int64_t> chunk;
                for (std::size_t i = p; i < v.size(); i += parts)
                    chunk.push_back(v[i]);
                jobs.push_back(std::async(std::launch::async, [path, chunk, stepMetric] {
                    RunStore reader(path.toStdString(), RunStore::Mode::ReadOnly);
                    return reader.series(chunk, stepMetric, CompareView::kMaxPointsPerRun);
                }));
            }
            auto& all = d.series[stepMetric];
            for (auto& j : jobs)
                all.merge(j.get());
        }
    } catch (const std::exception& e) {
        d.error = QString::fromStdString(e.what());
    }
    return d;
}

QString number(const std::optional<double>& v, int decimals = 4, bool sign = false) {
    if (!v || !std::isfinite(*v)) return "-";
    return (sign && *v > 0 ? "+" : "") + QString::number(*v, 'f', decimals);
}

// A choice as narrow as its column allows: its long labels show whole in the open list, they
// never widen the window (set before anything asks the box its size: Qt keeps the first answer).
QComboBox* narrowBox(QComboBox* box, int characters = 12) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(characters);
    return box;
}

} // namespace

CompareView::CompareView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    status_ = new QLabel(tr("Select two or more runs in the run browser and press Compare."), this);
    status_->setObjectName("compareStatus");
    layout->addWidget(status_);
    tabs_ = new QTabWidget(this);
    tabs_->addTab(buildCurvesTab(), tr("Curves"));
    tabs_->addTab(buildConfigTab(), tr("Config"));
    tabs_->addTab(buildMetricsTab(), tr("Final metrics"));
    tabs_->addTab(buildRoutingTab(), tr("Routing"));
    tabs_->addTab(buildExpertsTab(), tr("Experts"));
    tabs_->addTab(buildSweepTab(), tr("Alpha sweep"));
    pair_ = new ExplorerPair(tabs_);
    pair_->setObjectName("explorerPair");
    tabs_->addTab(pair_, tr("Explorer"));
    layout->addWidget(tabs_, 1);
    // Narrow enough for a 1024-px window: long notes wrap (the choices are narrow: narrowBox).
    for (auto* label : findChildren<QLabel*>())
        if (label == status_ || label->text().size() > 30) label->setWordWrap(true);
    auto* follow = new QTimer(this);
    follow->setInterval(2000);
    connect(follow, &QTimer::timeout, this, &CompareView::poll);
    follow->start();
}

CompareView::~CompareView() {
    if (watcher_) watcher_->waitForFinished();
}

QWidget* CompareView::exportBar(QCustomPlot* plot, QTableWidget* table, const QString& name) {
    auto* bar = new QWidget;
    auto* l = new QHBoxLayout(bar);
    l->setContentsMargins(0, 0, 0, 0);
    l->addStretch();
    auto* exp = new QPushButton(plot ? tr("Export plot\u2026") : tr("Export CSV\u2026"), bar);
    auto* copy = new QPushButton(tr("Copy"), bar);
    exp->setToolTip(plot ? tr("Save as PNG, SVG or PDF") : tr("Save as CSV"));
    copy->setToolTip(plot ? tr("Copy the plot to the clipboard as an image")
                          : tr("Copy the table to the clipboard as CSV"));
    l->addWidget(exp);
    l->addWidget(copy);
    connect(exp, &QPushButton::clicked, this, [=] {
        if (plot)
            exportPlotInteractively(plot, this, name);
        else
            exportTableInteractively(table, this, name);
    });
    connect(copy, &QPushButton::clicked, this, [=] {
        if (plot)
            copyPlotToClipboard(plot);
        else
            copyTableToClipboard(table);
    });
    return bar;
}

QWidget* CompareView::buildCurvesTab() {
    auto* tab = new QWidget;
    auto* l = new QVBoxLayout(tab);
    auto* bar = new QHBoxLayout;
    metric_ = narrowBox(new QComboBox(tab));
    metric_->setObjectName("metric");
    for (const auto& m : stepMetrics())
        metric_->addItem(tr("%1 (step)").arg(QString::fromStdString(m.label)),
                         QString::fromStdString(m.name));
    for (const auto& m : epochMetrics())
        metric_->addItem(tr("%1 (epoch)").arg(QString::fromStdString(m.label)),
                         QString::fromStdString(m.name));
    metric_->setCurrentIndex(metric_->findData("val_accuracy"));
    metric_->setToolTip(tr("The stored metric to overlay"));
    xAxis_ = narrowBox(new QComboBox(tab), 6);
    xAxis_->addItems({tr("step"), tr("epoch"), tr("wall time (s)")});
    xAxis_->setToolTip(tr("What the x axis counts"));
    smoothing_ = new QSlider(Qt::Horizontal, tab);
    smoothing_->setRange(0, 99);
    smoothing_->setMaximumWidth(140);
    smoothing_->setToolTip(
        tr("Exponential moving average with bias correction, per step (runs logging at different "
           "densities are smoothed alike)"));
    smoothingLabel_ = new QLabel(tr("smoothing 0.00"), tab);
    groupBy_ = narrowBox(new QComboBox(tab), 10);
    groupBy_->addItem(tr("no grouping"), QString());
    groupBy_->addItem(tr("group runs that differ only in seed"), "all but seed");
    for (const char* f :
         {"loss.alpha", "model.experts", "loss.distill", "model.gate", "train.lr", "data.dataset"})
        groupBy_->addItem(tr("group by %1").arg(f), f);
    groupBy_->setToolTip(tr("Draw each group as its mean with a band of one standard deviation"));
    bar->addWidget(metric_);
    bar->addWidget(new QLabel(tr("x:"), tab));
    bar->addWidget(xAxis_);
    bar->addWidget(smoothingLabel_);
    bar->addWidget(smoothing_);
    bar->addWidget(groupBy_);
    gridButton_ = new QToolButton(tab);
    gridButton_->setObjectName("metricGrid");
    gridButton_->setText(tr("Grid of metrics"));
    gridButton_->setToolTip(tr("Several epoch metrics at once, a small plot each"));
    gridButton_->setPopupMode(QToolButton::InstantPopup);
    auto* menu = new QMenu(gridButton_);
    for (const auto& m : epochMetrics()) {
        QAction* a = menu->addAction(QString::fromStdString(m.label));
        a->setData(QString::fromStdString(m.name));
        a->setCheckable(true);
        connect(a, &QAction::toggled, this, [this] { drawCurves(); });
    }
    gridButton_->setMenu(menu);
    bar->addWidget(gridButton_);
    bar->addStretch();
    l->addLayout(bar);
    curves_ = new QCustomPlot(tab);
    curves_->setObjectName("compareCurves");
    stylePlot(curves_);
    curves_->setPlottingHint(QCP::phFastPolylines, true);
    l->addWidget(curves_, 1);
    // The grid scrolls down and wraps to the width it has: it never widens the window.
    gridScroll_ = new QScrollArea(tab);
    gridScroll_->setObjectName("metricGridScroll");
    gridScroll_->setWidgetResizable(true);
    gridScroll_->setFrameShape(QFrame::NoFrame);
    gridScroll_->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    gridArea_ = new QWidget;
    grid_ = new QGridLayout(gridArea_);
    grid_->setContentsMargins(0, 0, 0, 0);
    gridScroll_->setWidget(gridArea_);
    gridScroll_->viewport()->installEventFilter(this);
    gridScroll_->setVisible(false);
    l->addWidget(gridScroll_, 1);
    l->addWidget(exportBar(curves_, nullptr, "curves"));
    connect(metric_, &QComboBox::currentIndexChanged, this, [this] {
        const std::string m = metric_->currentData().toString().toStdString();
        if (isStepMetric(m) && !data_.series.count(m) && !data_.runs.empty())
            startLoad(requested_, m, false);
        else
            drawCurves();
    });
    connect(xAxis_, &QComboBox::currentIndexChanged, this, [this] { drawCurves(); });
    connect(groupBy_, &QComboBox::currentIndexChanged, this, [this] { drawCurves(); });
    connect(smoothing_, &QSlider::valueChanged, this, [this](int v) {
        smoothingLabel_->setText(tr("smoothing %1").arg(v / 100.0, 0, 'f', 2));
        drawCurves();
    });
    return tab;
}

QWidget* CompareView::buildConfigTab() {
    auto* tab = new QWidget;
    auto* l = new QVBoxLayout(tab);
    differencesOnly_ = new QCheckBox(tr("differences only"), tab);
    differencesOnly_->setChecked(true);
    differencesOnly_->setToolTip(tr("Show only the settings in which the runs differ"));
    l->addWidget(differencesOnly_);
    config_ = new QTableWidget(tab);
    config_->setObjectName("compareConfig");
    l->addWidget(config_, 1);
    l->addWidget(exportBar(nullptr, config_, "config"));
    connect(differencesOnly_, &QCheckBox::toggled, this, [this] { fillConfig(); });
    return tab;
}

QWidget* CompareView::buildMetricsTab() {
    auto* tab = new QWidget;
    auto* l = new QVBoxLayout(tab);
    auto* bar = new QHBoxLayout;
    pairedMetric_ = narrowBox(new QComboBox(tab));
    pairedMetric_->setObjectName("pairedMetric");
    for (const auto& m : outcomeMetrics())
        if (!m.perRunOnly)
            pairedMetric_->addItem(QString::fromUtf8(m.label), QString::fromUtf8(m.name));
    pairedMetric_->setToolTip(tr("The outcome compared between alphas"));
    bar->addWidget(new QLabel(tr("metric:"), tab));
    bar->addWidget(pairedMetric_);
    bar->addStretch();
    l->addLayout(bar);
    pairedNote_ = new QLabel(tab);
    pairedNote_->setWordWrap(true);
    pairedNote_->setObjectName("pairedNote");
    l->addWidget(pairedNote_);
    auto* split = new QSplitter(Qt::Vertical, tab);
    paired_ = new QTableWidget(split);
    paired_->setObjectName("comparePaired");
    paired_->setToolTip(
        tr("Each alpha against alpha = 0 of the same configuration, runs matched by seed"));
    auto* perRun = new QWidget(split);
    auto* pl = new QVBoxLayout(perRun);
    pl->setContentsMargins(0, 0, 0, 0);
    pl->addWidget(new QLabel(tr("Each run's final values:"), perRun));
    metrics_ = new QTableWidget(perRun);
    metrics_->setObjectName("compareMetrics");
    pl->addWidget(metrics_, 1);
    split->addWidget(paired_);
    split->addWidget(perRun);
    l->addWidget(split, 1);
    auto* exports = new QHBoxLayout;
    exports->addWidget(exportBar(nullptr, paired_, "paired-differences"));
    exports->addWidget(exportBar(nullptr, metrics_, "final-metrics"));
    l->addLayout(exports);
    connect(pairedMetric_, &QComboBox::currentIndexChanged, this, [this] { fillPaired(); });
    return tab;
}

QWidget* CompareView::buildRoutingTab() {
    auto* tab = new QWidget;
    auto* l = new QVBoxLayout(tab);
    auto* bar = new QHBoxLayout;
    routingMeasure_ = narrowBox(new QComboBox(tab));
    routingMeasure_->setObjectName("routingMeasure");
    routingMeasure_->addItems({tr("mean gate weight"), tr("share of top-expert picks")});
    routingMeasure_->setToolTip(tr("One colour scale, 0 to 1, for every heatmap"));
    routingRows_ = narrowBox(new QComboBox(tab));
    routingRows_->setObjectName("routingRows");
    routingRows_->addItems({tr("classes"), tr("sub-tasks")});
    routingRows_->setToolTip(tr("Rows: the classes, or the known sub-tasks (where the data has "
                                "them)"));
    alignExperts_ = new QCheckBox(tr("align experts"), tab);
    alignExperts_->setObjectName("alignExperts");
    alignExperts_->setToolTip(
        tr("Expert numbers are arbitrary: put each run's experts under the first run's expert "
           "that routes alike (best one-to-one matching of their mean gate weights)"));
    bar->addWidget(routingMeasure_);
    bar->addWidget(routingRows_);
    bar->addWidget(alignExperts_);
    bar->addWidget(RoutingHeatmap::colorBar(tab));
    bar->addWidget(new QLabel(tr("shared by all runs; last epoch of each run"), tab));
    bar->addStretch();
    l->addLayout(bar);
    auto* scroll = new QScrollArea(tab);
    scroll->setWidgetResizable(true);
    routingArea_ = new QWidget;
    routingGrid_ = new QGridLayout(routingArea_);
    scroll->setWidget(routingArea_);
    l->addWidget(scroll, 1);
    connect(routingMeasure_, &QComboBox::currentIndexChanged, this, [this](int i) {
        for (auto* h : heatmaps_)
            h->setMeasure(i == 0 ? RoutingHeatmap::Measure::MeanGate
                                 : RoutingHeatmap::Measure::ArgmaxShare);
    });
    connect(routingRows_, &QComboBox::currentIndexChanged, this, [this] { alignRouting(); });
    connect(alignExperts_, &QCheckBox::toggled, this, [this] { alignRouting(); });
    return tab;
}

// The rows chosen on every tile, and each run's experts in the first run's order when asked.
void CompareView::alignRouting() {
    const bool subtasks = routingRows_->currentIndex() == 1;
    const RoutingMatrix* reference = nullptr;
    for (std::size_t i = 0; i < std::min(heatmaps_.size(), data_.epochs.size()); ++i) {
        RoutingHeatmap* h = heatmaps_[i];
        h->setRows(subtasks ? RoutingHeatmap::Rows::Subtasks : RoutingHeatmap::Rows::Classes);
        const auto& epochs = data_.epochs[i];
        const RoutingMatrix* m = nullptr;
        if (!epochs.empty())
            m = subtasks && epochs.back().routingBySubtask ? &*epochs.back().routingBySubtask
                                                           : &epochs.back().routingByClass;
        if (!reference) reference = m;
        h->setExpertOrder(alignExperts_->isChecked() && m && reference && m != reference
                              ? alignExperts(*reference, *m)
                              : std::vector<int>{});
    }
}

QWidget* CompareView::buildExpertsTab() {
    auto* tab = new QWidget;
    auto* l = new QVBoxLayout(tab);
    auto* bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Expert probing at the last epoch: each expert alone on the test "
                                 "samples routed to it, "
                                 "expert by expert, one bar per run."),
                              tab),
                   1);
    baseline_ = narrowBox(new QComboBox(tab));
    baseline_->setToolTip(tr("The run drawn first, e.g. the plain MoE"));
    bar->addWidget(new QLabel(tr("first:"), tab));
    bar->addWidget(baseline_);
    l->addLayout(bar);
    experts_ = new QCustomPlot(tab);
    experts_->setObjectName("compareExperts");
    stylePlot(experts_);
    experts_->setInteractions(QCP::Interactions());
    experts_->xAxis->setLabel(tr("expert"));
    experts_->yAxis->setLabel(tr("probing accuracy"));
    l->addWidget(experts_, 1);
    l->addWidget(exportBar(experts_, nullptr, "expert-probing"));
    connect(baseline_, &QComboBox::currentIndexChanged, this, [this] { drawExperts(); });
    return tab;
}

QWidget* CompareView::buildSweepTab() {
    auto* tab = new QWidget;
    auto* l = new QVBoxLayout(tab);
    auto* bar = new QHBoxLayout;
    sweepMetric_ = narrowBox(new QComboBox(tab));
    for (const auto& m : outcomeMetrics())
        if (!m.perRunOnly)
            sweepMetric_->addItem(QString::fromUtf8(m.label), QString::fromUtf8(m.name));
    sweepMetric_->setToolTip(tr("The final metric against alpha"));
    sweepMode_ = narrowBox(new QComboBox(tab));
    sweepMode_->addItem(tr("paired difference against \u03b1 = 0 (95% CI)"), "difference");
    sweepMode_->addItem(tr("values: mean \u00b1 sd over seeds"), "values");
    sweepMode_->setToolTip(tr(
        "Difference: each alpha minus alpha = 0 of the same seed, with the t interval of the mean "
        "difference; filled and starred where significant after Holm's correction across the "
        "alphas"));
    bar->addWidget(sweepMetric_);
    bar->addWidget(sweepMode_);
    bar->addStretch();
    l->addLayout(bar);
    sweep_ = new QCustomPlot(tab);
    sweep_->setObjectName("compareSweep");
    stylePlot(sweep_);
    l->addWidget(sweep_, 1);
    l->addWidget(exportBar(sweep_, nullptr, "alpha-sweep"));
    connect(sweepMetric_, &QComboBox::currentIndexChanged, this, [this] { drawSweep(); });
    connect(sweepMode_, &QComboBox::currentIndexChanged, this, [this] { drawSweep(); });
    return tab;
}

void CompareView::setRuns(const QList<qint64>& ids) {
    requested_ = ids;
    data_ = CompareData{};
    startLoad(ids,
              isStepMetric(metric_->currentData().toString().toStdString())
                  ? metric_->currentData().toString().toStdString()
                  : std::string(),
              true);
}

bool CompareView::isLoading() const {
    return watcher_ && watcher_->isRunning();
}

void CompareView::startLoad(const QList<qint64>& ids, const std::string& stepMetric,
                            bool withRuns) {
    const int generation = ++generation_;
    status_->setText(tr("loading %1 runs\u2026").arg(ids.size()));
    if (watcher_) watcher_->disconnect(this);
    watcher_ = std::make_unique<QFutureWatcher<CompareData>>();
    connect(watcher_.get(), &QFutureWatcher<CompareData>::finished, this,
            [this, generation, withRuns] {
                if (generation != generation_) return; // a newer request replaced this one
                CompareData d = watcher_->result();
                if (!d.error.isEmpty()) {
                    status_->setText(d.error);
                    emit loadFailed(d.error);
                    return;
                }
                if (withRuns) { // the runs again: their other series are older than these
                    data_.runs = std::move(d.runs);
                    data_.epochs = std::move(d.epochs);
                    data_.series.clear();
                }
                for (auto& [k, v] : d.series)
                    data_.series[k] = std::move(v);
                onLoaded();
            });
    const QString path = path_;
    shownStamp_ = storeFileStamp(path_);
    watcher_->setFuture(QtConcurrent::run(
        [path, ids, stepMetric, withRuns] { return load(path, ids, stepMetric, withRuns); }));
}

void CompareView::onLoaded() {
    status_->setText(tr("%1 runs: %2").arg(data_.runs.size()).arg([this] {
        QStringList ids;
        for (const auto& r : data_.runs)
            ids << QString::number(r.id);
        if (ids.size() > 12)
            ids = ids.mid(0, 8) << QStringLiteral("\u2026")
                                << ids.mid(ids.size() - 3); // a long list would widen the window
        return ids.join(", ");
    }()));
    drawAll();
    following_ = false;
    emit loaded();
}

void CompareView::drawAll() {
    {
        QSignalBlocker block(baseline_);
        const int chosen = baseline_->currentIndex();
        baseline_->clear();
        const std::size_t pick = baselineRun(data_.runs); // the plain MoE, if there is one
        for (std::size_t i = 0; i < data_.runs.size(); ++i)
            baseline_->addItem(runLabel(i));
        // A reload of the same runs keeps the user's choice.
        baseline_->setCurrentIndex(following_ && chosen >= 0 && chosen < baseline_->count()
                                       ? chosen
                                       : static_cast<int>(pick));
    }
    studyRuns_.clear();
    for (std::size_t i = 0; i < data_.runs.size(); ++i)
        studyRuns_.push_back(
            {data_.runs[i],
             data_.epochs[i].empty() ? std::nullopt
                                     : std::optional<EpochMetrics>(data_.epochs[i].back()),
             std::nullopt}); // Compare scores each run at its last epoch, as its tabs say
    {
        // Newest first, whatever order the runs were picked in: the newest run of an (alpha, seed)
        // counts.
        std::vector<StudyRun> byAge = studyRuns_;
        std::stable_sort(byAge.begin(), byAge.end(),
                         [](const auto& a, const auto& b) { return a.record.id > b.record.id; });
        studyOrder_ = std::move(byAge);
    }
    studies_ = groupStudies(studyOrder_);
    drawCurves();
    fillConfig();
    fillMetrics();
    fillPaired();
    drawRouting();
    drawExperts();
    drawSweep();
    if (!following_) pair_->setRuns(path_, data_.runs, data_.epochs); // a reload keeps the pair
}

QString CompareView::runLabel(std::size_t i) const {
    const auto& r = data_.runs[i];
    QString label = QString("run %1").arg(r.id);
    if (!r.name.empty()) label += " " + QString::fromStdString(r.name);
    label += QString(" (\u03b1 %1, seed %2)").arg(r.alpha).arg(r.seed);
    return label;
}

bool CompareView::curveOf(std::size_t run, const std::string& m, std::vector<double>* x,
                          std::vector<double>* steps, std::vector<double>* y) const {
    x->clear();
    steps->clear();
    y->clear();
    const int axis = xAxis_->currentIndex();
    if (isStepMetric(m)) {
        auto it = data_.series.find(m);
        if (it == data_.series.end()) return false;
        auto pts = it->second.find(data_.runs[run].id);
        if (pts == it->second.end()) return false;
        for (const auto& p : pts->second) {
            steps->push_back(p.step);
            x->push_back(axis == 0 ? p.step : axis == 1 ? p.epoch : p.wallSeconds);
            y->push_back(p.value);
        }
    } else {
        for (const auto& e : data_.epochs[run]) {
            auto v = epochValue(e, m);
            if (!v || !std::isfinite(*v)) continue;
            steps->push_back(static_cast<double>(e.step));
            x->push_back(axis == 0   ? static_cast<double>(e.step)
                         : axis == 1 ? e.epoch
                                     : e.wallSeconds);
            y->push_back(*v);
        }
    }
    const double w = smoothing_->value() / 100.0;
    if (w > 0 && !y->empty()) *y = emaSmooth(*steps, *y, w);
    return !y->empty();
}

void CompareView::drawCurves() {
    const QStringList grid = gridMetrics();
    curves_->setVisible(grid.isEmpty());
    gridScroll_->setVisible(!grid.isEmpty());
    if (grid.isEmpty()) {
        drawMetric(curves_, metric_->currentData().toString().toStdString());
        return;
    }
    // One small plot per metric, as many to a row as fit (at most three); the first carries the
    // runs' legend.
    while (gridPlots_.size() > static_cast<std::size_t>(grid.size())) {
        delete gridPlots_.back();
        gridPlots_.pop_back();
    }
    while (gridPlots_.size() < static_cast<std::size_t>(grid.size())) {
        auto* plot = new QCustomPlot(gridArea_);
        plot->setObjectName(QString("gridPlot%1").arg(gridPlots_.size()));
        plot->setMinimumSize(kGridPlotMinWidth, 180);
        stylePlot(plot, gridPlots_.empty());
        if (gridPlots_.empty()) placeLegendAbove(plot, 3);
        gridPlots_.push_back(plot);
    }
    gridColumns_ = 0; // placed again
    layOutGrid();
    for (int i = 0; i < grid.size(); ++i)
        drawMetric(gridPlots_[static_cast<std::size_t>(i)], grid[i].toStdString());
}

void CompareView::layOutGrid() {
    const int width = gridScroll_->viewport()->width();
    const int columns = std::clamp(width / (2 * kGridPlotMinWidth), 1, 3);
    if (columns == gridColumns_) return;
    gridColumns_ = columns;
    for (QCustomPlot* plot : gridPlots_)
        grid_->removeWidget(plot);
    for (int i = 0; i < static_cast<int>(gridPlots_.size()); ++i)
        grid_->addWidget(gridPlots_[static_cast<std::size_t>(i)], i / columns, i % columns);
    for (int c = 0; c < 3; ++c)
        grid_->setColumnStretch(c, c < columns ? 1 : 0);
}

bool CompareView::eventFilter(QObject* watched, QEvent* event) {
    if (watched == gridScroll_->viewport() && event->type() == QEvent::Resize) layOutGrid();
    return QWidget::eventFilter(watched, event);
}

void CompareView::drawMetric(QCustomPlot* plot, const std::string& metricName) {
    plot->clearGraphs();
    const QString metric = QString::fromStdString(metricName);
    plot->yAxis->setLabel(metric);
    plot->xAxis->setLabel(xAxis_->currentText());
    const QString field = groupBy_->currentData().toString();
    std::vector<std::vector<double>> xs(data_.runs.size()), steps(data_.runs.size()),
        ys(data_.runs.size());
    for (std::size_t i = 0; i < data_.runs.size(); ++i)
        curveOf(i, metricName, &xs[i], &steps[i], &ys[i]);
    if (field.isEmpty()) {
        for (std::size_t i = 0; i < data_.runs.size(); ++i) {
            auto* g = plot->addGraph();
            g->setName(runLabel(i));
            g->setPen(QPen(seriesColor(static_cast<int>(i)), 0));
            g->setData(QVector<double>(xs[i].begin(), xs[i].end()),
                       QVector<double>(ys[i].begin(), ys[i].end()), true);
        }
    } else {
        auto groups = groupRuns(data_.runs, field.toStdString());
        for (std::size_t gi = 0; gi < groups.size(); ++gi) {
            std::vector<std::vector<double>> k, v;
            for (auto m : groups[gi].members) {
                // A band needs shared keys: steps (or epochs) align across runs, wall times do not.
                k.push_back(xAxis_->currentIndex() == 2 ? steps[m] : xs[m]);
                v.push_back(ys[m]);
            }
            const Band b = meanBand(k, v);
            const QColor c = seriesColor(static_cast<int>(gi));
            QVector<double> keys(b.keys.begin(), b.keys.end()), mean(b.mean.begin(), b.mean.end()),
                lo, hi;
            for (std::size_t i = 0; i < b.keys.size(); ++i) {
                lo << b.mean[i] - b.std[i];
                hi << b.mean[i] + b.std[i];
            }
            auto* lower = plot->addGraph();
            lower->setPen(Qt::NoPen);
            lower->removeFromLegend();
            lower->setData(keys, lo, true);
            auto* upper = plot->addGraph();
            upper->setPen(Qt::NoPen);
            upper->setBrush(QColor(c.red(), c.green(), c.blue(), 50));
            upper->setChannelFillGraph(lower);
            upper->removeFromLegend();
            upper->setData(keys, hi, true);
            auto* line = plot->addGraph();
            line->setName(QString::fromStdString(groups[gi].label) +
                          tr(" (%1 runs, mean \u00b1 sd)").arg(groups[gi].members.size()));
            line->setPen(QPen(c, 2));
            line->setData(keys, mean, true);
        }
    }
    fitPlot(plot);
}

void CompareView::fillConfig() {
    const auto rows = mode::configTable(data_.runs, differencesOnly_->isChecked());
    config_->clear();
    config_->setColumnCount(static_cast<int>(data_.runs.size()) + 1);
    config_->setRowCount(static_cast<int>(rows.size()));
    // Narrow columns: "run 12" over each, the run's full label in its tooltip.
    config_->setHorizontalHeaderItem(0, new QTableWidgetItem(tr("setting")));
    for (std::size_t i = 0; i < data_.runs.size(); ++i) {
        auto* header = new QTableWidgetItem(tr("run %1").arg(data_.runs[i].id));
        header->setToolTip(runLabel(i));
        config_->setHorizontalHeaderItem(static_cast<int>(i) + 1, header);
    }
    for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
        const auto& row = rows[static_cast<std::size_t>(r)];
        config_->setItem(r, 0, readOnlyCell(QString::fromStdString(row.field), row.differs));
        for (std::size_t c = 0; c < row.values.size(); ++c)
            config_->setItem(r, static_cast<int>(c) + 1,
                             readOnlyCell(QString::fromStdString(row.values[c]), row.differs));
    }
    config_->resizeColumnsToContents();
    for (int c = 1; c < config_->columnCount(); ++c)
        config_->setColumnWidth(c, std::min(config_->columnWidth(c), 160));
}

void CompareView::fillMetrics() {
    metrics_->clear();
    metrics_->setRowCount(static_cast<int>(data_.runs.size()));
    QStringList header{tr("run"), tr("\u03b1"), tr("seed")};
    for (const auto& m : outcomeMetrics())
        header << QString::fromUtf8(m.name);
    metrics_->setColumnCount(static_cast<int>(header.size()));
    metrics_->setHorizontalHeaderLabels(header);
    for (std::size_t r = 0; r < data_.runs.size(); ++r) {
        const int row = static_cast<int>(r);
        metrics_->setItem(row, 0, readOnlyCell(runLabel(r)));
        metrics_->setItem(row, 1, readOnlyCell(QString::number(data_.runs[r].alpha)));
        metrics_->setItem(row, 2, readOnlyCell(QString::number(data_.runs[r].seed)));
        int c = 3;
        for (const auto& m : outcomeMetrics()) {
            const std::string name = m.name;
            const int decimals = name == "epochs_completed" ? 0 : name == "wall_seconds" ? 2 : 4;
            metrics_->setItem(row, c++,
                              readOnlyCell(number(outcomeValue(studyRuns_[r], name), decimals)));
        }
    }
    metrics_->resizeColumnsToContents();
}

void CompareView::fillPaired() {
    const std::string metric = pairedMetric_->currentData().toString().toStdString();
    paired_->clear();
    const bool several = studies_.size() > 1;
    QStringList header;
    if (several) header << tr("configuration");
    header << tr("\u03b1") << tr("seeds") << tr("mean \u00b1 sd")
           << tr("\u0394 vs \u03b1 = 0 (paired)") << tr("pairs") << tr("95% CI (t)")
           << tr("95% CI (bootstrap)") << tr("t-test p") << tr("Holm p") << tr("Wilcoxon p")
           << tr("P(improve) [95% CI]");
    paired_->setColumnCount(static_cast<int>(header.size()));
    paired_->setHorizontalHeaderLabels(header);
    std::size_t unpaired = 0, noZero = 0;
    int row = 0;
    for (const auto& study : studies_) {
        const auto effects = alphaEffects(study, studyOrder_, metric);
        const bool hasZero = study.cells.count(0.0) > 0;
        for (const auto& e : effects) {
            paired_->setRowCount(row + 1);
            int c = 0;
            if (several) {
                auto* label = readOnlyCell(QString::fromStdString(study.label()));
                label->setToolTip(
                    label->text() +
                    tr("\nconfiguration %1").arg(QString::fromStdString(study.signature)));
                paired_->setItem(row, c++, label);
            }
            paired_->setItem(row, c++,
                             readOnlyCell(e.alpha == 0 ? tr("0 (MoE)") : QString::number(e.alpha),
                                          e.alpha == 0));
            paired_->setItem(row, c++, readOnlyCell(QString::number(e.values.size())));
            paired_->setItem(
                row, c++,
                readOnlyCell(e.values.empty() ? "-" : number(e.mean) + " \u00b1 " + number(e.std)));
            if (e.alpha == 0) {
                paired_->setItem(row, c++, readOnlyCell(tr("baseline")));
            } else if (!hasZero) {
                noZero += e.values.size();
                paired_->setItem(row, c++, readOnlyCell(tr("no \u03b1 = 0 runs")));
            } else if (!e.vsZero) {
                unpaired += e.values.size();
                paired_->setItem(row, c++, readOnlyCell(tr("no seed in common")));
            } else {
                const auto& v = *e.vsZero;
                unpaired += e.values.size() - v.n;
                auto* delta = readOnlyCell(number(v.meanDifference, 4, true));
                const bool significant = e.holmP < 0.05;
                if (significant)
                    delta->setForeground(v.meanDifference > 0 ? QColor(46, 125, 50)
                                                              : QColor(198, 40, 40));
                delta->setToolTip(
                    significant
                        ? tr("significant after Holm's correction across the alphas")
                        : tr("not significant after Holm's correction: seed noise can explain it"));
                paired_->setItem(row, c++, delta);
                paired_->setItem(row, c++, readOnlyCell(QString::number(v.n)));
                auto interval = [](const Interval& i, int decimals = 4, bool sign = true) {
                    return i.known() ? "[" + number(i.lower, decimals, sign) + ", " +
                                           number(i.upper, decimals, sign) + "]"
                                     : QString("-");
                };
                paired_->setItem(row, c++, readOnlyCell(interval(v.tInterval)));
                paired_->setItem(row, c++, readOnlyCell(interval(v.bootstrap())));
                paired_->setItem(row, c++,
                                 readOnlyCell(v.n >= 2 ? number(v.tTest.pValue, 3) : "-"));
                paired_->setItem(
                    row, c++,
                    readOnlyCell(number(e.holmP, 3) + (significant ? " *" : ""), significant));
                paired_->setItem(
                    row, c++, readOnlyCell(v.wilcoxon.n > 0 ? number(v.wilcoxon.pValue, 3) : "-"));
                const auto& p = v.improvement;
                paired_->setItem(
                    row, c++,
                    readOnlyCell(number(p.estimate, 2) + " " + interval(p.interval, 2, false)));
            }
            ++row;
        }
    }
    paired_->resizeColumnsToContents();
    if (several)
        paired_->setColumnWidth(
            0, std::min(paired_->columnWidth(0), 360)); // the full label is its tooltip
    QString note = tr("Each alpha against alpha = 0 of the same configuration, runs matched by "
                      "seed (same split, initial "
                      "weights and minibatch order). Holm's correction across the alphas; * and "
                      "colour: significant at 0.05 "
                      "after it.");
    if (several)
        note += " " + tr("The runs hold %1 configurations (settings other than alpha and the seed "
                         "differ): they are "
                         "never pooled.")
                          .arg(studies_.size());
    const auto unfinished = std::count_if(studyRuns_.begin(), studyRuns_.end(), [](const auto& r) {
        return r.record.status != RunStatus::Finished;
    });
    if (unfinished > 0)
        note += " " + tr("%1 runs are not finished (running, stopped or failed) and are left out.")
                          .arg(unfinished);
    if (unpaired + noZero > 0)
        note += " " + tr("%1 runs have no alpha = 0 run of the same seed and configuration and are "
                         "left out of the "
                         "differences.")
                          .arg(unpaired + noZero);
    pairedNote_->setText(note);
}

void CompareView::drawRouting() {
    for (auto* h : heatmaps_)
        delete h->parentWidget();
    heatmaps_.clear();
    const int perRow = data_.runs.size() <= 4 ? 2 : 3;
    for (std::size_t i = 0; i < data_.runs.size(); ++i) {
        auto* box = new QWidget(routingArea_);
        auto* l = new QVBoxLayout(box);
        l->setContentsMargins(2, 2, 2, 2);
        l->addWidget(new QLabel("<b>" + runLabel(i).toHtmlEscaped() + "</b>", box));
        auto* h = new RoutingHeatmap(box);
        h->setCompact(true);
        h->setMinimumHeight(200);
        for (const auto& e : data_.epochs[i])
            h->addEpoch(e);
        h->setMeasure(routingMeasure_->currentIndex() == 0 ? RoutingHeatmap::Measure::MeanGate
                                                           : RoutingHeatmap::Measure::ArgmaxShare);
        l->addWidget(h, 1);
        routingGrid_->addWidget(box, static_cast<int>(i) / perRow, static_cast<int>(i) % perRow);
        heatmaps_.push_back(h);
    }
    // Where the data knows its sub-tasks, those rows show the gate's specialisation best (on a
    // first load; a reload keeps the rows chosen).
    if (!following_ && !data_.epochs.empty() && !data_.epochs.front().empty()) {
        QSignalBlocker block(routingRows_);
        routingRows_->setCurrentIndex(data_.epochs.front().back().routingBySubtask ? 1 : 0);
    }
    alignRouting();
}

void CompareView::drawExperts() {
    experts_->clearPlottables();
    auto* group = new QCPBarsGroup(experts_);
    // The baseline first, then the others in order.
    std::vector<std::size_t> order;
    const auto base = static_cast<std::size_t>(std::max(0, baseline_->currentIndex()));
    if (base < data_.runs.size()) order.push_back(base);
    for (std::size_t i = 0; i < data_.runs.size(); ++i)
        if (i != base) order.push_back(i);
    int maxExperts = 0;
    const double width = 0.8 / std::max<std::size_t>(1, order.size());
    for (std::size_t k = 0; k < order.size(); ++k) {
        const auto i = order[k];
        if (data_.epochs[i].empty()) continue;
        const auto& last = data_.epochs[i].back();
        auto* bars = new QCPBars(experts_->xAxis, experts_->yAxis);
        bars->setName(runLabel(i) + (i == base ? tr(" [baseline]") : QString()));
        const QColor c = seriesColor(static_cast<int>(i));
        bars->setBrush(c);
        bars->setPen(QPen(c.darker(120)));
        bars->setWidth(width);
        bars->setBarsGroup(group);
        QVector<double> keys, values;
        for (const auto& e : last.experts) {
            keys << e.expert;
            values << (e.probingAccuracy ? *e.probingAccuracy : std::nan(""));
        }
        maxExperts = std::max(maxExperts, static_cast<int>(last.experts.size()));
        bars->setData(keys, values, true);
    }
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1);
    experts_->xAxis->setTicker(ticker);
    experts_->xAxis->setRange(-0.6, std::max(1, maxExperts) - 0.4);
    experts_->yAxis->setRange(0, 1.3);
    experts_->replot(QCustomPlot::rpQueuedReplot);
}

void CompareView::drawSweep() {
    const std::string metric = sweepMetric_->currentData().toString().toStdString();
    const bool difference = sweepMode_->currentData().toString() == "difference";
    std::vector<AlphaSeries> series;
    for (const auto& study : studies_) {
        AlphaSeries s{QString::fromStdString(studies_.size() > 1 ? study.label() : study.dataset),
                      {}};
        for (const auto& e : alphaEffects(study, studyOrder_, metric)) {
            if (e.values.empty()) continue;
            if (!difference) {
                s.points.push_back({e.alpha, e.mean, e.mean - e.std, e.mean + e.std, false});
            } else if (e.alpha == 0) {
                s.points.push_back({0.0, 0.0, std::nan(""), std::nan(""), false});
            } else if (e.vsZero) {
                s.points.push_back({e.alpha, e.vsZero->meanDifference, e.vsZero->tInterval.lower,
                                    e.vsZero->tInterval.upper, e.holmP < 0.05});
            }
        }
        if (!s.points.empty()) series.push_back(std::move(s));
    }
    const QString label = QString::fromUtf8(outcomeMetric(metric).label);
    if (difference)
        drawAlphaSweep(sweep_, series, label + tr(": \u03b1 \u2212 (\u03b1 = 0), same seed"), 0.0,
                       tr("no difference from \u03b1 = 0"));
    else
        drawAlphaSweep(sweep_, series, label);
}

void CompareView::setMetric(const QString& metric) {
    metric_->setCurrentIndex(std::max(0, metric_->findData(metric)));
}
void CompareView::setXAxis(XAxis x) {
    xAxis_->setCurrentIndex(x == XAxis::Step ? 0 : x == XAxis::Epoch ? 1 : 2);
}
void CompareView::setSmoothing(double w) {
    smoothing_->setValue(static_cast<int>(std::lround(w * 100)));
}
void CompareView::setGroupBy(const QString& f) {
    groupBy_->setCurrentIndex(std::max(0, groupBy_->findData(f)));
}
void CompareView::setDifferencesOnly(bool on) {
    differencesOnly_->setChecked(on);
}
void CompareView::setBaseline(int i) {
    baseline_->setCurrentIndex(i);
}
void CompareView::setSweepMetric(const QString& m) {
    sweepMetric_->setCurrentIndex(std::max(0, sweepMetric_->findData(m)));
}
void CompareView::setGridMetrics(const QStringList& metrics) {
    for (QAction* a : gridButton_->menu()->actions()) {
        QSignalBlocker block(a);
        a->setChecked(metrics.contains(a->data().toString()));
    }
    drawCurves();
}

QStringList CompareView::gridMetrics() const {
    QStringList out;
    for (QAction* a : gridButton_->menu()->actions())
        if (a->isChecked()) out << a->data().toString();
    return out;
}

void CompareView::saveSettings(QSettings& s) const {
    s.setValue("compare/metric", metric_->currentData());
    s.setValue("compare/xAxis", xAxis_->currentIndex());
    s.setValue("compare/smoothing", smoothing_->value());
    s.setValue("compare/groupBy", groupBy_->currentData());
    s.setValue("compare/grid", gridMetrics());
    s.setValue("compare/differencesOnly", differencesOnly_->isChecked());
    s.setValue("compare/routingMeasure", routingMeasure_->currentIndex());
    s.setValue("compare/alignExperts", alignExperts_->isChecked());
    s.setValue("compare/tab", tabs_->currentIndex());
}

void CompareView::restoreSettings(const QSettings& s) {
    auto pick = [&](QComboBox* box, const char* key, bool byData) {
        if (!s.contains(key)) return;
        const int i = byData ? box->findData(s.value(key)) : s.value(key).toInt();
        if (i >= 0 && i < box->count()) box->setCurrentIndex(i);
    };
    pick(metric_, "compare/metric", true);
    pick(xAxis_, "compare/xAxis", false);
    pick(groupBy_, "compare/groupBy", true);
    pick(routingMeasure_, "compare/routingMeasure", false);
    if (s.contains("compare/smoothing")) smoothing_->setValue(s.value("compare/smoothing").toInt());
    if (s.contains("compare/differencesOnly"))
        differencesOnly_->setChecked(s.value("compare/differencesOnly").toBool());
    if (s.contains("compare/alignExperts"))
        alignExperts_->setChecked(s.value("compare/alignExperts").toBool());
    if (s.contains("compare/grid")) setGridMetrics(s.value("compare/grid").toStringList());
    if (s.contains("compare/tab")) tabs_->setCurrentIndex(s.value("compare/tab").toInt());
}

// Runs written by another process while they are compared: read again when the store changes
// (at most every 2 s); what is shown stays until the new read replaces it, and the user's
// choices (baseline, routing rows) are kept.
void CompareView::poll() {
    if (path_.isEmpty() || data_.runs.empty() || isLoading() || !isVisible()) return;
    const bool running = std::any_of(data_.runs.begin(), data_.runs.end(),
                                     [](const auto& r) { return r.status == RunStatus::Running; });
    if (!running || storeFileStamp(path_) == shownStamp_) return;
    const std::string m = metric_->currentData().toString().toStdString();
    following_ = true;
    startLoad(requested_, isStepMetric(m) ? m : std::string(), true);
}

void CompareView::showTab(int i) {
    tabs_->setCurrentIndex(i);
}
void CompareView::setPairedMetric(const QString& m) {
    pairedMetric_->setCurrentIndex(std::max(0, pairedMetric_->findData(m)));
}
void CompareView::setSweepMode(const QString& m) {
    sweepMode_->setCurrentIndex(std::max(0, sweepMode_->findData(m)));
}

} // namespace mode

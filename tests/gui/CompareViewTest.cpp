// SPDX-License-Identifier: GPL-3.0-or-later
// The compare view on a store filled by real short runs: its tables hold the store's values,
// grouping and smoothing match hand computations, exports exist and parse.

#include "compare/CompareView.h"
#include "MainWindow.h"
#include "analysis/RunComparison.h"
#include "analysis/Statistics.h"
#include "compare/ExplorerPair.h"
#include "data/CsvLoader.h"
#include "panels/RoutingExplorer.h"
#include "panels/RunBrowser.h"
#include "plots/PlotExport.h"
#include "plots/RoutingHeatmap.h"
#include "store/RunStore.h"
#include "train/Metrics.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFile>
#include <QImage>
#include <QPushButton>
#include <QSettings>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <chrono>
#include <cmath>
#include <functional>

using namespace mode;
using namespace mode::test;

namespace {

// Six real runs, trained once for the whole suite: alpha 0, 0.1 and 1, seeds 1 and 2.
class CompareFixture : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new TempDir;
        db_ = (*dir_) / "runs.sqlite";
        for (const char* alpha : {"0", "0.1", "1"})
            for (const char* seed : {"1", "2"}) {
                auto r = runCommand(mode::test::programDir() +
                                    "/mode-train -q --epochs 3 --threads 1 --device cpu --db " +
                                    db_ + " --alpha " + alpha + " --seed " + seed);
                ASSERT_EQ(r.exitCode, 0) << r.err;
            }
    }
    static void TearDownTestSuite() {
        delete dir_;
        dir_ = nullptr;
    }
    void SetUp() override {
        window_ = std::make_unique<MainWindow>(QString::fromStdString(db_));
        window_->show();
        view_ = window_->compareView();
        settle();
    }
    // The run table reads the store in the background: wait until it shows the last read.
    void settle() {
        ASSERT_TRUE(waitUntil([&] { return !window_->runBrowser()->isLoading(); }));
    }
    void compare(const QList<qint64>& ids) {
        window_->compareRuns(ids);
        ASSERT_TRUE(waitUntil([&] {
            return !view_->isLoading() &&
                   view_->data().runs.size() == static_cast<std::size_t>(ids.size());
        }));
    }
    static TempDir* dir_;
    static std::string db_;
    std::unique_ptr<MainWindow> window_;
    CompareView* view_ = nullptr;
};
TempDir* CompareFixture::dir_ = nullptr;
std::string CompareFixture::db_;

std::vector<double> graphValues(QCPGraph* g) {
    std::vector<double> v;
    for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it)
        v.push_back(it->value);
    return v;
}

} // namespace

TEST_F(CompareFixture, BrowserSelectsRunsAndComparesThem) {
    auto* browser = window_->runBrowser();
    ASSERT_EQ(browser->runCount(), 6);
    auto* compareButton = browser->findChild<QPushButton*>("compare");
    EXPECT_FALSE(compareButton->isEnabled());
    browser->selectRuns({1, 2, 3});
    EXPECT_TRUE(compareButton->isEnabled());
    QTest::mouseClick(compareButton, Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !view_->isLoading() && view_->data().runs.size() == 3; }));
    EXPECT_EQ(view_->curvesPlot()->graphCount(), 3);
}

TEST_F(CompareFixture, BrowserFiltersByAlphaStatusTagAndExperts) {
    auto* browser = window_->runBrowser();
    browser->setAlphaRange("0.05", "0.5");
    settle();
    EXPECT_EQ(browser->runCount(), 2);
    browser->setAlphaRange("", "");
    browser->setStatusFilter("diverged");
    settle();
    EXPECT_EQ(browser->runCount(), 0);
    browser->setStatusFilter("");
    browser->setExpertsFilter(4);
    settle();
    EXPECT_EQ(browser->runCount(), 6);
    browser->setExpertsFilter(0);
    settle();
    // Tags are edited in place and written to the store.
    auto* table = browser->table();
    for (int r = 0; r < table->rowCount(); ++r)
        if (browser->runIdAt(r) == 2) table->item(r, RunBrowser::Tags)->setText("keep, baseline");
    RunStore store(db_, RunStore::Mode::ReadOnly);
    EXPECT_TRUE(waitUntil([&] {
        return store.run(2).tags == std::vector<std::string>{"baseline", "keep"};
    })) << "written off the GUI thread";
    browser->setTagFilter("keep");
    settle();
    ASSERT_EQ(browser->runCount(), 1);
    EXPECT_EQ(browser->runIdAt(0), 2);
    browser->setTagFilter("");
    settle();
    for (int r = 0; r < table->rowCount(); ++r)
        if (browser->runIdAt(r) == 2) table->item(r, RunBrowser::Tags)->setText("");
    EXPECT_TRUE(
        waitUntil([&] { return RunStore(db_, RunStore::Mode::ReadOnly).run(2).tags.empty(); }));
}

TEST_F(CompareFixture, TablesHoldTheStoresValues) {
    compare({1, 3, 5});
    RunStore store(db_, RunStore::Mode::ReadOnly);
    // Config, differences only: alpha is the one setting that differs.
    auto* config = view_->configTable();
    ASSERT_EQ(config->rowCount(), 1);
    EXPECT_EQ(config->item(0, 0)->text(), "loss.alpha");
    EXPECT_EQ(config->item(0, 2)->text(), "0.1");
    view_->setDifferencesOnly(false);
    EXPECT_GT(config->rowCount(), 20);

    // Final metrics: each run's stored values, no deltas against a single run.
    auto* metrics = view_->metricsTable();
    ASSERT_EQ(metrics->rowCount(), 3);
    EXPECT_EQ(metrics->horizontalHeaderItem(3)->text(), "test_accuracy");
    EXPECT_EQ(metrics->item(2, 3)->text(), QString::number(*store.run(5).testAccuracy, 'f', 4));
    EXPECT_EQ(metrics->item(2, 2)->text(), "1") << "the seed";

    // Routing heatmaps: one per run, showing the stored last epoch.
    ASSERT_EQ(view_->heatmaps().size(), 3u);
    auto* h = view_->heatmaps()[1];
    h->setRows(RoutingHeatmap::Rows::Subtasks);
    const auto last = store.epochs(3).back();
    EXPECT_DOUBLE_EQ(h->cellValue(2, 1), last.routingBySubtask->meanGate[2 * 4 + 1]);
    // One colour bar and one set of controls for all tiles; "align experts" orders each run's
    // experts as the matching with the first run's routing says (analysis/RunComparison).
    EXPECT_EQ(view_->findChildren<QLabel*>("sharedColorBar").size(), 1);
    auto* align = view_->findChild<QCheckBox*>("alignExperts");
    ASSERT_NE(align, nullptr);
    align->setChecked(true);
    // The view shows the sub-task rows (regimes knows them): the matching is by those.
    const auto first = store.epochs(view_->data().runs.front().id).back();
    ASSERT_TRUE(first.routingBySubtask && last.routingBySubtask);
    const auto order = alignExperts(*first.routingBySubtask, *last.routingBySubtask);
    for (int k = 0; k < 4; ++k) {
        EXPECT_EQ(view_->heatmaps()[0]->expertAt(k), k) << "the first run stays as it is";
        EXPECT_EQ(h->expertAt(k), order[static_cast<std::size_t>(k)]);
    }
    align->setChecked(false);
    EXPECT_EQ(h->expertAt(3), 3);

    // Expert probing: one bar set per run, four experts each, the stored probing accuracies.
    auto* experts = view_->expertsPlot();
    ASSERT_EQ(experts->plottableCount(), 3);
    auto* bars =
        qobject_cast<QCPBars*>(experts->plottable(1)); // the alpha = 0 run first, then run 3
    ASSERT_NE(bars, nullptr);
    EXPECT_EQ(bars->data()->size(), 4);
    EXPECT_DOUBLE_EQ((bars->data()->constBegin() + 2)->value, *last.experts[2].probingAccuracy);
}

// Several metrics at once: a small plot per metric, each run's stored values on each.
TEST_F(CompareFixture, AGridShowsSeveralMetricsOfEveryRun) {
    compare({1, 3, 5});
    view_->setGridMetrics({"val_accuracy", "test_accuracy", "train_loss"});
    ASSERT_EQ(view_->gridPlots().size(), 3u);
    EXPECT_FALSE(view_->curvesPlot()->isVisible());
    RunStore store(db_, RunStore::Mode::ReadOnly);
    const auto& runs = view_->data().runs;
    auto plotOf = [&](const QString& metric) -> QCustomPlot* { // in the catalog's order
        for (auto* p : view_->gridPlots())
            if (p->yAxis->label() == metric) return p;
        return nullptr;
    };
    auto* test = plotOf("test_accuracy");
    auto* loss = plotOf("train_loss");
    ASSERT_TRUE(test && loss && plotOf("val_accuracy"));
    ASSERT_EQ(test->graphCount(), 3);
    for (int r = 0; r < 3; ++r) {
        const auto epochs = store.epochs(runs[static_cast<std::size_t>(r)].id);
        auto* g = test->graph(r);
        ASSERT_EQ(g->dataCount(), static_cast<int>(epochs.size()));
        EXPECT_DOUBLE_EQ(g->data()->at(g->dataCount() - 1)->value, epochs.back().testAccuracy);
        EXPECT_DOUBLE_EQ(loss->graph(r)->data()->at(0)->value, epochs.front().trainLoss);
    }
    EXPECT_TRUE(view_->curvesPlot()->isHidden()) << "the grid in its place";
    view_->setGridMetrics({});
    EXPECT_FALSE(view_->curvesPlot()->isHidden()) << "back to the one metric";
}

// The tab's choices outlive the window: saved, then restored into a fresh view.
TEST_F(CompareFixture, TheTabsChoicesAreRemembered) {
    TempDir here;
    QSettings saved(QString::fromStdString(here / "settings.ini"), QSettings::IniFormat);
    view_->setMetric("loss");
    view_->setSmoothing(0.5);
    view_->setGridMetrics({"test_accuracy"});
    view_->findChild<QCheckBox*>("alignExperts")->setChecked(true);
    view_->showTab(3);
    view_->saveSettings(saved);
    CompareView fresh;
    fresh.restoreSettings(saved);
    EXPECT_EQ(fresh.findChild<QComboBox*>("metric")->currentData().toString(), "loss");
    EXPECT_EQ(fresh.gridMetrics(), QStringList{"test_accuracy"});
    EXPECT_TRUE(fresh.findChild<QCheckBox*>("alignExperts")->isChecked());
    EXPECT_EQ(fresh.tabs()->currentIndex(), 3);
    view_->setGridMetrics({});
}

// A run trained by another process while it is compared: its curve grows without a click.
TEST_F(CompareFixture, ARunningRunIsFollowed) {
    TempDir here;
    const std::string db = here / "live.sqlite";
    ASSERT_EQ(runCommand(mode::test::programDir() +
                         "/mode-train -q --epochs 2 --threads 1 --device cpu --db " + db)
                  .exitCode,
              0);
    runCommand("(" + mode::test::programDir() +
               "/mode-train -q --epochs 150 --threads 1 --device cpu --db " + db +
               " > /dev/null 2>&1 &)");
    ASSERT_TRUE(waitUntil(
        [&] {
            RunStore s(db, RunStore::Mode::ReadOnly);
            return s.hasRun(2) && s.epochs(2).size() >= 2;
        },
        30000));
    CompareView view;
    view.setStorePath(QString::fromStdString(db));
    view.show();
    view.setRuns({1, 2});
    ASSERT_TRUE(waitUntil([&] { return !view.isLoading() && view.data().runs.size() == 2; }));
    const auto first = view.data().epochs[1].size();
    EXPECT_TRUE(waitUntil(
        [&] { return view.data().epochs.size() == 2 && view.data().epochs[1].size() >= first + 5; },
        60000))
        << "its epochs arrive without a click";
    EXPECT_TRUE(waitUntil(
        [&] {
            return view.data().runs.size() == 2 &&
                   view.data().runs[1].status == RunStatus::Finished;
        },
        120000))
        << "and its end";
}

TEST_F(CompareFixture, SmoothingMatchesTheHandFormulaOnStoredSteps) {
    compare({1, 2});
    view_->setMetric("loss");
    ASSERT_TRUE(
        waitUntil([&] { return !view_->isLoading() && view_->data().series.count("loss"); }));
    view_->setSmoothing(0.6);
    RunStore store(db_, RunStore::Mode::ReadOnly);
    auto steps = store.steps(1);
    ASSERT_EQ(view_->curvesPlot()->graphCount(), 2);
    auto shown = graphValues(view_->curvesPlot()->graph(0));
    ASSERT_EQ(shown.size(), steps.size());
    // By hand for the first three: m = 0.4 y1; 0.24 y1 + 0.4 y2; ... over weights 0.4, 0.64, 0.784.
    const double y1 = steps[0].total, y2 = steps[1].total, y3 = steps[2].total;
    EXPECT_NEAR(shown[0], y1, 1e-12);
    EXPECT_NEAR(shown[1], (0.24 * y1 + 0.4 * y2) / 0.64, 1e-12);
    EXPECT_NEAR(shown[2], (0.144 * y1 + 0.24 * y2 + 0.4 * y3) / 0.784, 1e-12);
}

TEST_F(CompareFixture, GroupingDrawsTheMeanAndBandOfEachGroup) {
    compare({1, 2, 3, 4, 5, 6});
    view_->setMetric("val_accuracy");
    view_->setGroupBy("all but seed");
    auto* plot = view_->curvesPlot();
    ASSERT_EQ(plot->graphCount(), 9) << "three groups: lower band, upper band, mean line each";
    RunStore store(db_, RunStore::Mode::ReadOnly);
    const auto a = store.epochs(3), b = store.epochs(4); // alpha 0.1, seeds 1 and 2
    auto mean = graphValues(plot->graph(5)), upper = graphValues(plot->graph(4));
    ASSERT_EQ(mean.size(), 3u);
    for (int e = 0; e < 3; ++e) {
        const double m = (a[e].valAccuracy + b[e].valAccuracy) / 2;
        const double sd = std::abs(a[e].valAccuracy - b[e].valAccuracy) / std::sqrt(2.0);
        EXPECT_NEAR(mean[e], m, 1e-12);
        EXPECT_NEAR(upper[e], m + sd, 1e-12);
    }
}

namespace {
// A paired t-test over two pairs by hand: df 1 is Cauchy, so p = 1 - (2 / pi) atan(|t|).
double twoPairP(double d1, double d2) {
    const double m = (d1 + d2) / 2, sd = std::abs(d1 - d2) / std::sqrt(2.0);
    return 1 - 2 / M_PI * std::atan(std::abs(m / (sd / std::sqrt(2.0))));
}
} // namespace

TEST_F(CompareFixture, FinalMetricsPairEachAlphaWithAlphaZeroBySeed) {
    compare({1, 2, 3, 4, 5, 6});
    view_->setPairedMetric("test_accuracy");
    auto* t = view_->pairedTable();
    ASSERT_EQ(t->rowCount(), 3) << "alpha 0, 0.1 and 1";
    RunStore store(db_, RunStore::Mode::ReadOnly);
    auto acc = [&](std::int64_t id) { return *store.run(id).testAccuracy; };
    // Runs 1, 2: alpha 0, seeds 1, 2; runs 3, 4: alpha 0.1; runs 5, 6: alpha 1 (ids by creation).
    ASSERT_EQ(store.run(3).seed, 1);
    ASSERT_EQ(store.run(4).seed, 2);
    const double d1 = acc(3) - acc(1), d2 = acc(4) - acc(2);
    EXPECT_EQ(t->item(0, 0)->text(), "0 (MoE)");
    EXPECT_EQ(t->item(0, 3)->text(), "baseline");
    EXPECT_EQ(t->item(1, 0)->text(), "0.1");
    EXPECT_EQ(t->item(1, 3)->text().toDouble(), std::round((d1 + d2) / 2 * 1e4) / 1e4)
        << "mean of the per-seed differences";
    EXPECT_EQ(t->item(1, 4)->text(), "2") << "two pairs";
    if (d1 != d2) {
        EXPECT_NEAR(t->item(1, 7)->text().toDouble(), twoPairP(d1, d2), 1e-3) << "t-test p";
        // Holm over the two alphas: the larger of 2 p_min and p_max for the second-ranked one.
        const double q1 = twoPairP(d1, d2), q2 = twoPairP(acc(5) - acc(1), acc(6) - acc(2));
        const double holm = q1 <= q2 ? std::min(1.0, 2 * q1) : std::min(1.0, std::max(2 * q2, q1));
        EXPECT_NEAR(t->item(1, 8)->text().remove(" *").toDouble(), holm, 1e-3);
    }
    EXPECT_NE(view_->findChild<QLabel*>("pairedNote")->text().indexOf("matched by seed"), -1);
}

TEST_F(CompareFixture, AlphaSweepShowsPairedDifferencesWithAlphaZeroOnItsOwnTick) {
    compare({1, 2, 3, 4, 5, 6});
    view_->setSweepMetric("test_accuracy");
    auto* plot = view_->sweepPlot();
    RunStore store(db_, RunStore::Mode::ReadOnly);
    auto acc = [&](std::int64_t id) { return *store.run(id).testAccuracy; };
    // Difference mode: alpha 0.1 at log10 = -1, alpha 1 at 0; alpha = 0 at -2 (a decade left).
    ASSERT_GE(plot->graphCount(), 2);
    auto* mode = plot->graph(0);
    ASSERT_EQ(mode->data()->size(), 2);
    EXPECT_NEAR(mode->data()->constBegin()->key, -1.0, 1e-12);
    EXPECT_NEAR(mode->data()->constBegin()->value, ((acc(3) - acc(1)) + (acc(4) - acc(2))) / 2,
                1e-12);
    auto* zero = plot->graph(1);
    ASSERT_EQ(zero->data()->size(), 1);
    EXPECT_NEAR(zero->data()->constBegin()->key, -2.0, 1e-12);
    EXPECT_EQ(zero->data()->constBegin()->value, 0.0);
    auto ticker = plot->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    ASSERT_TRUE(ticker);
    EXPECT_EQ(ticker->ticks().value(-2.0), "0 (MoE)");
    EXPECT_EQ(ticker->ticks().value(-1.0), "0.1");
    // Values mode: the mean over seeds.
    view_->setSweepMode("values");
    ASSERT_GE(plot->graphCount(), 2);
    EXPECT_NEAR(plot->graph(1)->data()->constBegin()->value, (acc(1) + acc(2)) / 2, 1e-12);
}

TEST_F(CompareFixture, PlotsAndTablesExportToFilesThatParse) {
    compare({1, 3});
    TempDir out;
    for (const char* ext : {"png", "svg", "pdf"}) {
        const QString file = QString::fromStdString(out / (std::string("curves.") + ext));
        ASSERT_TRUE(exportPlot(view_->curvesPlot(), file, 640, 400)) << ext;
        ASSERT_GT(QFileInfo(file).size(), 500) << ext;
    }
    QImage png(QString::fromStdString(out / "curves.png"));
    EXPECT_FALSE(png.isNull());
    const std::string svg = readFile(out / "curves.svg");
    EXPECT_NE(svg.find("<svg"), std::string::npos);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_EQ(readFile(out / "curves.pdf").rfind("%PDF", 0), 0u);

    const QString csv = QString::fromStdString(out / "metrics.csv");
    ASSERT_TRUE(exportTable(view_->metricsTable(), csv));
    const auto records = parseCsvRecords(readFile(csv.toStdString()), "metrics.csv");
    ASSERT_EQ(records.size(), 3u) << "a header and two runs";
    EXPECT_EQ(records[0].fields[0], "run");
    EXPECT_EQ(records[1].fields.size(), records[0].fields.size());
    EXPECT_EQ(records[2].fields[0], view_->metricsTable()->item(1, 0)->text().toStdString())
        << "quoted run labels survive";
}

TEST_F(CompareFixture, UnknownRunsReportAnErrorInsteadOfLoading) {
    QString error;
    QObject::connect(view_, &CompareView::loadFailed, [&](const QString& m) { error = m; });
    window_->compareRuns({1, 99});
    ASSERT_TRUE(waitUntil([&] { return !error.isEmpty(); }));
    EXPECT_NE(error.indexOf("no run with id 99"), -1) << error.toStdString();
}

TEST(CompareCli, ScreenshotOfTheCompareView) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    for (const char* alpha : {"0", "0.3"}) {
        auto r =
            runCommand(mode::test::programDir() + "/mode-train -q --epochs 2 --threads 1 --db " +
                       db + " --alpha " + alpha);
        ASSERT_EQ(r.exitCode, 0) << r.err;
    }
    const std::string png = dir / "compare.png";
    auto r = runCommand(mode::test::programDir() + "/mode-workbench --db " + db +
                        " --compare 1,2 --screenshot " + png);
    ASSERT_EQ(r.exitCode, 0) << r.err;
    EXPECT_FALSE(QImage(QString::fromStdString(png)).isNull());
    auto bad = runCommand(mode::test::programDir() + "/mode-workbench --db " + db +
                          " --compare 1,x --screenshot " + png);
    EXPECT_EQ(bad.exitCode, 2);
}

// A metric declared in one place reaches the Compare view: listed among the curves' metrics and
// plotted from the store.
TEST(CompareMetrics, AMetricAddedInOnePlaceIsListedAndPlotted) {
    // Declared once per process (the catalog is the program's; --gtest_repeat runs this again).
    if (!findEpochMetric("test_error_rate")) addEpochMetric({"test_error_rate", "test error rate"});
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    std::vector<qint64> ids;
    {
        RunStore store(db);
        for (int run = 0; run < 2; ++run) {
            ExperimentConfig c;
            c.train.seed = static_cast<std::uint64_t>(run);
            RunStart s;
            s.epochs = 3;
            s.experts = c.model.experts;
            const auto id = store.beginRun(c, s, "run " + std::to_string(run));
            for (int e = 1; e <= 3; ++e) {
                EpochMetrics m;
                m.epoch = e;
                m.step = e;
                m.extra["test_error_rate"] = run + 0.1 * e;
                store.appendEpoch(id, m);
            }
            RunResult r;
            r.epochsCompleted = 3;
            store.finishRun(id, r);
            ids.push_back(id);
        }
    }
    MainWindow window(QString::fromStdString(db));
    auto* view = window.compareView();
    window.compareRuns({ids[0], ids[1]});
    ASSERT_TRUE(waitUntil([&] { return !view->isLoading() && view->data().runs.size() == 2; }));
    auto* combo = view->findChild<QComboBox*>("metric");
    ASSERT_NE(combo, nullptr);
    EXPECT_GE(combo->findData("test_error_rate"), 0) << "listed among the metrics";
    view->setMetric("test_error_rate");
    ASSERT_TRUE(
        waitUntil([&] { return !view->isLoading() && view->curvesPlot()->graphCount() == 2; }));
    const auto second = graphValues(view->curvesPlot()->graph(1));
    ASSERT_EQ(second.size(), 3u);
    EXPECT_NEAR(second[2], 1.3, 1e-12);
}

// Compare's Explorer tab: the plain MoE on the left, the best distilled run of its seed on the
// right; choosing an expert on the left shows, on the right, the expert aligned with it by
// routing (its rows as the store has them), and the same class.
TEST_F(CompareFixture, TheExplorerPairShowsAlignedExpertsOfTwoRuns) {
    compare({3, 1, 5});
    auto* pair = view_->explorerPair();
    const RunStore store(db_, RunStore::Mode::ReadOnly);
    const qint64 best =
        *store.run(3).testAccuracy >= *store.run(5).testAccuracy ? 3 : 5; // ties: the first
    auto* left = pair->left();
    auto* right = pair->right();
    ASSERT_TRUE(waitUntil([&] { return left->isReady() && right->isReady(); }));
    EXPECT_EQ(left->shownEpoch(), 3);
    const auto expected = alignExperts(store.epochs(1).back().routingByClass,
                                       store.epochs(best).back().routingByClass);
    ASSERT_EQ(pair->alignment(), expected);
    const auto rightRows = store.sampleRouting(best, 3);
    ASSERT_TRUE(rightRows);
    for (int k = 0; k < static_cast<int>(expected.size()); ++k) {
        left->setExpert(k);
        const int other = expected[static_cast<std::size_t>(k)];
        EXPECT_EQ(right->expert(), other) << "left expert " << k;
        int rows = 0;
        for (auto t : rightRows->topExpert)
            rows += t == other;
        EXPECT_EQ(right->samplesTable()->model()->rowCount(), rows) << "left expert " << k;
    }
    left->setClass(2);
    EXPECT_EQ(right->classIndex(), 2);
    EXPECT_NE(right->summary().indexOf("class '"), -1) << right->summary().toStdString();
}

// SPDX-License-Identifier: GPL-3.0-or-later
// What the views draw, not only the numbers behind them: the routing heatmap's colour map cells
// and the paired table's star and colour. Both found by planting bugs (issue 37): a heatmap
// drawing rows as columns, and a table starring the raw p instead of Holm's, passed the tests
// that read the model behind the view.

#include "MainWindow.h"
#include "compare/CompareView.h"
#include "config/ExperimentConfig.h"
#include "plots/RoutingHeatmap.h"
#include "store/RunStore.h"
#include "train/TrainingEvents.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QTableWidget>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <map>
#include <vector>

using namespace mode;
using namespace mode::test;

namespace {

QCPColorMap* colorMapOf(const RoutingHeatmap& h) {
    for (int i = 0; i < h.plot()->plottableCount(); ++i)
        if (auto* m = qobject_cast<QCPColorMap*>(h.plot()->plottable(i))) return m;
    return nullptr;
}

// A routing matrix of 3 classes by 4 experts whose cells all differ: a cell read from the
// wrong row or column cannot pass for the right one.
RoutingMatrix threeByFour() {
    RoutingMatrix m;
    m.rowNames = {"zero", "one", "two"};
    m.experts = 4;
    for (int r = 0; r < 3; ++r)
        for (int e = 0; e < 4; ++e) {
            m.meanGate.push_back(0.01 * (10 * r + e + 1));
            m.argmaxShare.push_back(0.5 - 0.01 * (10 * r + e));
        }
    m.rowCounts = {10, 20, 30};
    return m;
}

void expectDrawnCellsMatch(const RoutingHeatmap& h, const RoutingMatrix& m, bool meanGate) {
    auto* map = colorMapOf(h);
    ASSERT_NE(map, nullptr);
    ASSERT_EQ(map->data()->keySize(), 4) << "a column per expert";
    ASSERT_EQ(map->data()->valueSize(), 3) << "a row per class";
    const auto& values = meanGate ? m.meanGate : m.argmaxShare;
    for (int r = 0; r < 3; ++r)
        for (int x = 0; x < 4; ++x) {
            const int expert = h.expertAt(x);
            EXPECT_DOUBLE_EQ(map->data()->cell(x, r),
                             values[static_cast<std::size_t>(r * 4 + expert)])
                << "drawn cell of row " << r << ", column " << x << " (expert " << expert << ")";
            EXPECT_DOUBLE_EQ(map->data()->cell(x, r), h.cellValue(r, expert));
        }
}

} // namespace

TEST(DrawnValues, TheHeatmapDrawsEachCellAtItsRowAndExpertColumn) {
    RoutingHeatmap h;
    h.resize(400, 300);
    h.show();
    EpochMetrics e;
    e.epoch = 1;
    e.routingByClass = threeByFour();
    h.addEpoch(e);
    expectDrawnCellsMatch(h, e.routingByClass, true);
    h.setExpertOrder({2, 0, 3, 1});
    ASSERT_EQ(h.expertAt(0), 2);
    expectDrawnCellsMatch(h, e.routingByClass, true);
    h.setMeasure(RoutingHeatmap::Measure::ArgmaxShare);
    expectDrawnCellsMatch(h, e.routingByClass, false);
}

namespace {

// Four alphas against alpha 0 over three seeds, differences chosen so that (t-test, df 2):
// alpha 0.1 has raw p 0.029 but Holm p 0.057 (twice: third of four), alpha 0.3 is noise,
// alpha 0.5 gains and alpha 1 loses with p 0.003 (Holm 0.011 and 0.008).
const std::map<double, std::vector<double>> kDifferences = {
    {0.1, {0.014, 0.020, 0.026}},
    {0.3, {-0.010, 0.000, 0.020}},
    {0.5, {0.100, 0.110, 0.120}},
    {1.0, {-0.100, -0.110, -0.120}},
};

std::string storeOfPlannedDifferences(const TempDir& dir, QList<qint64>& ids) {
    const std::string db = dir / "runs.sqlite";
    RunStore store(db);
    const std::vector<double> base = {0.70, 0.75, 0.80};
    auto add = [&](double alpha, int seed, double accuracy) {
        ExperimentConfig c;
        c.loss.alpha = alpha;
        c.train.seed = static_cast<std::uint64_t>(seed);
        RunStart s;
        s.epochs = 1;
        s.experts = c.model.experts;
        const auto id = store.beginRun(c, s, "a" + std::to_string(alpha));
        EpochMetrics m;
        m.epoch = 1;
        m.step = 1;
        m.testAccuracy = m.valAccuracy = accuracy;
        store.appendEpoch(id, m);
        RunResult r;
        r.epochsCompleted = 1;
        r.final = m;
        store.finishRun(id, r);
        ids.push_back(id);
    };
    for (int seed = 1; seed <= 3; ++seed)
        add(0.0, seed, base[static_cast<std::size_t>(seed - 1)]);
    for (const auto& [alpha, d] : kDifferences)
        for (int seed = 1; seed <= 3; ++seed)
            add(alpha, seed,
                base[static_cast<std::size_t>(seed - 1)] + d[static_cast<std::size_t>(seed - 1)]);
    return db;
}

int column(QTableWidget* t, const QString& header) {
    for (int c = 0; c < t->columnCount(); ++c)
        if (t->horizontalHeaderItem(c) && t->horizontalHeaderItem(c)->text() == header) return c;
    return -1;
}

} // namespace

TEST(DrawnValues, ThePairedTablesStarAndColourFollowHolmNotTheRawP) {
    TempDir dir;
    QList<qint64> ids;
    const std::string db = storeOfPlannedDifferences(dir, ids);
    MainWindow window(QString::fromStdString(db));
    auto* view = window.compareView();
    window.compareRuns(ids);
    ASSERT_TRUE(waitUntil([&] { return !view->isLoading() && view->data().runs.size() == 15u; }));
    view->setPairedMetric("test_accuracy");
    auto* t = view->pairedTable();
    ASSERT_EQ(t->rowCount(), 5) << "alpha 0, 0.1, 0.3, 0.5 and 1";
    const int delta = 3, raw = column(t, "t-test p"), holm = column(t, "Holm p");
    ASSERT_GE(raw, 0);
    ASSERT_GE(holm, 0);
    auto rawP = [&](int row) { return t->item(row, raw)->text().toDouble(); };
    auto holmText = [&](int row) { return t->item(row, holm)->text(); };
    auto holmP = [&](int row) { return QString(holmText(row)).remove(" *").toDouble(); };
    auto starred = [&](int row) { return holmText(row).endsWith(" *"); };
    auto colour = [&](int row) { return t->item(row, delta)->foreground().color(); };
    const QColor green(46, 125, 50), red(198, 40, 40);

    // The planned p-values, as the table shows them.
    ASSERT_EQ(t->item(1, 0)->text(), "0.1");
    ASSERT_LT(rawP(1), 0.05);
    ASSERT_GE(holmP(1), 0.05);
    for (int row : {3, 4}) {
        ASSERT_LT(rawP(row), 0.05);
        ASSERT_LT(holmP(row), 0.05);
    }
    ASSERT_GE(rawP(2), 0.05);

    // Raw p significant, Holm's not: no star, no colour, not bold.
    EXPECT_FALSE(starred(1)) << holmText(1).toStdString();
    EXPECT_NE(colour(1), green);
    EXPECT_NE(colour(1), red);
    EXPECT_FALSE(t->item(1, holm)->font().bold());
    EXPECT_FALSE(starred(2));
    // Both significant: star, bold, and the colour of the difference's sign.
    EXPECT_TRUE(starred(3));
    EXPECT_TRUE(t->item(3, holm)->font().bold());
    EXPECT_EQ(colour(3), green) << "a gain is green";
    EXPECT_TRUE(starred(4));
    EXPECT_EQ(colour(4), red) << "a loss is red";
}

// SPDX-License-Identifier: GPL-3.0-or-later
// The plots' bounded memory: a long series is halved into means of neighbours, by hand.

#include "plots/BoundedSeries.h"
#include "plots/PlotExport.h"
#include "plots/PlotStyle.h"

#include <QTest>
#include <qcustomplot.h>

#include <gtest/gtest.h>

using mode::BoundedSeries;

TEST(BoundedSeries, KeepsEveryPointUpToTheLimit) {
    BoundedSeries s(4);
    for (int i = 1; i <= 4; ++i)
        s.add(i, 10 * i);
    EXPECT_EQ(s.keys(), (std::vector<double>{1, 2, 3, 4}));
    EXPECT_EQ(s.values(), (std::vector<double>{10, 20, 30, 40}));
    EXPECT_EQ(s.stride(), 1u);
}

TEST(BoundedSeries, HalvesIntoMeansOfNeighboursPastTheLimit) {
    BoundedSeries s(4);
    for (int i = 1; i <= 10; ++i)
        s.add(i, i);
    // 1..5: five points > 4, so (1,2)->1.5, (3,4)->3.5, 5 kept; then stride 2: (6,7)->6.5,
    // (8,9)->8.5: five again -> (1.5,3.5)->2.5, (5,6.5)->5.75, 8.5 kept; stride 4; 10 waits.
    EXPECT_EQ(s.keys(), (std::vector<double>{2.5, 5.75, 8.5}));
    EXPECT_EQ(s.values(), (std::vector<double>{2.5, 5.75, 8.5}));
    EXPECT_EQ(s.stride(), 4u);
    for (int i = 11; i <= 13; ++i)
        s.add(i, i);
    EXPECT_EQ(s.keys().back(), 11.5) << "10..13 averaged into one point";
}

TEST(BoundedSeries, MemoryStaysBoundedForAMillionPoints) {
    BoundedSeries s(1000);
    for (int i = 0; i < 1000000; ++i)
        s.add(i, 1.0);
    EXPECT_LE(s.size(), 1000u);
    EXPECT_GE(s.size(), 500u);
    for (double v : s.values())
        EXPECT_DOUBLE_EQ(v, 1.0);
}

// Every plot's legend: a click on an entry hides its curve and a second shows it again; the
// legend moves to the corner with the fewest points under it.
TEST(PlotLegend, AClickHidesItsCurveAndTheLegendAvoidsTheData) {
    QCustomPlot plot;
    plot.resize(500, 400);
    mode::stylePlot(&plot);
    auto* rising = plot.addGraph();
    rising->setName("rising");
    QVector<double> x, y;
    for (int i = 0; i <= 100; ++i) { // a dense cloud in the top right of the plot
        x << 80 + i * 0.2;
        y << 80 + (i % 10) * 2;
    }
    x << 0;
    y << 0;
    rising->setData(x, y);
    plot.xAxis->setRange(0, 100);
    plot.yAxis->setRange(0, 100);
    plot.show();
    plot.replot();
    plot.replot(); // the second lays the legend out where the first chose
    EXPECT_NE(plot.axisRect()->insetLayout()->insetAlignment(0), Qt::AlignTop | Qt::AlignRight)
        << "the data fill the top right";
    EXPECT_EQ(mode::emptiestCorner(&plot), plot.axisRect()->insetLayout()->insetAlignment(0));

    const QPoint entry = plot.legend->item(0)->rect().center();
    QTest::mouseClick(&plot, Qt::LeftButton, Qt::NoModifier, entry);
    EXPECT_FALSE(rising->visible()) << "hidden by a click on its legend entry";
    QTest::mouseClick(&plot, Qt::LeftButton, Qt::NoModifier, entry);
    EXPECT_TRUE(rising->visible()) << "shown again";
}

// The crosshair's tooltip: the x value of the nearest point, then each curve's value at its own
// nearest point (with its x where a curve was logged at other steps), worked out by hand.
TEST(PlotCrosshair, TheTooltipNamesTheNearestPointOfEachCurve) {
    QCustomPlot plot;
    mode::stylePlot(&plot);
    plot.xAxis->setLabel("Step");
    auto* a = plot.addGraph();
    a->setName("run 1");
    a->setData({10, 20, 30}, {0.5, 0.25, 0.125});
    auto* b = plot.addGraph();
    b->setName("run 2");
    b->setData({12, 24}, {0.9, 0.8});
    // At 21: run 1's nearest is 20 (0.25), run 2's is 24 (0.8): the header takes 20.
    EXPECT_EQ(mode::crosshairText(&plot, 21).toStdString(),
              "step 20\nrun 1: 0.25\nrun 2: 0.8 (step 24)");
    // Past the end: the last points.
    EXPECT_EQ(mode::crosshairText(&plot, 1000).toStdString(),
              "step 30\nrun 1: 0.125\nrun 2: 0.8 (step 24)");
    b->setVisible(false); // hidden by its legend entry: not in the tooltip
    EXPECT_EQ(mode::crosshairText(&plot, 9).toStdString(), "step 10\nrun 1: 0.5");
    a->data()->clear();
    EXPECT_TRUE(mode::crosshairText(&plot, 9).isEmpty());
}

TEST(PlotExportCsv, EveryPointOfEveryCurveOneRowEach) {
    QCustomPlot plot;
    plot.xAxis->setLabel("epoch");
    plot.yAxis->setLabel("test accuracy");
    auto* a = plot.addGraph();
    a->setName("alpha 0, \"seed\" 1");
    a->setData({1, 2}, {0.5, 0.75});
    EXPECT_EQ(mode::plotToCsv(&plot).toStdString(), "series,epoch,test accuracy\n"
                                                    "\"alpha 0, \"\"seed\"\" 1\",1,0.5\n"
                                                    "\"alpha 0, \"\"seed\"\" 1\",2,0.75\n");
}

// An empty plot says so instead of showing bare axes with 0-5 tick labels.
TEST(PlotEmptyState, ANoteUntilTheFirstPoint) {
    QCustomPlot plot;
    plot.resize(400, 300);
    mode::stylePlot(&plot, true, "Start a run");
    plot.addGraph();
    plot.replot();
    EXPECT_FALSE(mode::plotHasData(&plot));
    EXPECT_FALSE(plot.xAxis->tickLabels());
    auto note = [&]() -> QCPItemText* {
        for (int i = 0; i < plot.itemCount(); ++i)
            if (auto* t = qobject_cast<QCPItemText*>(plot.item(i)); t && t->visible()) return t;
        return nullptr;
    };
    ASSERT_NE(note(), nullptr);
    EXPECT_EQ(note()->text(), "Start a run");
    plot.graph(0)->addData(1, 2);
    plot.replot();
    EXPECT_TRUE(mode::plotHasData(&plot));
    EXPECT_TRUE(plot.xAxis->tickLabels());
    EXPECT_EQ(note(), nullptr);
}

// SPDX-License-Identifier: GPL-3.0-or-later
// The window on every screen and under every hand: its minimum size fits a 1024x640 screen (and
// so 1920x1080 at 150%), the run table can take most of the height, the wheel scrolls the form
// without editing it, the plots' values stay on screen, long run names stay in their column.

#include "MainWindow.h"
#include "compare/CompareView.h"
#include "panels/ExperimentPanel.h"
#include "panels/ReportViewer.h"
#include "panels/RunBrowser.h"
#include "plots/LossPlot.h"
#include "plots/PlotStyle.h"
#include "store/RunStore.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QHeaderView>
#include <QImage>
#include <QLineEdit>
#include <QPointer>
#include <QScrollArea>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTest>
#include <QToolTip>
#include <QWheelEvent>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>

using namespace mode;
using namespace mode::test;

namespace {

// One notch of the wheel turned over the middle of the widget, as the system sends it.
void turnWheel(QWidget* w, int notches) {
    const QPointF at(w->width() / 2.0, w->height() / 2.0);
    QWheelEvent wheel(at, w->mapToGlobal(at), QPoint(), QPoint(0, 120 * notches), Qt::NoButton,
                      Qt::NoModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(w, &wheel);
}

// A finished run of one epoch in the store, named `name`.
void trainOne(const std::string& db, const std::string& name) {
    const auto r =
        runCommand(programDir() + "/mode-train -q --epochs 1 --threads 1 --device cpu --db " + db +
                   " --regimes-samples 300 --name '" + name + "'");
    ASSERT_EQ(r.exitCode, 0) << r.err;
}

// A cell's editor is open in the table.
bool editing(const QTableWidget* table) {
    for (auto* e : table->viewport()->findChildren<QLineEdit*>())
        if (e->isVisible()) return true;
    return false;
}

} // namespace

// The whole window fits a 1024x640 screen: a 1366x768 laptop, and 1920x1080 at 150% (1280x720
// in Qt's pixels), with the experiment form shown, and with Compare's grid of metrics on.
TEST(Workbench, TheMinimumSizeFitsA1024x640Screen) {
    StoreWindow w;
    const QSize most(1024, 640);
    QSize min = w.window.minimumSizeHint().expandedTo(w.window.minimumSize());
    EXPECT_LE(min.width(), most.width()) << min.width() << "x" << min.height();
    EXPECT_LE(min.height(), most.height()) << min.width() << "x" << min.height();
    w.window.compareView()->setGridMetrics(
        {"val_accuracy", "test_accuracy", "val_loss", "gate_routing_accuracy"});
    w.window.compareView()->tabs()->setCurrentIndex(0);
    QTest::qWait(20);
    min = w.window.minimumSizeHint();
    EXPECT_LE(min.width(), most.width()) << "with a grid of four metrics: " << min.width();
    EXPECT_LE(min.height(), most.height()) << "with a grid of four metrics: " << min.height();
    w.window.resize(most);
    QTest::qWait(20);
    EXPECT_EQ(w.window.size(), most) << "the window can be made that small";
    EXPECT_LE(w.window.sizeHint().width(), w.window.screen()->availableSize().width());
    EXPECT_LE(w.window.sizeHint().height(), w.window.screen()->availableSize().height());
}

// View > Experiment panel (Ctrl+B) folds the form away for the plots and brings it back.
TEST(Workbench, CtrlBFoldsTheExperimentPanelAway) {
    StoreWindow w;
    auto* column = w.window.findChild<QWidget*>("experimentColumn");
    ASSERT_NE(column, nullptr);
    const int plotsBefore = w.window.lossPlot()->width();
    EXPECT_TRUE(column->isVisible());
    QTest::keyClick(&w.window, Qt::Key_B, Qt::ControlModifier);
    QTest::qWait(20);
    EXPECT_FALSE(column->isVisible());
    EXPECT_FALSE(w.window.experimentPanelVisible());
    EXPECT_GT(w.window.lossPlot()->width(), plotsBefore) << "the plots take its room";
    QTest::keyClick(&w.window, Qt::Key_B, Qt::ControlModifier);
    EXPECT_TRUE(column->isVisible());
}

// In a 1366x768 window the run table's splitter gives the table most of the height: at least
// eight rows of runs.
TEST(Workbench, TheRunTableCanTakeMostOfTheHeightAt1366x768) {
    StoreWindow w;
    w.window.resize(1366, 700);
    QTest::qWait(20);
    auto* splitter = w.window.findChild<QSplitter*>("runSplitter");
    ASSERT_NE(splitter, nullptr);
    splitter->setSizes({100, 1000}); // dragged as far up as it goes
    QTest::qWait(20);
    auto* table = w.window.runBrowser()->table();
    const int rowHeight = table->verticalHeader()->defaultSectionSize();
    EXPECT_GE(table->viewport()->height() / rowHeight, 8)
        << "viewport " << table->viewport()->height() << " px, rows of " << rowHeight << " px";
    EXPECT_GE(splitter->sizes().at(1), splitter->height() / 2) << "most of the height";
}

// The wheel over a field that has not been clicked scrolls the form, it never edits the field;
// a clicked (focused) field takes the wheel as before.
TEST(Workbench, TheWheelOverAnUnfocusedFieldChangesNothing) {
    StoreWindow w;
    auto* panel = w.window.experimentPanel();
    auto* distill = panel->findChild<QComboBox*>("distill");
    auto* epochs = panel->findChild<QSpinBox*>("epochs");
    ASSERT_NE(distill, nullptr);
    ASSERT_NE(epochs, nullptr);
    w.window.startButton()->setFocus();
    const QString before = distill->currentText();
    const int epochsBefore = epochs->value();
    for (int notches : {-1, 1, -1}) {
        turnWheel(distill, notches);
        turnWheel(epochs, notches);
    }
    EXPECT_EQ(distill->currentText(), before) << "the wheel changed Distillation";
    EXPECT_EQ(epochs->value(), epochsBefore) << "the wheel changed Epochs";
    EXPECT_EQ(distill->focusPolicy(), Qt::StrongFocus) << "no focus by the wheel";
    EXPECT_EQ(epochs->focusPolicy(), Qt::StrongFocus);
    epochs->setFocus();
    ASSERT_TRUE(waitUntil([&] { return epochs->hasFocus(); }, 2000));
    turnWheel(epochs, 1);
    EXPECT_EQ(epochs->value(), epochsBefore + 1) << "a focused field takes the wheel";
}

// The plots of the Run tab carry their help as What's This and a "?" button, never as a
// tooltip: a tooltip of the plot or of anything around it would replace the crosshair's values
// while the mouse rests.
TEST(Workbench, NoHelpTooltipCoversTheRunTabsPlotValues) {
    StoreWindow w;
    auto* plot = w.window.lossPlot()->plot();
    for (QWidget* p = plot; p && p != &w.window; p = p->parentWidget())
        EXPECT_TRUE(p->toolTip().isEmpty())
            << p->metaObject()->className() << " has the tooltip " << p->toolTip().toStdString();
    EXPECT_FALSE(w.window.lossPlot()->whatsThis().isEmpty()) << "its help is still there";
    // The mouse resting on the plot: the tooltip event reaches no help text.
    const QPoint at = plot->rect().center();
    QHelpEvent rest(QEvent::ToolTip, at, plot->mapToGlobal(at));
    QApplication::sendEvent(plot, &rest);
    EXPECT_FALSE(QToolTip::isVisible() && QToolTip::text().contains("Training losses"))
        << QToolTip::text().toStdString();
}

// A run name of 291 characters is elided in a column of fixed width, the whole name in its
// tooltip: status and test accuracy stay in view.
TEST(Workbench, ALongRunNameIsElidedWithItsWholeNameAsTooltip) {
    StoreWindow w;
    std::string name = "a-very-long-run-name";
    while (name.size() < 291)
        name += "-and-more";
    name.resize(291);
    trainOne(w.db, name);
    auto* browser = w.window.runBrowser();
    browser->refresh();
    ASSERT_TRUE(waitUntil([&] { return !browser->isLoading() && browser->runCount() == 1; }));
    auto* table = browser->table();
    auto* item = table->item(0, RunBrowser::Name);
    ASSERT_NE(item, nullptr);
    EXPECT_EQ(item->toolTip().toStdString(), name);
    EXPECT_LE(table->columnWidth(RunBrowser::Name), 40 * table->fontMetrics().averageCharWidth());
    w.window.resize(1366, 740);
    QTest::qWait(20);
    const int statusRight = table->columnViewportPosition(RunBrowser::TestAcc) +
                            table->columnWidth(RunBrowser::TestAcc);
    EXPECT_LE(statusRight, table->viewport()->width()) << "test accuracy is in view";
}

// A double-click on a run's name opens the run (as anywhere on its row); F2 edits the name.
TEST(Workbench, DoubleClickOpensARunAndF2RenamesIt) {
    StoreWindow w;
    trainOne(w.db, "first");
    auto* browser = w.window.runBrowser();
    browser->refresh();
    ASSERT_TRUE(waitUntil([&] { return !browser->isLoading() && browser->runCount() == 1; }));
    auto* table = browser->table();
    QSignalSpy activated(browser, &RunBrowser::runActivated);
    const QRect cell = table->visualRect(table->model()->index(0, RunBrowser::Name));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QTest::mouseRelease(table->viewport(), Qt::LeftButton, {}, cell.center());
    EXPECT_EQ(activated.count(), 1) << "the double-click opened the run";
    EXPECT_FALSE(editing(table)) << "and edits nothing";
    table->setFocus();
    table->setCurrentCell(0, RunBrowser::Name);
    QTest::keyClick(table, Qt::Key_F2);
    EXPECT_TRUE(editing(table)) << "F2 edits the name";
}

// Compare's palette: at least 20 colours, each far from the others.
TEST(Workbench, ThePaletteHasTwentyDistinctColours) {
    std::set<QRgb> seen;
    for (int i = 0; i < 20; ++i)
        seen.insert(seriesColor(i).rgb());
    EXPECT_EQ(seen.size(), 20u) << "20 runs, 20 colours";
    for (int i = 0; i < 20; ++i)
        for (int k = i + 1; k < 20; ++k) {
            const QColor a = seriesColor(i), b = seriesColor(k);
            const double d =
                std::hypot(a.red() - b.red(), a.green() - b.green(), a.blue() - b.blue());
            EXPECT_GT(d, 60) << "colours " << i << " and " << k << " are too close";
        }
}

// The report viewer draws a 1280-px figure at its own width in a narrower window (and at 1280
// in a wider one); Esc closes it, Ctrl+W closes the help window.
TEST(Workbench, TheReportViewerScalesFiguresToItsWidthAndEscCloses) {
    StoreWindow w;
    QImage figure(1280, 800, QImage::Format_RGB32);
    figure.fill(Qt::white);
    std::filesystem::create_directories(w.dir / "figures");
    ASSERT_TRUE(figure.save(QString::fromStdString(w.dir / "figures/wide.png")));
    const std::string md = w.dir.file("REPORT.md", "# Report\n\n![wide](figures/wide.png)\n");
    ASSERT_TRUE(w.window.openReport(QString::fromStdString(md)));
    ReportViewer* viewer = nullptr;
    for (auto* top : QApplication::topLevelWidgets())
        if (auto* v = qobject_cast<ReportViewer*>(top)) viewer = v;
    ASSERT_NE(viewer, nullptr);
    ASSERT_TRUE(QTest::qWaitForWindowExposed(viewer));
    viewer->resize(700, 600);
    QTest::qWait(20);
    const int shown = viewer->figureWidth("figures/wide.png");
    EXPECT_GT(shown, 500);
    EXPECT_LE(shown, viewer->viewport()->width()) << "the figure fits the window's width";
    viewer->resize(1500, 900);
    QTest::qWait(20);
    EXPECT_EQ(viewer->figureWidth("figures/wide.png"), 1280) << "never scaled up";
    QPointer<ReportViewer> alive(viewer);
    viewer->activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(viewer));
    QTest::keyClick(viewer, Qt::Key_Escape);
    EXPECT_TRUE(waitUntil([&] { return alive.isNull(); }, 2000)) << "Esc closes the report";

    for (auto* action : w.window.findChildren<QAction*>())
        if (action->shortcut() == QKeySequence::HelpContents) action->trigger(); // F1
    QWidget* help = nullptr;
    for (auto* top : QApplication::topLevelWidgets())
        if (top->objectName() == "helpViewer" && top->isVisible()) help = top;
    ASSERT_NE(help, nullptr);
    QPointer<QWidget> helpAlive(help);
    help->activateWindow();
    ASSERT_TRUE(QTest::qWaitForWindowActive(help));
    QTest::keyClick(help, Qt::Key_W, Qt::ControlModifier);
    EXPECT_TRUE(waitUntil([&] { return helpAlive.isNull(); }, 2000)) << "Ctrl+W closes Help";
}

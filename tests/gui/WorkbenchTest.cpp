// SPDX-License-Identifier: GPL-3.0-or-later
// The workbench as a person uses it: real widgets (offscreen platform), clicks and typing
// through QTest, a real training run on the worker thread, the run store checked afterwards.

#include "MainWindow.h"
#include "Theme.h"
#include "config/Settings.h"
#include "panels/ExperimentPanel.h"
#include "panels/PredictionDialog.h"
#include "panels/RoutingExplorer.h"
#include "panels/RunBrowser.h"
#include "plots/AccuracyPlot.h"
#include "plots/ExpertPanel.h"
#include "plots/LossPlot.h"
#include "plots/RoutingHeatmap.h"
#include "store/RunStore.h"

#include "GuiTestSupport.h"
#include "SettingSamples.h"
#include "TestSupport.h"

#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QHeaderView>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QTest>
#include <QTextBrowser>
#include <QTextDocument>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <filesystem>
#include <gtest/gtest.h>
#include <qcustomplot.h>

#include <chrono>
#include <functional>
#include <optional>

using namespace mode;
using namespace mode::test;

namespace {

template <typename T> T* field(MainWindow& w, const char* name) {
    auto* f = w.experimentPanel()->findChild<T*>(name);
    EXPECT_NE(f, nullptr) << name;
    return f;
}

// Replaces a field's text the way a user does: select all, type.
void typeInto(QWidget* w, const QString& text) {
    w->setFocus();
    QTest::keyClick(w, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClicks(w, text);
    QTest::keyClick(w, Qt::Key_Tab);
}

void chooseItem(QComboBox* box, const QString& data) {
    const int i = box->findData(data);
    ASSERT_GE(i, 0) << data.toStdString();
    box->setCurrentIndex(i);
}

using Workbench = StoreWindow;

} // namespace

TEST(Workbench, FirstStartShowsAReadyDefaultExperiment) {
    Workbench w;
    EXPECT_TRUE(w.window.startButton()->isEnabled());
    EXPECT_FALSE(w.window.pauseButton()->isEnabled());
    EXPECT_FALSE(w.window.stopButton()->isEnabled());
    auto* dataset = field<QComboBox>(w.window, "dataset");
    EXPECT_TRUE(dataset->currentText().startsWith("regimes"))
        << dataset->currentText().toStdString();
    EXPECT_EQ(field<QSpinBox>(w.window, "experts")->value(), 4);
    EXPECT_FALSE(field<QLabel>(w.window, "preview")->text().isEmpty());
    for (auto* name : {"experts", "alpha", "gate", "distill", "epochs", "lr", "seed", "device"})
        EXPECT_FALSE(field<QWidget>(w.window, name)->toolTip().isEmpty())
            << name << " has no tooltip";
}

TEST(Workbench, ThreeExpertsAlphaPointOneRunLiveAndStored) {
    Workbench w;
    typeInto(field<QSpinBox>(w.window, "experts"), "3");
    typeInto(field<QDoubleSpinBox>(w.window, "alpha"), "0.1");
    typeInto(field<QSpinBox>(w.window, "epochs"), "3");
    ASSERT_EQ(w.window.experimentPanel()->config().model.experts, 3);
    ASSERT_DOUBLE_EQ(w.window.experimentPanel()->config().loss.alpha, 0.1);
    ASSERT_TRUE(w.window.startButton()->isEnabled());
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    EXPECT_FALSE(w.window.startButton()->isEnabled()) << "no second run while one trains";
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }))
        << "the run did not end";
    EXPECT_TRUE(w.window.message().isEmpty()) << w.window.message().toStdString();

    // 3 epochs of ceil(2800 / 64) = 44 steps: every step is on the loss plot, one validation
    // point per epoch.
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Total), 132);
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Distillation), 132);
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Validation), 3);
    EXPECT_EQ(w.window.accuracyPlot()->pointCount(AccuracyPlot::Test), 3);
    auto* heat = w.window.routingHeatmap();
    EXPECT_EQ(heat->epochCount(), 3);
    heat->setRows(RoutingHeatmap::Rows::Classes);
    EXPECT_EQ(heat->rowCount(), 3) << "regimes has 3 classes";
    EXPECT_EQ(heat->expertCount(), 3);
    heat->setRows(RoutingHeatmap::Rows::Subtasks);
    EXPECT_EQ(heat->rowCount(), 4) << "and 4 known sub-tasks";
    double rowSum = 0;
    for (int x = 0; x < 3; ++x)
        rowSum += heat->cellValue(0, x);
    EXPECT_NEAR(rowSum, 1.0, 1e-6) << "mean gate weights of a row sum to one";
    EXPECT_EQ(w.window.expertPanel()->expertCount(), 3);

    auto runs = w.store().listRuns();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::Finished);
    EXPECT_EQ(runs[0].experts, 3);
    EXPECT_DOUBLE_EQ(runs[0].alpha, 0.1);
    EXPECT_EQ(runs[0].epochsCompleted, 3);
    EXPECT_EQ(w.window.shownRunId(), runs[0].id);
    EXPECT_TRUE(waitUntil(
        [&] {
            return !w.window.runBrowser()->isLoading() && w.window.runBrowser()->runCount() == 1;
        },
        10000))
        << "the history lists the new run";
    // The heatmap shows what the store holds for the last epoch.
    auto stored = w.store().epochs(runs[0].id).back();
    heat->setMeasure(RoutingHeatmap::Measure::ArgmaxShare);
    EXPECT_DOUBLE_EQ(heat->cellValue(1, 2), stored.routingBySubtask->argmaxShare[1 * 3 + 2]);
}

TEST(Workbench, TheRunTableFollowsRunsWrittenByAnotherProgram) {
    // A sweep or mode-train in a terminal writes into the open store: the table shows the run
    // while it runs and its final status when it ends, without a click on Refresh.
    Workbench w;
    auto* browser = w.window.runBrowser();
    ASSERT_TRUE(waitUntil([&] { return !browser->isLoading(); }));
    ASSERT_EQ(browser->runCount(), 0);
    runCommand("(" + mode::test::programDir() +
               "/mode-train -q --epochs 150 --threads 1 --device cpu --db " + w.db +
               " > /dev/null 2>&1 &)");
    auto statusOfFirst = [&] {
        auto* item = browser->table()->item(0, RunBrowser::Status);
        return item ? item->text() : QString();
    };
    EXPECT_TRUE(
        waitUntil([&] { return browser->runCount() == 1 && statusOfFirst() == "running"; }, 30000))
        << "the running run appears: " << statusOfFirst().toStdString();
    EXPECT_TRUE(waitUntil([&] { return statusOfFirst() == "finished"; }, 120000))
        << "and ends as finished: " << statusOfFirst().toStdString();
    EXPECT_EQ(browser->table()->item(0, RunBrowser::Epochs)->text(), "150/150");
}

// A run opened from the table while another process trains it grows on the plots, without a
// click, until it ends; then it shows its final status.
TEST(Workbench, AnOpenedRunFollowsItsTrainerInAnotherProcess) {
    Workbench w;
    auto* browser = w.window.runBrowser();
    ASSERT_TRUE(waitUntil([&] { return !browser->isLoading(); }));
    runCommand("(" + mode::test::programDir() +
               "/mode-train -q --epochs 300 --threads 1 --device cpu --db " + w.db +
               " > /dev/null 2>&1 &)");
    ASSERT_TRUE(waitUntil(
        [&] {
            auto* status = browser->table()->item(0, RunBrowser::Status);
            return status && status->text() == "running";
        },
        30000));
    const qint64 id = browser->table()->item(0, RunBrowser::Id)->text().toLongLong();
    ASSERT_TRUE(w.window.openStoredRun(id));
    ASSERT_TRUE(waitUntil([&] { return w.window.shownRunId() == id; }, 10000));
    auto* title = w.window.findChild<QLabel*>("runTitle");
    const int first = w.window.accuracyPlot()->pointCount(AccuracyPlot::Test);
    ASSERT_LT(first, 290) << "opened while it trains";
    EXPECT_TRUE(waitUntil(
        [&] { return w.window.accuracyPlot()->pointCount(AccuracyPlot::Test) >= first + 5; },
        60000))
        << "its epochs arrive without a click";
    if (title) EXPECT_NE(title->text().indexOf("followed live"), -1) << title->text().toStdString();
    EXPECT_TRUE(waitUntil(
        [&] { return w.window.accuracyPlot()->pointCount(AccuracyPlot::Test) == 300; }, 120000))
        << "every epoch, to the end";
    EXPECT_TRUE(waitUntil(
        [&] {
            return w.window.findChild<QLabel*>("state")->text() ==
                   QString("showing stored run %1").arg(id);
        },
        10000))
        << "its end is seen: " << w.window.findChild<QLabel*>("state")->text().toStdString();
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Total),
              static_cast<int>(w.store().steps(id).size()))
        << "every stored step once";
}

// Stop while a large file loads: the load ends at its next block, and nothing is stored.
TEST(Workbench, StopWhileTheDataLoadsEndsTheLoadAndStoresNothing) {
    Workbench w;
    std::string text = "a,b,c,y\n";
    text.reserve(30u << 20);
    for (int i = 0; text.size() < (28u << 20); ++i)
        text += std::to_string(i) + ".25," + std::to_string(i % 97) + ",0.5," +
                (i % 3 ? "p" : "q") + "\n";
    const std::string path = w.dir.file("large.csv", text);
    ASSERT_TRUE(w.window.openDataFile(QString::fromStdString(path)))
        << w.window.message().toStdString();
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    QTest::mouseClick(w.window.stopButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }, 10000));
    EXPECT_NE(w.window.message().indexOf("loading was stopped"), -1)
        << w.window.message().toStdString();
    EXPECT_NE(w.window.message().indexOf("Nothing was stored"), -1);
    EXPECT_TRUE(w.store().listRuns().empty());
}

// The run table's row of the run training in this window follows it epoch by epoch.
TEST(Workbench, TheLiveRunsRowFollowsEachEpoch) {
    Workbench w;
    typeInto(field<QSpinBox>(w.window, "epochs"), "400");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    auto* table = w.window.runBrowser()->table();
    auto epochsCell = [&] {
        auto* item = table->item(0, RunBrowser::Epochs);
        return item ? item->text() : QString();
    };
    EXPECT_TRUE(waitUntil(
        [&] {
            const QString e = epochsCell();
            return e.endsWith("/400") && e.section('/', 0, 0).toInt() >= 3;
        },
        60000))
        << "the row counts the epochs while it trains: " << epochsCell().toStdString();
    auto* test = table->item(0, RunBrowser::TestAcc);
    EXPECT_TRUE(test && test->text() != "-") << "and shows the last test accuracy";
    // At each epoch shown, not a poll later.
    int checked = 0, behind = 0;
    QObject::connect(&w.window, &MainWindow::epochShown, [&](int epoch) {
        ++checked;
        behind += epochsCell() != QString("%1/400").arg(epoch);
    });
    ASSERT_TRUE(waitUntil([&] { return checked >= 5; }));
    EXPECT_EQ(behind, 0);
    QTest::mouseClick(w.window.stopButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }, 20000));
}

TEST(Workbench, PauseResumeAndStop) {
    Workbench w;
    typeInto(field<QSpinBox>(w.window, "epochs"), "5000");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return w.window.lossPlot()->pointCount(LossPlot::Total) > 50; }));

    QTest::mouseClick(w.window.pauseButton(), Qt::LeftButton);
    EXPECT_EQ(w.window.pauseButton()->text(), "Resume");
    QTest::qWait(200); // what was on its way arrives
    const int paused = w.window.lossPlot()->pointCount(LossPlot::Total);
    QTest::qWait(400);
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Total), paused) << "no steps while paused";
    auto status = [&](const char* name) { return w.window.findChild<QLabel*>(name)->text(); };
    EXPECT_EQ(status("state"), "paused");
    EXPECT_TRUE(status("eta").isEmpty()) << "no ETA while paused: " << status("eta").toStdString();
    EXPECT_TRUE(status("speed").isEmpty()) << "no speed while paused";
    EXPECT_NE(status("runTitle").indexOf("paused"), -1)
        << "the header says so: " << status("runTitle").toStdString();
    auto* table = w.window.runBrowser()->table();
    ASSERT_TRUE(waitUntil([&] { return table->rowCount() == 1; }));
    EXPECT_EQ(table->item(0, RunBrowser::Status)->text(), "paused") << "and the run's row";

    QTest::keyClick(&w.window, Qt::Key_P, Qt::ControlModifier); // resume by shortcut
    EXPECT_EQ(w.window.pauseButton()->text(), "Pause");
    ASSERT_TRUE(
        waitUntil([&] { return w.window.lossPlot()->pointCount(LossPlot::Total) > paused + 20; }));

    QTest::mouseClick(w.window.stopButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }, 10000));
    auto runs = w.store().listRuns();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::Stopped);
    EXPECT_LT(runs[0].epochsCompleted, 5000);
    EXPECT_TRUE(w.window.startButton()->isEnabled()) << "ready for the next run";
    EXPECT_NE(w.window.message().indexOf("stopped"), -1);
    // Resume stored run is offered at once, without reopening the run from the table.
    EXPECT_TRUE(waitUntil([&] { return w.window.resumeRunButton()->isVisible(); }, 10000));
    EXPECT_EQ(w.window.shownRunId(), runs[0].id);
    EXPECT_NE(w.window.message().indexOf("stopped"), -1) << "the stop is still said";
}

TEST(Workbench, ImpossibleSettingsDisableStartAndSayWhyNextToTheField) {
    Workbench w;
    auto* panel = w.window.experimentPanel();
    typeInto(field<QSpinBox>(w.window, "experts"), "0");
    EXPECT_FALSE(w.window.startButton()->isEnabled());
    EXPECT_FALSE(panel->errorFor("model.experts").isEmpty());
    auto* why = w.window.findChild<QLabel*>("whyDisabled");
    EXPECT_NE(why->text().indexOf("model.experts"), -1) << why->text().toStdString();

    typeInto(field<QSpinBox>(w.window, "experts"), "2");
    EXPECT_TRUE(w.window.startButton()->isEnabled());
    chooseItem(field<QComboBox>(w.window, "gate"), "topk");
    typeInto(field<QSpinBox>(w.window, "topK"), "3");
    EXPECT_FALSE(w.window.startButton()->isEnabled()) << "k = 3 > E = 2";
    EXPECT_FALSE(panel->errorFor("model.top_k").isEmpty());
    typeInto(field<QSpinBox>(w.window, "topK"), "1");
    EXPECT_TRUE(w.window.startButton()->isEnabled());

    typeInto(field<QLineEdit>(w.window, "hidden"), "64,x");
    EXPECT_FALSE(w.window.startButton()->isEnabled());
    EXPECT_NE(panel->errorFor("model.hidden").indexOf("'x'"), -1);
    typeInto(field<QLineEdit>(w.window, "hidden"), "64,32");
    EXPECT_TRUE(w.window.startButton()->isEnabled());
    EXPECT_EQ(panel->config().model.hidden, (std::vector<int>{64, 32}));

    typeInto(field<QDoubleSpinBox>(w.window, "lr"), "0");
    EXPECT_FALSE(w.window.startButton()->isEnabled());
    EXPECT_FALSE(panel->errorFor("train.lr").isEmpty());
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    EXPECT_FALSE(w.window.session()->isRunning());
}

TEST(Workbench, AlphaSliderIsLogarithmicAndReachesZero) {
    Workbench w;
    auto* alpha = field<QDoubleSpinBox>(w.window, "alpha");
    auto* slider = w.window.experimentPanel()->findChild<QSlider*>("alphaSlider");
    ASSERT_NE(slider, nullptr);
    slider->setValue(slider->minimum());
    EXPECT_EQ(alpha->value(), 0.0);
    EXPECT_TRUE(w.window.startButton()->isEnabled()) << "alpha = 0 is the plain MoE";
    slider->setValue(slider->maximum());
    EXPECT_DOUBLE_EQ(alpha->value(), 100.0);
    typeInto(alpha, "0.01");
    // 0.01 is 2 of the 6 decades from 1e-4: a third of the way along the log part.
    EXPECT_NEAR(slider->value(), 1 + (slider->maximum() - 1) / 3.0, 1.0);
}

// A baseline (model.kind) greys out the gate and the distillation's settings, and with alpha > 0
// it cannot start: the reason stands under alpha.
TEST(Workbench, ABaselineGreysTheGateAndRefusesDistillation) {
    Workbench w;
    auto* panel = w.window.experimentPanel();
    EXPECT_TRUE(field<QComboBox>(w.window, "gate")->isEnabled());
    chooseItem(field<QComboBox>(w.window, "modelKind"), "dense");
    EXPECT_EQ(panel->config().model.kind, "dense");
    for (const char* name : {"gate", "distill", "detachTeacher"})
        EXPECT_FALSE(w.window.findChild<QWidget*>(name)->isEnabled()) << name;
    EXPECT_TRUE(field<QSpinBox>(w.window, "experts")->isEnabled()) << "it sizes the baseline";
    EXPECT_FALSE(w.window.startButton()->isEnabled()) << "alpha 0.1 with a baseline";
    EXPECT_NE(panel->errorFor("loss.alpha").indexOf("set alpha to 0"), -1)
        << panel->errorFor("loss.alpha").toStdString();
    typeInto(field<QDoubleSpinBox>(w.window, "alpha"), "0");
    EXPECT_TRUE(w.window.startButton()->isEnabled());
    chooseItem(field<QComboBox>(w.window, "modelKind"), "moe");
    EXPECT_TRUE(field<QComboBox>(w.window, "gate")->isEnabled());
}

TEST(Workbench, ABadFileShowsItsErrorAndTheAppKeepsWorking) {
    Workbench w;
    auto* panel = w.window.experimentPanel();
    const std::string ragged = w.dir.file("ragged.csv", "a,b,y\n1,2,p\n3,4\n5,6,q\n");
    const QString error = panel->openDataFile(QString::fromStdString(ragged));
    EXPECT_NE(error.indexOf("ragged.csv"), -1) << error.toStdString();
    EXPECT_NE(error.indexOf("ragged.csv:3"), -1) << error.toStdString();
    EXPECT_NE(panel->errorFor("data.path").indexOf("ragged.csv"), -1);
    EXPECT_TRUE(w.window.startButton()->isEnabled()) << "the previous dataset is kept";
    EXPECT_EQ(panel->config().data.dataset, "regimes");

    // Missing values: the preview finds them, Start waits with the reason until impute is set.
    std::string text = "a,b,y\n";
    for (int i = 0; i < 40; ++i)
        text += std::to_string(i) + "," + (i == 17 ? "" : std::to_string(i % 3)) + "," +
                (i % 2 ? "p" : "q") + "\n";
    const std::string holes = w.dir.file("holes.csv", text);
    ASSERT_TRUE(panel->openDataFile(QString::fromStdString(holes)).isEmpty());
    EXPECT_EQ(field<QComboBox>(w.window, "target")->currentText(), "y");
    EXPECT_NE(field<QLabel>(w.window, "preview")->text().indexOf("40 rows"), -1);
    EXPECT_NE(field<QLabel>(w.window, "preview")->text().indexOf("2 classes"), -1);
    EXPECT_FALSE(w.window.startButton()->isEnabled());
    EXPECT_NE(panel->errorFor("data.path").indexOf("line 19: column 'b' is missing a value"), -1)
        << panel->errorFor("data.path").toStdString();
    chooseItem(field<QComboBox>(w.window, "impute"), "mean");
    EXPECT_TRUE(w.window.startButton()->isEnabled()) << panel->errorFor("data.path").toStdString();

    // A file that changes after its preview fails at Start: the reason, and empty panels.
    const std::string moving = w.dir.file("moving.csv", "a,y\n1,p\n2,q\n3,p\n4,q\n");
    ASSERT_TRUE(panel->openDataFile(QString::fromStdString(moving)).isEmpty());
    ASSERT_TRUE(w.window.startButton()->isEnabled());
    w.dir.file("moving.csv", "a,y\n1,p\n2\n");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }));
    EXPECT_NE(w.window.message().indexOf("moving.csv:3"), -1) << w.window.message().toStdString();
    EXPECT_EQ(w.window.routingHeatmap()->expertCount(), 0);
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Total), 0);
    EXPECT_TRUE(w.window.startButton()->isEnabled());

    // The app keeps working: back to the built-in and train.
    panel->setConfig(ExperimentConfig{});
    typeInto(field<QSpinBox>(w.window, "epochs"), "1");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }));
    EXPECT_TRUE(w.window.message().isEmpty()) << w.window.message().toStdString();
    EXPECT_EQ(w.store().listRuns().size(), 1u);
}

// The preview flags a text cell in a numeric column with its line, in the column's header and
// its tooltip; Start waits with the reason until the column is dropped.
TEST(Workbench, ThePreviewFlagsATextCellInANumericColumn) {
    Workbench w;
    auto* panel = w.window.experimentPanel();
    std::string text = "f1,f3,y\n";
    for (int i = 0; i < 30; ++i) // row i on line i + 2: 'abc' on line 31
        text += std::to_string(i) + "," + (i == 29 ? "abc" : std::to_string(i * 2)) + "," +
                (i % 2 ? "p" : "q") + "\n";
    ASSERT_TRUE(panel->openDataFile(QString::fromStdString(w.dir.file("f.csv", text))).isEmpty());
    auto* table = w.window.findChild<QTableWidget*>("previewTable");
    ASSERT_NE(table, nullptr);
    EXPECT_TRUE(table->isVisible());
    EXPECT_EQ(table->columnCount(), 3);
    EXPECT_GE(table->rowCount(), 5) << "the first rows";
    EXPECT_EQ(table->item(0, 1)->text(), "0");
    EXPECT_NE(table->horizontalHeaderItem(1)->text().indexOf("numbers + text"), -1);
    EXPECT_EQ(table->horizontalHeaderItem(1)->toolTip(),
              "f3: 29 of 30 values numeric; 'abc' at line 31 is not");
    EXPECT_NE(table->horizontalHeaderItem(0)->text().indexOf("numeric"), -1);
    EXPECT_FALSE(w.window.startButton()->isEnabled());
    EXPECT_NE(panel->errorFor("data.path").indexOf("line 31: column 'f3': 'abc' is not a number"),
              -1)
        << panel->errorFor("data.path").toStdString();
    auto* why = w.window.findChild<QLabel*>("whyDisabled");
    if (why) EXPECT_NE(why->text().indexOf("abc"), -1) << why->text().toStdString();
    // Dropped, the column no longer keeps the file from loading.
    QTest::mouseClick(field<QToolButton>(w.window, "moreSettings"), Qt::LeftButton);
    typeInto(field<QLineEdit>(w.window, "dropColumns"), "f3");
    EXPECT_TRUE(w.window.startButton()->isEnabled()) << panel->errorFor("data.path").toStdString();
    EXPECT_EQ(panel->config().data.dropColumns, std::vector<std::string>{"f3"});
}

TEST(Workbench, ADivergingRunIsReportedAndStoredAsDiverged) {
    Workbench w;
    chooseItem(field<QComboBox>(w.window, "optimizer"), "sgd");
    typeInto(field<QDoubleSpinBox>(w.window, "lr"), "10");
    typeInto(field<QDoubleSpinBox>(w.window, "alpha"), "50");
    typeInto(field<QSpinBox>(w.window, "epochs"), "50");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }));
    auto runs = w.store().listRuns();
    ASSERT_EQ(runs.size(), 1u);
    ASSERT_EQ(runs[0].status, RunStatus::Diverged)
        << "lr 10 with SGD should blow up; ended as " << toString(runs[0].status);
    EXPECT_NE(w.window.message().indexOf("diverged at step"), -1)
        << w.window.message().toStdString();
    EXPECT_TRUE(w.window.startButton()->isEnabled());
}

TEST(Workbench, ClosingTheWindowMidRunStoresTheRunAsStopped) {
    TempDir dir;
    const std::string db = dir / "runs.sqlite";
    {
        MainWindow window(QString::fromStdString(db));
        window.show();
        auto* epochs = window.experimentPanel()->findChild<QSpinBox*>("epochs");
        typeInto(epochs, "5000");
        QTest::mouseClick(window.startButton(), Qt::LeftButton);
        ASSERT_TRUE(waitUntil([&] { return window.lossPlot()->pointCount(LossPlot::Total) > 20; }));
        // The window asks first: Cancel keeps the run training, Stop and close ends it.
        auto answer = [](bool stop) {
            QTimer::singleShot(50, [stop] {
                auto* ask = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
                ASSERT_NE(ask, nullptr) << "no question";
                EXPECT_EQ(ask->objectName(), "closeMidRun");
                for (auto* b : ask->buttons())
                    if (stop ? b->text() == "Stop and close"
                             : ask->buttonRole(b) == QMessageBox::RejectRole)
                        b->click();
            });
        };
        answer(false);
        EXPECT_FALSE(window.close());
        EXPECT_TRUE(window.session()->isRunning()) << "Cancel: still training";
        answer(true);
        EXPECT_TRUE(window.close());
        EXPECT_FALSE(window.session()->isRunning());
    }
    RunStore store(db, RunStore::Mode::ReadOnly);
    auto runs = store.listRuns();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::Stopped);
}

TEST(Workbench, OpeningAStoredRunShowsItsCurvesHeatmapAndExperts) {
    Workbench w;
    typeInto(field<QSpinBox>(w.window, "experts"), "2");
    typeInto(field<QSpinBox>(w.window, "epochs"), "2");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }));
    const qint64 id = w.window.shownRunId();
    // Another experiment in the form, then the stored one opened from the history.
    typeInto(field<QSpinBox>(w.window, "experts"), "6");
    w.window.lossPlot()->clear();
    auto* table = w.window.runBrowser()->table();
    ASSERT_TRUE(waitUntil(
        [&] { return !w.window.runBrowser()->isLoading() && table->rowCount() == 1; }, 10000));
    const QRect cell = table->visualRect(
        table->model()->index(0, RunBrowser::Status)); // name, tags, notes edit instead
    ASSERT_TRUE(table->viewport()->rect().contains(cell.center())) << "the run's row is on screen";
    // A double-click as the system delivers it: press, release, double-click, release.
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QTest::mouseDClick(table->viewport(), Qt::LeftButton, {}, cell.center());
    QTest::mouseRelease(table->viewport(), Qt::LeftButton, {}, cell.center());
    ASSERT_TRUE(
        waitUntil([&] { return w.window.lossPlot()->pointCount(LossPlot::Total) > 0; }, 5000))
        << w.window.message().toStdString() << " shown " << w.window.shownRunId();
    EXPECT_EQ(w.window.shownRunId(), id);
    for (const char* stale : {"speed", "eta"})
        EXPECT_TRUE(w.window.findChild<QLabel*>(stale)->text().isEmpty())
            << "the last live run's " << stale << " is gone from the status bar";
    EXPECT_EQ(w.window.lossPlot()->pointCount(LossPlot::Total), 88);
    EXPECT_EQ(w.window.routingHeatmap()->expertCount(), 2);
    EXPECT_EQ(w.window.routingHeatmap()->epochCount(), 2);
    EXPECT_EQ(w.window.expertPanel()->expertCount(), 2);
    EXPECT_EQ(field<QSpinBox>(w.window, "experts")->value(), 2)
        << "its experiment is back in the form";
    w.window.openStoredRun(999);
    EXPECT_TRUE(waitUntil([&] { return w.window.message().indexOf("no run with id 999") != -1; }))
        << w.window.message().toStdString();
}

TEST(Workbench, ScreenshotOfARealRunFromTheCommandLine) {
    TempDir dir;
    const std::string png = dir / "shot.png";
    auto r = runCommand(mode::test::programDir() + "/mode-workbench --db " + (dir / "runs.sqlite") +
                        " --run-default --screenshot " + png + " --after-epochs 3");
    ASSERT_EQ(r.exitCode, 0) << r.err;
    QImage shot(QString::fromStdString(png));
    ASSERT_FALSE(shot.isNull());
    EXPECT_GE(shot.width(), 800);
    EXPECT_EQ(shot.size(), QSize(1366, 768)) << "offscreen, a laptop's screen, not Qt's 800x800";
    RunStore store(dir / "runs.sqlite", RunStore::Mode::ReadOnly);
    ASSERT_EQ(store.listRuns().size(), 1u);
    EXPECT_GE(store.listRuns()[0].epochsCompleted, 3);
}

int main(int argc, char** argv) {
    qputenv("QT_QPA_PLATFORM",
            qgetenv("QT_QPA_PLATFORM").isEmpty() ? "offscreen" : qgetenv("QT_QPA_PLATFORM"));
    QApplication app(argc, argv);
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

TEST(Workbench, ATextFileIsPreviewedAndTrained) {
    Workbench w;
    std::string text;
    for (int i = 0; i < 240; ++i)
        text += (i % 2 ? "spam\twin a free prize now " : "ham\tmeeting moved to friday ") +
                std::to_string(i % 5) + "\n";
    const std::string path = w.dir.file("mail.tsv", text);
    ASSERT_TRUE(w.window.experimentPanel()->openDataFile(QString::fromStdString(path)).isEmpty());
    const QString preview = field<QLabel>(w.window, "preview")->text();
    EXPECT_NE(preview.indexOf("240 texts"), -1) << preview.toStdString();
    EXPECT_NE(preview.indexOf("spam (120)"), -1) << preview.toStdString();
    typeInto(field<QSpinBox>(w.window, "epochs"), "3");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }));
    EXPECT_TRUE(w.window.message().isEmpty()) << w.window.message().toStdString();
    auto* heat = w.window.routingHeatmap();
    heat->setRows(RoutingHeatmap::Rows::Classes);
    EXPECT_EQ(heat->rowNames(), (QStringList{"ham", "spam"}));
    auto runs = w.store().listRuns();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::Finished);
    EXPECT_GT(runs[0].start.vocabulary.size(), 10u) << "the vocabulary is stored with the run";
}

TEST(Workbench, OpensAReportWithItsFigures) {
    Workbench w;
    QImage figure(40, 30, QImage::Format_RGB32);
    figure.fill(Qt::red);
    std::filesystem::create_directories(w.dir / "figures");
    ASSERT_TRUE(figure.save(QString::fromStdString(w.dir / "figures/a.png")));
    const std::string md = w.dir.file(
        "REPORT.md",
        "# Title\n\n| alpha | acc |\n|---|---|\n| 0.1 | 0.9 |\n\n![fig](figures/a.png)\n");
    ASSERT_TRUE(w.window.openReport(QString::fromStdString(md)));
    QTextBrowser* viewer = nullptr;
    for (auto* top : QApplication::topLevelWidgets())
        if (top->objectName() == "reportViewer") viewer = qobject_cast<QTextBrowser*>(top);
    ASSERT_NE(viewer, nullptr);
    EXPECT_NE(viewer->toPlainText().indexOf("Title"), -1);
    EXPECT_NE(viewer->toPlainText().indexOf("0.9"), -1) << "the table is rendered";
    const QVariant image =
        viewer->document()->resource(QTextDocument::ImageResource, QUrl("figures/a.png"));
    EXPECT_FALSE(image.isNull()) << "the figure is found next to the report";
    viewer->close();
    EXPECT_FALSE(w.window.openReport(QString::fromStdString(w.dir / "missing.md")));
    EXPECT_NE(w.window.message().indexOf("missing.md"), -1);
}

// Stop a run after a few epochs, open it from the history, press Resume stored run: it goes on
// from its checkpoint in the same store row and finishes with all its epochs.
TEST(Workbench, AStoppedRunIsResumedFromTheHistoryAndFinishes) {
    Workbench w;
    typeInto(field<QSpinBox>(w.window, "epochs"), "8");
    int epochsShown = 0;
    QObject::connect(&w.window, &MainWindow::epochShown, [&](int e) {
        epochsShown = e;
        if (e == 3) w.window.stopRun();
    });
    EXPECT_FALSE(w.window.resumeRunButton()->isVisible()) << "nothing to resume yet";
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }, 30000));
    auto runs = w.store().listRuns();
    ASSERT_EQ(runs.size(), 1u);
    ASSERT_EQ(runs[0].status, RunStatus::Stopped);
    const int stoppedAt = runs[0].epochsCompleted;
    ASSERT_GE(stoppedAt, 3);
    ASSERT_LT(stoppedAt, 8);

    ASSERT_TRUE(w.window.openStoredRun(runs[0].id));
    ASSERT_TRUE(waitUntil([&] { return w.window.resumeRunButton()->isVisible(); }));
    EXPECT_EQ(w.window.accuracyPlot()->pointCount(AccuracyPlot::Test), stoppedAt)
        << "the history up to the stop";
    std::optional<RunResult> ended;
    QObject::connect(&w.window, &MainWindow::runFinished,
                     [&](const RunResult& r, qint64) { ended = r; });
    QTest::mouseClick(w.window.resumeRunButton(), Qt::LeftButton);
    EXPECT_FALSE(w.window.resumeRunButton()->isVisible()) << "once is enough";
    ASSERT_TRUE(waitUntil([&] { return ended.has_value(); }, 30000));
    EXPECT_EQ(ended->status, RunStatus::Finished) << ended->message;
    EXPECT_EQ(epochsShown, 8);
    EXPECT_EQ(w.window.accuracyPlot()->pointCount(AccuracyPlot::Test), 8)
        << "history and the live epochs on one plot";
    runs = w.store().listRuns();
    ASSERT_EQ(runs.size(), 1u) << "the same run continued";
    EXPECT_EQ(runs[0].status, RunStatus::Finished);
    EXPECT_EQ(runs[0].epochsCompleted, 8);
    EXPECT_EQ(w.store().epochs(runs[0].id).size(), 8u);
}

// Opening a stored run selects its row (also when the table is still being read) and fills the
// form with its experiment, but not its name: a Start makes a new run, not a second "baseline".
TEST(Workbench, OpeningAStoredRunSelectsItsRowAndLeavesTheNameFree) {
    Workbench w;
    typeInto(field<QSpinBox>(w.window, "epochs"), "2");
    typeInto(field<QLineEdit>(w.window, "runName"), "baseline");
    QTest::mouseClick(w.window.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil([&] { return !w.window.session()->isRunning(); }, 30000));
    const auto id = w.store().listRuns().at(0).id;
    typeInto(field<QLineEdit>(w.window, "runName"), "something else");
    QSignalSpy shown(&w.window, &MainWindow::storedRunShown);
    ASSERT_TRUE(w.window.openStoredRun(id));
    ASSERT_TRUE(waitUntil([&] { return shown.count() == 1; })) << "read in the background";
    EXPECT_EQ(field<QLineEdit>(w.window, "runName")->text(), "");
    EXPECT_EQ(w.window.experimentPanel()->config().train.epochs, 2) << "its experiment";
    auto* browser = w.window.runBrowser();
    ASSERT_TRUE(waitUntil([&] { return browser->selectedRunIds() == QList<qint64>{id}; }))
        << "its row selected";
}

// Two workbench windows on one store, training at the same time: both runs are stored whole,
// and each window's history lists both.
TEST(Workbench, TwoWindowsOnOneStoreTrainAtOnceAndKeepBothRuns) {
    Workbench first;
    MainWindow second{QString::fromStdString(first.db)};
    second.show();
    ASSERT_TRUE(QTest::qWaitForWindowExposed(&second));
    typeInto(field<QSpinBox>(first.window, "epochs"), "6");
    typeInto(field<QSpinBox>(second, "epochs"), "6");
    typeInto(field<QDoubleSpinBox>(second, "alpha"), "0.3");
    QTest::mouseClick(first.window.startButton(), Qt::LeftButton);
    QTest::mouseClick(second.startButton(), Qt::LeftButton);
    ASSERT_TRUE(waitUntil(
        [&] { return !first.window.session()->isRunning() && !second.session()->isRunning(); },
        60000));
    EXPECT_TRUE(first.window.message().isEmpty()) << first.window.message().toStdString();
    EXPECT_TRUE(second.message().isEmpty()) << second.message().toStdString();
    auto store = first.store();
    auto runs = store.listRuns();
    ASSERT_EQ(runs.size(), 2u);
    for (const auto& r : runs) {
        EXPECT_EQ(r.status, RunStatus::Finished);
        EXPECT_EQ(r.epochsCompleted, 6);
        EXPECT_EQ(static_cast<std::int64_t>(store.steps(r.id).size()), r.steps)
            << "every step of run " << r.id;
    }
    EXPECT_NE(runs[0].alpha, runs[1].alpha);
    EXPECT_EQ(store.integrityCheck(), "ok");
}

// A CSV dropped on the window opens as with File > Open data file.
TEST(Workbench, DroppingADataFileOnTheWindowOpensIt) {
    Workbench w;
    const std::string csv = w.dir.file(
        "dropped.csv",
        "a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n9,1,x\n2,3,y\n4,5,x\n6,7,y\n8,9,x\n1,3,y\n3,5,x\n");
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(QString::fromStdString(csv))});
    const QPoint at = w.window.rect().center();
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w.window, &enter);
    ASSERT_TRUE(enter.isAccepted()) << "a local file is welcome";
    QDropEvent drop(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w.window, &drop);
    EXPECT_TRUE(w.window.message().isEmpty()) << w.window.message().toStdString();
    EXPECT_EQ(w.window.experimentPanel()->config().data.path, csv);

    const std::string bad = w.dir.file("bad.csv", "a,b\n1\n");
    mime.setUrls({QUrl::fromLocalFile(QString::fromStdString(bad))});
    QDragEnterEvent enterBad(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w.window, &enterBad);
    QDropEvent dropBad(QPointF(at), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&w.window, &dropBad);
    EXPECT_TRUE(dropBad.isAccepted());
    EXPECT_NE(w.window.message().indexOf("bad.csv:2: ragged row"), -1)
        << "a bad file is named: " << w.window.message().toStdString();
    EXPECT_EQ(w.window.experimentPanel()->config().data.path, csv) << "the good file stays chosen";
}

// The last experiment, the window's geometry and the splitters come back in the next session.
TEST(Workbench, SettingsBringBackTheLastExperimentAndLayout) {
    TempDir config;
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                       QString::fromStdString(config.path().string()));
    QSettings().clear();
    QByteArray splitter;
    QSize size;
    {
        Workbench w;
        w.window.restoreSettings(); // as the app does; nothing saved yet, so the defaults stay
        EXPECT_EQ(w.window.experimentPanel()->config().model.experts, 4);
        typeInto(field<QSpinBox>(w.window, "experts"), "6");
        typeInto(field<QDoubleSpinBox>(w.window, "alpha"), "0.3");
        w.window.resize(1500, 900);
        size = w.window.size();
        splitter = w.window.findChild<QSplitter*>("mainSplitter")->saveState();
        w.window.close(); // saves
    }
    Workbench next;
    next.window.restoreSettings();
    EXPECT_EQ(next.window.experimentPanel()->config().model.experts, 6);
    EXPECT_DOUBLE_EQ(next.window.experimentPanel()->config().loss.alpha, 0.3);
    next.window.resize(1400, 800);
    next.window.restoreSettings();
    // The remembered size, clamped to the screen (the offscreen screen is smaller than 1500x900):
    // a size remembered on a big monitor never opens past a laptop's edge.
    // Its frame (the window manager's border and title bar) counts: the whole window fits.
    const QSize room = next.window.screen()->availableGeometry().size();
    const QSize frame = next.window.frameGeometry().size() - next.window.geometry().size();
    // (no smaller than the layout's minimum).
    EXPECT_EQ(next.window.size(),
              size.boundedTo(room - frame).expandedTo(next.window.minimumSizeHint()))
        << "screen " << room.width() << "x" << room.height();
    EXPECT_LT(next.window.height(), size.height()) << "900 px high on an 800 px screen";
    EXPECT_EQ(next.window.findChild<QSplitter*>("mainSplitter")->saveState(), splitter);
    QSettings().clear();
}

// At 1920x1080 the run table shows at least 8 rows without touching the splitter, where runs
// are picked for comparison.
TEST(Workbench, TheRunTableShowsEightRowsAt1920x1080) {
    Workbench w;
    w.window.resize(1920, 1040);
    QTest::qWait(50);
    auto* table = w.window.runBrowser()->table();
    const int rowHeight = table->verticalHeader()->defaultSectionSize();
    EXPECT_GE(table->viewport()->height() / rowHeight, 8)
        << "viewport " << table->viewport()->height() << " px, rows of " << rowHeight << " px";
}

// The form fits its column at 1366x768: it scrolls down, never across, and nothing in it is
// wider than the column.
TEST(Workbench, TheFormFitsItsColumnAt1366x768) {
    Workbench w;
    w.window.resize(1366, 740);
    QTest::qWait(50);
    auto* scroll = w.window.findChild<QScrollArea*>("experimentScroll");
    ASSERT_NE(scroll, nullptr);
    EXPECT_EQ(scroll->horizontalScrollBarPolicy(), Qt::ScrollBarAlwaysOff);
    EXPECT_LE(w.window.experimentPanel()->minimumSizeHint().width(), scroll->viewport()->width())
        << "the form needs more than its column: it would be cut at the right edge";
}

// The form is made from the settings table: every setting with a label has its field, with the
// declared help as its tooltip, and a value typed there reaches the experiment.
TEST(Workbench, TheFormHasAFieldForEachDeclaredSettingWithItsHelp) {
    Workbench w;
    auto* panel = w.window.experimentPanel();
    int fields = 0;
    for (const auto& s : mode::experimentSettings()) {
        if (s.label.empty()) continue;
        auto* widget = panel->findChild<QWidget*>(QString::fromStdString(s.widget));
        ASSERT_NE(widget, nullptr) << s.key << " has no field named " << s.widget;
        EXPECT_TRUE(widget->toolTip().contains(QString::fromStdString(s.help).toHtmlEscaped()) ||
                    widget->toolTip().contains(QString::fromStdString(s.help)))
            << s.key << ": " << widget->toolTip().toStdString();
        ++fields;
    }
    EXPECT_GE(fields, 20);
    // Advanced settings are folded away until asked for.
    auto* threads = field<QSpinBox>(w.window, "threads");
    EXPECT_FALSE(threads->isVisibleTo(panel));
    panel->findChild<QToolButton*>("moreSettings")->click();
    EXPECT_TRUE(threads->isVisibleTo(panel));
    typeInto(threads, "3");
    EXPECT_EQ(panel->config().train.threads, 3);
    typeInto(threads, "-1");
    EXPECT_FALSE(panel->errorFor("train.threads").isEmpty())
        << "the declared bound, shown next to the field";
}

// Every field of the form carries its setting both ways: an experiment with each setting at a
// value other than its default comes back unchanged, a 64-bit seed included.
TEST(Workbench, EveryFieldCarriesItsSettingBothWays) {
    Workbench w;
    auto* panel = w.window.experimentPanel();
    ExperimentConfig c;
    for (const auto& s : mode::experimentSettings())
        if (!s.label.empty() && !isDataSource(s)) s.set(c, sampleValue(s), "test");
    c.train.seed = 1ull << 40;
    panel->setConfig(c);
    const ExperimentConfig back = panel->config();
    for (const auto& s : mode::experimentSettings())
        if (!s.label.empty() && !isDataSource(s)) EXPECT_EQ(s.get(back), s.get(c)) << s.key;
    typeInto(field<QLineEdit>(w.window, "hidden"), "64, 32");
    EXPECT_EQ(panel->config().model.hidden, (std::vector<int>{64, 32})) << "spaces after commas";
}

// Help explains the method and every knob of the experiment panel; menus list their shortcuts.
TEST(Workbench, HelpExplainsMoDEAndEachKnob) {
    Workbench w;
    QTextDocument doc;
    doc.setHtml(w.window.helpText());
    const QString text = doc.toPlainText();
    for (const char* word : {"mutual distillation", "expert probing", "Alpha", "Experts", "Gate",
                             "Balance", "seed", "Device", "Resume stored run"})
        EXPECT_TRUE(text.contains(word)) << word;
    bool helpFound = false;
    for (auto* action : w.window.findChildren<QAction*>())
        if (action->text().contains("MoDE and its knobs"))
            helpFound = !action->shortcut().isEmpty();
    EXPECT_TRUE(helpFound) << "Help > MoDE and its knobs, with a shortcut";
}

// In a dark palette every part follows it: the plots' background, the message banner, the
// error text (no bright boxes on a dark desktop).
TEST(Workbench, ADarkPaletteReachesTheBannerAndThePlots) {
    const QPalette before = QApplication::palette();
    QApplication::setPalette(darkPalette());
    {
        Workbench w;
        EXPECT_EQ(w.window.lossPlot()->plot()->xAxis->labelColor(),
                  darkPalette().color(QPalette::WindowText));
        w.window.openStoredRun(999);
        ASSERT_TRUE(waitUntil([&] { return !w.window.message().isEmpty(); }));
        auto* banner = w.window.findChild<QLabel*>("messageBar");
        ASSERT_NE(banner, nullptr);
        EXPECT_NE(banner->styleSheet().indexOf("#4a1d1b"), -1)
            << banner->styleSheet().toStdString();
        EXPECT_EQ(banner->styleSheet().indexOf("#fdecea"), -1) << "no light box";
    }
    QApplication::setPalette(before);
}

// Run > Predict on a file and Run > Export model, for the run selected in the table: the
// prediction window holds mode-predict's table (its CSV saved byte for byte as mode-predict
// writes it), the model is written with its sidecar, and a bad file is named in the message bar.
TEST(Workbench, PredictOnAFileAndExportTheModelOfTheSelectedRun) {
    Workbench w;
    std::string csv = "a,b,label\n";
    for (int i = 0; i < 120; ++i)
        csv += std::to_string(i % 11) + "," + std::to_string((i * 7) % 5) + "," +
               (i % 11 > 5 ? "high" : "low") + "\n";
    const std::string data = w.dir.file("d.csv", csv);
    ASSERT_EQ(runCommand(mode::test::programDir() + "/mode-train -q --data " + data +
                         " --epochs 2 --keep-models every --threads 1 --device cpu --db " + w.db)
                  .exitCode,
              0);
    auto* browser = w.window.runBrowser();
    browser->refresh();
    ASSERT_TRUE(waitUntil([&] { return !browser->isLoading() && browser->runCount() == 1; }));
    browser->selectRuns({1});
    ASSERT_TRUE(waitUntil([&] { return browser->selectedRunIds() == QList<qint64>{1}; }));

    ASSERT_TRUE(w.window.predictOnFile(0, QString::fromStdString(data), 0));
    PredictionDialog* dialog = nullptr;
    ASSERT_TRUE(waitUntil([&] { return (dialog = w.window.findChild<PredictionDialog*>()); }));
    EXPECT_EQ(dialog->table()->rowCount(), 120);
    // The rows' routing: every row, then one expert's, as the table's top_expert column says.
    auto* routing = dialog->explorer();
    ASSERT_TRUE(waitUntil([&] { return routing->isReady(); }));
    routing->setExpert(-1);
    EXPECT_EQ(routing->samplesTable()->model()->rowCount(), 120);
    routing->setExpert(0);
    int toExpertZero = 0;
    for (int r = 0; r < 120; ++r)
        toExpertZero += dialog->table()->item(r, 5)->text() == "0";
    EXPECT_EQ(routing->samplesTable()->model()->rowCount(), toExpertZero);
    EXPECT_EQ(dialog->table()->horizontalHeaderItem(5)->text(),
              "top_expert"); // after p_high, p_low
    EXPECT_NE(dialog->summary().indexOf("accuracy of the mixture"), -1)
        << dialog->summary().toStdString();
    const std::string saved = w.dir / "saved.csv";
    ASSERT_TRUE(dialog->saveCsv(QString::fromStdString(saved)));
    const auto cli = runCommand(mode::test::programDir() + "/mode-predict -q --run 1 --db " + w.db +
                                " --data " + data);
    ASSERT_EQ(cli.exitCode, 0) << cli.err;
    EXPECT_EQ(readFile(saved), cli.out) << "the same table as mode-predict";
    EXPECT_NE(dialog->summary().indexOf("the model of epoch 2"), -1)
        << dialog->summary().toStdString();
    dialog->close();

    // Asked which model (the run keeps both epochs'), the user takes epoch 1's: mode-predict's
    // table with --epoch 1.
    QStringList offered;
    QTimer pick;
    QObject::connect(&pick, &QTimer::timeout, [&] {
        auto* ask = w.window.findChild<QInputDialog*>("modelEpoch");
        if (!ask || !ask->isVisible()) return;
        offered = ask->comboBoxItems();
        ask->setTextValue(ask->comboBoxItems().value(1));
        ask->accept();
    });
    pick.start(20);
    ASSERT_TRUE(w.window.predictOnFile(0, QString::fromStdString(data)));
    PredictionDialog* firstEpoch = nullptr;
    ASSERT_TRUE(waitUntil([&] {
        for (auto* d : w.window.findChildren<PredictionDialog*>())
            if (d->summary().indexOf("the model of epoch 1") != -1) firstEpoch = d;
        return firstEpoch != nullptr;
    }));
    pick.stop();
    ASSERT_EQ(offered.size(), 2) << offered.join(" | ").toStdString();
    EXPECT_TRUE(offered[0].startsWith("2 (the last; validation 0.")) << offered[0].toStdString();
    EXPECT_TRUE(offered[1].startsWith("1 (validation 0.")) << offered[1].toStdString();
    ASSERT_TRUE(firstEpoch->saveCsv(QString::fromStdString(saved)));
    const auto cliFirst = runCommand(mode::test::programDir() + "/mode-predict -q --run 1 --db " +
                                     w.db + " --epoch 1 --data " + data);
    ASSERT_EQ(cliFirst.exitCode, 0) << cliFirst.err;
    EXPECT_EQ(readFile(saved), cliFirst.out);
    firstEpoch->close();

    QSignalSpy exported(&w.window, &MainWindow::modelExported);
    ASSERT_TRUE(w.window.exportModel(0, QString::fromStdString(w.dir / "m.pt"), 0));
    ASSERT_TRUE(waitUntil([&] { return exported.count() == 1; }));
    EXPECT_TRUE(exported.front().front().toBool())
        << exported.front().back().toString().toStdString();
    EXPECT_TRUE(std::filesystem::exists(w.dir / "m.pt"));
    EXPECT_TRUE(std::filesystem::exists(w.dir / "m.json"));

    w.window.predictOnFile(1, QString::fromStdString(w.dir.file("bad.csv", "x,y\n1,2\n")), 0);
    EXPECT_TRUE(waitUntil([&] {
        return w.window.message().indexOf(
                   "the column 'a' that the run was trained on is missing") != -1;
    })) << w.window.message().toStdString();
}

// The Explorer tab on a stored run: expert by expert, the test rows routed to it at the last kept
// epoch, as many as the epoch's stored allocation, and its confusion matrix, whose diagonal over
// its rows is the expert's stored probing accuracy.
TEST(Workbench, TheExplorerShowsEachExpertsTestRows) {
    Workbench w;
    ASSERT_EQ(runCommand(mode::test::programDir() +
                         "/mode-train -q --epochs 3 --threads 1 --device cpu --db " + w.db)
                  .exitCode,
              0);
    ASSERT_TRUE(w.window.openStoredRun(1));
    auto* explorer = w.window.routingExplorer();
    ASSERT_TRUE(waitUntil([&] { return explorer->isReady(); }));
    EXPECT_EQ(explorer->shownEpoch(), 3) << "the last kept epoch";
    const auto last = w.store().epochs(1).back();
    for (const auto& e : last.experts) {
        explorer->setExpert(e.expert);
        EXPECT_EQ(explorer->samplesTable()->model()->rowCount(), e.allocated)
            << "expert " << e.expert;
        auto* m = explorer->confusionTable();
        ASSERT_EQ(m->rowCount(), 3);
        std::int64_t all = 0, diagonal = 0;
        for (int l = 0; l < 3; ++l)
            for (int p = 0; p < 3; ++p) {
                const auto n = m->item(l, p)->text().toLongLong();
                all += n;
                diagonal += l == p ? n : 0;
            }
        EXPECT_EQ(all, e.allocated);
        if (e.allocated > 0 && e.probingAccuracy)
            EXPECT_DOUBLE_EQ(static_cast<double>(diagonal) / static_cast<double>(all),
                             *e.probingAccuracy)
                << "expert " << e.expert;
    }
    explorer->setExpert(-1);
    EXPECT_EQ(explorer->samplesTable()->model()->rowCount(), 600) << "every test row";
}

// SPDX-License-Identifier: GPL-3.0-or-later
// Sweeps from the workbench as a person runs them: the dialog's sweep against mode-sweep on the
// file it wrote, stop and resume, a run killed with -9.

#include "sweep/Sweep.h"
#include "MainWindow.h"
#include "store/RunStore.h"
#include "sweep/SweepDialog.h"
#include "sweep/SweepView.h"

#include "GuiTestSupport.h"
#include "TestSupport.h"

#include <QApplication>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <csignal>
#include <filesystem>
#include <set>

using namespace mode;
using namespace mode::test;

namespace {

struct Window : StoreWindow {
    explicit Window(int epochs) { window.findChild<QSpinBox*>("epochs")->setValue(epochs); }
    // The dialog filled in as a person would, and its Start pressed.
    SweepView* sweep(const QString& alphas, int seeds, int jobs) {
        SweepDialog* dialog = window.newSweep();
        dialog->setName("t");
        dialog->setAlphas(alphas);
        dialog->setSeeds(seeds);
        dialog->setJobs(jobs);
        QTest::mouseClick(dialog->findChild<QPushButton*>("startSweep"), Qt::LeftButton);
        return window.sweepView();
    }
};

std::multiset<std::string> finishedHashes(const RunStore& store) {
    std::multiset<std::string> out;
    for (const auto& r : store.listRuns())
        if (r.status == RunStatus::Finished) out.insert(r.configHash);
    return out;
}

} // namespace

// 2 alphas x 2 seeds from the dialog: 4 finished runs, the same experiments (config hashes) as
// mode-sweep makes from the sweep file the dialog wrote.
TEST(Sweep, TheDialogsSweepIsTheOneModeSweepRunsFromItsFile) {
    Window w(3);
    SweepView* view = w.sweep("0, 0.1", 2, 2);
    QSignalSpy ended(view, &SweepView::ended);
    ASSERT_TRUE(waitUntil([&] { return ended.count() == 1; }, 180000))
        << view->message().toStdString();
    EXPECT_EQ(ended.front().front().toInt(), 0);
    ASSERT_TRUE(waitUntil([&] { return view->count(PointState::Finished) == 4; }));
    const auto ours = finishedHashes(w.store());
    EXPECT_EQ(ours.size(), 4u);
    const std::string file = (w.dir.path() / "sweeps" / "t.json").string();
    const std::string other = w.dir / "other.sqlite";
    const auto cli = runCommand(mode::test::programDir() + "/mode-sweep " + file + " --db " +
                                other + " --jobs 2 --threads 1 -q");
    ASSERT_EQ(cli.exitCode, 0) << cli.err;
    EXPECT_EQ(finishedHashes(RunStore(other, RunStore::Mode::ReadOnly)), ours);
    EXPECT_NE(view->answer().indexOf("\u03b1 0.1"), -1) << view->answer().toStdString();
    // One click writes the sweep's report (mode-report's Markdown and figures).
    QSignalSpy written(view, &SweepView::reportWritten);
    const QString folder = QString::fromStdString(w.dir / "report");
    ASSERT_TRUE(view->writeReport(folder));
    ASSERT_TRUE(waitUntil([&] { return written.count() == 1; }, 120000));
    EXPECT_TRUE(written.front().front().toBool())
        << written.front().back().toString().toStdString();
    EXPECT_TRUE(std::filesystem::exists(w.dir / "report/REPORT.md"));
    // Said where it was asked for, with a button that opens it.
    auto* note = view->findChild<QLabel*>("sweepReportNote");
    auto* open = view->findChild<QPushButton*>("sweepOpenReport");
    ASSERT_NE(note, nullptr);
    ASSERT_NE(open, nullptr);
    EXPECT_TRUE(note->isVisible());
    EXPECT_NE(note->text().indexOf("REPORT.md"), -1) << note->text().toStdString();
    ASSERT_TRUE(open->isVisible());
    QTest::mouseClick(open, Qt::LeftButton);
    QWidget* viewer = nullptr;
    for (auto* top : QApplication::topLevelWidgets())
        if (top->objectName() == "reportViewer" && top->isVisible()) viewer = top;
    ASSERT_NE(viewer, nullptr) << "Open report shows it";
    viewer->close();
}

// Stop mid-sweep: mode-sweep and its runs end, no run is left running; after the window is
// closed, another one resumes the sweep from its list and runs only what is missing (each point
// ends with exactly one finished run).
TEST(Sweep, StopLeavesNothingRunningAndResumeRunsOnlyTheRest) {
    Window w(150);
    SweepView* view = w.sweep("0, 0.1", 2, 1);
    ASSERT_TRUE(waitUntil(
        [&] {
            return view->count(PointState::Finished) >= 1 && view->count(PointState::Running) == 1;
        },
        180000))
        << view->message().toStdString();
    const qint64 pid = view->sweepProcessId();
    ASSERT_GT(pid, 0);
    QTest::mouseClick(w.window.findChild<QPushButton*>("sweepStop"), Qt::LeftButton);
    auto* pause = w.window.findChild<QPushButton*>("sweepPause");
    EXPECT_FALSE(pause->isEnabled()) << "no Resume while the runs are being stopped";
    QTest::mouseClick(pause, Qt::LeftButton);
    EXPECT_EQ(view->sweepProcessId(), pid) << "still the one mode-sweep";
    ASSERT_TRUE(waitUntil([&] { return !view->isRunning(); }, 60000));
    EXPECT_NE(::kill(static_cast<pid_t>(pid), 0), 0) << "mode-sweep has ended";
    int running = 0, finished = 0;
    for (const auto& r : w.store().listRuns()) {
        running += r.status == RunStatus::Running;
        finished += r.status == RunStatus::Finished;
    }
    EXPECT_EQ(running, 0);
    ASSERT_LT(finished, 4);
    // The window closed, another one opens the sweep from its list and resumes it.
    w.window.close();
    MainWindow again{QString::fromStdString(w.db)};
    again.show();
    SweepView* reopened = again.sweepView();
    ASSERT_TRUE(
        reopened->open(QString::fromStdString((w.dir.path() / "sweeps" / "t.json").string())));
    QSignalSpy ended(reopened, &SweepView::ended);
    QTest::mouseClick(again.findChild<QPushButton*>("sweepPause"), Qt::LeftButton); // Resume
    ASSERT_TRUE(waitUntil([&] { return ended.count() == 1; }, 240000));
    EXPECT_EQ(ended.front().front().toInt(), 0);
    const auto hashes = finishedHashes(w.store());
    EXPECT_EQ(hashes.size(), 4u);
    EXPECT_EQ(std::set<std::string>(hashes.begin(), hashes.end()).size(), 4u)
        << "no point ran twice to the end";
}

// A run killed with -9 is marked (interrupted or failed) and the sweep goes on with the others.
TEST(Sweep, ARunKilledWithSigkillIsMarkedAndTheSweepGoesOn) {
    Window w(100);
    SweepView* view = w.sweep("0, 0.1, 1", 1, 1);
    QSignalSpy ended(view, &SweepView::ended);
    std::int64_t victim = 0;
    int writer = 0;
    ASSERT_TRUE(waitUntil(
        [&] {
            try { // the store appears with the sweep's first run
                SQLite::Database db(w.db, SQLite::OPEN_READONLY);
                SQLite::Statement q(db, "SELECT id, writer_pid FROM runs WHERE status = 'running'");
                if (!q.executeStep()) return false;
                victim = q.getColumn(0).getInt64();
                writer = q.getColumn(1).getInt();
                return writer > 0;
            } catch (const std::exception&) {
                return false;
            }
        },
        120000));
    ASSERT_EQ(::kill(writer, SIGKILL), 0);
    ASSERT_TRUE(waitUntil([&] { return ended.count() == 1; }, 240000));
    EXPECT_EQ(ended.front().front().toInt(), 1) << "mode-sweep: some run failed";
    const RunStatus killed = w.store().run(victim).status;
    EXPECT_TRUE(killed == RunStatus::Interrupted || killed == RunStatus::Failed)
        << toString(killed);
    EXPECT_EQ(finishedHashes(w.store()).size(), 2u) << "the other two points ran";
}

// The adaptive-seeds rule as the view runs it: an interval that can never be narrow enough adds
// seeds round by round up to the maximum (the sweep file grows with them); a wide one is met
// as soon as the rule can judge (three seeds).
TEST(Sweep, AdaptiveSeedsRunToTheMaximumOrStopWhenTheIntervalIsNarrow) {
    for (const double width : {0.0001, 1.0}) {
        Window w(3);
        SweepDialog* dialog = w.window.newSweep();
        dialog->setName("t");
        dialog->setAlphas("0, 0.1");
        dialog->setSeeds(2);
        dialog->setJobs(2);
        dialog->setAdaptive(true, width, 4);
        SweepView* view = w.window.sweepView();
        QSignalSpy ended(view, &SweepView::ended);
        QTest::mouseClick(dialog->findChild<QPushButton*>("startSweep"), Qt::LeftButton);
        ASSERT_TRUE(waitUntil([&] { return ended.count() == 1; }, 240000)) << width;
        // 2 alphas a seed, 2 runs at once: one seed more a round.
        const int seeds = width < 0.5 ? 4 : 3;
        EXPECT_EQ(view->seeds(), seeds) << width;
        EXPECT_EQ(finishedHashes(w.store()).size(), static_cast<std::size_t>(2 * seeds)) << width;
        const Sweep written = Sweep::fromFile((w.dir.path() / "sweeps" / "t.json").string());
        EXPECT_EQ(written.size(), static_cast<std::size_t>(2 * seeds)) << width;
    }
}

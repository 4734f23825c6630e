// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The workbench window: the experiment on the left, the live (or stored) run on the right —
// loss and accuracy curves, routing heatmap, experts — and the run history below.

#include "session/StoredRunFollower.h"
#include "session/TrainingSession.h"
#include "train/TrainingEvents.h"

#include <QMainWindow>

#include <functional>

#include <chrono>

class QAction;
class QLabel;
class QProgressBar;
class QPushButton;
class QTabWidget;
class QSplitter;
class QDragEnterEvent;
class QDropEvent;

namespace mode {

class AccuracyPlot;
class RunStore;
class CompareView;
class ExperimentPanel;
class ExpertPanel;
class LossPlot;
class RoutingHeatmap;
class RunBrowser;
class PredictionDialog;
class RoutingExplorer;
class SweepDialog;
class SweepView;

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MainWindow(const QString& storePath, QWidget* parent = nullptr);
    ~MainWindow() override;

    ExperimentPanel* experimentPanel() const { return panel_; }
    LossPlot* lossPlot() const { return loss_; }
    AccuracyPlot* accuracyPlot() const { return accuracy_; }
    RoutingHeatmap* routingHeatmap() const { return heatmap_; }
    ExpertPanel* expertPanel() const { return experts_; }
    RunBrowser* runBrowser() const { return history_; }
    CompareView* compareView() const { return compare_; }
    RoutingExplorer* routingExplorer() const { return explorer_; }
    TrainingSession* session() { return &session_; }
    QPushButton* startButton() const { return start_; }
    QPushButton* pauseButton() const { return pause_; }
    QPushButton* stopButton() const { return stop_; }
    QPushButton* resumeRunButton() const { return resumeRun_; }
    QString message() const; // the message bar's text (errors), empty if hidden
    QString storePath() const { return storePath_; }
    qint64 shownRunId() const { return shownRunId_; }

  public slots:
    bool startRun();
    void pauseOrResume();
    void stopRun();
    // Shows stored run `id`, read in the background (storedRunShown when it is on show), and
    // follows it while another process trains it.
    bool openStoredRun(qint64 id);
    // Continues the stored run on show (stopped, interrupted or failed, with a checkpoint) from
    // its last checkpoint: the plots keep its history up to there and go on live.
    bool resumeStoredRun();
    void openDataFile();
    // Opens a CSV or TSV file into the experiment (the Open dialog, a drop, the command line);
    // false, with the reason in the message bar, for a file that cannot be used.
    bool openDataFile(const QString& path);
    // Puts these stored runs side by side in the Compare tab (loaded in the background).
    void compareRuns(const QList<qint64>& ids);
    // A stored run's model on a data file (mode-predict's table) in a window, read and computed
    // in the background; predictionShown when it is on show. An empty path asks for one, and,
    // where the run keeps the models of several epochs, which (epoch < 0; 0: the last). For
    // run id <= 0: the run selected in the table, else the one on show.
    bool predictOnFile(qint64 id, const QString& path = {}, int epoch = -1);
    // The run's model as TorchScript at `path` (and model.json beside it), in the background;
    // modelExported when written (the message bar says where, or why not). Asks as above.
    bool exportModel(qint64 id, const QString& path = {}, int epoch = -1);
    // The sweep dialog on the experiment in the form (not modal); accepted, the sweep starts in
    // the Sweep tab.
    SweepDialog* newSweep();
    // A sweep file run at once in the Sweep tab (mode-workbench --sweep); false if unreadable.
    bool runSweep(const QString& file, int jobs);
    SweepView* sweepView() const { return sweep_; }
    // The Explorer tab on an expert's rows (-1: every expert), of a class (-1: every class).
    void showExplorer(int expert = 0, int classIndex = -1);
    // Shows a Markdown report (mode-report's REPORT.md, with its figures) in a window of its own.
    bool openReport(const QString& path);
    // The last experiment, the window's size and place and the splitters, from QSettings (the
    // app calls it; tests start from the defaults). Saved when the window closes.
    void restoreSettings(bool experimentToo = true);
    void saveSettings() const;
    // Help > MoDE and its knobs: what the method is and what each setting does.
    QString helpText() const;
    // Closing the window mid-run (or mid-sweep) asks first; screenshot runs close without asking.
    void setAskBeforeClosing(bool ask) { askBeforeClosing_ = ask; }
    // Never more than the screen's available area (a 1366x768 laptop, 150% on 1920x1080).
    QSize sizeHint() const override;
    // View > Experiment panel (Ctrl+B): the form's column shown or hidden, for the plots' room.
    void setExperimentPanelVisible(bool visible);
    bool experimentPanelVisible() const;

  signals:
    void epochShown(int epoch);
    void runFinished(const mode::RunResult& result, qint64 runId);
    // openStoredRun's read ended: the run is on show (ok), or the message bar says why not.
    void storedRunShown(qint64 id, bool ok);
    void predictionShown(mode::PredictionDialog* dialog);
    void modelExported(bool ok, const QString& message);

  protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;
    // A data file (CSV, TSV) dropped on the window opens as with File > Open data file.
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

  private:
    void fitToScreen();
    bool confirmCloseMidRun(); // true: close (nothing runs, or the user said stop)
    void buildMenus();
    void clearViews();
    // Fills the views with the stored run on show (shown_), up to an epoch and step (0: all).
    void showHistory(int maxEpoch = 0, std::int64_t maxStep = 0);
    void onStoredRunOpened(const StoredRunUpdate& whole);
    void onStoredRunGrew(const StoredRunUpdate& added);
    void onStoredRunFailed(const QString& message);
    void describeStoredRun(const RunRecord& r);
    qint64 targetRunId() const; // the run selected in the table, else the one on show
    void showMessage(const QString& text, bool error);
    // Reads in the background which epochs' models run `id` keeps; where more than one, asks
    // which (titled `what`), then calls `then` with it (0: the last; not at all if cancelled).
    void chooseModelEpoch(qint64 id, const QString& what, std::function<void(int)> then);
    void updateButtons();
    void onRunStarted(const RunStart& start, qint64 runId);
    void onPausedChanged(bool paused);
    void onSteps(const std::vector<StepMetrics>& steps);
    void onEpoch(const EpochMetrics& epoch);
    void onRunEnded(const RunResult& result, qint64 runId);
    void onRunFailedToStart(const QString& message);
    void onDataLoading(qint64 done, qint64 total);
    void onStoppedWhileLoading(const QString& message);

    QString storePath_;
    TrainingSession session_;
    ExperimentPanel* panel_;
    LossPlot* loss_;
    AccuracyPlot* accuracy_;
    RoutingHeatmap* heatmap_;
    ExpertPanel* experts_;
    RunBrowser* history_;
    CompareView* compare_;
    QWidget* compareScroll_; // the Compare page: compare_ in a scroll area
    RoutingExplorer* explorer_;
    SweepView* sweep_;
    QPushButton* sweepButton_;
    QTabWidget* views_;
    QSplitter* splitter_;
    QWidget* experimentColumn_;
    QAction* experimentPanelAction_;
    QSplitter* rightSplitter_;
    QPushButton* start_;
    QPushButton* pause_;
    QPushButton* stop_;
    QPushButton* resumeRun_;
    QLabel* whyDisabled_;
    QLabel* title_;
    QLabel* messageBar_;
    QLabel* state_;
    QProgressBar* epochProgress_;
    QProgressBar* stepProgress_;
    QLabel* speed_;
    QLabel* eta_;
    QLabel* device_;
    QAction* startAction_;
    QAction* pauseAction_;
    QAction* stopAction_;
    QAction* resumeRunAction_;
    QAction* predictAction_;
    QAction* exportModelAction_;
    RunStart liveStart_;
    QString liveTitle_;             // the header of the run training, while it is not paused
    qint64 reopenedAfterStop_ = -1; // the run just stopped, read back to offer Resume
    StoredRunFollower follower_;
    StoredRunUpdate shown_; // the stored run on show: everything read of it so far
    qint64 shownRunId_ = -1;
    qint64 resumableRunId_ = -1; // the stored run on show, if it can be continued
    bool askBeforeClosing_ = true;
    bool settingsRestored_ = false; // saved on close only then (not for screenshot runs, tests)
};

} // namespace mode

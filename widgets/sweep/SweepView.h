// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A sweep run from the workbench and watched as its answer forms. The runs execute in a
// mode-sweep process (each a mode-train child: a crash in one cannot take the window down) into
// the open store; the view reads the store in the background each second:
//  - the queue: each point waiting, running, finished, failed or stopped;
//  - the alpha sweep: each alpha's paired difference against alpha = 0 with its 95% CI, filled
//    where significant after Holm (analysis/AlphaStudy, as Compare and mode-report);
//  - the answer in words, or that it is not yet established.
// Pause and Stop end the runs cleanly (mode-sweep's SIGINT: each run stores itself as stopped,
// resumable); Resume starts mode-sweep again, which reuses finished points and continues stopped
// ones. With the adaptive rule, seeds are added round by round until every alpha's interval is
// narrower than asked, or the maximum is reached. The sweeps of the store's folder are listed and
// reopen here; Report writes mode-report's Markdown and figures for the sweep's dataset.

#include "sweep/Sweep.h"
#include "sweep/SweepDialog.h"
#include "sweep/SweepProgress.h"

#include <QWidget>

#include <memory>

class QComboBox;
class QCustomPlot;
class QLabel;
class QProcess;
class QPushButton;
class QTableWidget;

namespace mode {

struct StudyRun;
struct StoreRead;

class SweepView : public QWidget {
    Q_OBJECT
  public:
    explicit SweepView(QWidget* parent = nullptr);
    ~SweepView() override;
    void setStorePath(const QString& path);
    QString sweepsFolder() const; // <the store's folder>/sweeps

    // Starts (or resumes) the sweep file; false with a message where it cannot be read.
    bool start(const SweepPlanChoice& plan);
    // Shows a sweep file's progress without running it (a finished or stopped sweep).
    bool open(const QString& file);
    void pause(); // runs stop cleanly; resume() continues
    void resume();
    void stop(); // as pause, and says stopped
    // Ends a running sweep (as stop) and waits up to `ms` for it; for closing the window.
    void finish(int ms);

    bool isRunning() const;
    qint64 sweepProcessId() const;             // mode-sweep's pid (0: none)
    int exitCode() const { return exitCode_; } // mode-sweep's last exit code (-1: none yet)
    int count(PointState s) const;
    int seeds() const { return seeds_; }
    QString answer() const;
    QString message() const;
    QTableWidget* queue() const { return queue_; }
    QCustomPlot* plot() const { return plot_; }
    bool writeReport(const QString& folder); // mode-report, in the background; reportWritten

  signals:
    void progressed();        // a read of the store is on show
    void ended(int exitCode); // mode-sweep ended and no round follows
    void reportWritten(bool ok, const QString& message);
    // The Open report button under a written report: its REPORT.md.
    void openReportRequested(const QString& file);

  private:
    void launch();
    void onProcessEnded(int code, const QString& output);
    enum class State { Idle, Running, Pausing, Paused, Stopping, Stopped, Done };
    void signalSweep(State next);
    void buttons();
    bool growSeeds(int seeds);
    void poll(bool force = false);
    void show(StoreRead read, int readNumber);
    void listSweeps();
    bool loadFile(const QString& file);

    QString store_;
    QString file_;
    Sweep sweep_;
    SweepPlanChoice plan_;
    int seeds_ = 0;
    QProcess* process_ = nullptr;
    State state_ = State::Idle;
    int exitCode_ = -1;
    bool decide_ = false;     // an adaptive round ended: decide on a read made after it
    bool endPending_ = false; // ended() follows a read made after mode-sweep ended
    bool reading_ = false, readAgain_ = false;
    int readsStarted_ = 0, endedAtRead_ = 0;
    QString problem_; // the last line of a failed mode-sweep
    std::vector<PointStatus> status_;
    QString answer_;
    std::string dataset_; // the sweep's runs' dataset, for the report
    QComboBox* list_;
    QLabel* header_;
    QLabel* answerLabel_;
    QPushButton* pause_;
    QPushButton* stop_;
    QPushButton* report_;
    QLabel* reportNote_;      // where the last report went, or why not
    QPushButton* openReport_; // opens it
    QString reportFile_;
    QTableWidget* queue_;
    QCustomPlot* plot_;
};

} // namespace mode

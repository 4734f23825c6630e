// SPDX-License-Identifier: GPL-3.0-or-later
#include "MainWindow.h"

#include "Theme.h"
#include "WheelGuard.h"
#include "config/Settings.h"
#include "util/Format.h"

#include "predict/StoredPrediction.h"
#include "store/Resume.h"

#include "compare/CompareView.h"
#include "panels/ExperimentPanel.h"
#include "panels/PredictionDialog.h"
#include "panels/ReportViewer.h"
#include "panels/RoutingExplorer.h"
#include "panels/RunBrowser.h"
#include "plots/AccuracyPlot.h"
#include "plots/ExpertPanel.h"
#include "plots/LossPlot.h"
#include "plots/RoutingHeatmap.h"
#include "store/RunStore.h"
#include "sweep/SweepDialog.h"
#include "sweep/SweepView.h"
#include "train/Trainer.h"

#include <QAction>

#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QGridLayout>
#include <QGroupBox>
#include <QGuiApplication>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QScrollArea>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTextBrowser>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>
#include <QWhatsThis>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

namespace mode {

namespace {
QGroupBox* boxed(const QString& title, QWidget* content) {
    auto* box = new QGroupBox(title);
    auto* l = new QVBoxLayout(box);
    l->setContentsMargins(4, 4, 4, 4);
    l->addWidget(content);
    return box;
}

// A page that scrolls (both ways, as needed) once its room is smaller than its minimum.
QScrollArea* scrolled(QWidget* page, const char* name) {
    auto* scroll = new QScrollArea;
    scroll->setObjectName(name);
    scroll->setWidget(page);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    return scroll;
}

QString describeRun(qint64 id, const QString& dataset, int experts, double alpha,
                    const QString& what) {
    return QObject::tr("<b>%1</b> &nbsp; %2, %3 experts, \u03b1 = %4 &nbsp; <i>%5</i>")
        .arg(id >= 0 ? QObject::tr("run %1").arg(id) : QObject::tr("run"))
        .arg(dataset.toHtmlEscaped())
        .arg(experts)
        .arg(alpha)
        .arg(what);
}

// Every knob of the form, from the settings table: its label, its key in experiment files and
// its help.
QString settingsHelp() {
    QString items;
    for (const auto& s : mode::experimentSettings()) {
        if (s.label.empty()) continue;
        items +=
            QString("<li><b>%1</b> <code>%2</code>: %3</li>")
                .arg(QString::fromStdString(s.label).toHtmlEscaped(), QString::fromStdString(s.key),
                     QString::fromStdString(s.fullHelp()).toHtmlEscaped());
    }
    return items;
}

QString durationText(double seconds) {
    return QString::fromStdString(mode::formatDuration(seconds, "-"));
}
} // namespace

MainWindow::MainWindow(const QString& storePath, QWidget* parent)
    : QMainWindow(parent), storePath_(storePath) {
    WheelGuard::install(); // the wheel scrolls the form and the dialogs, it never edits them
    setWindowTitle(tr("MoDE Workbench"));
    auto* split = splitter_ = new QSplitter(Qt::Horizontal, this);
    split->setObjectName("mainSplitter");
    setAcceptDrops(true);

    // Left: the experiment and its buttons (View > Experiment panel hides it).
    auto* left = experimentColumn_ = new QWidget;
    left->setObjectName("experimentColumn");
    auto* leftLayout = new QVBoxLayout(left);
    panel_ = new ExperimentPanel;
    auto* scroll = new QScrollArea;
    scroll->setWidget(panel_);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setObjectName("experimentScroll");
    // The form fits its column (narrow combo boxes, wrapped texts): it scrolls down, never across.
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    leftLayout->addWidget(scroll, 1);
    whyDisabled_ = new QLabel;
    whyDisabled_->setObjectName("whyDisabled");
    whyDisabled_->setWordWrap(true);
    whyDisabled_->setStyleSheet(QString("color: %1;").arg(errorTextColor(palette()).name()));
    leftLayout->addWidget(whyDisabled_);
    auto* buttons = new QHBoxLayout;
    start_ = new QPushButton(tr("Start"));
    pause_ = new QPushButton(tr("Pause"));
    stop_ = new QPushButton(tr("Stop"));
    start_->setObjectName("start");
    pause_->setObjectName("pause");
    stop_->setObjectName("stop");
    start_->setToolTip(tr("Train this experiment (Ctrl+R)"));
    pause_->setToolTip(tr("Pause or resume the run (Ctrl+P)"));
    stop_->setToolTip(tr("Stop the run; it is stored as stopped (Ctrl+.)"));
    buttons->addWidget(start_);
    buttons->addWidget(pause_);
    buttons->addWidget(stop_);
    sweepButton_ = new QPushButton(tr("Sweep…"));
    sweepButton_->setObjectName("newSweep");
    sweepButton_->setToolTip(tr("Sweep this experiment over alpha (and seeds, and any other "
                                "setting): which alpha helps, with its confidence interval"));
    buttons->addWidget(sweepButton_);
    connect(sweepButton_, &QPushButton::clicked, this, [this] { newSweep(); });
    leftLayout->addLayout(buttons);
    resumeRun_ = new QPushButton(tr("Resume stored run"));
    resumeRun_->setObjectName("resumeRun");
    resumeRun_->setToolTip(tr(
        "Continue the stopped or interrupted run on show from its last checkpoint (Ctrl+Shift+R)"));
    leftLayout->addWidget(resumeRun_);
    // Narrow enough for a 1024-px window (the form scrolls down, never across).
    left->setMinimumWidth(300);
    split->addWidget(left);

    // Right: the run, then the history.
    auto* rightSplit = rightSplitter_ = new QSplitter(Qt::Vertical);
    rightSplit->setObjectName("runSplitter");
    auto* runArea = new QWidget;
    auto* runLayout = new QVBoxLayout(runArea);
    runLayout->setContentsMargins(0, 0, 0, 0);
    messageBar_ = new QLabel;
    messageBar_->setObjectName("messageBar");
    messageBar_->setWordWrap(true);
    messageBar_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    messageBar_->setVisible(false);
    runLayout->addWidget(messageBar_);
    title_ = new QLabel(tr(
        "Press Start to train the experiment on the left, or open a run from the history below."));
    title_->setObjectName("runTitle");
    title_->setWordWrap(true);
    runLayout->addWidget(title_);
    auto* grid = new QGridLayout;
    loss_ = new LossPlot;
    accuracy_ = new AccuracyPlot;
    heatmap_ = new RoutingHeatmap;
    connect(heatmap_, &RoutingHeatmap::cellClicked, this,
            [this](int row, int expert, bool classRows) {
                showExplorer(expert, classRows ? row : -1);
            });
    experts_ = new ExpertPanel;
    grid->addWidget(boxed(tr("Loss"), loss_), 0, 0);
    grid->addWidget(boxed(tr("Accuracy"), accuracy_), 0, 1);
    grid->addWidget(boxed(tr("Routing: which rows go to which expert"), heatmap_), 1, 0);
    grid->addWidget(boxed(tr("Experts: probing accuracy and load"), experts_), 1, 1);
    runLayout->addLayout(grid, 1);
    compare_ = new CompareView;
    compare_->setStorePath(storePath_);
    views_ = new QTabWidget;
    views_->setObjectName("views");
    // The Run and Compare pages scroll where the window is smaller than they need: the run
    // table's splitter can give the table most of the height, and neither widens the window.
    views_->addTab(scrolled(runArea, "runScroll"), tr("Run"));
    compareScroll_ = scrolled(compare_, "compareScroll");
    views_->addTab(compareScroll_, tr("Compare"));
    explorer_ = new RoutingExplorer;
    views_->addTab(explorer_, tr("Explorer"));
    sweep_ = new SweepView;
    sweep_->setObjectName("sweepView");
    sweep_->setStorePath(storePath_);
    views_->addTab(sweep_, tr("Sweep"));
    // A report is said where it was asked for (the Sweep tab, with its Open button).
    connect(sweep_, &SweepView::openReportRequested, this,
            [this](const QString& file) { openReport(file); });
    rightSplit->addWidget(views_);
    history_ = new RunBrowser;
    rightSplit->addWidget(boxed(tr("Runs"), history_));
    // The run table gets two fifths of the height: at least 8 rows at 1920x1080, where runs
    // are picked for comparison (the splitter moves it further; its place is remembered).
    rightSplit->setChildrenCollapsible(false); // dragged up, the tabs stay in sight
    rightSplit->setStretchFactor(0, 3);
    rightSplit->setStretchFactor(1, 2);
    rightSplit->setSizes({600, 400});
    split->addWidget(rightSplit);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({420, 1000});
    setCentralWidget(split);

    // Status bar: state, progress of the epoch and of the step, speed, ETA, device.
    state_ = new QLabel(tr("ready"));
    state_->setObjectName("state");
    epochProgress_ = new QProgressBar;
    epochProgress_->setFormat(tr("epoch %v/%m"));
    // Wide enough for "epoch 1000/1000" in the font of the day.
    epochProgress_->setMinimumWidth(fontMetrics().horizontalAdvance("epoch 10000/10000") + 16);
    epochProgress_->setMaximumWidth(220);
    stepProgress_ = new QProgressBar;
    stepProgress_->setFormat(tr("step %v/%m"));
    stepProgress_->setMinimumWidth(fontMetrics().horizontalAdvance("step 100000/100000") + 16);
    stepProgress_->setMaximumWidth(220);
    speed_ = new QLabel;
    speed_->setObjectName("speed");
    eta_ = new QLabel;
    eta_->setObjectName("eta");
    device_ = new QLabel(tr("device: %1").arg(QString::fromStdString(availableDevices().back())));
    statusBar()->addWidget(state_, 1);
    statusBar()->addPermanentWidget(epochProgress_);
    statusBar()->addPermanentWidget(stepProgress_);
    statusBar()->addPermanentWidget(speed_);
    statusBar()->addPermanentWidget(eta_);
    statusBar()->addPermanentWidget(device_);

    buildMenus();

    connect(start_, &QPushButton::clicked, this, &MainWindow::startRun);
    connect(pause_, &QPushButton::clicked, this, &MainWindow::pauseOrResume);
    connect(stop_, &QPushButton::clicked, this, &MainWindow::stopRun);
    connect(resumeRun_, &QPushButton::clicked, this, &MainWindow::resumeStoredRun);
    connect(panel_, &ExperimentPanel::validityChanged, this,
            [this](bool, const QString&) { updateButtons(); });
    connect(&session_, &TrainingSession::runStarted, this, &MainWindow::onRunStarted);
    connect(&session_, &TrainingSession::stepsArrived, this, &MainWindow::onSteps);
    connect(&session_, &TrainingSession::epochArrived, this, &MainWindow::onEpoch);
    connect(&session_, &TrainingSession::runEnded, this, &MainWindow::onRunEnded);
    connect(&session_, &TrainingSession::runFailedToStart, this, &MainWindow::onRunFailedToStart);
    connect(&session_, &TrainingSession::dataLoading, this, &MainWindow::onDataLoading);
    connect(&session_, &TrainingSession::stoppedWhileLoading, this,
            &MainWindow::onStoppedWhileLoading);
    connect(&session_, &TrainingSession::pausedChanged, this, &MainWindow::onPausedChanged);
    connect(history_, &RunBrowser::runActivated, this, &MainWindow::openStoredRun);
    connect(&follower_, &StoredRunFollower::opened, this, &MainWindow::onStoredRunOpened);
    connect(&follower_, &StoredRunFollower::grew, this, &MainWindow::onStoredRunGrew);
    connect(&follower_, &StoredRunFollower::failed, this, &MainWindow::onStoredRunFailed);
    connect(history_, &RunBrowser::compareRequested, this, &MainWindow::compareRuns);
    connect(history_, &RunBrowser::storeError, this,
            [this](const QString& m) { showMessage(m, true); });

    history_->setStorePath(storePath_);
    updateButtons();
    // The first window takes the screen's available area (a remembered size replaces it, see
    // restoreSettings); fitToScreen keeps it inside.
    const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
    const QSize room = screen ? screen->availableGeometry().size() : QSize(1360, 860);
    // Room for a title bar and borders (fitToScreen trims to the real frame once shown).
    resize(room.shrunkBy(QMargins(4, 32, 4, 4)).expandedTo(minimumSizeHint()));
    fitToScreen();
}

void MainWindow::fitToScreen() {
    // Never larger than the screen it opens on, frame included (a 1366x768 laptop would hide the
    // Start button and the status bar below its edge), and inside it.
    const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
    if (!screen) return;
    const QRect room = screen->availableGeometry();
    const QRect outer = frameGeometry(), inner = geometry();
    const QMargins frame(inner.left() - outer.left(), inner.top() - outer.top(),
                         outer.right() - inner.right(), outer.bottom() - inner.bottom());
    const QSize most = room.size().shrunkBy(frame).expandedTo(minimumSize());
    const QSize size = this->size().boundedTo(most);
    if (size != this->size()) resize(size);
    const QRect whole = frameGeometry().isValid()
                            ? QRect(frameGeometry().topLeft(), size.grownBy(frame))
                            : QRect(pos(), size);
    if (!room.contains(whole))
        move(std::clamp(whole.left(), room.left(),
                        std::max(room.left(), room.right() - whole.width() + 1)),
             std::clamp(whole.top(), room.top(),
                        std::max(room.top(), room.bottom() - whole.height() + 1)));
}

QSize MainWindow::sizeHint() const {
    const QScreen* screen = this->screen() ? this->screen() : QGuiApplication::primaryScreen();
    const QSize wanted = QMainWindow::sizeHint();
    return screen ? wanted.boundedTo(screen->availableSize()) : wanted;
}

void MainWindow::setExperimentPanelVisible(bool visible) {
    experimentColumn_->setVisible(visible);
    if (experimentPanelAction_->isChecked() != visible) experimentPanelAction_->setChecked(visible);
}

bool MainWindow::experimentPanelVisible() const {
    return !experimentColumn_->isHidden();
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    // The frame's size is known once the window manager has framed the window.
    QTimer::singleShot(0, this, &MainWindow::fitToScreen);
}

MainWindow::~MainWindow() {
    session_.stopAndWait();
}

void MainWindow::buildMenus() {
    auto* file = menuBar()->addMenu(tr("&File"));
    auto* open =
        file->addAction(tr("&Open data file\u2026"), this, qOverload<>(&MainWindow::openDataFile));
    open->setShortcut(QKeySequence::Open);
    file->addAction(tr("Open &report\u2026"), this, [this] {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open a report"), QString(),
                                                          tr("Markdown (*.md)"));
        if (!path.isEmpty()) openReport(path);
    });
    file->addSeparator();
    auto* quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    auto* run = menuBar()->addMenu(tr("&Run"));
    startAction_ = run->addAction(tr("&Start"), this, &MainWindow::startRun);
    startAction_->setShortcuts({QKeySequence(Qt::CTRL | Qt::Key_R), QKeySequence(Qt::Key_F5)});
    pauseAction_ = run->addAction(tr("&Pause / Resume"), this, &MainWindow::pauseOrResume);
    pauseAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    stopAction_ = run->addAction(tr("S&top"), this, &MainWindow::stopRun);
    stopAction_->setShortcuts(
        {QKeySequence(Qt::CTRL | Qt::Key_Period), QKeySequence(Qt::SHIFT | Qt::Key_F5)});
    resumeRunAction_ = run->addAction(tr("&Resume stored run"), this, &MainWindow::resumeStoredRun);
    resumeRunAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
    run->addSeparator();
    auto* newSweepAction = run->addAction(tr("New s&weep…"), this, [this] { newSweep(); });
    newSweepAction->setToolTip(tr("Sweep the experiment in the form over alpha and seeds"));
    run->addSeparator();
    predictAction_ =
        run->addAction(tr("Predict on a &file\u2026"), this, [this] { predictOnFile(0); });
    predictAction_->setToolTip(tr("The selected run's model on a data file: predictions, "
                                  "gate weights and each expert's own prediction"));
    exportModelAction_ =
        run->addAction(tr("E&xport model\u2026"), this, [this] { exportModel(0); });
    exportModelAction_->setToolTip(
        tr("The selected run's model as TorchScript for PyTorch, with its preprocessing"));

    auto* view = menuBar()->addMenu(tr("&View"));
    auto* logY = view->addAction(tr("&Logarithmic loss axis"));
    logY->setCheckable(true);
    logY->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(logY, &QAction::toggled, this, [this](bool on) { loss_->setLogY(on); });
    experimentPanelAction_ = view->addAction(tr("&Experiment panel"));
    experimentPanelAction_->setObjectName("experimentPanelAction");
    experimentPanelAction_->setCheckable(true);
    experimentPanelAction_->setChecked(true);
    experimentPanelAction_->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_B));
    experimentPanelAction_->setToolTip(
        tr("Show or hide the experiment form (more room for plots)"));
    connect(experimentPanelAction_, &QAction::toggled, this,
            [this](bool on) { setExperimentPanelVisible(on); });
    view->addSeparator();
    auto* refresh = view->addAction(tr("&Refresh run history"), history_, &RunBrowser::refresh);
    refresh->setShortcut(QKeySequence::Refresh);

    auto* help = menuBar()->addMenu(tr("&Help"));
    auto* explain = help->addAction(tr("&MoDE and its knobs"), this, [this] {
        auto* box = new QTextBrowser;
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->setObjectName("helpViewer");
        box->setWindowTitle(tr("MoDE and its knobs"));
        box->setHtml(helpText());
        box->resize(QSize(720, 760).boundedTo(screen()->availableSize() * 0.9));
        closeOnEscapeOrCtrlW(box);
        box->show();
    });
    explain->setShortcut(QKeySequence::HelpContents);
    help->addAction(QWhatsThis::createAction(this)); // Shift+F1: a plot's help, and a field's
    help->addAction(tr("&About MoDE Workbench"), this, [this] {
        QMessageBox::about(
            this, tr("About MoDE Workbench"),
            tr("<b>MoDE Workbench %1</b><p>Mixture-of-Experts models trained with mutual "
               "distillation "
               "among the experts.</p><p>LibTorch %2, Qt %3<br>Devices: %4<br>Run store: %5</p>")
                .arg(MODE_VERSION)
                .arg(QString::fromStdString(libtorchVersion()))
                .arg(qVersion())
                .arg(QString::fromStdString([] {
                    std::string s;
                    for (const auto& d : availableDevices())
                        s += (s.empty() ? "" : ", ") + d;
                    return s;
                }()))
                .arg(storePath_.toHtmlEscaped()));
    });
}

QString MainWindow::message() const {
    return messageBar_->isVisible() ? messageBar_->text() : QString();
}

void MainWindow::showMessage(const QString& text, bool error) {
    messageBar_->setText(text);
    messageBar_->setStyleSheet(bannerStyle(palette(), error));
    messageBar_->setVisible(!text.isEmpty());
}

void MainWindow::updateButtons() {
    const bool running = session_.isRunning();
    const auto issues = panel_->issues();
    const bool canStart = !running && issues.empty();
    start_->setEnabled(canStart);
    startAction_->setEnabled(canStart);
    pause_->setEnabled(running);
    pauseAction_->setEnabled(running);
    stop_->setEnabled(running);
    stopAction_->setEnabled(running);
    const bool resumable = !running && resumableRunId_ > 0;
    resumeRun_->setVisible(resumable);
    resumeRunAction_->setEnabled(resumable);
    pause_->setText(session_.isPaused() ? tr("Resume") : tr("Pause"));
    panel_->setEnabled(!running);
    if (!running && !issues.empty())
        whyDisabled_->setText(
            tr("Start is disabled: %1")
                .arg(QString::fromStdString(issues.front().field + ": " + issues.front().message)));
    else
        whyDisabled_->clear();
    whyDisabled_->setVisible(!whyDisabled_->text().isEmpty());
    if (running) state_->setText(session_.isPaused() ? tr("paused") : tr("training"));
    if (running && session_.isPaused()) { // no time to go or speed while nothing moves
        eta_->clear();
        speed_->clear();
    }
}

void MainWindow::clearViews() {
    loss_->clear();
    accuracy_->clear();
    heatmap_->clear();
    experts_->clear();
}

bool MainWindow::startRun() {
    if (session_.isRunning() || !panel_->isValid()) return false;
    showMessage({}, false);
    follower_.forget();
    clearViews();
    explorer_->clear();
    views_->setCurrentIndex(0);
    const auto c = panel_->config();
    if (!session_.start(c, storePath_)) return false;
    resumableRunId_ = -1;
    title_->setText(describeRun(-1, QString::fromStdString(c.datasetLabel()), c.model.experts,
                                c.loss.alpha, tr("starting")));
    state_->setText(tr("loading the data"));
    epochProgress_->setRange(0, c.train.epochs);
    epochProgress_->setValue(0);
    shownRunId_ = -1;
    updateButtons();
    return true;
}

void MainWindow::pauseOrResume() {
    if (!session_.isRunning()) return;
    if (session_.isPaused())
        session_.resume();
    else
        session_.pause();
}

void MainWindow::stopRun() {
    if (!session_.isRunning()) return;
    state_->setText(tr("stopping"));
    session_.stop();
}

void MainWindow::openDataFile() {
    if (session_.isRunning()) return;
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Open a data file"), QString(),
                                     tr("Data files (*.csv *.tsv *.txt);;All files (*)"));
    if (!path.isEmpty()) openDataFile(path);
}

bool MainWindow::openDataFile(const QString& path) {
    if (session_.isRunning()) return false;
    const QString error = panel_->openDataFile(path);
    showMessage(error, !error.isEmpty());
    if (error.isEmpty()) state_->setText(tr("opened %1").arg(QFileInfo(path).fileName()));
    return error.isEmpty();
}

void MainWindow::onRunStarted(const RunStart& s, qint64 runId) {
    liveStart_ = s;
    explorer_->showLiveRun(panel_->config(), s, storePath_, runId);
    shownRunId_ = runId;
    accuracy_->setClassification(s.classification);
    experts_->setClassification(s.classification);
    const auto c = panel_->config();
    title_->setText(
        describeRun(runId, QString::fromStdString(s.datasetName), s.experts, c.loss.alpha,
                    tr("training on %1, %2 train / %3 val / %4 test rows, %5 parameters")
                        .arg(QString::fromStdString(s.device))
                        .arg(s.trainRows)
                        .arg(s.valRows)
                        .arg(s.testRows)
                        .arg(s.parameters)));
    liveTitle_ = title_->text();
    device_->setText(tr("device: %1").arg(QString::fromStdString(s.device)));
    epochProgress_->setRange(0, s.epochs);
    epochProgress_->setValue(0);
    stepProgress_->setRange(0, static_cast<int>(s.stepsPerEpoch));
    stepProgress_->setValue(0);
    updateButtons();
    history_->refresh(); // the new run is listed as running
}

void MainWindow::onPausedChanged(bool paused) {
    updateButtons();
    if (!session_.isRunning()) return;
    // The header and the run's row say so, not "training on cpu" and "running".
    title_->setText(paused ? liveTitle_ + tr(" &nbsp; <b>paused</b> (Resume: Ctrl+P)")
                           : liveTitle_);
    if (session_.runId() > 0) history_->showPaused(session_.runId(), paused);
}

void MainWindow::onSteps(const std::vector<StepMetrics>& steps) {
    loss_->addSteps(steps);
    const auto& last = steps.back();
    stepProgress_->setValue(static_cast<int>(last.stepInEpoch));
    epochProgress_->setValue(last.epoch - 1);
    if (session_.isPaused()) return; // steps taken before the pause, drained now
    speed_->setText(tr("%1 samples/s").arg(last.samplesPerSecond, 0, 'f', 0));
    const double total = static_cast<double>(liveStart_.stepsPerEpoch) * liveStart_.epochs;
    if (last.step > 0 && last.wallSeconds > 0)
        eta_->setText(
            tr("ETA %1").arg(durationText((total - last.step) * last.wallSeconds / last.step)));
}

void MainWindow::onEpoch(const EpochMetrics& e) {
    loss_->addEpoch(e);
    accuracy_->addEpoch(e);
    heatmap_->addEpoch(e);
    experts_->showEpoch(e);
    epochProgress_->setValue(e.epoch);
    explorer_->addEpoch(e, liveStart_.classNames);
    if (session_.runId() > 0) history_->showEpoch(session_.runId(), e, liveStart_.epochs);
    emit epochShown(e.epoch);
}

void MainWindow::onRunEnded(const RunResult& r, qint64 runId) {
    const auto c = panel_->config();
    const QString status = QString::fromStdString(toString(r.status));
    title_->setText(describeRun(runId, QString::fromStdString(liveStart_.datasetName),
                                liveStart_.experts, c.loss.alpha,
                                tr("%1 after %2 epochs in %3")
                                    .arg(status)
                                    .arg(r.epochsCompleted)
                                    .arg(durationText(r.wallSeconds))));
    state_->setText(status);
    eta_->clear();
    if (r.status == RunStatus::Finished) {
        stepProgress_->setValue(stepProgress_->maximum());
        showMessage({}, false);
    } else if (r.status == RunStatus::Stopped) {
        showMessage(tr("Run %1 stopped: %2. It is stored as stopped.")
                        .arg(runId)
                        .arg(QString::fromStdString(r.message)),
                    false);
    } else {
        showMessage(tr("Run %1 %2: %3").arg(runId).arg(status, QString::fromStdString(r.message)),
                    true);
    }
    updateButtons();
    history_->refresh();
    // A stopped or interrupted run is read back from the store as a stored run on show, so
    // Resume stored run is offered at once (its checkpoint and history come from the store).
    if (runId > 0 && (r.status == RunStatus::Stopped || r.status == RunStatus::Interrupted)) {
        reopenedAfterStop_ = runId;
        follower_.follow(storePath_, runId);
    }
    emit runFinished(r, runId);
}

void MainWindow::onRunFailedToStart(const QString& message) {
    title_->setText(tr("The run could not start."));
    state_->setText(tr("ready"));
    // Nothing of a run on show: empty panels and status.
    clearViews();
    shownRunId_ = -1;
    epochProgress_->reset();
    stepProgress_->reset();
    speed_->clear();
    eta_->clear();
    showMessage(message, true);
    updateButtons();
}

void MainWindow::onDataLoading(qint64 done, qint64 total) {
    if (state_->text() == tr("stopping")) return;
    state_->setText(QString::fromStdString(
        formatLoadProgress("the data", static_cast<double>(done), static_cast<double>(total))));
}

void MainWindow::onStoppedWhileLoading(const QString& message) {
    title_->setText(tr("Stopped while the data loaded."));
    state_->setText(tr("ready"));
    showMessage(tr("%1. Nothing was stored.").arg(message), false);
    updateButtons();
}

bool MainWindow::openReport(const QString& path) {
    auto* viewer = new ReportViewer;
    viewer->setAttribute(Qt::WA_DeleteOnClose);
    viewer->resize(QSize(900, 1000).boundedTo(screen()->availableSize() * 0.9));
    QString error;
    if (!viewer->openFile(path, &error)) {
        delete viewer;
        showMessage(tr("Cannot open the report %1: %2").arg(path, error), true);
        return false;
    }
    viewer->show();
    return true;
}

void MainWindow::compareRuns(const QList<qint64>& ids) {
    views_->setCurrentWidget(compareScroll_);
    compare_->setRuns(ids);
}

bool MainWindow::openStoredRun(qint64 id) {
    if (session_.isRunning()) {
        showMessage(tr("A run is training: stop it before opening another one."), false);
        return false;
    }
    state_->setText(tr("reading stored run %1").arg(id));
    follower_.follow(storePath_, id);
    return true;
}

void MainWindow::onStoredRunFailed(const QString& message) {
    showMessage(message, true);
    state_->setText(tr("ready"));
    emit storedRunShown(follower_.runId(), false);
}

void MainWindow::onStoredRunOpened(const StoredRunUpdate& whole) {
    if (session_.isRunning()) return; // a run started while the store was read
    shown_ = whole;
    const RunRecord& r = shown_.record;
    explorer_->showRun(storePath_, whole.id, r.start.classNames);
    showHistory();
    try {
        ExperimentConfig again = r.config(); // ready to run again or vary: under its own name
        again.name.clear();
        panel_->setConfig(again);
    } catch (const std::exception&) {
        // A config of an older version: the views still show the run.
    }
    shownRunId_ = whole.id;
    // Nothing of the last live run in the status bar (its speed, time to go, step).
    speed_->clear();
    eta_->clear();
    stepProgress_->reset();
    history_->selectRuns({whole.id});
    views_->setCurrentIndex(0);
    describeStoredRun(r);
    if (std::exchange(reopenedAfterStop_, -1) != whole.id) // else the run's end stays said
        showMessage(r.message.empty() ? QString() : QString::fromStdString(r.message),
                    r.status != RunStatus::Finished && r.status != RunStatus::Stopped);
    emit storedRunShown(whole.id, true);
}

// What another process added to the stored run on show: onto the plots as it comes.
void MainWindow::onStoredRunGrew(const StoredRunUpdate& added) {
    if (session_.isRunning() || added.id != shownRunId_) return;
    shown_.record = added.record;
    shown_.checkpointEpoch = added.checkpointEpoch;
    shown_.checkpointStep = added.checkpointStep;
    shown_.steps.insert(shown_.steps.end(), added.steps.begin(), added.steps.end());
    shown_.epochs.insert(shown_.epochs.end(), added.epochs.begin(), added.epochs.end());
    if (!added.steps.empty()) loss_->addSteps(added.steps);
    for (const auto& e : added.epochs) {
        loss_->addEpoch(e);
        accuracy_->addEpoch(e);
        heatmap_->addEpoch(e);
        explorer_->addEpoch(e, added.record.start.classNames);
    }
    if (!added.epochs.empty()) experts_->showEpoch(added.epochs.back());
    describeStoredRun(added.record);
    if (added.record.status != RunStatus::Running)
        showMessage(added.record.message.empty() ? QString()
                                                 : QString::fromStdString(added.record.message),
                    added.record.status != RunStatus::Finished &&
                        added.record.status != RunStatus::Stopped);
}

void MainWindow::describeStoredRun(const RunRecord& r) {
    const bool live = r.status == RunStatus::Running;
    title_->setText(describeRun(
        r.id, QString::fromStdString(r.dataset), r.experts, r.alpha,
        tr("%1: %2, %3/%4 epochs%5")
            .arg(live ? tr("followed live") : tr("stored"))
            .arg(QString::fromStdString(toString(r.status)))
            .arg(r.epochsCompleted)
            .arg(r.start.epochs)
            .arg(r.name.empty() ? QString()
                                : ", \"" + QString::fromStdString(r.name).toHtmlEscaped() + "\"")));
    state_->setText(live ? tr("following run %1, trained by another process").arg(r.id)
                         : tr("showing stored run %1").arg(r.id));
    epochProgress_->setRange(0, std::max(1, r.start.epochs));
    epochProgress_->setValue(r.epochsCompleted);
    resumableRunId_ = canResume(r) ? r.id : -1;
    updateButtons();
}

void MainWindow::showHistory(int maxEpoch, std::int64_t maxStep) {
    std::vector<StepMetrics> steps;
    for (const auto& m : shown_.steps)
        if (maxStep <= 0 || m.step <= maxStep) steps.push_back(m);
    clearViews();
    accuracy_->setClassification(shown_.record.start.classification);
    experts_->setClassification(shown_.record.start.classification);
    if (!steps.empty()) loss_->addSteps(steps);
    const EpochMetrics* last = nullptr;
    for (const auto& e : shown_.epochs) {
        if (maxEpoch > 0 && e.epoch > maxEpoch) continue;
        loss_->addEpoch(e);
        accuracy_->addEpoch(e);
        heatmap_->addEpoch(e);
        explorer_->addEpoch(e, shown_.record.start.classNames);
        last = &e;
    }
    if (last) experts_->showEpoch(*last);
}

bool MainWindow::resumeStoredRun() {
    if (session_.isRunning() || resumableRunId_ <= 0 || resumableRunId_ != shown_.id) return false;
    const qint64 id = resumableRunId_;
    follower_.forget();
    // The history the resumed run keeps: up to its checkpoint (the worker reads the checkpoint
    // itself and says what stops a resume, if anything does).
    if (shown_.checkpointEpoch <= 0) {
        showMessage(tr("Run %1 has no checkpoint to resume from.").arg(id), true);
        return false;
    }
    showHistory(shown_.checkpointEpoch, shown_.checkpointStep);
    showMessage({}, false);
    views_->setCurrentIndex(0);
    if (!session_.continueRun(id, storePath_)) return false;
    state_->setText(tr("loading the data to resume run %1").arg(id));
    resumableRunId_ = -1;
    updateButtons();
    return true;
}

void MainWindow::showExplorer(int expert, int classIndex) {
    views_->setCurrentWidget(explorer_);
    explorer_->setExpert(expert);
    explorer_->setClass(classIndex);
}

qint64 MainWindow::targetRunId() const {
    const auto selected = history_->selectedRunIds();
    return selected.size() == 1 ? selected.front() : shownRunId_;
}

void MainWindow::chooseModelEpoch(qint64 id, const QString& what, std::function<void(int)> then) {
    // The kept epochs, each with its validation score.
    using Kept = std::vector<std::pair<int, double>>;
    auto* watcher = new QFutureWatcher<Kept>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, what, then] {
        watcher->deleteLater();
        const Kept epochs = watcher->result();
        if (epochs.size() < 2) {
            then(0);
            return;
        }
        QStringList items;
        for (auto e = epochs.rbegin(); e != epochs.rend(); ++e)
            items << (e == epochs.rbegin() ? tr("%1 (the last; validation %2)")
                                           : tr("%1 (validation %2)"))
                         .arg(e->first)
                         .arg(e->second, 0, 'f', 4);
        QInputDialog ask(this);
        ask.setObjectName("modelEpoch");
        ask.setWindowTitle(what);
        ask.setLabelText(tr("The model of epoch:"));
        ask.setComboBoxItems(items);
        if (ask.exec() != QDialog::Accepted) return;
        const auto chosen = ask.comboBoxItems().indexOf(ask.textValue()); // the last first
        if (chosen >= 0) then(epochs[epochs.size() - 1 - static_cast<std::size_t>(chosen)].first);
    });
    const std::string store = storePath_.toStdString();
    watcher->setFuture(QtConcurrent::run([store, id]() -> Kept {
        try {
            const RunStore runs(store, RunStore::Mode::ReadOnly);
            std::map<int, double> validation;
            const auto series = runs.series({id}, "val_accuracy");
            for (const auto& p : series.at(id))
                validation[static_cast<int>(p.epoch)] = p.value;
            Kept kept;
            for (const int e : runs.modelEpochs(id))
                kept.emplace_back(e, validation.count(e) ? validation[e] : std::nan(""));
            return kept;
        } catch (const std::exception&) {
            return {}; // the prediction or export that follows says what is wrong
        }
    }));
}

bool MainWindow::predictOnFile(qint64 id, const QString& chosen, int epoch) {
    if (id <= 0) id = targetRunId();
    if (id <= 0) {
        showMessage(tr("Select a run in the table (or open one) to predict with its model."),
                    false);
        return false;
    }
    if (epoch < 0) {
        chooseModelEpoch(id, tr("Predict with run %1").arg(id),
                         [this, id, chosen](int e) { predictOnFile(id, chosen, e); });
        return true;
    }
    const QString path = chosen.isEmpty()
                             ? QFileDialog::getOpenFileName(
                                   this, tr("Predict with run %1 on a file").arg(id), QString(),
                                   tr("Data files (*.csv *.tsv *.txt);;All files (*)"))
                             : chosen;
    if (path.isEmpty()) return false;
    const QString before = state_->text();
    state_->setText(tr("predicting with run %1").arg(id));
    // The result, or why there is none (exceptions stay on the worker).
    struct Outcome {
        std::shared_ptr<StoredPrediction> prediction;
        QString error;
    };
    auto* watcher = new QFutureWatcher<Outcome>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, id, before] {
        watcher->deleteLater();
        const Outcome out = watcher->result();
        if (state_->text() == tr("predicting with run %1").arg(id)) state_->setText(before);
        if (!out.prediction) {
            showMessage(tr("Predicting with run %1: %2").arg(id).arg(out.error), true);
            return;
        }
        auto* dialog = new PredictionDialog(std::move(*out.prediction), this);
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->show();
        emit predictionShown(dialog);
    });
    const std::string store = storePath_.toStdString(), file = path.toStdString();
    watcher->setFuture(QtConcurrent::run([store, id, file, epoch]() -> Outcome {
        try {
            return {std::make_shared<StoredPrediction>(
                        predictStoredRun(store, id, PredictionRequest{file, {}, epoch})),
                    {}};
        } catch (const std::exception& e) {
            return {nullptr, QString::fromUtf8(e.what())};
        }
    }));
    return true;
}

bool MainWindow::exportModel(qint64 id, const QString& chosen, int epoch) {
    if (id <= 0) id = targetRunId();
    if (id <= 0) {
        showMessage(tr("Select a run in the table (or open one) to export its model."), false);
        return false;
    }
    if (epoch < 0) {
        chooseModelEpoch(id, tr("Export the model of run %1").arg(id),
                         [this, id, chosen](int e) { exportModel(id, chosen, e); });
        return true;
    }
    const QString path =
        chosen.isEmpty()
            ? QFileDialog::getSaveFileName(this, tr("Export the model of run %1").arg(id),
                                           QString("run%1.pt").arg(id), tr("TorchScript (*.pt)"))
            : chosen;
    if (path.isEmpty()) return false;
    auto* watcher = new QFutureWatcher<std::pair<bool, QString>>(this); // ok, sidecar or error
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, id, path] {
        watcher->deleteLater();
        const auto [ok, what] = watcher->result();
        const QString text =
            ok ? tr("Run %1's model: %2 (TorchScript) and %3.").arg(id).arg(path, what)
               : tr("Exporting run %1's model: %2").arg(id).arg(what);
        showMessage(text, !ok);
        emit modelExported(ok, text);
    });
    const std::string store = storePath_.toStdString(), file = path.toStdString();
    watcher->setFuture(QtConcurrent::run([store, id, file, epoch]() -> std::pair<bool, QString> {
        try {
            const auto [sidecar, modelEpoch] = exportStoredModel(store, id, file, epoch);
            return {true, QObject::tr("%1 (its preprocessing), the model of epoch %2")
                              .arg(QString::fromStdString(sidecar))
                              .arg(modelEpoch)};
        } catch (const std::exception& e) {
            return {false, QString::fromUtf8(e.what())};
        }
    }));
    return true;
}

QString MainWindow::helpText() const {
    return tr("<h2>Mixture of Experts with mutual distillation (MoDE)</h2>"
              "<p>A Mixture of Experts (MoE) trains several small networks, the <i>experts</i>, "
              "and a <i>gate</i> that weighs "
              "their outputs for each sample; the prediction is the gate-weighted mixture. Trained "
              "alone, each expert sees "
              "only the samples its gate sends it and can miss what the others learn. MoDE adds a "
              "<i>mutual distillation</i> "
              "loss that pulls every expert's output towards the others' on every sample, weighted "
              "by <b>alpha</b>: a little "
              "knowledge sharing makes each expert better on its own samples (measured by "
              "<i>expert probing</i>: each expert "
              "alone on the samples it is chosen for) without making the experts all the same.</p>"
              "<p>Too much alpha makes the experts identical and the mixture a single network "
              "again, so the run also shows "
              "how the gate routes: the routing heatmap (which classes or known sub-tasks go to "
              "which expert), the gate "
              "routing accuracy (sub-tasks matched one-to-one to experts), the experts' load and "
              "their similarity.</p>"
              "<p><b>Alpha</b>, the distillation weight \u03b1, is the knob the method is about: 0 "
              "trains the plain MoE.</p>"
              "<h3>The knobs</h3><ul>"
              "<li><b>Dataset</b>: a built-in (regimes: tabular data with known sub-tasks; "
              "Fashion-MNIST; Debian package "
              "descriptions) or your own CSV (a target column, optional sub-task column) or TSV "
              "text (label, TAB, text). "
              "Drop a file on the window to open it.</li>%2</ul>"
              "<p>Every run is stored (%1); a stopped or interrupted run continues with Run &gt; "
              "Resume stored run. The "
              "command-line tools mode-train, mode-sweep, mode-runs and mode-report run the same "
              "engine headless.</p>")
        .arg(storePath_.toHtmlEscaped(), settingsHelp());
}

void MainWindow::restoreSettings(bool experimentToo) {
    settingsRestored_ = true;
    QSettings s;
    if (s.contains("window/geometry")) {
        restoreGeometry(s.value("window/geometry").toByteArray());
        fitToScreen(); // remembered on a bigger screen
    }
    if (s.contains("window/state")) restoreState(s.value("window/state").toByteArray());
    if (s.contains("window/splitter"))
        splitter_->restoreState(s.value("window/splitter").toByteArray());
    if (s.contains("window/runSplitter"))
        rightSplitter_->restoreState(s.value("window/runSplitter").toByteArray());
    setExperimentPanelVisible(s.value("window/experimentPanel", true).toBool());
    compare_->restoreSettings(s);
    if (!experimentToo || !s.contains("experiment/last")) return;
    try {
        const auto j = nlohmann::json::parse(s.value("experiment/last").toString().toStdString());
        panel_->setConfig(ExperimentConfig::fromJson(j, "the last experiment"));
    } catch (const std::exception&) {
        // Saved by another version, or edited by hand: the defaults stay.
    }
}

void MainWindow::saveSettings() const {
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState());
    s.setValue("window/splitter", splitter_->saveState());
    s.setValue("window/runSplitter", rightSplitter_->saveState());
    s.setValue("window/experimentPanel", experimentPanelVisible());
    compare_->saveSettings(s);
    s.setValue("experiment/last", QString::fromStdString(panel_->config().toJson().dump()));
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (!session_.isRunning() && urls.size() == 1 && urls.front().isLocalFile())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (session_.isRunning() || urls.size() != 1 || !urls.front().isLocalFile()) return;
    event->acceptProposedAction();
    openDataFile(urls.front().toLocalFile());
}

SweepDialog* MainWindow::newSweep() {
    QDir().mkpath(sweep_->sweepsFolder());
    auto* dialog = new SweepDialog(panel_->config(), sweep_->sweepsFolder(), this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &QDialog::accepted, this, [this, dialog] {
        if (sweep_->start(dialog->plan())) views_->setCurrentWidget(sweep_);
        showMessage(sweep_->isRunning() ? QString() : sweep_->message(), !sweep_->isRunning());
    });
    dialog->show();
    return dialog;
}

bool MainWindow::runSweep(const QString& file, int jobs) {
    SweepPlanChoice plan;
    plan.file = file;
    plan.jobs = jobs;
    views_->setCurrentWidget(sweep_);
    if (sweep_->start(plan)) return true;
    showMessage(sweep_->message(), true);
    return false;
}

bool MainWindow::confirmCloseMidRun() {
    if (!askBeforeClosing_ || (!session_.isRunning() && !sweep_->isRunning())) return true;
    QMessageBox ask(QMessageBox::Question, tr("Close MoDE Workbench"),
                    session_.isRunning()
                        ? tr("A run is training. Stop it and close? It is stored as stopped, and "
                             "Run > Resume stored run continues it from its last checkpoint.")
                        : tr("A sweep is running. Stop it and close? Its runs are stored as "
                             "stopped, and the Sweep tab resumes it."),
                    QMessageBox::NoButton, this);
    ask.setObjectName("closeMidRun");
    QPushButton* stop = ask.addButton(tr("Stop and close"), QMessageBox::AcceptRole);
    ask.addButton(QMessageBox::Cancel);
    ask.setDefaultButton(stop);
    ask.exec();
    return ask.clickedButton() == stop;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!confirmCloseMidRun()) {
        event->ignore();
        return;
    }
    if (settingsRestored_) saveSettings();
    if (sweep_->isRunning()) {
        state_->setText(tr("stopping the sweep"));
        sweep_->finish(15000); // its runs are stored as stopped; Resume continues them
    }
    if (session_.isRunning()) {
        state_->setText(tr("stopping the run"));
        session_.stopAndWait(); // stored as stopped
    }
    event->accept();
}

} // namespace mode

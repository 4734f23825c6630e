// SPDX-License-Identifier: GPL-3.0-or-later
#include "sweep/SweepView.h"

#include "Theme.h"

#include "TableCell.h"
#include "analysis/AlphaStudy.h"
#include "plots/AlphaSweepPlot.h"
#include "plots/PlotStyle.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProcess>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>
#include <qcustomplot.h>

#include <csignal>
#include <fstream>
#include <set>

namespace mode {

namespace {} // namespace

// One read of the store on a worker thread: the points' states (the runs as mode-sweep -j N
// --threads 1 stores them) and the finished runs with their last epochs.
struct StoreRead {
    std::vector<PointStatus> status;
    std::vector<StudyRun> study;
    bool ok = false;
};

namespace {

StoreRead readStore(const std::string& path, const Sweep& sweep) {
    StoreRead r;
    try {
        const RunStore store(path, RunStore::Mode::ReadOnly);
        r.status = sweepStatus(sweep, 1, store.listRuns());
        r.study = loadStudyRuns(store);
        r.ok = true;
    } catch (const std::exception&) {
    }
    return r;
}

// "regimes-alpha (alpha x 6, seed x 4: 24 runs)" from the file's grid (a small JSON file).
QString describeSweepFile(const QFileInfo& f) {
    std::ifstream in(f.absoluteFilePath().toStdString());
    const auto j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("grid") || !j["grid"].is_object())
        return f.completeBaseName() + QObject::tr(" (not a sweep file)");
    QStringList fields;
    std::size_t runs = 1;
    for (auto it = j["grid"].begin(); it != j["grid"].end(); ++it) {
        const std::size_t n = it->is_array() ? it->size() : 0;
        runs *= n;
        const std::string key = it.key();
        fields << QString("%1 x %2")
                      .arg(QString::fromStdString(key.substr(key.rfind('.') + 1)))
                      .arg(n);
    }
    return QObject::tr("%1 (%2: %3 runs)").arg(f.completeBaseName(), fields.join(", ")).arg(runs);
}

// "alpha 0.3: +0.8 points [0.2, 1.4], 9 of 10 seeds better; significant after Holm".
QString effectInWords(const AlphaEffect& e) {
    const PairedComparison& c = *e.vsZero;
    const auto points = [](double v) { return QString::number(100.0 * v, 'f', 1); };
    return QObject::tr("\u03b1 %1: %2%3 points [%4, %5], %6 of %7 seeds better")
        .arg(e.alpha)
        .arg(c.meanDifference >= 0 ? "+" : "")
        .arg(points(c.meanDifference))
        .arg(points(c.tInterval.lower))
        .arg(points(c.tInterval.upper))
        .arg(c.improvement.successes)
        .arg(c.n);
}

} // namespace

SweepView::SweepView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    auto* bar = new QHBoxLayout;
    list_ = new QComboBox(this);
    list_->setObjectName("sweepList");
    list_->setToolTip(tr("The sweeps of this store's folder (sweeps/*.json): choose one to see "
                         "its progress and answer"));
    // Long names must not widen the window past a small screen.
    list_->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    list_->setMinimumContentsLength(28);
    bar->addWidget(new QLabel(tr("Sweep"), this));
    bar->addWidget(list_);
    pause_ = new QPushButton(tr("Pause"), this);
    pause_->setObjectName("sweepPause");
    stop_ = new QPushButton(tr("Stop"), this);
    stop_->setObjectName("sweepStop");
    report_ = new QPushButton(tr("Write report\u2026"), this);
    report_->setObjectName("sweepReport");
    report_->setToolTip(tr("mode-report's REPORT.md and figures for the sweep's dataset"));
    for (QPushButton* b : {pause_, stop_, report_})
        bar->addWidget(b);
    bar->addStretch();
    layout->addLayout(bar);
    header_ = new QLabel(tr("No sweep yet: Run > New sweep\u2026 starts one from the experiment "
                            "in the form."),
                         this);
    header_->setObjectName("sweepHeader");
    header_->setWordWrap(true);
    layout->addWidget(header_);
    // Where a report was asked for: where it went (or why not) and a button that opens it.
    auto* reportRow = new QHBoxLayout;
    reportNote_ = new QLabel(this);
    reportNote_->setObjectName("sweepReportNote");
    reportNote_->setWordWrap(true);
    reportNote_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    openReport_ = new QPushButton(tr("Open report"), this);
    openReport_->setObjectName("sweepOpenReport");
    reportRow->addWidget(reportNote_, 1);
    reportRow->addWidget(openReport_);
    layout->addLayout(reportRow);
    reportNote_->setVisible(false);
    openReport_->setVisible(false);
    connect(openReport_, &QPushButton::clicked, this,
            [this] { emit openReportRequested(reportFile_); });
    answerLabel_ = new QLabel(this);
    answerLabel_->setObjectName("sweepAnswer");
    answerLabel_->setWordWrap(true);
    answerLabel_->setTextFormat(Qt::RichText);
    layout->addWidget(answerLabel_);
    auto* split = new QSplitter(Qt::Horizontal, this);
    queue_ = new QTableWidget(split);
    queue_->setObjectName("sweepQueue");
    queue_->verticalHeader()->setVisible(false);
    plot_ = new QCustomPlot(split);
    plot_->setObjectName("sweepPlot");
    stylePlot(plot_, true, tr("No finished pair yet"));
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setSizes({420, 800}); // the plot gets the room; the queue scrolls
    queue_->setMinimumWidth(160);
    plot_->setMinimumWidth(240);
    layout->addWidget(split, 1);
    connect(pause_, &QPushButton::clicked, this,
            [this] { state_ == State::Running ? pause() : resume(); });
    connect(stop_, &QPushButton::clicked, this, &SweepView::stop);
    connect(report_, &QPushButton::clicked, this, [this] {
        const QString folder =
            QDir(sweepsFolder())
                .filePath(sweep_.name.empty() ? QString("report")
                                              : QString::fromStdString(sweep_.name) + "-report");
        writeReport(folder);
    });
    connect(list_, &QComboBox::activated, this, [this] {
        if (state_ != State::Running) open(list_->currentData().toString());
    });
    auto* timer = new QTimer(this);
    timer->setInterval(1000);
    connect(timer, &QTimer::timeout, this, [this] { poll(); });
    timer->start();
    pause_->setEnabled(false);
    stop_->setEnabled(false);
    report_->setEnabled(false);
}

SweepView::~SweepView() {
    finish(15000);
}

void SweepView::setStorePath(const QString& path) {
    store_ = path;
    listSweeps();
}

QString SweepView::sweepsFolder() const {
    return QDir(QFileInfo(store_).absolutePath()).filePath("sweeps");
}

void SweepView::listSweeps() {
    const QSignalBlocker block(list_);
    list_->clear();
    for (const QFileInfo& f : QDir(sweepsFolder()).entryInfoList({"*.json"}, QDir::Files))
        list_->addItem(describeSweepFile(f), f.absoluteFilePath());
    const QFileInfo shown(file_);
    if (!file_.isEmpty() && list_->findData(shown.absoluteFilePath()) < 0)
        list_->addItem(describeSweepFile(shown), shown.absoluteFilePath()); // from elsewhere
    list_->setCurrentIndex(list_->findData(QFileInfo(file_).absoluteFilePath()));
}

bool SweepView::loadFile(const QString& file) {
    try {
        sweep_ = Sweep::fromFile(file.toStdString());
    } catch (const std::exception& e) {
        header_->setText(QString::fromStdString(e.what()));
        return false;
    }
    file_ = file;
    seeds_ = 0;
    for (const auto& [field, values] : sweep_.grid)
        if (field == "train.seed") seeds_ = static_cast<int>(values.size());
    status_.clear();
    listSweeps();
    return true;
}

bool SweepView::open(const QString& file) {
    if (process_ || decide_ || !loadFile(file)) return false;
    state_ = State::Idle;
    plan_.file = file;
    buttons();
    poll(true);
    return true;
}

bool SweepView::start(const SweepPlanChoice& plan) {
    if (process_ || decide_) {
        header_->setText(tr("A sweep is running: stop it first."));
        return false;
    }
    if (!loadFile(plan.file)) return false;
    plan_ = plan;
    exitCode_ = -1;
    launch();
    return true;
}

// Pause/Resume, Stop and Report as the state allows: while runs are being stopped, nothing.
void SweepView::buttons() {
    const bool running = state_ == State::Running;
    const bool ending = state_ == State::Pausing || state_ == State::Stopping;
    pause_->setText(running || ending ? tr("Pause") : tr("Resume"));
    pause_->setEnabled(!ending && !file_.isEmpty());
    stop_->setEnabled(running);
    report_->setEnabled(!running && !ending && !file_.isEmpty());
}

void SweepView::launch() {
    process_ = new QProcess(this);
    process_->setProcessChannelMode(QProcess::MergedChannels);
    connect(process_, &QProcess::finished, this,
            [this, p = process_](int code, QProcess::ExitStatus status) {
                p->deleteLater();
                if (process_ == p) process_ = nullptr;
                onProcessEnded(status == QProcess::CrashExit ? 1 : code,
                               QString::fromLocal8Bit(p->readAll()).trimmed());
            });
    connect(process_, &QProcess::errorOccurred, this,
            [this, p = process_](QProcess::ProcessError e) {
                if (e != QProcess::FailedToStart) return; // the others end in finished()
                p->deleteLater();
                if (process_ == p) process_ = nullptr;
                onProcessEnded(2, tr("mode-sweep cannot be started: %1").arg(p->errorString()));
            });
    state_ = State::Running;
    buttons();
    header_->setText(tr("Running %1 (%2 runs at once) into %3")
                         .arg(QString::fromStdString(sweep_.name))
                         .arg(plan_.jobs)
                         .arg(store_));
    process_->start(
        QCoreApplication::applicationDirPath() + "/mode-sweep",
        {file_, "--db", store_, "--jobs", QString::number(plan_.jobs), "--threads", "1", "-q"});
}

// mode-sweep ended: paused or stopped as asked, another adaptive round, or the end (told once
// the read of the store after it is on show).
void SweepView::onProcessEnded(int code, const QString& output) {
    exitCode_ = code;
    problem_ = code != 0 && code != 130 ? output.section('\n', -1) : QString();
    if (state_ == State::Pausing || state_ == State::Stopping) {
        state_ = state_ == State::Pausing ? State::Paused : State::Stopped;
    } else if (code == 0 && plan_.adaptive && seeds_ < plan_.maxSeeds) {
        decide_ = true; // on a read of the store made after this: enough seeds, or more
    } else {
        state_ = State::Done;
        endPending_ = true;
    }
    buttons();
    endedAtRead_ = readsStarted_; // reads started before now are stale for the decision
    poll(true);
}

void SweepView::signalSweep(State next) {
    if (state_ == State::Running && decide_) { // between two adaptive rounds: no process
        decide_ = false;
        state_ = next == State::Pausing ? State::Paused : State::Stopped;
        buttons();
        return;
    }
    if (state_ != State::Running || !process_ || process_->processId() <= 0) return;
    state_ = next;
    buttons();
    ::kill(static_cast<pid_t>(process_->processId()), SIGINT); // runs store themselves, stopped
}

void SweepView::pause() {
    signalSweep(State::Pausing);
}

void SweepView::stop() {
    signalSweep(State::Stopping);
}

void SweepView::resume() {
    if (process_ || decide_ || file_.isEmpty() || state_ == State::Pausing ||
        state_ == State::Stopping)
        return;
    if (plan_.file.isEmpty()) plan_.file = file_;
    exitCode_ = -1;
    launch();
}

void SweepView::finish(int ms) {
    decide_ = false;
    if (!process_ || process_->state() == QProcess::NotRunning) return;
    if (state_ == State::Running && process_->processId() > 0) { // one SIGINT: runs stored
        state_ = State::Stopping;
        ::kill(static_cast<pid_t>(process_->processId()), SIGINT);
    }
    if (!process_->waitForFinished(ms)) {
        process_->kill();
        process_->waitForFinished(2000);
    }
}

bool SweepView::isRunning() const {
    return process_ && process_->state() != QProcess::NotRunning;
}

qint64 SweepView::sweepProcessId() const {
    return process_ ? process_->processId() : 0;
}

int SweepView::count(PointState s) const {
    return static_cast<int>(std::count_if(status_.begin(), status_.end(),
                                          [s](const PointStatus& p) { return p.state == s; }));
}

QString SweepView::answer() const {
    return answer_;
}

QString SweepView::message() const {
    return header_->text();
}

void SweepView::poll(bool force) {
    if (store_.isEmpty() || file_.isEmpty()) return;
    if (reading_) {
        readAgain_ = readAgain_ || force; // a read made after now is wanted
        return;
    }
    // Idle, paused, stopped or ended: the store is read when asked, not every second.
    if (!force && state_ != State::Running && state_ != State::Pausing && state_ != State::Stopping)
        return;
    reading_ = true;
    const int read = ++readsStarted_;
    auto* w = new QFutureWatcher<StoreRead>(this);
    connect(w, &QFutureWatcherBase::finished, this, [this, w, read] {
        w->deleteLater();
        reading_ = false;
        StoreRead r = w->result();
        if (r.ok) show(std::move(r), read);
        if (readAgain_) {
            readAgain_ = false;
            poll(true);
        }
    });
    const std::string path = store_.toStdString();
    const Sweep sweep = sweep_;
    w->setFuture(QtConcurrent::run([path, sweep] { return readStore(path, sweep); }));
}

// The queue, the alpha sweep and the answer from one read of the store.
void SweepView::show(StoreRead read, int readNumber) {
    status_ = std::move(read.status);
    std::vector<StudyRun>& study = read.study;
    std::set<std::int64_t> ours;
    for (const auto& p : status_)
        if (p.run > 0) ours.insert(p.run);
    std::vector<StudyRun> mine;
    for (auto& s : study)
        if (ours.count(s.record.id)) mine.push_back(std::move(s));
    if (!mine.empty()) dataset_ = mine.front().record.dataset; // as mode-report names it
    queue_->clear();
    queue_->setColumnCount(3);
    queue_->setHorizontalHeaderLabels({tr("point"), tr("state"), tr("run")});
    queue_->setRowCount(static_cast<int>(status_.size()));
    for (std::size_t i = 0; i < status_.size(); ++i) {
        const auto& p = status_[i];
        const int row = static_cast<int>(i);
        queue_->setItem(row, 0, readOnlyCell(QString::fromStdString(p.name)));
        queue_->setItem(row, 1, readOnlyCell(tr(toString(p.state)), p.state == PointState::Failed));
        queue_->setItem(row, 2, readOnlyCell(p.run > 0 ? QString::number(p.run) : QString()));
    }
    queue_->resizeColumnsToContents();
    // Each configuration of the sweep (one, or one per value of another varied setting).
    const auto studies = groupStudies(mine);
    std::vector<AlphaSeries> series;
    QStringList words;
    int next = seeds_;
    for (const auto& s : studies) {
        auto effects = alphaEffects(s, mine, "test_accuracy");
        AlphaSeries line{QString::fromStdString(studies.size() > 1 ? s.label() : s.dataset), {}};
        const AlphaEffect* best = nullptr;
        QStringList worse; // significantly below alpha = 0 after Holm
        for (const auto& e : effects) {
            if (e.alpha > 0 && e.vsZero && e.holmP < 0.05 && e.vsZero->meanDifference < 0)
                worse << QString::number(e.alpha);
            if (e.alpha == 0 && !e.values.empty())
                line.points.push_back({0.0, 0.0, std::nan(""), std::nan(""), false});
            if (e.alpha == 0 || !e.vsZero) continue;
            line.points.push_back({e.alpha, e.vsZero->meanDifference, e.vsZero->tInterval.lower,
                                   e.vsZero->tInterval.upper, e.holmP < 0.05});
            const bool significant = e.holmP < 0.05 && e.vsZero->meanDifference > 0;
            const bool bestSignificant =
                best && best->holmP < 0.05 && best->vsZero->meanDifference > 0;
            if (!best || (significant && !bestSignificant) ||
                (significant == bestSignificant &&
                 e.vsZero->meanDifference > best->vsZero->meanDifference))
                best = &e;
        }
        if (!line.points.empty()) series.push_back(std::move(line));
        const QString prefix = studies.size() > 1 ? QString::fromStdString(s.label()) + ": " : "";
        if (!best)
            words << prefix + tr("not yet established: no \u03b1 has been paired with \u03b1 = 0 "
                                 "on a seed yet");
        else if (best->holmP < 0.05 && best->vsZero->meanDifference > 0)
            words << prefix + effectInWords(*best) + tr("; <b>significant after Holm</b>");
        else
            words << prefix + tr("not yet established; best so far ") + effectInWords(*best) +
                         tr(" (Holm-adjusted p %1)").arg(best->holmP, 0, 'g', 2);
        if (!worse.isEmpty())
            words.back() += tr("; significantly worse than \u03b1 = 0 after Holm: \u03b1 %1")
                                .arg(worse.join(", "));
        if (decide_) { // as many seeds more as fill the runs at once
            const std::size_t perSeed =
                std::max<std::size_t>(1, sweep_.size() / std::max(1, seeds_));
            const int step = static_cast<int>((plan_.jobs + perSeed - 1) / perSeed);
            next =
                std::max(next, nextSeedCount(effects, plan_.width, seeds_, step, plan_.maxSeeds));
        }
    }
    answer_ = words.join("<br>");
    answerLabel_->setText(answer_);
    drawAlphaSweep(plot_, series, tr("test accuracy: \u03b1 \u2212 (\u03b1 = 0), same seed"), 0.0,
                   tr("no difference from \u03b1 = 0"));
    const bool fresh = readNumber > endedAtRead_; // made after mode-sweep ended
    header_->setText(tr("%1: %2 of %3 finished, %4 running, %5 failed, %6 stopped, %7 waiting%8")
                         .arg(QString::fromStdString(sweep_.name))
                         .arg(count(PointState::Finished))
                         .arg(status_.size())
                         .arg(count(PointState::Running))
                         .arg(count(PointState::Failed))
                         .arg(count(PointState::Stopped))
                         .arg(count(PointState::Waiting))
                         .arg(state_ == State::Paused    ? tr(" (paused)")
                              : state_ == State::Stopped ? tr(" (stopped)")
                              : state_ == State::Done    ? tr(" (ended)")
                                                         : QString()) +
                     (problem_.isEmpty() ? QString() : "\n" + problem_));
    if (decide_ && fresh) {
        decide_ = false;
        if (next > seeds_ && growSeeds(next)) {
            launch();
        } else {
            state_ = State::Done;
            endPending_ = true;
            buttons();
        }
    }
    emit progressed();
    if (endPending_ && fresh) { // the end, told with what it left on show
        endPending_ = false;
        emit ended(exitCode_);
    }
}

// The sweep file with seeds 1..seeds (a seed list of other values grows from its largest).
bool SweepView::growSeeds(int seeds) {
    for (auto& [field, values] : sweep_.grid) {
        if (field != "train.seed") continue;
        std::int64_t last = 0;
        for (const auto& v : values)
            last = std::max<std::int64_t>(last, v.is_number_integer() ? v.get<std::int64_t>() : 0);
        while (static_cast<int>(values.size()) < seeds)
            values.push_back(++last);
    }
    std::ofstream out(file_.toStdString(), std::ios::trunc);
    out << sweep_.toFileText();
    if (!out.flush()) {
        problem_ = tr("cannot write %1: the sweep ends here").arg(file_);
        return false;
    }
    seeds_ = seeds;
    return true;
}

bool SweepView::writeReport(const QString& folder) {
    if (sweep_.name.empty()) return false;
    const std::string dataset = dataset_;
    auto* p = new QProcess(this);
    p->setProcessChannelMode(QProcess::MergedChannels);
    connect(p, &QProcess::finished, this, [this, p, folder](int code) {
        p->deleteLater();
        const QString out = QString::fromLocal8Bit(p->readAll()).trimmed();
        reportFile_ = QDir(folder).filePath("REPORT.md");
        reportNote_->setText(code == 0 ? tr("Report written to %1.").arg(reportFile_)
                                       : tr("The report could not be written: %1").arg(out));
        reportNote_->setStyleSheet(code == 0 ? QString() : bannerStyle(palette(), true));
        reportNote_->setVisible(true);
        openReport_->setVisible(code == 0);
        emit reportWritten(code == 0, code == 0 ? tr("report written to %1").arg(folder) : out);
    });
    QStringList args{"--db", store_,    "--out",
                     folder, "--title", tr("Sweep %1").arg(QString::fromStdString(sweep_.name))};
    if (!dataset.empty()) args << "--dataset" << QString::fromStdString(dataset);
    p->start(QCoreApplication::applicationDirPath() + "/mode-report", args);
    return true;
}

} // namespace mode

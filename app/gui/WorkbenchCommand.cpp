// SPDX-License-Identifier: GPL-3.0-or-later
#include "gui/WorkbenchCommand.h"

#include "MainWindow.h"
#include "Theme.h"
#include "compare/CompareView.h"
#include "compare/ExplorerPair.h"
#include "config/ExperimentConfig.h"
#include "panels/ExperimentPanel.h"
#include "panels/RoutingExplorer.h"
#include "store/RunStore.h"
#include "sweep/SweepView.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QGuiApplication>
#include <QIcon>
#include <QStyle>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <iostream>
#include <optional>

namespace mode {
namespace {

// The command line without Qt's own options (-platform offscreen, -style fusion, -session ...
// from the session manager): those are QApplication's, not ours.
QStringList ownArguments(int argc, char** argv) {
    static const QStringList qtWithValue{
        "-platform",    "-platformpluginpath", "-platformtheme", "-plugin",     "-qwindowgeometry",
        "-qwindowicon", "-qwindowtitle",       "-style",         "-stylesheet", "-session",
        "-display",     "-geometry",           "-title",         "-name",       "-qmljsdebugger"};
    static const QStringList qtFlags{"-reverse", "-widgetcount", "-nograb", "-dograb", "-sync"};
    QStringList arguments;
    for (int i = 0; i < argc; ++i) {
        const QString a = QString::fromLocal8Bit(argv[i]);
        if (i > 0 && qtWithValue.contains(a.section('=', 0, 0))) {
            if (!a.contains('=')) ++i; // its value
            continue;
        }
        if (i > 0 && qtFlags.contains(a)) continue;
        arguments << a;
    }
    return arguments;
}

struct Options {
    QCommandLineOption db{
        "db", "Run store (SQLite); default: " + QString::fromStdString(RunStore::defaultPath()),
        "FILE"};
    QCommandLineOption config{"config", "Open this experiment file (JSON).", "FILE"};
    QCommandLineOption runDefault{
        "run-default", "Start the experiment at once (the built-in default unless --config)."};
    QCommandLineOption openRun{"open-run", "Show this stored run.", "ID"};
    QCommandLineOption compare{"compare", "Open the compare view on these stored runs.",
                               "ID,ID,..."};
    QCommandLineOption compareTab{
        "compare-tab",
        "With --compare: show this tab: curves, config, metrics, routing, experts, sweep or "
        "explorer.",
        "TAB", "curves"};
    QCommandLineOption report{"report", "Open this report (mode-report's REPORT.md).", "FILE"};
    QCommandLineOption screenshot{"screenshot", "Save a screenshot of the window to FILE and quit.",
                                  "FILE"};
    QCommandLineOption afterEpochs{
        "after-epochs", "With --screenshot and a run: take it after N epochs.", "N", "0"};
    QCommandLineOption afterSeconds{
        "after-seconds", "With --screenshot: take it after S seconds, whatever is happening.", "S"};
    QCommandLineOption view{"view",
                            "With --open-run: run (the default) or explorer (each expert's test "
                            "rows at the last kept epoch).",
                            "VIEW", "run"};
    QCommandLineOption expert{"expert",
                              "With --view explorer: this expert's rows (default 0); with "
                              "--compare-tab explorer: the left run's expert.",
                              "K", "0"};
    QCommandLineOption palette{"palette", "light, dark, or system (the desktop's; the default).",
                               "NAME", "system"};
    QCommandLineOption sweep{"sweep",
                             "Open the Sweep tab and start (or resume) this sweep file at once; "
                             "with --screenshot, take it when the sweep has ended and exit with "
                             "mode-sweep's exit code.",
                             "SWEEP.json"};
    QCommandLineOption jobs{"jobs", "With --sweep: runs at the same time (default: one per core).",
                            "N"};
};

void describe(QCommandLineParser& cli, const Options& o) {
    cli.setApplicationDescription(
        "MoDE Workbench: train Mixture-of-Experts models with mutual distillation among the "
        "experts and watch "
        "them live.\n\nExamples:\n  mode-workbench\n  mode-workbench --db runs.sqlite --config "
        "experiments/regimes.json\n"
        "  mode-workbench --run-default --screenshot shot.png --after-epochs 10\n"
        "  mode-workbench --db runs.sqlite --screenshot now.png --after-seconds 5\n"
        "  mode-workbench --db runs.sqlite --compare 3,4,7 --screenshot compare.png\n"
        "  mode-workbench --db runs.sqlite --sweep sweeps/regimes-alpha.json");
    cli.addOptions({o.db, o.config, o.runDefault, o.openRun, o.compare, o.compareTab, o.report,
                    o.screenshot, o.afterEpochs, o.afterSeconds, o.palette, o.view, o.expert,
                    o.sweep, o.jobs});
    cli.addPositionalArgument(
        "file", "A data file to open (CSV, or TSV text), as from the file manager.", "[file]");
}

int fail(const QString& what) {
    std::cerr << "mode-workbench: " << what.toStdString() << "\n";
    return 2;
}

// Opens what the command line names (a data file, a stored run, a report); an exit code where
// the program must end, nothing to go on.
std::optional<int> openNamed(MainWindow& window, const QCommandLineParser& cli, const Options& o) {
    const bool shooting = cli.isSet(o.screenshot);
    if (const auto files = cli.positionalArguments();
        !files.isEmpty() && !window.openDataFile(files.front())) {
        fail(window.message());
        if (shooting) return 2;
    }
    if (cli.isSet(o.openRun)) {
        // Read in the background: the window goes on drawing while the run is read.
        bool shown = false;
        QEventLoop wait;
        QObject::connect(&window, &MainWindow::storedRunShown, &wait, [&](qint64, bool ok) {
            shown = ok;
            wait.quit();
        });
        if (window.openStoredRun(cli.value(o.openRun).toLongLong())) wait.exec();
        if (!shown) {
            fail(window.message());
            if (shooting) return 2;
        }
        if (cli.value(o.view) == "explorer") {
            // The explorer reads the run's kept epochs in the background too.
            QEventLoop read;
            QObject::connect(window.routingExplorer(), &RoutingExplorer::shown, &read,
                             &QEventLoop::quit);
            QTimer::singleShot(10000, &read, &QEventLoop::quit);
            if (!window.routingExplorer()->isReady()) read.exec();
            window.showExplorer(cli.value(o.expert).toInt());
            // And its inputs (read from the run's data file), for a picture.
            QEventLoop inputs;
            QObject::connect(window.routingExplorer(), &RoutingExplorer::inputsShown, &inputs,
                             &QEventLoop::quit);
            QTimer::singleShot(30000, &inputs, &QEventLoop::quit);
            if (!window.routingExplorer()->inputsReady()) inputs.exec();
        }
    }
    if (cli.isSet(o.report) && !window.openReport(cli.value(o.report)))
        return fail(window.message());
    return std::nullopt;
}

// --compare ID,ID,...: the compare view on those runs, on the tab asked for.
std::optional<int> openCompare(MainWindow& window, const QCommandLineParser& cli,
                               const Options& o) {
    QList<qint64> ids;
    for (const QString& part : cli.value(o.compare).split(',', Qt::SkipEmptyParts)) {
        bool ok = false;
        const qint64 id = part.trimmed().toLongLong(&ok);
        if (!ok) return fail("--compare: '" + part + "' is not a run id");
        ids << id;
    }
    const QStringList tabs{"curves",  "config", "metrics", "routing",
                           "experts", "sweep",  "explorer"};
    const int tab = tabs.indexOf(cli.value(o.compareTab));
    if (tab < 0)
        return fail("--compare-tab: '" + cli.value(o.compareTab) + "' is not one of " +
                    tabs.join(", "));
    window.compareView()->showTab(tab);
    if (cli.isSet(o.expert))
        window.compareView()->explorerPair()->left()->setExpert(cli.value(o.expert).toInt());
    QObject::connect(window.compareView(), &CompareView::loadFailed, &window,
                     [](const QString& m) { fail(m); });
    window.compareRuns(ids);
    return std::nullopt;
}

// --screenshot: when the compare view has loaded, the run reached --after-epochs or ended, or
// (otherwise) once the window is shown; then the window closes.
void scheduleScreenshot(MainWindow& window, const QCommandLineParser& cli, const Options& o,
                        int& exitCode) {
    const QString file = cli.value(o.screenshot);
    const int epochs = cli.value(o.afterEpochs).toInt();
    window.setAskBeforeClosing(false); // the screenshot is taken, the run stops unasked
    // Offscreen there is no screen to fit (Qt's is 800x800, where the window would open at its
    // minimum): the shot is of a common laptop's 1366x768, unless -qwindowgeometry says otherwise.
    if (QGuiApplication::platformName() == "offscreen" &&
        !QCoreApplication::arguments().join(' ').contains("-qwindowgeometry"))
        QTimer::singleShot(0, &window, [&window] { window.resize(1366, 768); });
    auto shoot = [&window, file, &exitCode] {
        if (!window.grab().save(file)) {
            std::cerr << "mode-workbench: cannot write the screenshot " << file.toStdString()
                      << "\n";
            exitCode = 1;
        } else {
            std::cout << "screenshot saved to " << file.toStdString() << "\n";
        }
        window.close();
    };
    auto taken = std::make_shared<bool>(false);
    auto shootOnce = [taken, shoot] {
        if (*taken) return;
        *taken = true;
        QTimer::singleShot(150, shoot); // let the last repaint land
    };
    if (cli.isSet(o.afterSeconds)) {
        const double seconds = cli.value(o.afterSeconds).toDouble();
        QTimer::singleShot(static_cast<int>(std::max(0.0, seconds) * 1000), &window, shootOnce);
        return;
    }
    if (cli.isSet(o.sweep)) { // when the sweep has ended, with mode-sweep's exit code
        QObject::connect(window.sweepView(), &SweepView::ended, &window,
                         [&exitCode, shootOnce](int code) {
                             exitCode = code;
                             shootOnce();
                         });
    } else if (cli.isSet(o.compare)) {
        // Once loaded; the Explorer tab's two explorers read their runs' rows after that.
        QObject::connect(window.compareView(), &CompareView::loaded, &window, [&window, shootOnce] {
            auto* pair = window.compareView()->explorerPair();
            auto waited = std::make_shared<QElapsedTimer>();
            waited->start();
            auto* poll = new QTimer(&window);
            QObject::connect(poll, &QTimer::timeout, &window, [pair, waited, poll, shootOnce] {
                if ((pair->left()->isReady() && pair->right()->isReady()) ||
                    waited->elapsed() > 10000) {
                    poll->stop();
                    shootOnce();
                }
            });
            poll->start(50);
        });
        QObject::connect(window.compareView(), &CompareView::loadFailed, &window,
                         [&exitCode, &window] {
                             exitCode = 2;
                             window.close();
                         });
    } else if (cli.isSet(o.runDefault)) {
        QObject::connect(&window, &MainWindow::epochShown, &window, [epochs, shootOnce](int e) {
            if (epochs > 0 && e >= epochs) shootOnce();
        });
        QObject::connect(&window, &MainWindow::runFinished, &window, [shootOnce] { shootOnce(); });
    } else {
        QTimer::singleShot(300, shootOnce);
    }
}

int runWindow(const QCommandLineParser& cli, const Options& o) {
    const QString storePath =
        cli.isSet(o.db) ? cli.value(o.db) : QString::fromStdString(RunStore::defaultPath());
    MainWindow window(storePath);
    if (cli.isSet(o.config)) {
        try {
            window.experimentPanel()->setConfig(
                ExperimentConfig::fromFile(cli.value(o.config).toStdString()));
        } catch (const std::exception& e) {
            return fail(e.what());
        }
    }
    // The last session's window layout, and its experiment unless one is asked for.
    if (!cli.isSet(o.screenshot))
        window.restoreSettings(!cli.isSet(o.config) && !cli.isSet(o.runDefault));
    window.show();
    if (auto code = openNamed(window, cli, o)) return *code;
    if (cli.isSet(o.compare))
        if (auto code = openCompare(window, cli, o)) return *code;
    int exitCode = 0;
    if (cli.isSet(o.screenshot)) scheduleScreenshot(window, cli, o, exitCode);
    if (cli.isSet(o.sweep)) {
        bool ok = true;
        const int jobs = cli.isSet(o.jobs) ? cli.value(o.jobs).toInt(&ok)
                                           : std::max(1, QThread::idealThreadCount());
        if (!ok || jobs < 1 || jobs > 256)
            return fail("--jobs: '" + cli.value(o.jobs) + "' is not between 1 and 256");
        if (!window.runSweep(cli.value(o.sweep), jobs))
            return fail("--sweep: " + window.sweepView()->message());
    }
    if (cli.isSet(o.runDefault) && !window.startRun())
        return fail("the experiment cannot start: " + window.message());
    const int rc = QApplication::exec();
    return exitCode ? exitCode : rc;
}

} // namespace

int workbenchCommand(int argc, char** argv) {
    // The command line is read before any window system is touched: --help, --version and
    // mistakes answer without a display.
    QCoreApplication::setApplicationName("mode-workbench");
    QCoreApplication::setOrganizationName("mode-workbench");
    QCoreApplication::setApplicationVersion(MODE_VERSION);
    QCommandLineParser cli;
    const QCommandLineOption helpOption = cli.addHelpOption();
    const QCommandLineOption versionOption = cli.addVersionOption();
    const Options o;
    describe(cli, o);
    // Exit codes as the other tools: 0 done, 1 failed, 2 bad input (QCommandLineParser::process
    // would exit 1 for an unknown flag).
    if (!cli.parse(ownArguments(argc, argv))) return fail(cli.errorText() + " (see --help)");
    bool seconds = true;
    if (cli.isSet(o.afterSeconds) && (cli.value(o.afterSeconds).toDouble(&seconds) < 0 || !seconds))
        return fail("--after-seconds: '" + cli.value(o.afterSeconds) +
                    "' is not a number of seconds >= 0");
    if (!QStringList{"run", "explorer"}.contains(cli.value(o.view)))
        return fail("--view: '" + cli.value(o.view) + "' is not run or explorer");
    const QString paletteName = cli.value(o.palette);
    if (!QStringList{"system", "light", "dark"}.contains(paletteName))
        return fail("--palette: '" + paletteName + "' is not light, dark or system");
    if (cli.isSet(helpOption) || cli.isSet(versionOption)) {
        QCoreApplication info(argc, argv);
        if (cli.isSet(helpOption)) cli.showHelp(0);
        cli.showVersion();
    }
    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName("MoDE Workbench");
    QApplication::setWindowIcon(QIcon(":/icons/mode-workbench.svg"));
    QApplication::setDesktopFileName("io.github.mode_workbench.ModeWorkbench");
    if (paletteName != "system") { // before any window: the plots take their colours from it
        QApplication::setStyle("Fusion");
        QApplication::setPalette(paletteName == "dark" ? darkPalette()
                                                       : QApplication::style()->standardPalette());
    }
    return runWindow(cli, o);
}

} // namespace mode

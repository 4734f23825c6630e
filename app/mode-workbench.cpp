// mode-workbench: the desktop workbench. Thin: parses the command line and opens MainWindow.

#include "MainWindow.h"
#include "config/ExperimentConfig.h"
#include "compare/CompareView.h"
#include "panels/ExperimentPanel.h"
#include "store/RunStore.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QIcon>
#include <QPixmap>
#include <QTimer>

#include <cstdio>
#include <cstring>
#include <memory>
#include <iostream>

using namespace mode;

int main(int argc, char** argv) {
    // The command line is read before any window system is touched: --help, --version and
    // mistakes answer without a display.
    // Qt's own options (-platform offscreen, -style fusion, -session ... from the session
    // manager) are QApplication's, not ours: left out of our parse.
    static const QStringList qtWithValue{"-platform", "-platformpluginpath", "-platformtheme", "-plugin", "-qwindowgeometry",
                                         "-qwindowicon", "-qwindowtitle", "-style", "-stylesheet", "-session", "-display",
                                         "-geometry", "-title", "-name", "-qmljsdebugger"};
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
    QCoreApplication::setApplicationName("mode-workbench");
    QCoreApplication::setOrganizationName("mode-workbench");
    QCoreApplication::setApplicationVersion(MODE_VERSION);

    QCommandLineParser cli;
    cli.setApplicationDescription(
        "MoDE Workbench: train Mixture-of-Experts models with mutual distillation among the experts and watch "
        "them live.\n\nExamples:\n  mode-workbench\n  mode-workbench --db runs.sqlite --config experiments/regimes.json\n"
        "  mode-workbench --run-default --screenshot shot.png --after-epochs 10\n"
        "  mode-workbench --db runs.sqlite --compare 3,4,7 --screenshot compare.png");
    const QCommandLineOption helpOption = cli.addHelpOption();
    const QCommandLineOption versionOption = cli.addVersionOption();
    QCommandLineOption db("db", "Run store (SQLite); default: " + QString::fromStdString(RunStore::defaultPath()), "FILE");
    QCommandLineOption config("config", "Open this experiment file (JSON).", "FILE");
    QCommandLineOption runDefault("run-default", "Start the experiment at once (the built-in default unless --config).");
    QCommandLineOption openRun("open-run", "Show this stored run.", "ID");
    QCommandLineOption compare("compare", "Open the compare view on these stored runs.", "ID,ID,...");
    QCommandLineOption compareTab("compare-tab", "With --compare: show this tab: curves, config, metrics, routing, experts "
                                  "or sweep.", "TAB", "curves");
    QCommandLineOption report("report", "Open this report (mode-report's REPORT.md).", "FILE");
    QCommandLineOption screenshot("screenshot", "Save a screenshot of the window to FILE and quit.", "FILE");
    QCommandLineOption afterEpochs("after-epochs", "With --screenshot and a run: take it after N epochs.", "N", "0");
    cli.addOptions({db, config, runDefault, openRun, compare, compareTab, report, screenshot, afterEpochs});
    cli.addPositionalArgument("file", "A data file to open (CSV, or TSV text), as from the file manager.", "[file]");
    // Exit codes as the other tools: 0 done, 1 failed, 2 bad input (QCommandLineParser::process
    // would exit 1 for an unknown flag).
    if (!cli.parse(arguments)) {
        std::cerr << "mode-workbench: " << cli.errorText().toStdString() << " (see --help)\n";
        return 2;
    }
    if (cli.isSet(helpOption) || cli.isSet(versionOption)) {
        QCoreApplication info(argc, argv);
        if (cli.isSet(helpOption)) cli.showHelp(0);
        cli.showVersion();
    }
    QApplication app(argc, argv);
    QApplication::setApplicationDisplayName("MoDE Workbench");
    QApplication::setWindowIcon(QIcon(":/icons/mode-workbench.svg"));
    QApplication::setDesktopFileName("io.github.mode_workbench.ModeWorkbench");

    const QString storePath = cli.isSet(db) ? cli.value(db) : QString::fromStdString(RunStore::defaultPath());
    MainWindow window(storePath);
    if (cli.isSet(config)) {
        try {
            window.experimentPanel()->setConfig(ExperimentConfig::fromFile(cli.value(config).toStdString()));
        } catch (const std::exception& e) {
            std::cerr << "mode-workbench: " << e.what() << "\n";
            return 2;
        }
    }
    // The last session's window layout, and its experiment unless one is asked for.
    if (!cli.isSet(screenshot)) window.restoreSettings(!cli.isSet(config) && !cli.isSet(runDefault));
    window.show();
    if (const auto files = cli.positionalArguments(); !files.isEmpty() && !window.openDataFile(files.front())) {
        std::cerr << "mode-workbench: " << window.message().toStdString() << "\n";
        if (cli.isSet(screenshot)) return 2;
    }

    if (cli.isSet(openRun) && !window.openStoredRun(cli.value(openRun).toLongLong())) {
        std::cerr << "mode-workbench: " << window.message().toStdString() << "\n";
        if (cli.isSet(screenshot)) return 2;
    }

    if (cli.isSet(report) && !window.openReport(cli.value(report))) {
        std::cerr << "mode-workbench: " << window.message().toStdString() << "\n";
        return 2;
    }
    bool comparing = false;
    if (cli.isSet(compare)) {
        QList<qint64> ids;
        for (const QString& part : cli.value(compare).split(',', Qt::SkipEmptyParts)) {
            bool ok = false;
            const qint64 id = part.trimmed().toLongLong(&ok);
            if (!ok) {
                std::cerr << "mode-workbench: --compare: '" << part.toStdString() << "' is not a run id\n";
                return 2;
            }
            ids << id;
        }
        const QStringList tabs{"curves", "config", "metrics", "routing", "experts", "sweep"};
        const int tab = tabs.indexOf(cli.value(compareTab));
        if (tab < 0) {
            std::cerr << "mode-workbench: --compare-tab: '" << cli.value(compareTab).toStdString() << "' is not one of "
                      << tabs.join(", ").toStdString() << "\n";
            return 2;
        }
        window.compareView()->showTab(tab);
        comparing = true;
        QObject::connect(window.compareView(), &CompareView::loadFailed, &window, [](const QString& m) {
            std::cerr << "mode-workbench: " << m.toStdString() << "\n";
        });
        window.compareRuns(ids);
    }

    int exitCode = 0;
    if (cli.isSet(screenshot)) {
        const QString file = cli.value(screenshot);
        const int epochs = cli.value(afterEpochs).toInt();
        auto shoot = [&window, file, &exitCode] {
            const bool ok = window.grab().save(file);
            if (!ok) {
                std::cerr << "mode-workbench: cannot write the screenshot " << file.toStdString() << "\n";
                exitCode = 1;
            } else {
                std::cout << "screenshot saved to " << file.toStdString() << "\n";
            }
            window.close();
        };
        bool taken = false;
        auto shootOnce = [&taken, shoot] {
            if (taken) return;
            taken = true;
            QTimer::singleShot(150, shoot); // let the last repaint land
        };
        if (comparing) {
            QObject::connect(window.compareView(), &CompareView::loaded, &window, shootOnce);
            QObject::connect(window.compareView(), &CompareView::loadFailed, &window, [&exitCode, &window] {
                exitCode = 2;
                window.close();
            });
        } else if (cli.isSet(runDefault)) {
            QObject::connect(&window, &MainWindow::epochShown, &window, [epochs, shootOnce](int e) {
                if (epochs > 0 && e >= epochs) shootOnce();
            });
            QObject::connect(&window, &MainWindow::runFinished, &window, [shootOnce] { shootOnce(); });
        } else {
            QTimer::singleShot(300, shootOnce);
        }
    }
    if (cli.isSet(runDefault) && !window.startRun()) {
        std::cerr << "mode-workbench: the experiment cannot start: " << window.message().toStdString() << "\n";
        return 2;
    }
    const int rc = app.exec();
    return exitCode ? exitCode : rc;
}

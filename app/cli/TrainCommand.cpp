// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/TrainCommand.h"

#include "cli/CliCommon.h"
#include "cli/ConsoleProgress.h"
#include "cli/SettingFlags.h"
#include "config/Choices.h"
#include "config/ExperimentConfig.h"
#include "data/DatasetFactory.h"
#include "distributed/Distributed.h"
#include "report/RunSummary.h"
#include "store/Resume.h"
#include "store/RunRecorder.h"
#include "store/RunStore.h"
#include "train/Trainer.h"
#include "util/Csv.h"
#include "util/Format.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <ctime>
#include <iostream>
#include <numeric>
#include <sstream>
#include <unistd.h>

namespace mode {
namespace {

using json = nlohmann::json;

std::atomic<TrainerControl*> g_control{nullptr};
volatile std::sig_atomic_t g_interrupts = 0;
std::atomic<bool> g_training{false};
std::atomic<long long> g_firstSignalMs{0};
static_assert(std::atomic<long long>::is_always_lock_free, "set in a signal handler");

void onSignal(int) {
    // Before training (reading options, loading the data) nothing is stored yet: leave at once.
    // In training, the first Ctrl-C stops after the current step (the run is kept as `stopped`);
    // a second one leaves at once, unless it comes within a second of the first (one Ctrl-C that
    // reached both this process and a sweep that passed it on, or a scheduler signalling every
    // process of a job). Only async-signal-safe calls here (clock_gettime is one).
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    const long long ms = static_cast<long long>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
    if (g_interrupts > 0 && ms - g_firstSignalMs.load() < 1000) return; // the same stop, twice
    if (g_interrupts == 0) g_firstSignalMs = ms;
    g_interrupts = g_interrupts + 1;
    if (!g_training.load() || g_interrupts > 1) {
        static const char message[] = "mode-train: interrupted\n";
        (void)!write(2, message, sizeof message - 1);
        std::_Exit(130);
    }
    if (TrainerControl* c = g_control)
        c->requestStopFromSignal(); // sets an atomic flag, nothing more
}

// The flags that are not settings of the experiment: where it comes from, where it goes, how
// the process takes part in a data-parallel group.
struct ToolOptions {
    std::string configFile, dbFile, saveConfig, exportData;
    std::string keepModels = "best";
    bool asJson = false, quiet = false, printConfig = false, version = false, noStore = false;
    int rank = 0, worldSize = 1, masterPort = 29500;
    std::string masterAddr, distBackend;
    double distTimeout = 30;
    std::int64_t resumeId = 0;
};

const char* kFooter =
    "Examples:\n"
    "  mode-train                                   # the default experiment on `regimes`\n"
    "  mode-train --experts 8 --alpha 0.3 --epochs 30\n"
    "  mode-train --data iris.csv --target species --alpha 0\n"
    "  mode-train --config experiments/regimes.json --seed 3 --json\n"
    "  mode-train --dataset fashion-mnist --backbone cnn --epochs 3\n"
    "  mode-train --data ~/mnist --format idx --max-rows 10000\n"
    "  mode-train --resume 12 --db runs.sqlite                 # continue a stopped or killed run\n"
    "  WORLD_SIZE=2 RANK=0 mode-train --threads 1 & WORLD_SIZE=2 RANK=1 mode-train --threads 1  # "
    "data-parallel\n"
    "Each experiment flag sets the setting named in brackets; an experiment file (--config) holds "
    "them all.\n"
    "Exit codes: 0 finished, 1 the run failed or diverged, 2 bad input, 130 stopped (Ctrl-C).";

void addToolOptions(CLI::App& app, ToolOptions& o) {
    app.add_option("--config", o.configFile, "experiment file (JSON) with every setting")
        ->check(CLI::ExistingFile);
    app.add_option("--db", o.dbFile, "run store (SQLite); default: " + RunStore::defaultPath());
    app.add_option("--resume", o.resumeId,
                   "continue stopped or interrupted run ID of the store (--db) from its last "
                   "checkpoint, with its "
                   "stored experiment");
    app.add_option("--export-data", o.exportData,
                   "write the loaded dataset as CSV (features, then label) and exit");
    app.add_flag("--no-store", o.noStore, "do not record the run in a store");
    app.add_option("--keep-models", o.keepModels,
                   "models the store keeps besides the last epoch's: last (none more), best (the "
                   "best validation epoch's), every (every epoch's); mode-predict and mode-runs "
                   "export-model take any kept one with --epoch N")
        ->check(CLI::IsMember(choiceNames<KeepModels>()))
        ->capture_default_str();
    app.add_flag("--json", o.asJson, "print one JSON object with the results on stdout");
    app.add_flag("--quiet,-q", o.quiet, "no progress output");
    app.add_flag("--print-config", o.printConfig, "print the resolved experiment as JSON and exit");
    app.add_option("--save-config", o.saveConfig, "write the resolved experiment to this file");
    app.add_flag("--version", o.version, "print the version and exit");
    const char* dist = "Distributed (c10d)";
    app.add_option("--world-size", o.worldSize,
                   "data-parallel: number of processes (default: $WORLD_SIZE, else 1)")
        ->group(dist);
    app.add_option("--rank", o.rank,
                   "data-parallel: this process's rank, 0 to world size - 1 (default: $RANK)")
        ->group(dist);
    app.add_option(
           "--master-addr", o.masterAddr,
           "data-parallel: host of rank 0's rendezvous (default: $MASTER_ADDR, else 127.0.0.1)")
        ->group(dist);
    app.add_option("--master-port", o.masterPort,
                   "data-parallel: its port (default: $MASTER_PORT, else 29500)")
        ->group(dist);
    app.add_option("--dist-timeout", o.distTimeout,
                   "data-parallel: seconds to wait for the other ranks (rendezvous, each step, "
                   "rank 0's evaluation "
                   "at each epoch's end)")
        ->group(dist);
    app.add_option("--dist-backend", o.distBackend, "data-parallel: auto | gloo | nccl")
        ->group(dist);
}

bool given(const CLI::App& app, const char* flag) {
    return app.get_option(flag)->count() > 0;
}

// --resume continues a stored run with its stored experiment: only a few flags go with it.
void requireResumeAlone(const CLI::App& app, std::int64_t run) {
    for (const auto* o : app.get_options()) {
        const std::string name = o->get_name();
        if (o->count() > 0 && name != "--resume" && name != "--db" && name != "--json" &&
            name != "--quiet" && name != "--threads" && name != "--keep-models")
            throw ConfigError(name + " cannot be combined with --resume, which continues run " +
                              std::to_string(run) +
                              " with its stored experiment (only --db, --threads, --keep-models, "
                              "--json and --quiet go with it)");
    }
}

// The experiment file, then the flags over it. A flag naming the data source replaces the
// others; --top-k alone implies the top-k gate.
ExperimentConfig experimentFromFlags(const ToolOptions& o, const SettingFlags& flags) {
    ExperimentConfig c;
    if (!o.configFile.empty()) c = ExperimentConfig::fromFile(o.configFile);
    flags.apply(c);
    // One data source: the flag that names one replaces what the file had.
    const int sources =
        flags.given("--data") + flags.given("--dataset") + flags.given("--idx-files");
    if (sources > 1) throw ConfigError("give one of --data, --dataset and --idx-files");
    if (flags.given("--data") || flags.given("--dataset") || flags.given("--idx-files")) {
        if (!flags.given("--data")) c.data.path.clear();
        if (!flags.given("--dataset")) c.data.dataset.clear();
        if (!flags.given("--idx-files")) c.data.idxFiles.clear();
    }
    if (flags.given("--top-k") && !flags.given("--gate")) c.model.gate = "topk";
    requireValid(c);
    return c;
}

int exportDataset(const ExperimentConfig& c, const std::string& path) {
    Dataset d = loadDataset(c.data);
    std::vector<std::int64_t> all(static_cast<std::size_t>(d.rows));
    std::iota(all.begin(), all.end(), 0);
    fitOnTrainingRows(d, all); // no split here: missing cells are filled from every row
    std::ostringstream csv;
    std::vector<std::string> row;
    for (std::int64_t j = 0; j < d.cols; ++j)
        row.push_back("f" + std::to_string(j));
    row.push_back("label");
    writeCsvRow(csv, row);
    for (std::int64_t r = 0; r < d.rows; ++r) {
        row.clear();
        for (std::int64_t j = 0; j < d.cols; ++j)
            row.push_back(formatShortest(d.features[static_cast<std::size_t>(r * d.cols + j)]));
        row.push_back(d.task == TaskType::Classification
                          ? std::to_string(d.labels[static_cast<std::size_t>(r)])
                          : formatShortest(d.values[static_cast<std::size_t>(r)]));
        writeCsvRow(csv, row);
    }
    writeFileSafely(path, csv.str());
    std::cerr << "mode-train: wrote " << d.rows << " rows x " << d.cols << " features to " << path
              << "\n";
    return 0;
}

// The data-parallel group from torchrun's variables and the flags; none for a single process.
std::optional<DistributedOptions> distributedOptions(const CLI::App& app, const ToolOptions& o) {
    std::optional<DistributedOptions> d = distributedFromEnvironment();
    if (given(app, "--world-size") || given(app, "--rank") || given(app, "--master-addr") ||
        given(app, "--master-port")) {
        if (!d) d = DistributedOptions{};
        if (given(app, "--world-size")) d->worldSize = o.worldSize;
        if (given(app, "--rank")) d->rank = o.rank;
        if (given(app, "--master-addr")) d->masterAddr = o.masterAddr;
        if (given(app, "--master-port")) d->masterPort = o.masterPort;
    }
    if (!d) return d;
    if (given(app, "--dist-backend")) d->backend = o.distBackend;
    d->timeout = std::chrono::milliseconds(static_cast<std::int64_t>(o.distTimeout * 1000));
    requireValid(*d);
    if (d->worldSize == 1) d.reset();
    return d;
}

std::unique_ptr<RunStore> openStore(const std::string& path) {
    return std::make_unique<RunStore>(path.empty() ? RunStore::defaultPath() : path);
}

// What a run needs before it trains: its experiment (stored, for --resume), the store and the
// data-parallel group. Throws for bad input (exit 2).
struct Prepared {
    ExperimentConfig config;
    std::unique_ptr<RunStore> store;
    std::optional<ResumePlan> plan;
    std::optional<DistributedOptions> dist;
};

Prepared prepare(const CLI::App& app, ToolOptions& o, const SettingFlags& flags) {
    Prepared p;
    if (given(app, "--resume")) {
        requireResumeAlone(app, o.resumeId);
        p.store = openStore(o.dbFile);
        p.plan = planResume(*p.store, o.resumeId);
        p.config = p.plan->config;
        p.config.name = p.plan->name;
        ExperimentConfig threads = p.config;
        flags.apply(threads); // --threads, the one setting a resumed run may change
        p.config.train.threads = threads.train.threads;
    } else {
        p.config = experimentFromFlags(o, flags);
    }
    if (o.printConfig || !o.exportData.empty()) return p; // nothing is trained
    p.dist = distributedOptions(app, o);
    if (p.dist && p.plan)
        throw DistributedError("--resume continues a run in one process; leave out the world size");
    if (p.dist && p.dist->rank != 0) { // the others report through rank 0
        o.noStore = true;
        o.asJson = false;
        o.quiet = true;
    }
    // Opened before training, so that a store that cannot be written is reported before any time
    // is spent.
    if (!o.noStore && !p.store && o.printConfig == false && o.exportData.empty())
        p.store = openStore(o.dbFile);
    return p;
}

int report(const ToolOptions& o, const ExperimentConfig& c, const RunStart& start,
           const RunResult& r, const RunStore* store, const RunRecorder* recorder) {
    const json runId = recorder && recorder->runId() ? json(*recorder->runId()) : json(nullptr);
    if (o.asJson) {
        auto out = runResultJson(c, start, r, runId);
        out["peak_rss_mb"] = peakResidentMiB();
        std::cout << out.dump(2) << "\n";
    } else if (!o.quiet) {
        printRunSummary(std::cout, c, start, r);
        std::cout << "peak memory " << static_cast<long>(peakResidentMiB() + 0.5) << " MiB\n";
        if (!runId.is_null())
            std::cout << "stored as run " << runId << " in " << store->path() << "\n";
    }
    if (r.status != RunStatus::Finished) std::cerr << "mode-train: " << r.message << "\n";
    switch (r.status) {
    case RunStatus::Finished:
        return 0;
    case RunStatus::Stopped:
        return 130;
    default:
        return kExitRunFailed;
    }
}

int train(const ToolOptions& o, Prepared& p) {
    ExperimentConfig& c = p.config;
    // Data-parallel on GPUs: one GPU per process on each machine, chosen by LOCAL_RANK.
    if (p.dist && c.train.device != "cpu") {
        const auto devices = availableDevices();
        if (std::find(devices.begin(), devices.end(), "cuda") != devices.end())
            c.train.device = "cuda:" + std::to_string(p.dist->localRank);
    }
    configureThreads(c.train.threads);
    std::unique_ptr<Trainer> trainer;
    try {
        LoadProgressLine line(std::cerr, !o.quiet, isTerminal(stderr), c.datasetLabel());
        const LoadProgress progress = [&line](std::uint64_t done, std::uint64_t total) {
            return line(done, total);
        };
        trainer = p.plan ? resumedTrainer(*p.plan, c.train.threads, progress)
                         : std::make_unique<Trainer>(c, loadDataset(c.data, progress));
    } catch (const std::exception& e) {
        std::cerr << "mode-train: " << e.what() << "\n";
        return kExitBadInput;
    }
    std::unique_ptr<Distributed> group;
    if (p.dist) {
        const auto& d = *p.dist;
        std::cerr << "mode-train: rank " << d.rank << " of " << d.worldSize << " (world size "
                  << d.worldSize << "), rendezvous at " << d.masterAddr << ":" << d.masterPort
                  << ", batch " << c.train.batchSize << " per rank ("
                  << c.train.batchSize * d.worldSize << " in all)" << std::endl;
        try {
            group = std::make_unique<Distributed>(d);
            trainer->useDistributed(group.get());
        } catch (const std::exception& e) {
            std::cerr << "mode-train: " << e.what() << "\n";
            return kExitRunFailed;
        }
    }
    ConsoleProgress progress(std::cerr, !o.quiet, isTerminal(stderr));
    RunStartRecorder started;
    trainer->addObserver(&progress);
    trainer->addObserver(&started);
    std::unique_ptr<RunRecorder> recorder;
    trainer->keepSampleRouting(p.store != nullptr); // nothing would keep it
    if (p.store) {
        RecorderOptions options;
        options.models = parseChoice<KeepModels>(o.keepModels, "--keep-models");
        // The other ranks wait in a collective while rank 0 waits for a locked store: its wait
        // ends (and the run stops, stored) well before theirs times out.
        if (p.dist) options.lockWait = std::min(options.lockWait, p.dist->timeout / 2);
        recorder = std::make_unique<RunRecorder>(*p.store, c, c.name, &trainer->control(), options);
        if (p.plan) recorder->resumeRun(p.plan->run);
        trainer->addObserver(recorder.get());
    }
    g_control = &trainer->control();
    g_training = true;
    std::signal(SIGXFSZ, SIG_IGN); // a file-size limit becomes a write error the store reports
    RunResult r = trainer->run();
    g_control = nullptr;
    if (recorder) r = recorder->storedResult(r);
    return report(o, c, started.start, r, p.store.get(), recorder.get());
}

} // namespace

int trainCommand(int argc, char** argv) {
    // From the start, so that Ctrl-C (or a SIGINT to a background job, where the shell set it to
    // be ignored) ends a long data load at once.
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    CLI::App app{
        "Train a Mixture-of-Experts model with mutual distillation among the experts (MoDE).\n"
        "Flags override the experiment file; without either, the built-in `regimes` default is "
        "trained."};
    app.footer(kFooter);
    ToolOptions o;
    addToolOptions(app, o);
    const SettingFlags flags(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    if (o.version) {
        std::cout << "mode-train " << MODE_VERSION << " (LibTorch " << libtorchVersion()
                  << (blasKernels().empty() ? "" : ", OpenBLAS kernels " + blasKernels()) << ")\n";
        return 0;
    }
    Prepared p;
    try {
        p = prepare(app, o, flags);
        if (o.printConfig) {
            std::cout << p.config.toJson().dump(2) << "\n";
            return 0;
        }
        const std::string store = o.dbFile.empty() ? RunStore::defaultPath() : o.dbFile;
        if (!o.saveConfig.empty()) {
            refuseKeptTarget(o.saveConfig,
                             {{store, "the run store"}, {p.config.data.path, "the data file"}},
                             "--save-config");
            writeFileSafely(o.saveConfig, p.config.toJson().dump(2) + "\n");
        }
        if (!o.exportData.empty()) {
            refuseKeptTarget(o.exportData,
                             {{store, "the run store"},
                              {p.config.data.path, "the data file"},
                              {o.configFile, "the experiment file"}},
                             "--export-data");
            return exportDataset(p.config, o.exportData);
        }
    } catch (const std::exception& e) {
        std::cerr << "mode-train: " << e.what() << "\n";
        return kExitBadInput;
    }
    return train(o, p);
}

} // namespace mode

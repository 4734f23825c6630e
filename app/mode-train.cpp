// mode-train: trains one MoDE experiment headless (a server, a GPU box, a sweep) and stores it.

#include "config/ExperimentConfig.h"
#include "data/DatasetFactory.h"
#include "train/Trainer.h"
#include "report/RunSummary.h"
#include "store/RunRecorder.h"
#include "distributed/Distributed.h"
#include "store/Resume.h"
#include "store/RunStore.h"
#include "cli/CliCommon.h"
#include "cli/ConsoleProgress.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <ctime>
#include <unistd.h>
#include <cstdio>
#include <iostream>
#include <numeric>
#include <sstream>

using namespace mode;
using json = nlohmann::json;

namespace {

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
    timespec now {};
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
    if (TrainerControl* c = g_control) c->requestStopFromSignal(); // sets an atomic flag, nothing more
}

std::vector<int> parseSizes(const std::string& s) {
    std::vector<int> out;
    std::stringstream in(s);
    std::string item;
    while (std::getline(in, item, ',')) {
        if (item.empty()) continue;
        std::size_t used = 0;
        int v = 0;
        try { v = std::stoi(item, &used); } catch (...) { used = 0; }
        if (used != item.size()) throw ConfigError("--hidden: '" + item + "' is not a whole number (example: --hidden 64,32)");
        out.push_back(v);
    }
    return out;
}

} // namespace

int main(int argc, char** argv) {
    // From the start, so that Ctrl-C (or a SIGINT to a background job, where the shell set it to
    // be ignored) ends a long data load at once.
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    CLI::App app{"Train a Mixture-of-Experts model with mutual distillation among the experts (MoDE).\n"
                 "Flags override the experiment file; without either, the built-in `regimes` default is trained."};
    app.footer("Examples:\n"
               "  mode-train                                   # the default experiment on `regimes`\n"
               "  mode-train --experts 8 --alpha 0.3 --epochs 30\n"
               "  mode-train --data iris.csv --target species --alpha 0\n"
               "  mode-train --config experiments/regimes.json --seed 3 --json\n"
               "  mode-train --dataset fashion-mnist --backbone cnn --epochs 3\n"
               "  mode-train --data ~/mnist --format idx --max-rows 10000\n"
               "  mode-train --resume 12 --db runs.sqlite                 # continue a stopped or killed run\n"
               "  WORLD_SIZE=2 RANK=0 mode-train --threads 1 & WORLD_SIZE=2 RANK=1 mode-train --threads 1  # data-parallel\n"
               "Exit codes: 0 finished, 1 the run failed or diverged, 2 bad input, 130 stopped (Ctrl-C).");
    std::string configFile, dataFile, dataset, target, subtaskColumn, format, backbone, distill, device, dbFile, gate, hidden, optimizer, name, saveConfig;
    int experts = 0, topK = 0, epochs = 0, batchSize = 0, threads = 0;
    double alpha = 0, lr = 0, weightDecay = 0, balance = 0, temperature = 0;
    std::int64_t seed = 0;
    bool asJson = false, quiet = false, printConfig = false, detach = false, version = false;

    app.add_option("--config", configFile, "experiment file (JSON) with every knob")->check(CLI::ExistingFile);
    app.add_option("--data", dataFile, "your own data file (CSV with a header row)");
    app.add_option("--dataset", dataset, "a built-in dataset: regimes, or fashion-mnist where Debian's dataset-fashion-mnist is installed");
    app.add_option("--target", target, "target column of --data (default: the last column)");
    app.add_option("--format", format, "format of --data: auto | csv | idx (a folder of IDX files)");
    std::int64_t maxRows = 0;
    app.add_option("--max-rows", maxRows, "IDX data: keep the first N training rows (quick runs)");
    std::string idxFiles;
    app.add_option("--idx-files", idxFiles, "IDX files one by one: TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS");
    app.add_option("--backbone", backbone, "shared feature extractor: none | mlp | cnn (images)");
    int backboneDim = 64;
    app.add_option("--backbone-dim", backboneDim, "features the backbone hands to the gate and experts");
    app.add_option("--subtask-column", subtaskColumn,
                   "column of --data naming each row's known sub-task (for gate routing accuracy)");
    app.add_option("--experts", experts, "number of experts E (>= 1)");
    app.add_option("--gate", gate, "dense | topk");
    app.add_option("--top-k", topK, "sparse gate: keep the K largest gate logits (implies --gate topk)");
    app.add_option("--hidden", hidden, "expert hidden sizes, e.g. 64,32");
    app.add_option("--alpha", alpha, "distillation weight (0: the plain MoE)");
    app.add_option("--distill", distill, "mse-mean (to the mean of all experts) | mse-pairwise | kl (classification only)");
    app.add_option("--temperature", temperature, "temperature of the kl variant");
    app.add_flag("--detach-teacher", detach, "teachers get no distillation gradient (mse-mean: each expert is pulled towards the detached mean of the OTHER experts)");
    app.add_option("--balance", balance, "weight of the load-balancing loss");
    app.add_option("--epochs", epochs, "training epochs");
    app.add_option("--batch-size", batchSize, "minibatch size");
    app.add_option("--lr", lr, "learning rate");
    app.add_option("--optimizer", optimizer, "adam | adamw | sgd");
    app.add_option("--weight-decay", weightDecay, "weight decay");
    app.add_option("--seed", seed, "seed of the initialisation, the split and the minibatch order");
    app.add_option("--device", device, "auto | cpu | cuda");
    app.add_option("--threads", threads, "LibTorch threads (0: one per core)");
    app.add_option("--name", name, "a name for the run");
    app.add_option("--db", dbFile, "run store (SQLite); default: " + RunStore::defaultPath());
    std::string exportData;
    app.add_option("--export-data", exportData, "write the loaded dataset as CSV (features, then label) and exit");
    bool noStore = false;
    app.add_flag("--no-store", noStore, "do not record the run in a store");
    app.add_flag("--json", asJson, "print one JSON object with the results on stdout");
    app.add_flag("--quiet,-q", quiet, "no progress output");
    app.add_flag("--print-config", printConfig, "print the resolved experiment as JSON and exit");
    app.add_option("--save-config", saveConfig, "write the resolved experiment to this file");
    app.add_flag("--version", version, "print the version and exit");
    // Data-parallel (c10d): torchrun's variables, or these flags.
    int rank = 0, worldSize = 1, masterPort = 29500;
    std::string masterAddr, distBackend;
    double distTimeout = 30;
    app.add_option("--world-size", worldSize, "data-parallel: number of processes (default: $WORLD_SIZE, else 1)")
        ->group("Distributed (c10d)");
    app.add_option("--rank", rank, "data-parallel: this process's rank, 0 to world size - 1 (default: $RANK)")
        ->group("Distributed (c10d)");
    app.add_option("--master-addr", masterAddr, "data-parallel: host of rank 0's rendezvous (default: $MASTER_ADDR, else 127.0.0.1)")
        ->group("Distributed (c10d)");
    app.add_option("--master-port", masterPort, "data-parallel: its port (default: $MASTER_PORT, else 29500)")
        ->group("Distributed (c10d)");
    app.add_option("--dist-timeout", distTimeout, "data-parallel: seconds to wait for the other ranks (rendezvous, each step, rank 0's evaluation at each epoch's end)")
        ->group("Distributed (c10d)");
    app.add_option("--dist-backend", distBackend, "data-parallel: auto | gloo | nccl")->group("Distributed (c10d)");
    std::int64_t resumeId = 0;
    app.add_option("--resume", resumeId,
                   "continue stopped or interrupted run ID of the store (--db) from its last checkpoint, with its "
                   "stored experiment");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    if (version) {
        std::cout << "mode-train " << MODE_VERSION << " (LibTorch " << libtorchVersion() << ")\n";
        return 0;
    }

    auto given = [&](const char* flag) { return app.get_option(flag)->count() > 0; };
    ExperimentConfig c;
    // --resume: the stored run's experiment, its checkpoint, and the metrics of the epoch it closed.
    std::unique_ptr<RunStore> store;
    std::optional<ResumePlan> plan;
    if (given("--resume")) {
        for (const auto* o : app.get_options())
            if (o->count() > 0 && o->get_name() != "--resume" && o->get_name() != "--db" && o->get_name() != "--json" &&
                o->get_name() != "--quiet" && o->get_name() != "--threads") {
                std::cerr << "mode-train: " << o->get_name() << " cannot be combined with --resume, which continues run "
                          << resumeId << " with its stored experiment (only --db, --threads, --json and --quiet go with it)\n";
                return kExitBadInput;
            }
        try {
            store = std::make_unique<RunStore>(dbFile.empty() ? RunStore::defaultPath() : dbFile);
            plan = planResume(*store, resumeId);
            c = plan->config;
            c.name = plan->name;
            if (given("--threads")) c.train.threads = threads;
        } catch (const std::exception& e) {
            std::cerr << "mode-train: " << e.what() << "\n";
            return kExitBadInput;
        }
    } else try {
        if (!configFile.empty()) c = ExperimentConfig::fromFile(configFile);
        if (!dataFile.empty()) { c.data.path = dataFile; c.data.dataset.clear(); }
        if (!dataset.empty()) {
            if (!dataFile.empty()) throw ConfigError("give --data or --dataset, not both");
            c.data.dataset = dataset;
            c.data.path.clear();
        }
        if (!target.empty()) c.data.target = target;
        if (!subtaskColumn.empty()) c.data.subtaskColumn = subtaskColumn;
        if (!format.empty()) c.data.format = format;
        if (!idxFiles.empty()) {
            c.data.idxFiles.clear();
            std::stringstream list(idxFiles);
            for (std::string f; std::getline(list, f, ',');) c.data.idxFiles.push_back(f);
            c.data.path.clear();
            c.data.dataset.clear();
        }
        if (given("--max-rows")) c.data.maxRows = maxRows;
        if (!backbone.empty()) c.model.backbone = backbone;
        if (given("--backbone-dim")) c.model.backboneDim = backboneDim;
        if (given("--experts")) c.model.experts = experts;
        if (!gate.empty()) c.model.gate = gate;
        if (given("--top-k")) { c.model.topK = topK; if (gate.empty()) c.model.gate = "topk"; }
        if (!hidden.empty()) c.model.hidden = parseSizes(hidden);
        if (given("--alpha")) c.loss.alpha = alpha;
        if (!distill.empty()) c.loss.distill = distill;
        if (given("--temperature")) c.loss.temperature = temperature;
        if (detach) c.loss.detachTeacher = true;
        if (given("--balance")) c.loss.balanceWeight = balance;
        if (given("--epochs")) c.train.epochs = epochs;
        if (given("--batch-size")) c.train.batchSize = batchSize;
        if (given("--lr")) c.train.lr = lr;
        if (!optimizer.empty()) c.train.optimizer = optimizer;
        if (given("--weight-decay")) c.train.weightDecay = weightDecay;
        if (given("--seed")) {
            if (seed < 0) throw ConfigError("--seed must be >= 0");
            c.train.seed = static_cast<std::uint64_t>(seed);
        }
        if (!device.empty()) c.train.device = device;
        if (given("--threads")) c.train.threads = threads;
        if (!name.empty()) c.name = name;
        requireValid(c);
    } catch (const std::exception& e) {
        std::cerr << "mode-train: " << e.what() << "\n";
        return kExitBadInput;
    }
    if (printConfig) {
        std::cout << c.toJson().dump(2) << "\n";
        return 0;
    }
    if (!saveConfig.empty() && !writeTextFile(saveConfig, c.toJson().dump(2) + "\n")) {
        std::cerr << "mode-train: cannot write " << saveConfig << "\n";
        return kExitBadInput;
    }

    if (!exportData.empty()) {
        try {
            Dataset d = loadDataset(c.data);
            std::vector<std::int64_t> all(static_cast<std::size_t>(d.rows));
            std::iota(all.begin(), all.end(), 0);
            fitOnTrainingRows(d, all); // no split here: missing cells are filled from every row
            std::ostringstream csv;
            for (std::int64_t j = 0; j < d.cols; ++j) csv << "f" << j << ",";
            csv << "label\n";
            for (std::int64_t r = 0; r < d.rows; ++r) {
                for (std::int64_t j = 0; j < d.cols; ++j) csv << d.features[static_cast<std::size_t>(r * d.cols + j)] << ",";
                if (d.task == TaskType::Classification) csv << d.labels[static_cast<std::size_t>(r)] << "\n";
                else csv << d.values[static_cast<std::size_t>(r)] << "\n";
            }
            if (!writeTextFile(exportData, csv.str())) throw std::runtime_error("cannot write " + exportData);
            std::cerr << "mode-train: wrote " << d.rows << " rows x " << d.cols << " features to " << exportData << "\n";
            return 0;
        } catch (const std::exception& e) {
            std::cerr << "mode-train: " << e.what() << "\n";
            return kExitBadInput;
        }
    }
    // Data-parallel: every rank trains, rank 0 alone prints results and writes the store.
    std::optional<DistributedOptions> distOptions;
    try {
        distOptions = distributedFromEnvironment();
        if (given("--world-size") || given("--rank") || given("--master-addr") || given("--master-port")) {
            if (!distOptions) distOptions = DistributedOptions{};
            if (given("--world-size")) distOptions->worldSize = worldSize;
            if (given("--rank")) distOptions->rank = rank;
            if (given("--master-addr")) distOptions->masterAddr = masterAddr;
            if (given("--master-port")) distOptions->masterPort = masterPort;
        }
        if (distOptions) {
            if (given("--dist-backend")) distOptions->backend = distBackend;
            distOptions->timeout = std::chrono::milliseconds(static_cast<std::int64_t>(distTimeout * 1000));
            requireValid(*distOptions);
            if (distOptions->worldSize == 1) distOptions.reset();
        }
        if (distOptions && plan) throw DistributedError("--resume continues a run in one process; leave out the world size");
    } catch (const std::exception& e) {
        std::cerr << "mode-train: " << e.what() << "\n";
        return kExitBadInput;
    }
    if (distOptions && distOptions->rank != 0) { // the others report through rank 0
        noStore = true;
        asJson = false;
        quiet = true;
    }

    // The store is opened before training so that a store that cannot be written is reported
    // before any time is spent.
    if (!noStore && !store) {
        try {
            store = std::make_unique<RunStore>(dbFile.empty() ? RunStore::defaultPath() : dbFile);
        } catch (const std::exception& e) {
            std::cerr << "mode-train: " << e.what() << "\n";
            return kExitBadInput;
        }
    }

    // Data-parallel on GPUs: one GPU per process on each machine, chosen by LOCAL_RANK.
    if (distOptions && c.train.device != "cpu") {
        const auto devices = availableDevices();
        if (std::find(devices.begin(), devices.end(), "cuda") != devices.end())
            c.train.device = "cuda:" + std::to_string(distOptions->localRank);
    }
    configureThreads(c.train.threads);
    std::unique_ptr<Trainer> trainer;
    try {
        trainer = plan ? resumedTrainer(*plan, c.train.threads) : std::make_unique<Trainer>(c, loadDataset(c.data));
    } catch (const std::exception& e) {
        std::cerr << "mode-train: " << e.what() << "\n";
        return kExitBadInput;
    }

    std::unique_ptr<Distributed> group;
    if (distOptions) {
        const auto& o = *distOptions;
        std::cerr << "mode-train: rank " << o.rank << " of " << o.worldSize << " (world size " << o.worldSize
                  << "), rendezvous at " << o.masterAddr << ":" << o.masterPort << ", batch " << c.train.batchSize
                  << " per rank (" << c.train.batchSize * o.worldSize << " in all)" << std::endl;
        try {
            group = std::make_unique<Distributed>(o);
            trainer->useDistributed(group.get());
        } catch (const std::exception& e) {
            std::cerr << "mode-train: " << e.what() << "\n";
            return 1;
        }
    }

    ConsoleProgress progress(std::cerr, !quiet, isTerminal(stderr));
    RunStartRecorder started;
    trainer->addObserver(&progress);
    trainer->addObserver(&started);
    std::unique_ptr<RunRecorder> recorder;
    if (store) {
        recorder = std::make_unique<RunRecorder>(*store, c, c.name, &trainer->control());
        if (plan) recorder->resumeRun(plan->run);
        trainer->addObserver(recorder.get());
    }
    g_control = &trainer->control();
    g_training = true;
    std::signal(SIGXFSZ, SIG_IGN); // a file-size limit becomes a write error the store reports
    RunResult r = trainer->run();
    g_control = nullptr;
    if (recorder) r = recorder->storedResult(r);
    const json runId = recorder && recorder->runId() ? json(*recorder->runId()) : json(nullptr);

    if (asJson) {
        auto out = runResultJson(c, started.start, r, runId);
        out["peak_rss_mb"] = peakResidentMiB();
        std::cout << out.dump(2) << "\n";
    } else if (!quiet) {
        printRunSummary(std::cout, c, started.start, r);
        std::cout << "peak memory " << static_cast<long>(peakResidentMiB() + 0.5) << " MiB\n";
        if (!runId.is_null()) std::cout << "stored as run " << runId << " in " << store->path() << "\n";
    }
    if (r.status != RunStatus::Finished) std::cerr << "mode-train: " << r.message << "\n";
    switch (r.status) {
    case RunStatus::Finished: return 0;
    case RunStatus::Stopped: return 130;
    default: return 1;
    }
}

// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/PredictCommand.h"

#include "cli/CliCommon.h"
#include "cli/ConsoleProgress.h"
#include "predict/StoredPrediction.h"
#include "report/RunSummary.h"
#include "store/RunStore.h"
#include "train/Trainer.h"
#include "util/Utf8.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace mode {
namespace {

struct PredictOptions {
    std::int64_t run = 0;
    std::string db, data, split, out, format = "csv";
    int epoch = 0, threads = 0;
    bool quiet = false;
};

void describe(std::ostream& err, const StoredPrediction& s) {
    const PredictionInput& in = s.input;
    const auto& score = s.score;
    const std::int64_t run = s.record.id;
    err << "mode-predict: run " << run << " (the model of epoch " << s.epoch << ") on " << in.what
        << ": " << in.data.rows << " rows\n";
    char timing[160];
    std::snprintf(timing, sizeof timing,
                  "  read and prepared in %.3f s; predicted%s in %.3f s (%.0f rows/s)\n",
                  s.readSeconds, s.score ? " and scored" : "", s.predictSeconds,
                  static_cast<double>(in.data.rows) / std::max(s.predictSeconds, 1e-9));
    err << timing;
    if (!in.ignored.empty()) {
        err << "  columns the model does not read (ignored):";
        for (const auto& c : in.ignored)
            err << " " << printable(c);
        err << "\n";
    }
    for (const auto& [column, n] : in.unseen)
        err << "  column '" << printable(column) << "': " << n
            << " cells with a category the run never saw (all zeros in its one-hot group, as an "
               "unseen category in validation or test)\n";
    if (!score) return;
    char line[160];
    std::snprintf(line, sizeof line, "%s: %.4f\n",
                  in.recipe.classification ? "accuracy of the mixture" : "R^2 of the mixture",
                  score->accuracy);
    err << line;
    printExpertTable(err, in.recipe.classification, score->experts, "these rows");
}

int predict(const PredictOptions& o) {
    const std::string db = o.db.empty() ? RunStore::defaultPath() : o.db;
    // --out onto the store or the rows read is refused before anything is read or written.
    if (!o.out.empty()) refuseKeptTarget(o.out, {{db, "the run store"}, {o.data, "the data file"}});
    LoadProgressLine line(std::cerr, !o.quiet, isTerminal(stderr), "the data");
    const LoadProgress progress = [&line](std::uint64_t d, std::uint64_t t) { return line(d, t); };
    configureThreads(o.threads);
    const StoredPrediction s = predictStoredRun(db, o.run, {o.data, o.split, o.epoch}, progress);
    line.finish();
    if (!o.out.empty() && !o.split.empty()) // the run's own data file, read for --split
        refuseKeptTarget(o.out, {{s.record.config().data.path, "the run's data file"}});
    writeOutput(o.out, [&](std::ostream& out) {
        if (o.format == "json")
            writePredictionsJson(out, s);
        else
            writePredictionsCsv(out, s);
    });
    if (!o.quiet) describe(std::cerr, s);
    return 0;
}

} // namespace

int predictCommand(int argc, char** argv) {
    CLI::App app{"Predict with a stored run's model: each row's prediction, class probabilities "
                 "(or value), top expert, gate weights and every expert's own prediction, with "
                 "the run's own preprocessing. Where the rows have the target, the accuracy and "
                 "the probing table follow on stderr."};
    app.footer("Examples:\n  mode-predict --run 4 --data new.csv --out predictions.csv\n"
               "  mode-predict --run 4 --split test --format json\n"
               "Exit codes: 0 done, 1 failed, 2 bad input (flags, store, data).");
    app.set_version_flag("--version", std::string("mode-predict ") + MODE_VERSION + " (LibTorch " +
                                          libtorchVersion() + ")");
    PredictOptions o;
    app.add_option("--run", o.run, "The stored run whose model predicts")->required();
    app.add_option("--db", o.db, "Run store (SQLite); default: " + RunStore::defaultPath());
    auto* data = app.add_option("--data", o.data,
                                "A file in the run's format: CSV (its columns by name, in any "
                                "order; others ignored), TSV text, or IDX images");
    auto* split =
        app.add_option("--split", o.split, "The rows of the run's own split, from its data file")
            ->check(CLI::IsMember({"train", "val", "test"}));
    data->excludes(split);
    app.add_option(
           "--epoch", o.epoch,
           "The model of this epoch (the last by default; the store keeps the last, the best "
           "validation epoch's, or every epoch's: mode-runs show ID lists them)")
        ->check(CLI::Range(0, 1000000, "EPOCH"));
    app.add_option("--out", o.out, "Write the predictions here instead of stdout");
    app.add_option("--format", o.format, "csv (default) or json")
        ->check(CLI::IsMember({"csv", "json"}));
    app.add_option("--threads", o.threads, "CPU threads for LibTorch (0: one per core)")
        ->check(CLI::Range(0, 1024));
    app.add_flag("-q,--quiet", o.quiet, "No summary on stderr");
    try {
        app.parse(argc, argv);
        if (o.data.empty() && o.split.empty())
            throw CLI::ValidationError("--data or --split", "give one of them");
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    try {
        return predict(o);
    } catch (const std::exception& e) {
        std::cerr << "mode-predict: " << printable(e.what()) << "\n";
        const bool bad =
            dynamic_cast<const DataError*>(&e) || dynamic_cast<const ConfigError*>(&e) ||
            dynamic_cast<const RunStoreError*>(&e) || dynamic_cast<const CheckpointError*>(&e);
        return bad ? kExitBadInput : kExitRunFailed;
    }
}

} // namespace mode

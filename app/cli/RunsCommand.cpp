// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli/RunsCommand.h"

#include "analysis/AlphaStudy.h"
#include "cli/CliCommon.h"
#include "predict/StoredPrediction.h"
#include "store/RunExport.h"
#include "store/RunStore.h"
#include "util/Csv.h"
#include "util/Format.h"
#include "util/Utf8.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace mode {
namespace {

using json = nlohmann::json;

std::string fixed(const std::optional<double>& v, int digits = 4) {
    return formatFixed(v, digits);
}
std::string alphaText(double a) {
    return formatNumber(a);
}

void printList(const std::vector<RunRecord>& runs) {
    if (runs.empty()) {
        std::cout << "no runs\n";
        return;
    }
    std::cout << std::left << std::setw(6) << "id" << std::setw(22) << "name" << std::setw(12)
              << "status" << std::setw(14) << "dataset" << std::right << std::setw(4) << "E"
              << std::setw(9) << "alpha" << std::setw(9) << "test" << std::setw(9) << "routing"
              << std::setw(8) << "epochs"
              << "  started\n";
    for (const auto& r : runs) {
        // Names come from users and files: shown without terminal escapes or broken bytes.
        std::string name = printable(r.name), dataset = printable(r.dataset);
        name = name.size() > 20 ? name.substr(0, 19) + "~" : name;
        dataset = dataset.size() > 12 ? dataset.substr(0, 11) + "~" : dataset;
        std::cout << std::left << std::setw(6) << r.id << std::setw(22)
                  << (name.empty() ? "-" : name) << std::setw(12) << toString(r.status)
                  << std::setw(14) << dataset << std::right << std::setw(4) << r.experts
                  << std::setw(9) << alphaText(r.alpha) << std::setw(9) << fixed(r.testAccuracy)
                  << std::setw(9) << fixed(r.gateRoutingAccuracy, 3) << std::setw(8)
                  << (std::to_string(r.epochsCompleted) + "/" + std::to_string(r.start.epochs))
                  << "  " << localTimeShort(r.startedAt) << "\n";
    }
}

json intervalJson(const Interval& i) {
    return i.known() ? json::array({i.lower, i.upper}) : json(nullptr);
}
json finiteOrNull(double v) {
    return std::isfinite(v) ? json(v) : json(nullptr);
}

// Each alpha of each configuration against alpha = 0, paired by seed, Holm across the alphas.
json compareJson(const std::vector<StudyRun>& runs, const std::string& metric,
                 ScoringEpoch scoring) {
    json out = json::array();
    for (const auto& study : groupStudies(runs)) {
        json rows = json::array();
        for (const auto& e : alphaEffects(study, runs, metric)) {
            json r{{"alpha", e.alpha},
                   {"seeds", e.seeds},
                   {"mean", finiteOrNull(e.mean)},
                   {"std", finiteOrNull(e.std)}};
            if (e.vsZero) {
                const auto& c = *e.vsZero;
                r["vs_alpha_0"] = {
                    {"pairs", c.n},
                    {"mean_difference", finiteOrNull(c.meanDifference)},
                    {"ci95_t", intervalJson(c.tInterval)},
                    {"ci95_bootstrap", intervalJson(c.bootstrap())},
                    {"p_t", c.n >= 2 ? json(c.tTest.pValue) : json(nullptr)},
                    {"p_holm", finiteOrNull(e.holmP)},
                    {"p_wilcoxon", c.wilcoxon.n > 0 ? json(c.wilcoxon.pValue) : json(nullptr)},
                    {"p_improve", finiteOrNull(c.improvement.estimate)},
                    {"p_improve_ci95", intervalJson(c.improvement.interval)},
                    {"detectable_difference", finiteOrNull(c.minimalDetectable)}};
            }
            rows.push_back(r);
        }
        out.push_back({{"dataset", study.dataset},
                       {"configuration", study.label()},
                       {"signature", study.signature},
                       {"metric", metric},
                       {"scoring", toString(scoring)},
                       {"older_repeats_set_aside", study.duplicates},
                       {"alphas", rows}});
    }
    return out;
}

void printCompare(const json& studies) {
    for (const auto& s : studies) {
        std::cout << s["configuration"].get<std::string>() << " (configuration "
                  << s["signature"].get<std::string>() << "), " << s["metric"].get<std::string>()
                  << " at the " << s["scoring"].get<std::string>()
                  << ": each alpha against alpha = 0, paired by seed, Holm across the alphas\n";
        if (const auto aside = s["older_repeats_set_aside"].get<std::size_t>(); aside > 0)
            std::cout << "(" << aside << " older run" << (aside == 1 ? "" : "s")
                      << " of an (alpha, seed) already counted set aside: the newest counts)\n";
        std::cout << std::right << std::setw(8) << "alpha" << std::setw(7) << "seeds"
                  << std::setw(9) << "mean" << std::setw(11) << "diff" << std::setw(22)
                  << "95% CI (t)" << std::setw(9) << "p" << std::setw(9) << "Holm p"
                  << std::setw(12) << "P(improve)\n";
        auto num = [](const json& v, int digits) {
            return v.is_null() ? std::string("-") : fixed(v.get<double>(), digits);
        };
        for (const auto& a : s["alphas"]) {
            std::cout << std::setw(8) << alphaText(a["alpha"].get<double>()) << std::setw(7)
                      << a["seeds"].size() << std::setw(9) << num(a["mean"], 4);
            if (a.contains("vs_alpha_0")) {
                const auto& c = a["vs_alpha_0"];
                const auto& ci = c["ci95_t"];
                std::cout << std::setw(11) << num(c["mean_difference"], 4) << std::setw(22)
                          << (ci.is_null() ? std::string("-")
                                           : "[" + fixed(ci[0].get<double>()) + ", " +
                                                 fixed(ci[1].get<double>()) + "]")
                          << std::setw(9) << num(c["p_t"], 3) << std::setw(9) << num(c["p_holm"], 3)
                          << std::setw(12) << num(c["p_improve"], 2);
            } else if (a["alpha"].get<double>() == 0) {
                std::cout << std::setw(11) << "baseline";
            }
            std::cout << "\n";
        }
    }
}

// The model of a run: the mixture's experts and gate, or the baseline it is (model.kind).
std::string modelText(const RunRecord& r) {
    const std::string kind = r.config().model.kind;
    if (kind == "dense")
        return "dense baseline sized after " + std::to_string(r.experts) + " experts";
    if (kind == "ensemble")
        return "ensemble baseline of " + std::to_string(r.experts) + " independent experts";
    return std::to_string(r.experts) + " experts, gate " + r.gate;
}

void printShow(const RunStore& store, const RunRecord& r) {
    std::cout << "run " << r.id << (r.name.empty() ? "" : " \"" + printable(r.name) + "\"") << ": "
              << toString(r.status);
    if (!r.message.empty()) std::cout << " (" << r.message << ")";
    std::cout << "\n  dataset      " << r.dataset << " (" << r.datasetFingerprint << "), "
              << r.start.trainRows << " train / " << r.start.valRows << " val / "
              << r.start.testRows << " test rows\n"
              << "  model        " << modelText(r) << ", " << r.start.parameters << " parameters\n"
              << "  loss         alpha " << alphaText(r.alpha) << " (" << r.distill << ")\n"
              << "  seed         " << r.seed << ", device " << r.device << "\n"
              << "  progress     " << r.epochsCompleted << "/" << r.start.epochs << " epochs, "
              << r.steps << " steps, " << std::fixed << std::setprecision(1) << r.wallSeconds
              << " s\n"
              << "  started      " << localTimeShort(r.startedAt)
              << (r.endedAt ? ", ended " + localTimeShort(*r.endedAt) : std::string()) << "\n"
              << "  results      test accuracy " << fixed(r.testAccuracy) << ", validation "
              << fixed(r.valAccuracy) << " (best " << fixed(r.bestValAccuracy)
              << "), gate routing accuracy " << fixed(r.gateRoutingAccuracy, 3) << "\n"
              << "  software     mode-workbench " << r.modeVersion << ", LibTorch "
              << r.libtorchVersion << "\n"
              << "  config hash  " << r.configHash << (r.hasCheckpoint ? ", checkpoint stored" : "")
              << "\n";
    if (const auto models = store.modelEpochs(r.id); !models.empty()) {
        std::cout << "  models       epoch" << (models.size() > 1 ? "s" : "");
        for (const int e : models)
            std::cout << " " << e;
        std::cout << " (mode-predict and export-model take --epoch N)\n";
    }
    if (!r.tags.empty()) {
        std::cout << "  tags        ";
        for (const auto& t : r.tags)
            std::cout << " " << t;
        std::cout << "\n";
    }
    if (!r.notes.empty()) std::cout << "  notes        " << r.notes << "\n";
    auto epochs = store.epochs(r.id);
    if (!epochs.empty()) {
        const auto& last = epochs.back();
        std::cout << "  experts at epoch " << last.epoch
                  << ":\n    expert  allocated  probing acc    load  similarity\n";
        for (const auto& e : last.experts)
            std::cout << "    " << std::setw(6) << e.expert << std::setw(11) << e.allocated
                      << std::setw(13)
                      << fixed(e.probingAccuracy ? e.probingAccuracy : e.probingError)
                      << std::setw(8) << fixed(e.load, 3) << std::setw(12) << fixed(e.similarity, 3)
                      << "\n";
    }
}

// Every flag and argument of every subcommand.
struct RunsOptions {
    std::string db, status, text, out, metric = "test_accuracy", scoring = "best";
    bool asJson = false, asCsv = false, epochsOnly = false;
    std::vector<std::int64_t> ids;
    std::int64_t id = 0;
    int epoch = 0;
    RunFilter filter;
    double alphaMin = 0, alphaMax = 0;
    int experts = 0;
    std::vector<std::string> sources;
};

struct Subcommands {
    CLI::App *list, *show, *exp, *cmp, *del, *tag, *untag, *rename, *note, *check, *merge, *model,
        *routing;
    bool writes() const { return *del || *tag || *untag || *rename || *note || *merge; }
};

const char* kFooter =
    "Examples:\n"
    "  mode-runs list --status finished --dataset regimes\n"
    "  mode-runs show 12 --json\n"
    "  mode-runs export 12 --csv > run12.csv\n"
    "  mode-runs export-model 12 --out model.pt      # TorchScript, and model.json beside it\n"
    "  mode-runs routing 12 --epoch 5 --csv          # each test row's routing at epoch 5\n"
    "  mode-runs compare --dataset regimes\n"
    "  mode-runs tag 12 baseline && mode-runs rename 12 \"moe, seed 3\"\n"
    "  mode-runs delete 12 13\n"
    "  mode-runs merge shard0.sqlite shard1.sqlite --db all.sqlite\n"
    "Exit codes: 0 done, 2 bad input (an unknown id, a store that cannot be opened).";

void addReadCommands(CLI::App& app, RunsOptions& o, Subcommands& s) {
    s.list = app.add_subcommand("list", "the runs, newest first");
    s.list->add_flag("--json", o.asJson, "an array of objects");
    s.list->add_option("--dataset", o.filter.dataset, "only this dataset");
    s.list->add_option("--status", o.status,
                       "running | finished | stopped | failed | diverged | interrupted");
    s.list->add_option("--tag", o.filter.tag, "only runs with this tag");
    s.list->add_option("--alpha-min", o.alphaMin, "alpha >= this");
    s.list->add_option("--alpha-max", o.alphaMax, "alpha <= this");
    s.list->add_option("--experts", o.experts, "only this number of experts");
    s.list->add_option("--search", o.filter.search, "text in the name, dataset or notes");
    s.list->add_option("--limit", o.filter.limit, "at most this many runs");

    s.show = app.add_subcommand("show", "one run in detail");
    s.show->add_option("id", o.id, "run id")->required();
    s.show->add_flag("--json", o.asJson, "one object, with the config");

    s.exp = app.add_subcommand("export", "a run's per-step and per-epoch series");
    s.exp->add_option("id", o.id, "run id")->required();
    auto* csvFlag = s.exp->add_flag(
        "--csv", o.asCsv, "CSV: one row per step, epoch metrics on each epoch's last step");
    auto* jsonFlag =
        s.exp->add_flag("--json", o.asJson, "JSON: the run, its config, steps and epochs");
    csvFlag->excludes(jsonFlag);
    s.exp->add_flag("--epochs", o.epochsOnly,
                    "with --csv: one row per epoch, with the per-expert metrics");
    s.exp->add_option("-o,--out", o.out, "write to this file instead of stdout");

    s.routing = app.add_subcommand(
        "routing", "a run's routing of each test row at an epoch (the last kept by default): its "
                   "label, top expert and that expert's gate weight, the mixture's prediction "
                   "and the top expert's own");
    s.routing->add_option("id", o.id, "run id")->required();
    s.routing->add_option("--epoch", o.epoch, "the epoch (one whose routing was kept)")
        ->check(CLI::Range(0, 1000000, "EPOCH"));
    s.routing->add_flag("--csv", o.asCsv, "CSV, one row per test sample (the format)");
    s.routing->add_option("-o,--out", o.out, "write to this file instead of stdout");

    s.model = app.add_subcommand(
        "export-model", "a run's model as TorchScript for PyTorch (torch.jit.load), with its "
                        "preprocessing as JSON beside it (OUT with .json)");
    s.model->add_option("id", o.id, "run id")->required();
    s.model->add_option("-o,--out", o.out, "the TorchScript file (e.g. model.pt)")->required();
    s.model
        ->add_option("--epoch", o.epoch,
                     "the model of this epoch (one the store keeps: mode-runs show lists them)")
        ->check(CLI::Range(0, 1000000, "EPOCH"));

    s.cmp = app.add_subcommand(
        "compare", "each alpha against alpha = 0, runs paired by seed: difference, 95% CI, "
                   "t-test, Holm, Wilcoxon, probability of improvement; one table per "
                   "configuration (runs differing in more than alpha and seed are never pooled)");
    s.cmp->add_option("ids", o.ids, "run ids (default: every finished run, or those of --dataset)");
    s.cmp->add_option("--dataset", o.filter.dataset, "the finished runs of this dataset");
    std::string metrics;
    for (const auto& m : outcomeMetrics())
        metrics += (metrics.empty() ? "" : ", ") + std::string(m.name);
    s.cmp->add_option("--metric", o.metric,
                      "the outcome compared (default test_accuracy): " + metrics);
    s.cmp
        ->add_option("--scoring", o.scoring,
                     "the epoch each run is scored at: best (its best validation epoch; "
                     "default) or last")
        ->check(CLI::IsMember({"best", "last"}));
    s.cmp->add_flag("--json", o.asJson, "an array of configurations, each with its alphas");
    s.check = app.add_subcommand(
        "check", "check the store file's integrity, and that each run's row agrees with its "
                 "stored epochs and steps (exit 1 if not)");
}

void addEditCommands(CLI::App& app, RunsOptions& o, Subcommands& s) {
    s.del = app.add_subcommand("delete", "delete runs and everything stored for them");
    s.del->add_option("ids", o.ids, "run ids")->required();
    auto idAndText = [&](const char* name, const char* what, const char* textName,
                         const char* textHelp) {
        auto* c = app.add_subcommand(name, what);
        c->add_option("id", o.id, "run id")->required();
        c->add_option(textName, o.text, textHelp)->required();
        return c;
    };
    s.tag = idAndText("tag", "add a tag to a run", "tag", "tag");
    s.untag = idAndText("untag", "remove a tag from a run", "tag", "tag");
    s.rename = idAndText("rename", "rename a run", "name", "new name");
    s.note = idAndText("note", "set a run's notes", "text", "the notes");
    s.merge =
        app.add_subcommand("merge", "copy the runs of other stores (e.g. sweep shards) into --db");
    s.merge->add_option("stores", o.sources, "run stores to copy from")->required();
}

void printJson(const json& j) {
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
}

int listRuns(const RunStore& store, RunsOptions& o, const CLI::App& list) {
    if (!o.status.empty()) {
        try {
            o.filter.status = runStatusFromString(o.status);
        } catch (const std::exception&) {
            std::cerr
                << "mode-runs list: --status '" << o.status
                << "' is not one of running, finished, stopped, failed, diverged, interrupted\n";
            return kExitBadInput;
        }
    }
    if (list.get_option("--alpha-min")->count()) o.filter.alphaMin = o.alphaMin;
    if (list.get_option("--alpha-max")->count()) o.filter.alphaMax = o.alphaMax;
    if (list.get_option("--experts")->count()) o.filter.experts = o.experts;
    const auto runs = store.listRuns(o.filter);
    if (!o.asJson) {
        printList(runs);
        return 0;
    }
    json a = json::array();
    for (const auto& r : runs)
        a.push_back(runRecordJson(r));
    printJson(a);
    return 0;
}

int exportRun(const RunStore& store, const RunsOptions& o) {
    if (!o.out.empty()) refuseKeptTarget(o.out, {{store.path(), "the run store"}});
    writeOutput(o.out, [&](std::ostream& out) {
        if (o.asJson)
            out << exportRunJson(store, o.id).dump(2, ' ', false, json::error_handler_t::replace)
                << "\n";
        else if (o.epochsOnly)
            exportEpochsCsv(store, o.id, out);
        else
            exportRunCsv(store, o.id, out);
    });
    return 0;
}

void writeRouting(std::ostream& out, const SampleRouting& routing,
                  const std::vector<std::string>& names) {
    const SampleRouting* samples = &routing;
    auto value = [&](float v) {
        const auto k = static_cast<std::size_t>(v);
        return samples->classification && k < names.size() ? names[k] : formatShortest(v);
    };
    std::vector<std::string> header{
        "sample", "row", "label", "top_expert", "top_weight", "prediction", "expert_prediction"};
    const auto k = static_cast<std::size_t>(samples->k);
    if (k > 0) { // a top-k gate: each row's k experts and weights, largest first
        header.push_back("gate_experts");
        header.push_back("gate_weights");
    }
    writeCsvRow(out, header);
    for (std::size_t i = 0; i < samples->size(); ++i) {
        std::vector<std::string> fields{std::to_string(i),
                                        std::to_string(samples->row[i]),
                                        value(samples->label[i]),
                                        std::to_string(samples->topExpert[i]),
                                        formatShortest(samples->topWeight[i]),
                                        value(samples->prediction[i]),
                                        value(samples->expertPrediction[i])};
        if (k > 0) {
            std::string experts, weights;
            for (std::size_t j = i * k; j < (i + 1) * k; ++j) {
                experts += (j > i * k ? " " : "") + std::to_string(samples->gateExperts[j]);
                weights += (j > i * k ? " " : "") + formatShortest(samples->gateWeights[j]);
            }
            fields.push_back(experts);
            fields.push_back(weights);
        }
        writeCsvRow(out, fields);
    }
}

// Each test row's routing at an epoch, as CSV.
int exportRouting(const RunStore& store, const RunsOptions& o) {
    if (!o.out.empty()) refuseKeptTarget(o.out, {{store.path(), "the run store"}});
    const RunRecord r = store.run(o.id);
    const auto epochs = store.sampleRoutingEpochs(o.id);
    if (epochs.empty())
        throw RunStoreError("run " + std::to_string(o.id) +
                            " has no per-sample routing (stored by an older version, or no epoch "
                            "ended)");
    const int epoch = o.epoch > 0 ? o.epoch : epochs.back();
    const auto samples = store.sampleRouting(o.id, epoch);
    if (!samples) {
        std::string kept;
        for (int e : epochs)
            kept += (kept.empty() ? "" : ", ") + std::to_string(e);
        throw RunStoreError("run " + std::to_string(o.id) + " kept the routing of epochs " + kept +
                            ", not of epoch " + std::to_string(epoch));
    }
    const auto& names = r.start.classNames;
    writeOutput(o.out, [&](std::ostream& out) { writeRouting(out, *samples, names); });
    return 0;
}

// The run's model (the last, or --epoch's) as TorchScript, and its preprocessing beside it.
int exportModel(const RunStore& store, const RunsOptions& o) {
    const auto [sidecar, epoch] = exportStoredModel(store.path(), o.id, o.out, o.epoch);
    std::cout << "wrote " << o.out << " (TorchScript, the model of epoch " << epoch << ") and "
              << sidecar << " (its preprocessing)\n";
    return 0;
}

int compareRuns(const RunStore& store, const RunsOptions& o) {
    outcomeMetric(o.metric); // an unknown metric is refused before reading
    std::vector<StudyRun> runs;
    if (o.ids.empty()) {
        const auto datasets = o.filter.dataset.empty() ? std::vector<std::string>{}
                                                       : std::vector<std::string>{o.filter.dataset};
        for (auto& r : loadStudyRuns(store, datasets))
            runs.push_back(std::move(r));
    } else {
        for (auto id : o.ids) {
            runs.push_back(studyRun(store.run(id), store.epochs(id)));
        }
        // newest first, as a store lists them: the newest run of an (alpha, seed) counts
        std::sort(runs.begin(), runs.end(),
                  [](const auto& a, const auto& b) { return a.record.id > b.record.id; });
    }
    if (runs.empty()) {
        std::cerr << "mode-runs compare: no finished runs"
                  << (o.filter.dataset.empty() ? "" : " of " + o.filter.dataset) << " in "
                  << store.path() << "\n";
        return kExitBadInput;
    }
    const auto scoring = o.scoring == "last" ? ScoringEpoch::Last : ScoringEpoch::BestValidation;
    const json result = compareJson(scoredAt(std::move(runs), scoring), o.metric, scoring);
    if (o.asJson)
        printJson(result);
    else
        printCompare(result);
    return 0;
}

int editRuns(RunStore& store, const RunsOptions& o, const Subcommands& s) {
    if (*s.del) {
        for (auto id : o.ids) // all ids exist and none is being trained, or nothing is deleted
            if (store.run(id).status == RunStatus::Running)
                throw RunStoreError("run " + std::to_string(id) +
                                    " is being trained by a live process; stop it first "
                                    "(nothing was deleted)");
        for (auto id : o.ids)
            store.deleteRun(id);
        std::cout << "deleted " << o.ids.size() << (o.ids.size() == 1 ? " run\n" : " runs\n");
    } else if (*s.tag) {
        store.addTag(o.id, o.text);
    } else if (*s.untag) {
        store.removeTag(o.id, o.text);
    } else if (*s.rename) {
        store.rename(o.id, o.text);
    } else if (*s.note) {
        store.setNotes(o.id, o.text);
    } else if (*s.merge) {
        for (const auto& src : o.sources) {
            auto n = store.mergeFrom(src);
            std::cout << src << ": " << n.copied << " runs copied, " << n.skipped
                      << " already there\n";
        }
    }
    return 0;
}

int checkStore(const RunStore& store) {
    const auto report = store.integrityCheck();
    std::cout << store.path() << ": " << report << "\n";
    const auto problems = store.consistencyCheck();
    for (const auto& p : problems)
        std::cout << "  " << p << "\n";
    std::cout << store.path() << ": "
              << (problems.empty() ? "every run's row agrees with its stored data"
                                   : std::to_string(problems.size()) + " disagreements")
              << "\n";
    const auto blobs = store.blobCheck();
    for (const auto& p : blobs.problems)
        std::cout << "  " << p << "\n";
    std::cout << store.path() << ": "
              << (blobs.problems.empty()
                      ? "every stored model, checkpoint and routing reads back intact"
                      : std::to_string(blobs.problems.size()) + " damaged stored blobs")
              << " (" << blobs.checked << " read"
              << (blobs.unchecked > 0 ? ", " + std::to_string(blobs.unchecked) +
                                            " of them stored without a checksum by an older "
                                            "version"
                                      : std::string())
              << ")\n";
    return report == "ok" && problems.empty() && blobs.problems.empty() ? 0 : 1;
}

int dispatch(RunStore& store, RunsOptions& o, const Subcommands& s) {
    if (*s.list) return listRuns(store, o, *s.list);
    if (*s.show) {
        const auto r = store.run(o.id);
        if (!o.asJson) {
            printShow(store, r);
            return 0;
        }
        json j = runRecordJson(r);
        j["config"] = json::parse(r.configJson);
        printJson(j);
        return 0;
    }
    if (*s.exp) return exportRun(store, o);
    if (*s.model) return exportModel(store, o);
    if (*s.routing) return exportRouting(store, o);
    if (*s.cmp) return compareRuns(store, o);
    if (*s.check) return checkStore(store);
    return editRuns(store, o, s);
}

} // namespace

int runsCommand(int argc, char** argv) {
    CLI::App app{"List, show, export, compare, tag, rename and delete the runs of a MoDE Workbench "
                 "run store."};
    app.footer(kFooter);
    app.set_version_flag("--version", std::string("mode-runs ") + MODE_VERSION);
    app.require_subcommand(1);
    app.fallthrough(); // --db before or after the subcommand, as in `mode-runs list --db FILE`
    RunsOptions o;
    app.add_option("--db", o.db, "run store (SQLite); default: " + RunStore::defaultPath());
    Subcommands s{};
    addReadCommands(app, o, s);
    addEditCommands(app, o, s);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    if (*s.exp && !o.asCsv && !o.asJson) {
        std::cerr << "mode-runs export: give --csv or --json\n";
        return kExitBadInput;
    }
    try {
        RunStore store(o.db.empty() ? RunStore::defaultPath() : o.db,
                       s.writes() ? RunStore::Mode::ReadWrite : RunStore::Mode::ReadOnly);
        return dispatch(store, o, s);
    } catch (const std::exception& e) {
        std::cerr << "mode-runs: " << e.what() << "\n";
        return kExitBadInput;
    }
}

} // namespace mode

// mode-runs: list, show, export, compare, tag, rename and delete the runs of a run store.

#include "analysis/AlphaStudy.h"
#include "cli/CliCommon.h"
#include "store/RunExport.h"
#include "store/RunStore.h"
#include "util/Utf8.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

using namespace mode;
using json = nlohmann::json;

namespace {

std::string fixed(const std::optional<double>& v, int digits = 4) {
    if (!v) return "-";
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << *v;
    return s.str();
}

std::string alphaText(double a) {
    std::ostringstream s;
    s << a;
    return s.str();
}

void printList(const std::vector<RunRecord>& runs) {
    if (runs.empty()) {
        std::cout << "no runs\n";
        return;
    }
    std::cout << std::left << std::setw(6) << "id" << std::setw(22) << "name" << std::setw(12) << "status"
              << std::setw(14) << "dataset" << std::right << std::setw(4) << "E" << std::setw(9) << "alpha"
              << std::setw(9) << "test" << std::setw(9) << "routing" << std::setw(8) << "epochs"
              << "  started\n";
    for (const auto& r : runs) {
        // Names come from users and files: shown without terminal escapes or broken bytes.
        std::string name = printable(r.name), dataset = printable(r.dataset);
        name = name.size() > 20 ? name.substr(0, 19) + "~" : name;
        dataset = dataset.size() > 12 ? dataset.substr(0, 11) + "~" : dataset;
        std::cout << std::left << std::setw(6) << r.id << std::setw(22) << (name.empty() ? "-" : name)
                  << std::setw(12) << toString(r.status) << std::setw(14) << dataset << std::right << std::setw(4)
                  << r.experts << std::setw(9) << alphaText(r.alpha) << std::setw(9) << fixed(r.testAccuracy)
                  << std::setw(9) << fixed(r.gateRoutingAccuracy, 3) << std::setw(8)
                  << (std::to_string(r.epochsCompleted) + "/" + std::to_string(r.start.epochs)) << "  "
                  << localTimeShort(r.startedAt) << "\n";
    }
}

json intervalJson(const Interval& i) { return i.known() ? json::array({i.lower, i.upper}) : json(nullptr); }
json finiteOrNull(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

// Each alpha of each configuration against alpha = 0, paired by seed, Holm across the alphas.
json compareJson(const std::vector<StudyRun>& runs, const std::string& metric) {
    json out = json::array();
    for (const auto& study : groupStudies(runs)) {
        json rows = json::array();
        for (const auto& e : alphaEffects(study, runs, metric)) {
            json r{{"alpha", e.alpha}, {"seeds", e.seeds}, {"mean", finiteOrNull(e.mean)}, {"std", finiteOrNull(e.std)}};
            if (e.vsZero) {
                const auto& c = *e.vsZero;
                r["vs_alpha_0"] = {{"pairs", c.n},
                                   {"mean_difference", finiteOrNull(c.meanDifference)},
                                   {"ci95_t", intervalJson(c.tInterval)},
                                   {"ci95_bootstrap", intervalJson(c.bootstrapInterval)},
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
                       {"alphas", rows}});
    }
    return out;
}

void printCompare(const json& studies) {
    for (const auto& s : studies) {
        std::cout << s["configuration"].get<std::string>() << " (configuration " << s["signature"].get<std::string>() << "), "
                  << s["metric"].get<std::string>() << ": each alpha against alpha = 0, paired by seed, Holm across the alphas\n";
        std::cout << std::right << std::setw(8) << "alpha" << std::setw(7) << "seeds" << std::setw(9) << "mean" << std::setw(11)
                  << "diff" << std::setw(22) << "95% CI (t)" << std::setw(9) << "p" << std::setw(9) << "Holm p" << std::setw(12)
                  << "P(improve)\n";
        auto num = [](const json& v, int digits) { return v.is_null() ? std::string("-") : fixed(v.get<double>(), digits); };
        for (const auto& a : s["alphas"]) {
            std::cout << std::setw(8) << alphaText(a["alpha"].get<double>()) << std::setw(7) << a["seeds"].size() << std::setw(9)
                      << num(a["mean"], 4);
            if (a.contains("vs_alpha_0")) {
                const auto& c = a["vs_alpha_0"];
                const auto& ci = c["ci95_t"];
                std::cout << std::setw(11) << num(c["mean_difference"], 4) << std::setw(22)
                          << (ci.is_null() ? std::string("-") : "[" + fixed(ci[0].get<double>()) + ", " + fixed(ci[1].get<double>()) + "]")
                          << std::setw(9) << num(c["p_t"], 3) << std::setw(9) << num(c["p_holm"], 3) << std::setw(12)
                          << num(c["p_improve"], 2);
            } else if (a["alpha"].get<double>() == 0) {
                std::cout << std::setw(11) << "baseline";
            }
            std::cout << "\n";
        }
    }
}

void printShow(const RunStore& store, const RunRecord& r) {
    std::cout << "run " << r.id << (r.name.empty() ? "" : " \"" + printable(r.name) + "\"") << ": " << toString(r.status);
    if (!r.message.empty()) std::cout << " (" << r.message << ")";
    std::cout << "\n  dataset      " << r.dataset << " (" << r.datasetFingerprint << "), " << r.start.trainRows << " train / "
              << r.start.valRows << " val / " << r.start.testRows << " test rows\n"
              << "  model        " << r.experts << " experts, gate " << r.gate << ", " << r.start.parameters
              << " parameters\n"
              << "  loss         alpha " << alphaText(r.alpha) << " (" << r.distill << ")\n"
              << "  seed         " << r.seed << ", device " << r.device << "\n"
              << "  progress     " << r.epochsCompleted << "/" << r.start.epochs << " epochs, " << r.steps << " steps, "
              << std::fixed << std::setprecision(1) << r.wallSeconds << " s\n"
              << "  started      " << localTimeShort(r.startedAt)
              << (r.endedAt ? ", ended " + localTimeShort(*r.endedAt) : std::string()) << "\n"
              << "  results      test accuracy " << fixed(r.testAccuracy) << ", validation " << fixed(r.valAccuracy)
              << " (best " << fixed(r.bestValAccuracy) << "), gate routing accuracy " << fixed(r.gateRoutingAccuracy, 3)
              << "\n"
              << "  software     mode-workbench " << r.modeVersion << ", LibTorch " << r.libtorchVersion << "\n"
              << "  config hash  " << r.configHash << (r.hasCheckpoint ? ", checkpoint stored" : "") << "\n";
    if (!r.tags.empty()) {
        std::cout << "  tags        ";
        for (const auto& t : r.tags) std::cout << " " << t;
        std::cout << "\n";
    }
    if (!r.notes.empty()) std::cout << "  notes        " << r.notes << "\n";
    auto epochs = store.epochs(r.id);
    if (!epochs.empty()) {
        const auto& last = epochs.back();
        std::cout << "  experts at epoch " << last.epoch << ":\n    expert  allocated  probing acc    load  similarity\n";
        for (const auto& e : last.experts)
            std::cout << "    " << std::setw(6) << e.expert << std::setw(11) << e.allocated << std::setw(13)
                      << fixed(e.probingAccuracy ? e.probingAccuracy : e.probingError) << std::setw(8)
                      << fixed(e.load, 3) << std::setw(12) << fixed(e.similarity, 3) << "\n";
    }
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"List, show, export, tag, rename and delete the runs of a MoDE Workbench run store."};
    app.footer("Examples:\n"
               "  mode-runs list --status finished --dataset regimes\n"
               "  mode-runs show 12 --json\n"
               "  mode-runs export 12 --csv > run12.csv\n"
               "  mode-runs tag 12 baseline && mode-runs rename 12 \"moe, seed 3\"\n"
               "  mode-runs delete 12 13\n"
               "  mode-runs merge shard0.sqlite shard1.sqlite --db all.sqlite\n"
               "Exit codes: 0 done, 2 bad input (an unknown id, a store that cannot be opened).");
    app.set_version_flag("--version", std::string("mode-runs ") + MODE_VERSION);
    app.require_subcommand(1);
    app.fallthrough(); // --db before or after the subcommand, as in `mode-runs list --db FILE`
    std::string db;
    app.add_option("--db", db, "run store (SQLite); default: " + RunStore::defaultPath());

    bool asJson = false, asCsv = false, epochsOnly = false;
    std::vector<std::int64_t> ids;
    std::int64_t id = 0;
    std::string text, out;
    RunFilter filter;
    std::string status;
    double alphaMin = 0, alphaMax = 0;
    int experts = 0;

    auto* list = app.add_subcommand("list", "the runs, newest first");
    list->add_flag("--json", asJson, "an array of objects");
    list->add_option("--dataset", filter.dataset, "only this dataset");
    list->add_option("--status", status, "running | finished | stopped | failed | diverged | interrupted");
    list->add_option("--tag", filter.tag, "only runs with this tag");
    list->add_option("--alpha-min", alphaMin, "alpha >= this");
    list->add_option("--alpha-max", alphaMax, "alpha <= this");
    list->add_option("--experts", experts, "only this number of experts");
    list->add_option("--search", filter.search, "text in the name, dataset or notes");
    list->add_option("--limit", filter.limit, "at most this many runs");

    auto* show = app.add_subcommand("show", "one run in detail");
    show->add_option("id", id, "run id")->required();
    show->add_flag("--json", asJson, "one object, with the config");

    auto* exp = app.add_subcommand("export", "a run's per-step and per-epoch series");
    exp->add_option("id", id, "run id")->required();
    auto* csvFlag = exp->add_flag("--csv", asCsv, "CSV: one row per step, epoch metrics on each epoch's last step");
    auto* jsonFlag = exp->add_flag("--json", asJson, "JSON: the run, its config, steps and epochs");
    csvFlag->excludes(jsonFlag);
    exp->add_flag("--epochs", epochsOnly, "with --csv: one row per epoch, with the per-expert metrics");
    exp->add_option("-o,--out", out, "write to this file instead of stdout");

    auto* cmp = app.add_subcommand("compare", "each alpha against alpha = 0, runs paired by seed: difference, 95% CI, "
                                              "t-test, Holm, Wilcoxon, probability of improvement; one table per "
                                              "configuration (runs differing in more than alpha and seed are never pooled)");
    std::string metric = "test_accuracy";
    cmp->add_option("ids", ids, "run ids (default: every finished run, or those of --dataset)");
    cmp->add_option("--dataset", filter.dataset, "the finished runs of this dataset");
    cmp->add_option("--metric", metric, "test_accuracy (default), val_accuracy, gate_routing_accuracy, probing_accuracy, "
                                        "mixture_minus_probing, expert_similarity, ...");
    cmp->add_flag("--json", asJson, "an array of configurations, each with its alphas");

    auto* del = app.add_subcommand("delete", "delete runs and everything stored for them");
    del->add_option("ids", ids, "run ids")->required();
    auto* tag = app.add_subcommand("tag", "add a tag to a run");
    tag->add_option("id", id, "run id")->required();
    tag->add_option("tag", text, "tag")->required();
    auto* untag = app.add_subcommand("untag", "remove a tag from a run");
    untag->add_option("id", id, "run id")->required();
    untag->add_option("tag", text, "tag")->required();
    auto* rename = app.add_subcommand("rename", "rename a run");
    rename->add_option("id", id, "run id")->required();
    rename->add_option("name", text, "new name")->required();
    auto* note = app.add_subcommand("note", "set a run's notes");
    note->add_option("id", id, "run id")->required();
    note->add_option("text", text, "the notes")->required();
    auto* check = app.add_subcommand("check", "check the store file's integrity, and that each run's row agrees with "
                                              "its stored epochs and steps (exit 1 if not)");
    std::vector<std::string> sources;
    auto* merge = app.add_subcommand("merge", "copy the runs of other stores (e.g. sweep shards) into --db");
    merge->add_option("stores", sources, "run stores to copy from")->required();

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : kExitBadInput;
    }
    if (*exp && !asCsv && !asJson) {
        std::cerr << "mode-runs export: give --csv or --json\n";
        return kExitBadInput;
    }

    const std::string path = db.empty() ? RunStore::defaultPath() : db;
    const bool writes = *del || *tag || *untag || *rename || *note || *merge;
    try {
        RunStore store(path, writes ? RunStore::Mode::ReadWrite : RunStore::Mode::ReadOnly);
        if (*list) {
            if (!status.empty()) {
                try {
                    filter.status = runStatusFromString(status);
                } catch (const std::exception&) {
                    std::cerr << "mode-runs list: --status '" << status
                              << "' is not one of running, finished, stopped, failed, diverged, interrupted\n";
                    return kExitBadInput;
                }
            }
            if (list->get_option("--alpha-min")->count()) filter.alphaMin = alphaMin;
            if (list->get_option("--alpha-max")->count()) filter.alphaMax = alphaMax;
            if (list->get_option("--experts")->count()) filter.experts = experts;
            auto runs = store.listRuns(filter);
            if (asJson) {
                json a = json::array();
                for (const auto& r : runs) a.push_back(runRecordJson(r));
                std::cout << a.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
            } else {
                printList(runs);
            }
        } else if (*show) {
            auto r = store.run(id);
            if (asJson) {
                json j = runRecordJson(r);
                j["config"] = json::parse(r.configJson);
                std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
            } else {
                printShow(store, r);
            }
        } else if (*exp) {
            std::ostringstream buffer;
            if (asJson) buffer << exportRunJson(store, id).dump(2, ' ', false, json::error_handler_t::replace) << "\n";
            else if (epochsOnly) exportEpochsCsv(store, id, buffer);
            else exportRunCsv(store, id, buffer);
            if (out.empty()) {
                std::cout << buffer.str();
            } else if (!writeTextFile(out, buffer.str())) {
                std::cerr << "mode-runs export: cannot write " << out << "\n";
                return kExitBadInput;
            }
        } else if (*cmp) {
            outcomeMetric(metric); // an unknown metric is refused before reading
            std::vector<StudyRun> runs;
            if (ids.empty()) {
                for (auto& r : loadStudyRuns(store, filter.dataset.empty() ? std::vector<std::string>{}
                                                                           : std::vector<std::string>{filter.dataset}))
                    runs.push_back(std::move(r));
            } else {
                for (auto id : ids) {
                    StudyRun r{store.run(id), std::nullopt};
                    auto epochs = store.epochs(id);
                    if (!epochs.empty()) r.last = std::move(epochs.back());
                    runs.push_back(std::move(r));
                }
                // newest first, as a store lists them: the newest run of an (alpha, seed) counts
                std::sort(runs.begin(), runs.end(), [](const auto& a, const auto& b) { return a.record.id > b.record.id; });
            }
            if (runs.empty()) {
                std::cerr << "mode-runs compare: no finished runs" << (filter.dataset.empty() ? "" : " of " + filter.dataset) << " in "
                          << path << "\n";
                return kExitBadInput;
            }
            const json result = compareJson(runs, metric);
            if (asJson) std::cout << result.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
            else printCompare(result);
        } else if (*del) {
            for (auto id : ids) store.run(id); // all ids exist, or nothing is deleted
            for (auto id : ids) store.deleteRun(id);
            std::cout << "deleted " << ids.size() << (ids.size() == 1 ? " run\n" : " runs\n");
        } else if (*tag) {
            store.addTag(id, text);
        } else if (*untag) {
            store.removeTag(id, text);
        } else if (*rename) {
            store.rename(id, text);
        } else if (*note) {
            store.setNotes(id, text);
        } else if (*merge) {
            for (const auto& src : sources) {
                auto n = store.mergeFrom(src);
                std::cout << src << ": " << n.copied << " runs copied, " << n.skipped << " already there\n";
            }
        } else if (*check) {
            auto report = store.integrityCheck();
            std::cout << path << ": " << report << "\n";
            const auto problems = store.consistencyCheck();
            for (const auto& p : problems) std::cout << "  " << p << "\n";
            std::cout << path << ": " << (problems.empty() ? "every run's row agrees with its stored data"
                                                             : std::to_string(problems.size()) + " disagreements")
                      << "\n";
            return report == "ok" && problems.empty() ? 0 : 1;
        }
    } catch (const std::exception& e) {
        std::cerr << "mode-runs: " << e.what() << "\n";
        return kExitBadInput;
    }
    return 0;
}

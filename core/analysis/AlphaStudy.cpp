// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/AlphaStudy.h"

#include "analysis/RunComparison.h"
#include "data/Dataset.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>
#include <stdexcept>

namespace mode {

StudyRun studyRun(RunRecord record, std::vector<EpochMetrics> epochs) {
    StudyRun s{std::move(record), std::nullopt, std::nullopt};
    if (epochs.empty()) return s;
    std::size_t best = epochs.size() - 1; // no validation rows: nothing to choose on
    if (s.record.start.valRows > 0) {
        best = 0;
        for (std::size_t i = 1; i < epochs.size(); ++i)
            if (epochs[i].valAccuracy > epochs[best].valAccuracy) best = i; // ties: the earliest
    }
    s.best = epochs[best];
    s.last = std::move(epochs.back());
    return s;
}

std::vector<StudyRun> loadStudyRuns(const RunStore& store,
                                    const std::vector<std::string>& datasets) {
    RunFilter finished;
    finished.status = RunStatus::Finished;
    const std::set<std::string> wanted(datasets.begin(), datasets.end());
    std::vector<StudyRun> out;
    for (auto& r : store.listRuns(finished)) {
        if (!wanted.empty() && !wanted.count(r.dataset)) continue;
        auto epochs = store.epochs(r.id);
        out.push_back(studyRun(std::move(r), std::move(epochs)));
    }
    return out;
}

std::string toString(ScoringEpoch e) {
    return e == ScoringEpoch::BestValidation ? "best validation epoch" : "last epoch";
}

std::vector<StudyRun> scoredAt(std::vector<StudyRun> runs, ScoringEpoch epoch) {
    if (epoch == ScoringEpoch::Last) return runs;
    for (auto& r : runs) {
        if (!r.best) continue;
        const auto& b = *r.best;
        r.record.testAccuracy = b.testAccuracy; // as the store keeps the last epoch's on the run
        r.record.valAccuracy = b.valAccuracy;
        r.record.gateRoutingAccuracy = b.gateRoutingAccuracy;
        r.last = b;
    }
    return runs;
}

std::map<std::string, std::string> comparableSettings(const RunRecord& run) {
    std::map<std::string, std::string> s;
    try {
        s = flattenConfig(nlohmann::json::parse(run.configJson));
    } catch (const std::exception&) {
        s["config"] = run.configJson; // unreadable: it can only pool with an identical text
    }
    for (const char* k : {"name", "loss.alpha", "train.seed", "train.device", "train.threads"})
        s.erase(k);
    auto path = s.find("data.path");
    if (path != s.end() && !path->second.empty()) { // a file: its content, wherever it lies
        s.erase(path);
        s.erase("data.dataset");
    }
    s["data.fingerprint"] = run.datasetFingerprint;
    s["mode.version"] = run.modeVersion.empty() ? "(unrecorded)" : run.modeVersion;
    return s;
}

namespace {
std::string signatureOf(const std::map<std::string, std::string>& settings) {
    std::string text;
    for (const auto& [k, v] : settings)
        text += k + '=' + v + '\n';
    return fnv1a64Hex(text.data(), text.size());
}
} // namespace

std::string configSignature(const RunRecord& run) {
    return signatureOf(comparableSettings(run));
}

std::string modelKind(const RunRecord& run) {
    const auto s = comparableSettings(run);
    const auto it = s.find("model.kind");
    return it == s.end() ? "moe" : it->second;
}

std::string familySignature(const RunRecord& run) {
    auto s = comparableSettings(run);
    s.erase("model.kind");
    return signatureOf(s);
}

std::vector<std::optional<double>> probingByExpert(const EpochMetrics& e) {
    int n = 0;
    for (const auto& x : e.experts)
        n = std::max(n, x.expert + 1);
    std::vector<std::optional<double>> out(static_cast<std::size_t>(n));
    for (const auto& x : e.experts)
        if (x.expert >= 0 && x.allocated > 0 && x.probingAccuracy)
            out[static_cast<std::size_t>(x.expert)] = x.probingAccuracy;
    return out;
}

std::optional<double> weightedProbing(const EpochMetrics& e) {
    double sum = 0, n = 0;
    for (const auto& x : e.experts)
        if (x.probingAccuracy && x.allocated > 0) {
            sum += *x.probingAccuracy * static_cast<double>(x.allocated);
            n += static_cast<double>(x.allocated);
        }
    if (n == 0) return std::nullopt;
    return sum / n;
}

namespace {
std::optional<double> finite(std::optional<double> v) {
    if (v && !std::isfinite(*v)) return std::nullopt;
    return v;
}
double perRow(std::int64_t rows) {
    return rows > 0 ? 1.0 / static_cast<double>(rows) : 0.0;
}
// Shares of the test rows (classification: a count over them; regression's R^2 is continuous).
double testRows(const RunRecord& r) {
    return r.start.classification ? perRow(r.start.testRows) : 0.0;
}
double valRows(const RunRecord& r) {
    return r.start.classification ? perRow(r.start.valRows) : 0.0;
}
double routedRows(const RunRecord& r) { // routing accuracy is a share of the test rows in any task
    return perRow(r.start.testRows);
}
} // namespace

const std::vector<OutcomeMetric>& outcomeMetrics() {
    using E = const EpochMetrics*;
    static const std::vector<OutcomeMetric> m{
        {"test_accuracy", "test accuracy (R\u00b2 for regression)",
         [](const RunRecord& r, E) { return finite(r.testAccuracy); }, false, testRows},
        {"val_accuracy", "validation accuracy, last epoch",
         [](const RunRecord& r, E) { return finite(r.valAccuracy); }, false, valRows},
        {"best_val_accuracy", "validation accuracy, best epoch",
         [](const RunRecord& r, E) { return finite(r.bestValAccuracy); }, false, valRows},
        {"gate_routing_accuracy", "gate routing accuracy",
         [](const RunRecord& r, E) { return finite(r.gateRoutingAccuracy); }, false, routedRows},
        // Allocation-weighted, every test row is counted once: a share of the test rows.
        {"probing_accuracy", "expert probing accuracy (allocation-weighted)",
         [](const RunRecord&, E e) { return e ? finite(weightedProbing(*e)) : std::nullopt; },
         false, testRows},
        {"mixture_minus_probing", "mixture accuracy minus expert probing accuracy",
         [](const RunRecord& r, E e) -> std::optional<double> {
             const auto p = e ? weightedProbing(*e) : std::nullopt;
             if (!p || !r.testAccuracy) return std::nullopt;
             return finite(*r.testAccuracy - *p);
         },
         false, testRows},
        {"expert_similarity", "expert similarity (mean pairwise cosine)",
         [](const RunRecord&, E e) { return e ? finite(e->expertSimilarity) : std::nullopt; }},
        {"wall_seconds", "training time (s)",
         [](const RunRecord& r, E) -> std::optional<double> { return r.wallSeconds; }, true},
        {"epochs_completed", "epochs completed",
         [](const RunRecord& r, E) -> std::optional<double> {
             return static_cast<double>(r.epochsCompleted);
         },
         true},
    };
    return m;
}

const OutcomeMetric& outcomeMetric(const std::string& name) {
    std::string known;
    for (const auto& m : outcomeMetrics()) {
        if (name == m.name) return m;
        known += (known.empty() ? "" : ", ") + std::string(m.name);
    }
    throw std::invalid_argument("unknown metric '" + name + "' (known: " + known + ")");
}

std::optional<double> outcomeValue(const StudyRun& run, const std::string& metric) {
    return outcomeMetric(metric).value(run.record, run.last ? &*run.last : nullptr);
}

double outcomeResolution(const OutcomeMetric& m, const std::vector<const RunRecord*>& runs) {
    double r = 0;
    if (m.resolution)
        for (const auto* run : runs)
            r = std::max(r, m.resolution(*run));
    return r;
}

std::size_t AlphaStudy::runs() const {
    std::size_t n = 0;
    for (const auto& [a, seeds] : cells)
        n += seeds.size();
    return n;
}

std::vector<double> AlphaStudy::alphas() const {
    std::vector<double> out;
    for (const auto& [a, seeds] : cells)
        out.push_back(a);
    return out;
}

std::string AlphaStudy::label() const {
    std::string s = dataset;
    for (std::size_t i = 0; i < distinguishing.size(); ++i)
        s += (i == 0 ? " (" : ", ") + distinguishing[i];
    if (!distinguishing.empty()) s += ")";
    return s;
}

std::vector<AlphaStudy> groupStudies(const std::vector<StudyRun>& runs) {
    // dataset -> signature -> study; the settings of each signature kept for the labels.
    std::map<std::string, std::map<std::string, AlphaStudy>> by;
    std::map<std::string, std::map<std::string, std::string>> settings;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        const auto& r = runs[i].record;
        if (r.status != RunStatus::Finished)
            continue; // a stopped or failed run measures nothing finished
        const std::string sig = configSignature(r);
        auto& study = by[r.dataset][sig];
        if (study.signature.empty()) {
            study.dataset = r.dataset;
            study.signature = sig;
            study.kind = modelKind(r);
            study.family = familySignature(r);
            settings[sig] = comparableSettings(r);
        }
        if (!study.cells[r.alpha].emplace(r.seed, i).second) ++study.duplicates;
    }
    std::vector<AlphaStudy> out;
    for (auto& [dataset, bySig] : by) {
        std::set<std::string> keys;
        for (const auto& [sig, s] : bySig)
            for (const auto& [k, v] : settings[sig])
                keys.insert(k);
        std::vector<AlphaStudy> group;
        for (auto& [sig, s] : bySig) {
            if (bySig.size() > 1)
                for (const auto& k : keys) {
                    std::set<std::string> values;
                    for (const auto& [other, unused] : bySig) {
                        auto it = settings[other].find(k);
                        values.insert(it == settings[other].end() ? "(unset)" : it->second);
                    }
                    if (values.size() > 1) {
                        auto it = settings[sig].find(k);
                        s.distinguishing.push_back(
                            k + "=" + (it == settings[sig].end() ? "(unset)" : it->second));
                    }
                }
            group.push_back(std::move(s));
        }
        // The data's fingerprint mostly follows from the data settings: left out of a label that
        // is told apart without it.
        auto withoutFingerprint = [](std::vector<std::string> d) {
            d.erase(std::remove_if(
                        d.begin(), d.end(),
                        [](const std::string& x) { return x.rfind("data.fingerprint=", 0) == 0; }),
                    d.end());
            return d;
        };
        std::map<std::vector<std::string>, int> shortLabels;
        for (const auto& s : group)
            ++shortLabels[withoutFingerprint(s.distinguishing)];
        for (auto& s : group) {
            auto brief = withoutFingerprint(s.distinguishing);
            if (!brief.empty() && shortLabels[brief] == 1) s.distinguishing = std::move(brief);
        }
        std::stable_sort(group.begin(), group.end(),
                         [](const auto& a, const auto& b) { return a.runs() > b.runs(); });
        for (auto& s : group)
            out.push_back(std::move(s));
    }
    return out;
}

void holmAcrossAlphas(std::vector<AlphaEffect>& effects) {
    std::vector<double> p;
    for (const auto& e : effects)
        p.push_back(e.vsZero && e.vsZero->n >= 2 ? e.vsZero->tTest.pValue : std::nan(""));
    const auto adjusted = holmAdjust(p);
    for (std::size_t i = 0; i < effects.size(); ++i)
        effects[i].holmP = adjusted[i];
}

namespace {
// The metric's value at each seed of an alpha, where known.
std::map<std::int64_t, double> valuesBySeed(const AlphaStudy& study,
                                            const std::vector<StudyRun>& runs,
                                            const OutcomeMetric& m, double alpha) {
    std::map<std::int64_t, double> out;
    auto it = study.cells.find(alpha);
    if (it == study.cells.end()) return out;
    for (const auto& [seed, index] : it->second) {
        const auto& run = runs.at(index);
        if (auto v = m.value(run.record, run.last ? &*run.last : nullptr)) out[seed] = *v;
    }
    return out;
}

// The metric's grid over the runs of the study.
double studyResolution(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                       const OutcomeMetric& m) {
    std::vector<const RunRecord*> records;
    for (const auto& [alpha, seeds] : study.cells)
        for (const auto& [seed, index] : seeds)
            records.push_back(&runs.at(index).record);
    return outcomeResolution(m, records);
}

std::optional<PairedComparison> pairUp(const std::map<std::int64_t, double>& treatment,
                                       const std::map<std::int64_t, double>& control, double level,
                                       double resolution) {
    std::vector<double> a, b;
    for (const auto& [seed, v] : treatment) {
        auto it = control.find(seed);
        if (it == control.end()) continue;
        a.push_back(v);
        b.push_back(it->second);
    }
    if (a.empty()) return std::nullopt;
    return comparePaired(a, b, level, resolution);
}
} // namespace

std::vector<AlphaEffect> alphaEffects(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                                      const std::string& metric, double level) {
    const auto& m = outcomeMetric(metric);
    const double resolution = studyResolution(study, runs, m);
    const auto zero = valuesBySeed(study, runs, m, 0.0);
    std::vector<AlphaEffect> out;
    for (const auto& [alpha, seeds] : study.cells) {
        AlphaEffect e;
        e.alpha = alpha;
        const auto values = valuesBySeed(study, runs, m, alpha);
        for (const auto& [seed, v] : values) {
            e.seeds.push_back(seed);
            e.values.push_back(v);
        }
        e.mean = e.values.empty() ? std::nan("") : mean(e.values);
        e.std = sampleStd(e.values);
        if (alpha != 0 && !zero.empty()) e.vsZero = pairUp(values, zero, level, resolution);
        out.push_back(std::move(e));
    }
    holmAcrossAlphas(out);
    return out;
}

std::optional<PairedComparison> compareAlphas(const AlphaStudy& study,
                                              const std::vector<StudyRun>& runs,
                                              const std::string& metric, double treatment,
                                              double control, double level) {
    return compareAcross(study, treatment, study, control, runs, metric, level);
}

std::optional<PairedComparison> compareAcross(const AlphaStudy& treatment, double treatmentAlpha,
                                              const AlphaStudy& control, double controlAlpha,
                                              const std::vector<StudyRun>& runs,
                                              const std::string& metric, double level) {
    const auto& m = outcomeMetric(metric);
    return pairUp(valuesBySeed(treatment, runs, m, treatmentAlpha),
                  valuesBySeed(control, runs, m, controlAlpha), level,
                  std::max(studyResolution(treatment, runs, m), studyResolution(control, runs, m)));
}

bool intervalsNarrowerThan(const std::vector<AlphaEffect>& effects, double width) {
    bool any = false;
    for (const auto& e : effects) {
        if (e.alpha == 0) continue;
        // Three seeds at least: two identical differences give an interval of width 0.
        if (!e.vsZero || e.vsZero->n < 3) return false;
        const double w = e.vsZero->tInterval.upper - e.vsZero->tInterval.lower;
        if (!(w < width)) return false; // NaN (no spread to estimate) counts as not narrow
        any = true;
    }
    return any;
}

int nextSeedCount(const std::vector<AlphaEffect>& effects, double width, int current, int step,
                  int maximum) {
    if (current >= maximum || intervalsNarrowerThan(effects, width)) return current;
    return std::min(maximum, current + std::max(1, step));
}

} // namespace mode

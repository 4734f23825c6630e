// SPDX-License-Identifier: GPL-3.0-or-later
#include "report/SweepReport.h"

#include "analysis/RunComparison.h"
#include "config/Choices.h"
#include "util/Format.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>

namespace mode {

namespace {

MetricSummary summarise(const AlphaEffect& e) {
    return {e.mean, e.std, e.values.size()};
}

std::string num(double v, int digits = 4) {
    return formatFixed(v, digits);
}
std::string signedNum(double v, int digits = 4) {
    return formatSigned(v, digits);
}
std::string pm(const MetricSummary& m, int digits = 4) {
    if (m.runs == 0) return "-";
    return num(m.mean, digits) + " \u00b1 " + num(m.std, digits);
}
std::string alphaText(double a) {
    std::ostringstream s;
    s << a;
    return s.str();
}
std::string pText(double p) {
    if (!std::isfinite(p)) return "-";
    if (p < 0.001) return "< 0.001";
    return num(p, 3);
}
std::string intervalText(const Interval& i, int digits = 4) {
    if (!i.known()) return "-";
    return "[" + signedNum(i.lower, digits) + ", " + signedNum(i.upper, digits) + "]";
}
std::string fileSafe(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
    return s;
}
// "better on 8 of 10 seeds (P(improve) 0.80 [0.49, 0.94])"
std::string improvementText(const PairedComparison& c) {
    const auto& p = c.improvement;
    std::ostringstream s;
    s << "P(improve) " << num(p.estimate, 2) << " "
      << (p.interval.known()
              ? "[" + num(p.interval.lower, 2) + ", " + num(p.interval.upper, 2) + "]"
              : "")
      << " over " << p.n << " seeds";
    return s.str();
}
// "+0.0120 [+0.0040, +0.0200], t-test p 0.004, Wilcoxon p 0.010, P(improve) 0.90 [..] over 10
// seeds"
std::string comparisonText(const PairedComparison& c) {
    return signedNum(c.meanDifference) + " " + intervalText(c.tInterval) + ", t-test p " +
           pText(c.tTest.pValue) + ", Wilcoxon p " + pText(c.wilcoxon.pValue) + ", " +
           improvementText(c);
}

const AlphaRow* rowAt(const DatasetReport& r, double alpha) {
    for (const auto& row : r.rows)
        if (row.alpha == alpha) return &row;
    return nullptr;
}

// The probing of each expert of a seed's alpha = 0 run allocated samples in both runs, beside the
// expert of its alpha run that routing matches it with (by number where no routing is stored).
struct MatchedExpert {
    int expert; // in the alpha = 0 run
    double atAlpha, atZero;
};
std::map<std::int64_t, std::vector<MatchedExpert>> matchedProbing(const AlphaStudy& study,
                                                                  const std::vector<StudyRun>& runs,
                                                                  double alpha, bool* byRouting) {
    std::map<std::int64_t, std::vector<MatchedExpert>> out;
    *byRouting = false;
    auto z = study.cells.find(0.0), a = study.cells.find(alpha);
    if (z == study.cells.end() || a == study.cells.end()) return out;
    for (const auto& [seed, index] : a->second) {
        auto it = z->second.find(seed);
        if (it == z->second.end() || !runs[index].last || !runs[it->second].last) continue;
        const auto& ea = *runs[index].last;
        const auto& e0 = *runs[it->second].last;
        const auto pa = probingByExpert(ea), p0 = probingByExpert(e0);
        std::vector<int> match; // match[k]: the alpha run's expert for expert k of the zero run
        if (e0.routingByClass.experts > 0 && ea.routingByClass.experts > 0) {
            match = alignExperts(e0.routingByClass, ea.routingByClass);
            *byRouting = true;
        } else {
            for (std::size_t k = 0; k < p0.size(); ++k)
                match.push_back(static_cast<int>(k));
        }
        for (std::size_t k = 0; k < std::min(p0.size(), match.size()); ++k) {
            const auto j = static_cast<std::size_t>(match[k]);
            if (j < pa.size() && pa[j] && p0[k])
                out[seed].push_back({static_cast<int>(k), *pa[j], *p0[k]});
        }
    }
    return out;
}

} // namespace

std::string toString(Verdict v) {
    switch (v) {
    case Verdict::Held:
        return "held";
    case Verdict::DidNotHold:
        return "did not hold";
    case Verdict::NotEstablished:
        return "not established";
    case Verdict::NotMeasured:
        return "not measured";
    case Verdict::Homogenised:
        return "homogenisation (not held)";
    }
    return "?";
}

std::string seedPlan(const DatasetReport& r, const ReportOptions& o) {
    const std::size_t m = std::max<std::size_t>(1, r.family);
    double sd = 0; // the largest spread of any alpha's paired differences: plan for the worst
    std::size_t pilot = 0;
    for (const auto& row : r.rows)
        if (row.testVsZero && row.testVsZero->n >= 2 &&
            std::isfinite(row.testVsZero->sdDifference)) {
            sd = std::max(sd, std::max(row.testVsZero->sdDifference, r.resolution));
            pilot = std::max(pilot, row.testVsZero->n);
        }
    if (pilot == 0) return "";
    const double level = o.significance / static_cast<double>(m);
    const std::size_t n = pairsNeeded(sd, o.meaningfulEffect, level);
    std::ostringstream s;
    s << "Seeds needed to detect a test-accuracy gain of " << num(o.meaningfulEffect, 3) << " at "
      << num(o.significance, 2) << "/" << m << " with power 0.8, from the spread of these " << pilot
      << " seeds (sd of the paired differences up to " << num(sd) << "): ";
    if (n == 0)
        s << "more than 100,000";
    else
        s << n
          << (n <= pilot ? " (these seeds suffice)" : " (" + std::to_string(n - pilot) + " more)");
    s << ".";
    return s.str();
}

std::string figureFile(const std::string& folder, const DatasetReport& r,
                       const std::string& metric) {
    return folder + "/" + fileSafe(r.dataset) +
           (r.study.distinguishing.empty() ? "" : "-" + r.study.signature.substr(0, 8)) + "-" +
           metric + ".png";
}

std::vector<DatasetReport> buildSweepReport(const RunStore& store,
                                            const std::vector<std::string>& datasets,
                                            ScoringEpoch scoring) {
    return buildSweepReport(loadStudyRuns(store, datasets), scoring);
}

namespace {

// The metrics of the alpha table, every alpha of the study (ascending) on each.
struct StudyEffects {
    std::vector<AlphaEffect> test, validation, similarity, probing, gap, routing;
};

StudyEffects studyEffects(const AlphaStudy& study, const std::vector<StudyRun>& runs) {
    StudyEffects e;
    e.test = alphaEffects(study, runs, "test_accuracy");
    e.validation = alphaEffects(study, runs, "val_accuracy");
    e.similarity = alphaEffects(study, runs, "expert_similarity");
    e.probing = alphaEffects(study, runs, "probing_accuracy");
    e.gap = alphaEffects(study, runs, "mixture_minus_probing");
    e.routing = alphaEffects(study, runs, "gate_routing_accuracy");
    return e;
}

// "mse-pairwise with 4 experts: alpha pulls 2.67 times as hard as the same alpha of mse-mean"
// (one configuration: every run of the study has the same loss settings).
std::string distillationText(const AlphaStudy& study, const std::vector<StudyRun>& runs) {
    if (study.cells.empty() || study.cells.begin()->second.empty()) return "";
    try {
        const auto c = runs.at(study.cells.begin()->second.begin()->second).record.config();
        const auto kind = parseChoice<DistillKind>(c.loss.distill, "loss.distill");
        const std::string what = c.loss.distill +
                                 (c.loss.detachTeacher ? " (detached teacher)" : "") + " with " +
                                 std::to_string(c.model.experts) + " experts";
        const double scale = distillationScale(kind, c.loss.detachTeacher, c.model.experts);
        if (std::isnan(scale))
            return what + ": alpha weighs a divergence, not comparable with the "
                          "squared-error variants";
        return what + ": alpha pulls " + num(scale, 2) +
               " times as hard as the same alpha of mse-mean without detach";
    } catch (const std::exception&) {
        return "";
    }
}

// What the section takes from the runs' records: their training time, the task, and one test
// sample's share of the accuracy.
void readRunRecords(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                    DatasetReport& rep) {
    for (const auto& [alpha, seeds] : study.cells)
        for (const auto& [seed, index] : seeds) {
            rep.wallSeconds += runs[index].record.wallSeconds;
            rep.classification = runs[index].record.start.classification;
        }
    std::set<std::string> versions;
    for (const auto& [alpha, seeds] : study.cells)
        for (const auto& [seed, index] : seeds) {
            if (const auto rows = runs[index].record.start.testRows; rows > 0)
                rep.resolution = std::max(rep.resolution, 1.0 / static_cast<double>(rows));
            versions.insert(runs[index].record.modeVersion.empty()
                                ? "(unrecorded)"
                                : runs[index].record.modeVersion);
        }
    rep.versions.assign(versions.begin(), versions.end());
    rep.distillation = distillationText(study, runs);
}

// One row per alpha; counts the alphas tested against alpha = 0 (Holm's family).
void addAlphaRows(const AlphaStudy& study, const StudyEffects& e, DatasetReport& rep) {
    for (std::size_t i = 0; i < e.test.size(); ++i) {
        AlphaRow row;
        row.alpha = e.test[i].alpha;
        row.runs = study.cells.at(row.alpha).size();
        row.testAccuracy = summarise(e.test[i]);
        row.valAccuracy = summarise(e.validation[i]);
        row.similarity = summarise(e.similarity[i]);
        row.probing = summarise(e.probing[i]);
        row.gap = summarise(e.gap[i]);
        if (!e.routing[i].values.empty()) row.routing = summarise(e.routing[i]);
        row.testVsZero = e.test[i].vsZero;
        row.holmP = e.test[i].holmP;
        row.probingVsZero = e.probing[i].vsZero;
        row.probingHolmP = e.probing[i].holmP;
        if (row.testVsZero && row.testVsZero->n >= 2) ++rep.family;
        rep.rows.push_back(row);
    }
}

// The alpha is chosen on the paired validation difference against alpha = 0 (over the seeds run
// at both, so an alpha with fewer seeds is not favoured by its noise); the oracle likewise on
// test. Ascending alpha: equal differences keep the smaller alpha.
void selectAlpha(const StudyEffects& e, DatasetReport& rep) {
    std::optional<double> bestVal, bestTest;
    for (std::size_t i = 0; i < rep.rows.size(); ++i) {
        const auto& row = rep.rows[i];
        if (row.alpha <= 0) continue;
        rep.largestAlpha = row.alpha;
        if (e.validation[i].vsZero &&
            (!bestVal || e.validation[i].vsZero->meanDifference > *bestVal)) {
            bestVal = e.validation[i].vsZero->meanDifference;
            rep.selectedAlpha = row.alpha;
        }
        if (e.test[i].vsZero && (!bestTest || e.test[i].vsZero->meanDifference > *bestTest)) {
            bestTest = e.test[i].vsZero->meanDifference;
            rep.oracleAlpha = row.alpha;
        }
    }
}

// Claim 3's Holm family: the alphas whose allocation-weighted probing is paired with alpha = 0
// over two seeds or more (each row keeps its comparison and its adjusted p).
void countProbingFamily(DatasetReport& rep) {
    for (const auto& row : rep.rows)
        rep.probingFamily += row.alpha != 0 && row.probingVsZero && row.probingVsZero->n >= 2;
}

// Expert by expert, matched by routing within each seed; Holm across the experts.
std::vector<ExpertProbing> expertProbing(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                                         double selected, bool* byRouting) {
    std::map<int, std::pair<std::vector<double>, std::vector<double>>> perExpert;
    for (const auto& [seed, experts] : matchedProbing(study, runs, selected, byRouting))
        for (const auto& e : experts) {
            perExpert[e.expert].first.push_back(e.atAlpha);
            perExpert[e.expert].second.push_back(e.atZero);
        }
    std::vector<ExpertProbing> out;
    std::vector<double> p;
    for (const auto& [e, v] : perExpert) {
        ExpertProbing x;
        x.expert = e;
        x.mode = mean(v.first);
        x.moe = mean(v.second);
        // An expert's probing is a share of the rows allocated to it: no common grid.
        x.difference = comparePaired(v.first, v.second);
        p.push_back(x.difference->n >= 2 ? x.difference->tTest.pValue : std::nan(""));
        out.push_back(x);
    }
    const auto adjusted = holmAdjust(p);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i].holmP = adjusted[i];
    return out;
}

// The selected alpha against the largest one (the fall) and against alpha = 0 on the other
// metrics of the claims.
void compareSelectedAlpha(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                          DatasetReport& rep) {
    const double a = *rep.selectedAlpha;
    if (rep.largestAlpha && *rep.largestAlpha != a) {
        rep.fall = compareAlphas(study, runs, "test_accuracy", a, *rep.largestAlpha);
        for (const auto& row : rep.rows)
            if (row.alpha > 0 && row.alpha < *rep.largestAlpha)
                if (auto c =
                        compareAlphas(study, runs, "test_accuracy", row.alpha, *rep.largestAlpha))
                    rep.fallCandidates.emplace_back(row.alpha, *c);
    }
    countProbingFamily(rep);
    rep.gapChange = compareAlphas(study, runs, "mixture_minus_probing", a, 0.0);
    rep.similarityChange = compareAlphas(study, runs, "expert_similarity", a, 0.0);
    rep.routingChange = compareAlphas(study, runs, "gate_routing_accuracy", a, 0.0);
    rep.experts = expertProbing(study, runs, a, &rep.expertsMatchedByRouting);
}

} // namespace

namespace {
// Each baseline study of the section's family (same data and settings but the model) against the
// section's chosen alpha and its alpha 0, paired by seed on test accuracy; Holm over the baselines.
void compareBaselines(const AlphaStudy& study, const std::vector<AlphaStudy>& all,
                      const std::vector<StudyRun>& runs, DatasetReport& rep) {
    std::vector<const AlphaStudy*> beside; // by kind (dense, then ensemble), not by signature
    for (const auto& b : all)
        if (b.kind != "moe" && b.family == study.family && b.dataset == study.dataset)
            beside.push_back(&b);
    std::stable_sort(beside.begin(), beside.end(),
                     [](const auto* a, const auto* b) { return a->kind < b->kind; });
    std::vector<double> p;
    for (const auto* baseline : beside) {
        const auto& b = *baseline;
        BaselineComparison c;
        c.kind = b.kind;
        c.signature = b.signature;
        c.runs = b.runs();
        for (const auto& [alpha, seeds] : b.cells)
            for (const auto& [seed, index] : seeds)
                c.wallSeconds += runs[index].record.wallSeconds;
        for (const auto& e : alphaEffects(b, runs, "test_accuracy"))
            if (e.alpha == 0) c.testAccuracy = summarise(e);
        if (rep.selectedAlpha)
            c.modeVsBaseline =
                compareAcross(study, *rep.selectedAlpha, b, 0.0, runs, "test_accuracy");
        c.moeVsBaseline = compareAcross(study, 0.0, b, 0.0, runs, "test_accuracy");
        p.push_back(c.modeVsBaseline && c.modeVsBaseline->n >= 2 ? c.modeVsBaseline->tTest.pValue
                                                                 : std::nan(""));
        rep.baselines.push_back(std::move(c));
    }
    const auto adjusted = holmAdjust(p);
    for (std::size_t i = 0; i < rep.baselines.size(); ++i)
        rep.baselines[i].holmP = adjusted[i];
}

// A baseline study that sits beside a mixture of its family is reported there, not on its own.
bool besideAMixture(const AlphaStudy& study, const std::vector<AlphaStudy>& all) {
    if (study.kind == "moe") return false;
    return std::any_of(all.begin(), all.end(), [&](const AlphaStudy& s) {
        return s.kind == "moe" && s.family == study.family && s.dataset == study.dataset;
    });
}
} // namespace

std::vector<DatasetReport> buildSweepReport(const std::vector<StudyRun>& given,
                                            ScoringEpoch scoring) {
    const std::vector<StudyRun> runs = scoredAt(given, scoring);
    std::vector<DatasetReport> out;
    const auto studies = groupStudies(runs);
    for (const auto& study : studies) {
        if (besideAMixture(study, studies)) continue;
        DatasetReport rep;
        rep.dataset = study.dataset;
        rep.study = study;
        rep.scoring = scoring;
        readRunRecords(study, runs, rep);
        const StudyEffects effects = studyEffects(study, runs);
        addAlphaRows(study, effects, rep);
        selectAlpha(effects, rep);
        if (rep.selectedAlpha && study.cells.count(0.0) > 0) compareSelectedAlpha(study, runs, rep);
        if (study.kind == "moe") compareBaselines(study, studies, runs, rep);
        out.push_back(std::move(rep));
    }
    return out;
}

namespace {

// The verdict of a one-sided question "is the difference positive?", from the significance
// tests alone:
// - held: the t-test is significant at `significance` after the family's correction (p is the
//   adjusted p) with a positive mean, AND the exact Wilcoxon test agrees at `significance` (so at
//   least 6 seeds that differ: a few identical differences, whose t is infinite, decide nothing);
// - did not hold: significant the other way;
// - not established: everything else (boundsBelow may still refute it).
Verdict positiveEffect(const PairedComparison& c, double p, const ReportOptions& o) {
    if (c.n < 2) return Verdict::NotEstablished;
    if (p < o.significance && c.meanDifference < 0) return Verdict::DidNotHold;
    if (p < o.significance && c.meanDifference > 0 && c.wilcoxon.pValue < o.significance)
        return Verdict::Held;
    return Verdict::NotEstablished;
}

// The upper (or lower) one-sided (1 - significance) bound of the mean difference, the standard
// deviation taken as at least the metric's resolution (one test sample), so that exact ties
// cannot make a bound look certain. NaN for fewer than 2 pairs.
double oneSidedBound(const PairedComparison& c, const ReportOptions& o, double resolution,
                     bool upper) {
    if (c.n < 2) return std::nan("");
    const double sd = std::max(c.sdDifference, resolution);
    const double half = studentTQuantile(1 - o.significance, static_cast<double>(c.n - 1)) * sd /
                        std::sqrt(static_cast<double>(c.n));
    return upper ? c.meanDifference + half : c.meanDifference - half;
}

// "No alpha gains what matters", by intersection-union: it holds only where EVERY alpha's
// one-sided upper bound is below the effect that matters (each at the full level: an
// intersection-union test needs no correction). The largest bound and its alpha are kept for the
// evidence.
struct Bounds {
    bool allBelow = false;
    double largest = std::nan("");
    double at = std::nan("");
};
Bounds boundsBelow(const std::vector<std::pair<double, const PairedComparison*>>& byAlpha,
                   const ReportOptions& o, double resolution) {
    Bounds b;
    bool any = false, all = true;
    for (const auto& [alpha, c] : byAlpha) {
        const double upper = c ? oneSidedBound(*c, o, resolution, true) : std::nan("");
        if (!std::isfinite(upper)) {
            all = false; // an alpha that cannot be bounded leaves the question open
            continue;
        }
        any = true;
        all = all && upper < o.meaningfulEffect;
        if (!(upper <= b.largest)) b.largest = upper, b.at = alpha;
    }
    b.allBelow = any && all;
    return b;
}

// The verdict with the bounds: "not established" becomes "did not hold" where every bound is below.
Verdict withBounds(Verdict v, const Bounds& b) {
    return v == Verdict::NotEstablished && b.allBelow ? Verdict::DidNotHold : v;
}

std::string boundText(const Bounds& b, const ReportOptions& o, const char* over) {
    if (!std::isfinite(b.largest)) return "no alpha's gain could be bounded";
    return "the largest one-sided " + num(100 * (1 - o.significance), 0) +
           "% upper bound of the gain over " + over + " is " + signedNum(b.largest) + " (alpha " +
           alphaText(b.at) + ")" + (b.allBelow ? ", below " : ", not below ") +
           "the effect that matters (" + num(o.meaningfulEffect, 3) + ")";
}

std::string detectableText(double mde, const std::string& at) {
    return "the seeds could detect a true difference of " + num(mde) + " or more (power 0.8, " +
           at + ")";
}

std::string familyText(const ReportOptions& o, std::size_t m, const char* what) {
    return "at " + num(o.significance, 2) + "/" + std::to_string(std::max<std::size_t>(1, m)) +
           ", the first step of Holm's correction over " + std::to_string(m) + " " + what;
}

// What every claim's judgement of a section reads: its alpha = 0 row and the row of the alpha
// chosen on validation (null where absent).
struct SectionClaims {
    const DatasetReport& r;
    const ReportOptions& o;
    const AlphaRow* zero;
    const AlphaRow* sel;
    std::string chosen; // "alpha 0.1 (chosen on validation accuracy)"

    SectionClaims(const DatasetReport& report, const ReportOptions& options)
        : r(report), o(options), zero(rowAt(report, 0.0)),
          sel(report.selectedAlpha ? rowAt(report, *report.selectedAlpha) : nullptr),
          chosen(sel ? "alpha " + alphaText(sel->alpha) + " (chosen on validation accuracy)" : "") {
    }

    // The smallest effect the seeds could detect at the first step of Holm's correction over m.
    double familyMde(const PairedComparison& c, std::size_t m) const {
        return minimalDetectableEffect(std::max(c.sdDifference, r.resolution), c.n,
                                       o.significance /
                                           static_cast<double>(std::max<std::size_t>(1, m)));
    }

    // Every alpha > 0's comparison against alpha = 0 on test accuracy or on probing.
    std::vector<std::pair<double, const PairedComparison*>> againstZero(bool probing) const {
        std::vector<std::pair<double, const PairedComparison*>> out;
        for (const auto& row : r.rows)
            if (row.alpha > 0) {
                const auto& c = probing ? row.probingVsZero : row.testVsZero;
                out.emplace_back(row.alpha, c ? &*c : nullptr);
            }
        return out;
    }
};

// 1. The chosen alpha beats alpha = 0 on test accuracy, significant after Holm; refuted where
// significantly worse, or where no alpha's gain can reach the effect that matters.
ClaimJudgement judgeGainOverZero(const SectionClaims& s) {
    const auto& r = s.r;
    const auto* sel = s.sel;
    ClaimJudgement j;
    if (!s.zero)
        j.evidence = "no alpha = 0 runs in this configuration";
    else if (!sel)
        j.evidence = "no alpha > 0 runs with a validation accuracy";
    else if (!sel->testVsZero || sel->testVsZero->n < 2) {
        j.verdict = Verdict::NotEstablished;
        j.evidence = s.chosen + ": fewer than 2 seeds run at both alphas";
    } else {
        const auto& c = *sel->testVsZero;
        const Bounds bounds = boundsBelow(s.againstZero(false), s.o, r.resolution);
        j.verdict = withBounds(positiveEffect(c, sel->holmP, s.o), bounds);
        j.evidence = s.chosen + ": test accuracy " + comparisonText(c) + "; Holm-adjusted p " +
                     pText(sel->holmP);
        if (j.verdict != Verdict::Held)
            j.evidence +=
                "; " + boundText(bounds, s.o, "the alphas") + "; " +
                detectableText(s.familyMde(c, r.family), familyText(s.o, r.family, "alphas"));
        if (r.oracleAlpha && *r.oracleAlpha != sel->alpha)
            if (const AlphaRow* orc = rowAt(r, *r.oracleAlpha); orc && orc->testVsZero)
                j.evidence += "; the test-selected alpha " + alphaText(orc->alpha) +
                              " (optimistic) would show " +
                              signedNum(orc->testVsZero->meanDifference);
        if (sel->alpha == r.largestAlpha)
            j.evidence += "; the chosen alpha is the largest of the grid (its edge)";
    }
    return j;
}

// 2. Rises, then falls: the chosen alpha beats alpha = 0 (claim 1's test, whose verdict is
// `rise`) and the largest alpha falls below the chosen one, both significant.
ClaimJudgement judgeRiseThenFall(const SectionClaims& s, Verdict rise) {
    const auto& r = s.r;
    const auto* sel = s.sel;
    ClaimJudgement j;
    std::size_t positives = 0;
    for (const auto& row : r.rows)
        positives += row.alpha > 0;
    if (!s.zero || positives < 3 || !sel) {
        j.evidence = "needs alpha = 0 and at least 3 alphas > 0";
    } else if (!sel->testVsZero || sel->testVsZero->n < 2) {
        j.verdict = Verdict::NotEstablished;
        j.evidence = "fewer than 2 seeds";
    } else if (sel->alpha == r.largestAlpha) {
        // Still rising at the grid's end: a larger alpha might show the fall.
        j.verdict = rise == Verdict::DidNotHold ? Verdict::DidNotHold : Verdict::NotEstablished;
        j.evidence = "the largest alpha, " + alphaText(sel->alpha) +
                     ", is the best on validation: no fall within the grid" +
                     (rise == Verdict::DidNotHold ? "; and no rise either (claim 1)"
                                                  : "; a larger alpha would be needed to see one");
    } else if (!r.fall || r.fall->n < 2) {
        j.verdict = Verdict::NotEstablished;
        j.evidence = "fewer than 2 seeds run at both the chosen and the largest alpha";
    } else {
        // The chosen alpha is one of the alphas below the largest, picked as the best: the fall
        // is tested with Bonferroni's correction over those candidates, and "no fall" needs every
        // candidate's bound below the effect that matters.
        const std::size_t candidates = r.fallCandidates.size();
        const double fallP = std::min(
            1.0, r.fall->tTest.pValue * static_cast<double>(std::max<std::size_t>(1, candidates)));
        std::vector<std::pair<double, const PairedComparison*>> falls;
        for (const auto& [alpha, c] : r.fallCandidates)
            falls.emplace_back(alpha, &c);
        const Bounds fallBounds = boundsBelow(falls, s.o, r.resolution);
        const Verdict fall = withBounds(positiveEffect(*r.fall, fallP, s.o), fallBounds);
        if (rise == Verdict::Held && fall == Verdict::Held)
            j.verdict = Verdict::Held;
        else if (rise == Verdict::DidNotHold || fall == Verdict::DidNotHold)
            j.verdict = Verdict::DidNotHold;
        else
            j.verdict = Verdict::NotEstablished;
        j.evidence = "rise (alpha " + alphaText(sel->alpha) +
                     ", chosen on validation, - alpha 0): " + toString(rise) + ", " +
                     signedNum(sel->testVsZero->meanDifference) + " (Holm p " + pText(sel->holmP) +
                     "); fall (alpha " + alphaText(sel->alpha) + " - largest alpha " +
                     alphaText(*r.largestAlpha) + "): " + toString(fall) + ", " +
                     comparisonText(*r.fall) + "; Bonferroni-adjusted p over " +
                     std::to_string(candidates) + " candidate peaks " + pText(fallP);
        if (fall != Verdict::Held)
            j.evidence += "; " + boundText(fallBounds, s.o, "the candidate peaks");
    }
    return j;
}

// 3. Expert probing (allocation-weighted: each expert alone on the test rows routed to it) rises
// at the chosen alpha, and not by homogenisation: the mixture must not fall, and the experts must
// not have become copies of each other.
ClaimJudgement judgeProbingRise(const SectionClaims& s) {
    const auto& r = s.r;
    const auto& o = s.o;
    const auto* sel = s.sel;
    ClaimJudgement j;
    if (!s.zero || !sel)
        j.evidence = "needs alpha = 0 and alpha > 0 runs";
    else if (!sel->probingVsZero)
        j.evidence = "no expert probing stored (regression, or no expert allocated samples)";
    else if (sel->probingVsZero->n < 2) {
        j.verdict = Verdict::NotEstablished;
        j.evidence = "fewer than 2 seeds with probing at both alphas";
    } else {
        const auto& probing = *sel->probingVsZero;
        const Bounds bounds = boundsBelow(s.againstZero(true), o, r.resolution);
        j.verdict = withBounds(positiveEffect(probing, sel->probingHolmP, o), bounds);
        j.evidence = s.chosen +
                     ": allocation-weighted probing (each expert alone on the test rows routed to "
                     "it), alpha - 0 paired by seed: " +
                     comparisonText(probing) + "; Holm-adjusted p " + pText(sel->probingHolmP);
        if (j.verdict == Verdict::NotEstablished || j.verdict == Verdict::DidNotHold)
            j.evidence += "; " + boundText(bounds, o, "the alphas") + "; " +
                          detectableText(s.familyMde(probing, r.probingFamily),
                                         familyText(o, r.probingFamily, "alphas"));
        if (j.verdict == Verdict::Held && sel->testVsZero && sel->testVsZero->n >= 2) {
            const auto& mixture = *sel->testVsZero;
            const double lower = oneSidedBound(mixture, o, r.resolution, false);
            const double similarity = sel->similarity.runs ? sel->similarity.mean : 0.0;
            const bool alike = similarity >= o.homogenisedSimilarity;
            const bool flat = mixture.meanDifference <= 0;
            if (alike || flat) {
                j.verdict = Verdict::Homogenised;
                j.evidence +=
                    "; homogenisation: " +
                    std::string(alike ? "the experts' mean similarity is " + num(similarity, 3) +
                                            " (at least " + num(o.homogenisedSimilarity, 2) + ")"
                                      : "") +
                    (alike && flat ? " and " : "") +
                    (flat ? "the mixture's test accuracy changed by " +
                                signedNum(mixture.meanDifference) +
                                ", so the experts rose towards a mixture that did not"
                          : "");
            } else if (!(lower > -o.meaningfulEffect)) {
                j.verdict = Verdict::NotEstablished;
                j.evidence += "; the mixture's non-inferiority is not shown (its one-sided lower "
                              "bound " +
                              signedNum(lower) + " is not above -" + num(o.meaningfulEffect, 3) +
                              ")";
            }
        } else if (j.verdict == Verdict::Held) {
            j.verdict = Verdict::NotEstablished;
            j.evidence += "; the mixture's test accuracy is not paired at this alpha";
        }
        if (r.gapChange && r.similarityChange)
            j.evidence += ". Beside it: mixture minus probing " +
                          signedNum(r.gapChange->meanDifference) + " " +
                          intervalText(r.gapChange->tInterval) + ", expert similarity " +
                          signedNum(r.similarityChange->meanDifference) + " " +
                          intervalText(r.similarityChange->tInterval);
    }
    return j;
}

// 4. Gate routing accuracy does not get worse: paired non-inferiority with a margin.
ClaimJudgement judgeRoutingNotWorse(const SectionClaims& s) {
    const auto& r = s.r;
    const auto& o = s.o;
    ClaimJudgement j;
    if (!s.zero || !s.sel || !r.routingChange)
        j.evidence = "no known sub-tasks (gate routing accuracy not measured)";
    else if (r.routingChange->n < 2) {
        j.verdict = Verdict::NotEstablished;
        j.evidence = "fewer than 2 seeds";
    } else {
        const auto& c = *r.routingChange;
        // One-sided 95% bounds of the mean difference: the two-sided 90% interval.
        const double t = studentTQuantile(1 - o.significance, static_cast<double>(c.n - 1));
        const double half = t * c.sdDifference / std::sqrt(static_cast<double>(c.n));
        const double lower = c.meanDifference - half, upper = c.meanDifference + half;
        j.verdict = lower > -o.routingMargin   ? Verdict::Held
                    : upper < -o.routingMargin ? Verdict::DidNotHold
                                               : Verdict::NotEstablished;
        j.evidence = s.chosen + ": routing accuracy " + signedNum(c.meanDifference) +
                     ", one-sided " + num(100 * (1 - o.significance), 0) + "% bounds [" +
                     signedNum(lower) + ", " + signedNum(upper) + "] against the margin -" +
                     num(o.routingMargin, 3) + "; " + improvementText(c);
    }
    return j;
}

// 5. The chosen alpha beats every baseline trained beside it on test accuracy, Holm over the
// baselines. "Did not hold" where it is significantly worse than one, or where its one-sided upper
// bound against one is below the effect that matters (it cannot beat that baseline by what
// matters).
ClaimJudgement judgeBaselines(const SectionClaims& s) {
    const auto& r = s.r;
    ClaimJudgement j;
    if (r.baselines.empty()) {
        j.evidence = "no dense or ensemble baseline trained beside this configuration";
        return j;
    }
    if (!s.sel) {
        j.evidence = "no alpha > 0 chosen on validation";
        return j;
    }
    bool all = true, refuted = false;
    j.evidence = s.chosen + " against";
    for (const auto& b : r.baselines) {
        j.evidence += (&b == &r.baselines.front() ? " the " : "; the ") + b.kind + " baseline: ";
        if (!b.modeVsBaseline || b.modeVsBaseline->n < 2) {
            all = false;
            j.evidence += "fewer than 2 seeds run at both";
            continue;
        }
        const auto& c = *b.modeVsBaseline;
        const double upper = oneSidedBound(c, s.o, r.resolution, true);
        Verdict v = positiveEffect(c, b.holmP, s.o);
        if (v == Verdict::NotEstablished && upper < s.o.meaningfulEffect) v = Verdict::DidNotHold;
        all = all && v == Verdict::Held;
        refuted = refuted || v == Verdict::DidNotHold;
        j.evidence += toString(v) + ", " + comparisonText(c) + ", Holm p " + pText(b.holmP) +
                      ", one-sided " + num(100 * (1 - s.o.significance), 0) + "% upper bound " +
                      signedNum(upper);
    }
    j.verdict = refuted ? Verdict::DidNotHold : all ? Verdict::Held : Verdict::NotEstablished;
    return j;
}

} // namespace

std::vector<ClaimJudgement> judgeSection(const DatasetReport& r, const ReportOptions& o) {
    const SectionClaims section(r, o);
    std::vector<ClaimJudgement> out;
    out.push_back(judgeGainOverZero(section));
    out.push_back(judgeRiseThenFall(section, out[0].verdict));
    out.push_back(judgeProbingRise(section));
    out.push_back(judgeRoutingNotWorse(section));
    out.push_back(judgeBaselines(section));
    return out;
}

std::vector<ClaimVerdict> judgeClaims(const std::vector<DatasetReport>& reports,
                                      const ReportOptions& o) {
    static const char* names[] = {
        "1. A moderate alpha (chosen on validation) beats alpha = 0 on test accuracy",
        "2. The gain rises, then falls as alpha grows",
        "3. Each expert's probing accuracy rises with a moderate alpha",
        "4. Gate routing accuracy does not get worse",
        "5. The chosen MoDE beats the baselines trained beside it (a dense network of the "
        "mixture's size, the experts trained independently)"};
    std::vector<std::vector<ClaimJudgement>> all;
    for (const auto& r : reports)
        all.push_back(judgeSection(r, o));
    std::vector<ClaimVerdict> out;
    for (std::size_t c = 0; c < std::size(names); ++c) {
        std::map<Verdict, int> count;
        std::string evidence;
        for (std::size_t s = 0; s < reports.size(); ++s) {
            const auto& j = all[s][c];
            if (j.verdict == Verdict::NotMeasured) continue;
            ++count[j.verdict];
            evidence += (evidence.empty() ? "" : "; ") + reports[s].study.label() + ": " +
                        toString(j.verdict);
        }
        const int measured = count[Verdict::Held] + count[Verdict::DidNotHold] +
                             count[Verdict::NotEstablished] + count[Verdict::Homogenised];
        std::string verdict;
        if (measured == 0)
            verdict = c == 3   ? "not measured (no dataset with known sub-tasks)"
                      : c == 4 ? "not measured (no baselines trained)"
                               : "not measured";
        else if (count[Verdict::Held] == measured)
            verdict = "held";
        else if (count[Verdict::DidNotHold] == measured)
            verdict = "did not hold";
        else if (count[Verdict::NotEstablished] == measured)
            verdict = "not established";
        else if (count[Verdict::Homogenised] == measured)
            verdict = toString(Verdict::Homogenised);
        else {
            for (Verdict v : {Verdict::Held, Verdict::Homogenised, Verdict::DidNotHold,
                              Verdict::NotEstablished})
                if (count[v] > 0)
                    verdict += (verdict.empty() ? "" : "; ") + toString(v) + " on " +
                               std::to_string(count[v]) + " of " + std::to_string(measured);
        }
        out.push_back({names[c], verdict, evidence});
    }
    return out;
}

namespace {

// The preamble, then how many runs and how long they trained.
void writeOverview(std::ostream& md, const std::vector<DatasetReport>& reports,
                   const std::string& preamble) {
    double total = 0;
    std::size_t runs = 0, aside = 0;
    for (const auto& r : reports) {
        total += r.wallSeconds;
        runs += r.study.runs();
        for (const auto& b : r.baselines) // judged beside their mixture, counted with it
            total += b.wallSeconds, runs += b.runs;
        aside += r.study.duplicates;
    }
    md << preamble << "\nThis report judges " << runs << " finished runs in " << reports.size()
       << (reports.size() == 1 ? " configuration" : " configurations")
       << " (baselines counted with the mixture they sit beside)";
    if (aside > 0)
        md << "; " << aside << " older runs of an (alpha, seed) already counted were set aside";
    md << "; their training time adds up to " << num(total, 0) << " s.\n";
}

void writeMethod(std::ostream& md, const ReportOptions& o, ScoringEpoch scoring) {
    const std::string level = num(100 * (1 - o.significance), 0);
    md << "\n## How the claims are judged\n\n"
          "Runs are pooled only when every setting but alpha and the seed is the same, the "
          "trainer's version included (one section per configuration), and paired by seed: for a "
          "seed, alpha = 0 and alpha > 0 share the split, the initial weights and the minibatch "
          "order. Every run is scored at its "
       << toString(scoring)
       << (scoring == ScoringEpoch::BestValidation
               ? " (early stopping without retraining: the epoch whose validation accuracy is "
                 "highest, its test figures as stored)"
               : "")
       << "; the claims table shows the other scoring's verdicts beside where both were "
          "computed. The alpha to report is the one with the best paired validation difference "
          "against alpha = 0; the test split only measures it, and the alpha chosen on test is "
          "shown apart as optimistic. Each alpha's paired test-accuracy difference against "
          "alpha = 0 is tested with the paired t-test, Holm-corrected across the alphas of the "
          "configuration (the exact Wilcoxon signed-rank test on the differences in whole test "
          "samples, ties by mid-rank, the bootstrap interval and the share of seeds that improve "
          "are shown beside it). A claim is **held** when its corrected t-test is significant at "
       << num(o.significance, 2)
       << " in the claimed direction and the Wilcoxon test agrees (so at least 6 seeds that "
          "differ); **did not hold** when it is significant the other way, or when EVERY alpha's "
          "one-sided "
       << level << "% upper bound of the gain is below the effect that matters ("
       << num(o.meaningfulEffect, 3)
       << "; an intersection-union test: one alpha's bound is not enough; the spread taken as at "
          "least one test sample, so that ties cannot make a bound look certain); and **not "
          "established** otherwise, with the smallest effect the seeds could have detected. "
          "Claim 2 needs both the rise (the chosen alpha against alpha = 0) and the fall (the "
          "chosen alpha against the largest one, Bonferroni-corrected over the alphas that could "
          "have been chosen; \"no fall\" needs every candidate's bound below the effect). Claim 3 "
          "is expert probing as the paper measures it: each expert alone on the test rows routed "
          "to it, weighted by its allocation, paired by seed and Holm-corrected across the "
          "alphas; a probing rise is **homogenisation (not held)** where the experts' mean "
          "similarity reaches "
       << num(o.homogenisedSimilarity, 2)
       << " or the mixture gained nothing, and \"held\" also needs the mixture non-inferior "
          "(its one-sided lower bound above -"
       << num(o.meaningfulEffect, 3)
       << "). Experts compared one by one are matched by routing (the best one-to-one assignment "
          "of their routing matrices), Holm-corrected across the experts. Claim 4 is a "
          "non-inferiority test with a margin of "
       << num(o.routingMargin, 3) << " (one-sided " << level
       << "%). Claim 5 sets the chosen alpha against the baselines trained beside it (same data "
          "and settings but the model, alpha 0: a dense network of about the mixture's parameter "
          "count, and the experts trained independently and averaged), paired by seed and "
          "Holm-corrected over the baselines: held only where it beats every one.\n";
}

void writeClaims(std::ostream& md, const std::vector<DatasetReport>& reports,
                 const ReportOptions& o, const std::vector<DatasetReport>& other) {
    const auto claims = judgeClaims(reports, o);
    if (other.empty() || reports.empty()) {
        md << "\n## Claims\n\n| Claim | Verdict | By configuration |\n|---|---|---|\n";
        for (const auto& c : claims)
            md << "| " << c.claim << " | **" << c.verdict << "** | " << c.evidence << " |\n";
        return;
    }
    const auto beside = judgeClaims(other, o);
    md << "\n## Claims\n\n| Claim | Verdict (" << toString(reports.front().scoring)
       << ") | By configuration | At the " << toString(other.front().scoring)
       << " |\n|---|---|---|---|\n";
    for (std::size_t i = 0; i < claims.size(); ++i)
        md << "| " << claims[i].claim << " | **" << claims[i].verdict << "** | "
           << claims[i].evidence << " | " << (i < beside.size() ? beside[i].verdict : "-")
           << " |\n";
}

// A section's heading, its configuration, and each metric's mean and spread by alpha.
void writeAlphaTable(std::ostream& md, const DatasetReport& r) {
    md << "\n## " << r.study.label() << "\n\n";
    md << "Configuration " << r.study.signature << ", " << r.study.runs() << " runs";
    if (!r.versions.empty()) {
        md << " of mode-workbench ";
        for (std::size_t i = 0; i < r.versions.size(); ++i)
            md << (i ? ", " : "") << r.versions[i];
    }
    md << ", scored at the " << toString(r.scoring);
    if (!r.distillation.empty()) md << ". Distillation: " << r.distillation;
    if (r.study.duplicates)
        md << " (" << r.study.duplicates << " older repeats of an (alpha, seed) not counted)";
    md << ", training time " << num(r.wallSeconds, 0) << " s.\n\n";
    md << "| alpha | seeds | test accuracy | validation accuracy | gate routing accuracy | "
          "expert probing | mixture - probing | expert similarity |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (const auto& row : r.rows)
        md << "| " << alphaText(row.alpha) << (row.alpha == 0 ? " (MoE)" : "")
           << (r.selectedAlpha && row.alpha == *r.selectedAlpha ? " (chosen)" : "") << " | "
           << row.runs << " | " << pm(row.testAccuracy) << " | " << pm(row.valAccuracy) << " | "
           << (row.routing ? pm(*row.routing, 3) : "-") << " | " << pm(row.probing) << " | "
           << pm(row.gap) << " | " << pm(row.similarity, 3) << " |\n";
}

// Each alpha's paired test-accuracy difference against alpha = 0.
void writeDifferenceTable(std::ostream& md, const DatasetReport& r, const ReportOptions& o) {
    md << "\nTest accuracy, each alpha against alpha = 0 paired by seed (Holm over " << r.family
       << " alphas):\n\n"
          "| alpha | pairs | mean difference | 95% CI (t) | 95% CI (bootstrap) | t-test p | "
          "Holm p | Wilcoxon p | P(improve) | detectable at "
       << num(o.significance, 2) << " (power 0.8) |\n|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& row : r.rows) {
        if (!row.testVsZero) continue;
        const auto& c = *row.testVsZero;
        md << "| " << alphaText(row.alpha) << " | " << c.n << " | " << signedNum(c.meanDifference)
           << " | " << intervalText(c.tInterval) << " | " << intervalText(c.bootstrap()) << " | "
           << pText(c.tTest.pValue) << " | " << pText(row.holmP)
           << (row.holmP < o.significance ? " *" : "") << " | " << pText(c.wilcoxon.pValue) << " | "
           << num(c.improvement.estimate, 2) << " | "
           << num(minimalDetectableEffect(std::max(c.sdDifference, r.resolution), c.n,
                                          o.significance))
           << " |\n";
    }
}

// The alphas chosen on validation and on test, and the smallest gain the seeds could detect.
void writeSelection(std::ostream& md, const DatasetReport& r, const ReportOptions& o) {
    if (!r.selectedAlpha) return;
    md << "\nChosen on validation: alpha " << alphaText(*r.selectedAlpha)
       << ". Chosen on test (optimistic, for reference only): alpha "
       << (r.oracleAlpha ? alphaText(*r.oracleAlpha) : "-") << ".\n";
    const std::size_t m = std::max<std::size_t>(1, r.family);
    if (const AlphaRow* s = rowAt(r, *r.selectedAlpha); s && s->testVsZero && s->testVsZero->n >= 2)
        md << "Smallest test-accuracy gain these " << s->testVsZero->n
           << " seeds could detect (paired t, power 0.8, at " << num(o.significance, 2) << "/" << m
           << "): "
           << num(minimalDetectableEffect(std::max(s->testVsZero->sdDifference, r.resolution),
                                          s->testVsZero->n,
                                          o.significance / static_cast<double>(m)))
           << " (sd of the paired differences " << num(s->testVsZero->sdDifference) << ").\n";
    if (const auto plan = seedPlan(r, o); !plan.empty()) md << plan << "\n";
}

void writeSectionClaims(std::ostream& md, const DatasetReport& r, const ReportOptions& o) {
    const auto judged = judgeSection(r, o);
    md << "\n| Claim | Verdict | Evidence |\n|---|---|---|\n";
    for (std::size_t c = 0; c < judged.size(); ++c)
        md << "| " << c + 1 << " | " << toString(judged[c].verdict) << " | " << judged[c].evidence
           << " |\n";
}

void writeExpertTable(std::ostream& md, const DatasetReport& r) {
    if (r.experts.empty()) return;
    md << "\nExpert probing, expert by expert: each expert alone on the test samples routed to it, "
          "at alpha 0 and at the chosen alpha "
       << alphaText(*r.selectedAlpha) << ", paired by seed, "
       << (r.expertsMatchedByRouting
               ? "each expert of the alpha = 0 run matched with the expert of the same seed's "
                 "run that routing gives the same classes (Hungarian alignment)"
               : "matched by expert number (no routing stored)")
       << "; Holm across the " << r.experts.size()
       << " experts:\n\n"
          "| expert | seeds | MoE (alpha 0) | MoDE | difference | 95% CI | t-test p | Holm p |\n"
          "|---|---|---|---|---|---|---|---|\n";
    for (const auto& x : r.experts)
        md << "| " << x.expert << " | " << x.difference->n << " | " << num(x.moe) << " | "
           << num(x.mode) << " | " << signedNum(x.difference->meanDifference) << " | "
           << intervalText(x.difference->tInterval) << " | " << pText(x.difference->tTest.pValue)
           << " | " << pText(x.holmP) << " |\n";
}

// The baselines trained beside the mixture, each against the chosen alpha and alpha 0.
void writeBaselineTable(std::ostream& md, const DatasetReport& r) {
    if (r.baselines.empty()) return;
    md << "\nBaselines trained beside it (same data and settings but the model, alpha 0), test "
          "accuracy paired by seed (Holm over the "
       << r.baselines.size()
       << " baselines for the chosen alpha):\n\n"
          "| baseline | seeds | test accuracy | chosen alpha - baseline | 95% CI | Holm p | "
          "alpha 0 - baseline | 95% CI |\n|---|---|---|---|---|---|---|---|\n";
    for (const auto& b : r.baselines) {
        md << "| " << b.kind << " | " << b.testAccuracy.runs << " | " << pm(b.testAccuracy)
           << " | ";
        if (b.modeVsBaseline)
            md << signedNum(b.modeVsBaseline->meanDifference) << " | "
               << intervalText(b.modeVsBaseline->tInterval) << " | " << pText(b.holmP) << " | ";
        else
            md << "- | - | - | ";
        if (b.moeVsBaseline)
            md << signedNum(b.moeVsBaseline->meanDifference) << " | "
               << intervalText(b.moeVsBaseline->tInterval) << " |\n";
        else
            md << "- | - |\n";
    }
}

void writeFigures(std::ostream& md, const DatasetReport& r, const std::string& figures) {
    md << "\n![" << r.study.label() << ": test accuracy against alpha]("
       << figureFile(figures, r, "test_accuracy") << ")\n";
    md << "![" << r.study.label() << ": paired test-accuracy difference against alpha = 0]("
       << figureFile(figures, r, "test_accuracy_difference") << ")\n";
    if (!r.rows.empty() && r.rows.front().routing)
        md << "![" << r.study.label() << ": gate routing accuracy]("
           << figureFile(figures, r, "gate_routing_accuracy") << ")\n";
    md << "![" << r.study.label() << ": expert similarity]("
       << figureFile(figures, r, "expert_similarity") << ")\n";
}

} // namespace

std::string sweepReportMarkdown(const std::vector<DatasetReport>& reports,
                                const std::string& figures, const std::string& preamble,
                                const ReportOptions& o,
                                const std::vector<DatasetReport>& otherScoring) {
    std::ostringstream md;
    writeOverview(md, reports, preamble);
    writeMethod(md, o, reports.empty() ? ScoringEpoch::BestValidation : reports.front().scoring);
    writeClaims(md, reports, o, otherScoring);
    for (const auto& r : reports) {
        writeAlphaTable(md, r);
        writeDifferenceTable(md, r, o);
        writeSelection(md, r, o);
        writeSectionClaims(md, r, o);
        writeExpertTable(md, r);
        writeBaselineTable(md, r);
        writeFigures(md, r, figures);
    }
    return md.str();
}

} // namespace mode

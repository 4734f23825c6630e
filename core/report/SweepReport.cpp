// SPDX-License-Identifier: GPL-3.0-or-later
#include "report/SweepReport.h"

#include "util/Format.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
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

// The probing of each expert number allocated in both runs of a seed: at alpha and at 0.
struct MatchedExpert {
    int expert;
    double atAlpha, atZero;
};
std::map<std::int64_t, std::vector<MatchedExpert>>
matchedProbing(const AlphaStudy& study, const std::vector<StudyRun>& runs, double alpha) {
    std::map<std::int64_t, std::vector<MatchedExpert>> out;
    auto z = study.cells.find(0.0), a = study.cells.find(alpha);
    if (z == study.cells.end() || a == study.cells.end()) return out;
    for (const auto& [seed, index] : a->second) {
        auto it = z->second.find(seed);
        if (it == z->second.end() || !runs[index].last || !runs[it->second].last) continue;
        const auto pa = probingByExpert(*runs[index].last),
                   p0 = probingByExpert(*runs[it->second].last);
        for (std::size_t k = 0; k < std::min(pa.size(), p0.size()); ++k)
            if (pa[k] && p0[k]) out[seed].push_back({static_cast<int>(k), *pa[k], *p0[k]});
    }
    return out;
}

// Per seed, the mean over the matched experts of (probing at alpha - at 0).
std::map<std::int64_t, double>
probingChangeBySeed(const AlphaStudy& study, const std::vector<StudyRun>& runs, double alpha) {
    std::map<std::int64_t, double> out;
    for (const auto& [seed, experts] : matchedProbing(study, runs, alpha)) {
        double sum = 0;
        for (const auto& e : experts)
            sum += e.atAlpha - e.atZero;
        out[seed] = sum / static_cast<double>(experts.size());
    }
    return out;
}

std::optional<PairedComparison> againstZero(const std::map<std::int64_t, double>& bySeed) {
    if (bySeed.empty()) return std::nullopt;
    std::vector<double> d;
    for (const auto& [seed, v] : bySeed)
        d.push_back(v);
    return comparePaired(d, std::vector<double>(d.size(), 0.0));
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
    }
    return "?";
}

std::string figureFile(const std::string& folder, const DatasetReport& r,
                       const std::string& metric) {
    return folder + "/" + fileSafe(r.dataset) +
           (r.study.distinguishing.empty() ? "" : "-" + r.study.signature.substr(0, 8)) + "-" +
           metric + ".png";
}

std::vector<DatasetReport> buildSweepReport(const RunStore& store,
                                            const std::vector<std::string>& datasets) {
    return buildSweepReport(loadStudyRuns(store, datasets));
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

// What the section takes from the runs' records: their training time, the task, and one test
// sample's share of the accuracy.
void readRunRecords(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                    DatasetReport& rep) {
    for (const auto& [alpha, seeds] : study.cells)
        for (const auto& [seed, index] : seeds) {
            rep.wallSeconds += runs[index].record.wallSeconds;
            rep.classification = runs[index].record.start.classification;
        }
    for (const auto& [alpha, seeds] : study.cells)
        for (const auto& [seed, index] : seeds)
            if (const auto rows = runs[index].record.start.testRows; rows > 0)
                rep.resolution = std::max(rep.resolution, 1.0 / static_cast<double>(rows));
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

// Claim 3: probing change per seed, for every alpha (one Holm family), read at the selected one.
void compareProbing(const AlphaStudy& study, const std::vector<StudyRun>& runs, double selected,
                    DatasetReport& rep) {
    std::vector<double> p;
    std::vector<std::optional<PairedComparison>> changes;
    for (const auto& row : rep.rows) {
        if (row.alpha == 0) continue;
        changes.push_back(againstZero(probingChangeBySeed(study, runs, row.alpha)));
        p.push_back(changes.back() && changes.back()->n >= 2 ? changes.back()->tTest.pValue
                                                             : std::nan(""));
        if (row.alpha == selected) rep.probingChange = changes.back();
    }
    const auto adjusted = holmAdjust(p);
    rep.probingFamily = static_cast<std::size_t>(
        std::count_if(p.begin(), p.end(), [](double x) { return !std::isnan(x); }));
    std::size_t k = 0;
    for (const auto& row : rep.rows) {
        if (row.alpha == 0) continue;
        if (row.alpha == selected) rep.probingHolmP = adjusted[k];
        ++k;
    }
}

// Expert by expert, same number, same seed.
std::vector<ExpertProbing> expertProbing(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                                         double selected) {
    std::map<int, std::pair<std::vector<double>, std::vector<double>>> perExpert;
    for (const auto& [seed, experts] : matchedProbing(study, runs, selected))
        for (const auto& e : experts) {
            perExpert[e.expert].first.push_back(e.atAlpha);
            perExpert[e.expert].second.push_back(e.atZero);
        }
    std::vector<ExpertProbing> out;
    for (const auto& [e, v] : perExpert) {
        ExpertProbing x;
        x.expert = e;
        x.mode = mean(v.first);
        x.moe = mean(v.second);
        x.difference = comparePaired(v.first, v.second);
        out.push_back(x);
    }
    return out;
}

// The selected alpha against the largest one (the fall) and against alpha = 0 on the other
// metrics of the claims.
void compareSelectedAlpha(const AlphaStudy& study, const std::vector<StudyRun>& runs,
                          DatasetReport& rep) {
    const double a = *rep.selectedAlpha;
    if (rep.largestAlpha && *rep.largestAlpha != a)
        rep.fall = compareAlphas(study, runs, "test_accuracy", a, *rep.largestAlpha);
    compareProbing(study, runs, a, rep);
    rep.gapChange = compareAlphas(study, runs, "mixture_minus_probing", a, 0.0);
    rep.similarityChange = compareAlphas(study, runs, "expert_similarity", a, 0.0);
    rep.routingChange = compareAlphas(study, runs, "gate_routing_accuracy", a, 0.0);
    rep.experts = expertProbing(study, runs, a);
}

} // namespace

std::vector<DatasetReport> buildSweepReport(const std::vector<StudyRun>& runs) {
    std::vector<DatasetReport> out;
    for (auto& study : groupStudies(runs)) {
        DatasetReport rep;
        rep.dataset = study.dataset;
        rep.study = study;
        readRunRecords(study, runs, rep);
        const StudyEffects effects = studyEffects(study, runs);
        addAlphaRows(study, effects, rep);
        selectAlpha(effects, rep);
        if (rep.selectedAlpha && study.cells.count(0.0) > 0) compareSelectedAlpha(study, runs, rep);
        out.push_back(std::move(rep));
    }
    return out;
}

namespace {

// The verdict of a one-sided question "is the difference positive?":
// - held: the t-test is significant at `significance` after the family's correction (p is the
//   adjusted p) with a positive mean, AND the exact Wilcoxon test agrees at `significance` (so at
//   least 6 seeds that differ: a few identical differences, whose t is infinite, decide nothing);
// - did not hold: significant the other way, or the upper one-sided (1 - significance) bound of
//   the mean difference is below the effect that matters (an equivalence test), the standard
//   deviation taken as at least the metric's resolution (one test sample), so that exact ties
//   cannot make a bound look certain;
// - not established: everything else.
Verdict positiveEffect(const PairedComparison& c, double p, const ReportOptions& o,
                       double resolution, double* upper) {
    *upper = std::nan("");
    if (c.n < 2) return Verdict::NotEstablished;
    const double sd = std::max(c.sdDifference, resolution);
    *upper = c.meanDifference + studentTQuantile(1 - o.significance, static_cast<double>(c.n - 1)) *
                                    sd / std::sqrt(static_cast<double>(c.n));
    if (p < o.significance && c.meanDifference < 0) return Verdict::DidNotHold;
    if (p < o.significance && c.meanDifference > 0 && c.wilcoxon.pValue < o.significance)
        return Verdict::Held;
    if (*upper < o.meaningfulEffect) return Verdict::DidNotHold;
    return Verdict::NotEstablished;
}

std::string boundText(double upper, const ReportOptions& o) {
    return "the one-sided " + num(100 * (1 - o.significance), 0) + "% upper bound of the gain is " +
           signedNum(upper) + (upper < o.meaningfulEffect ? ", below " : ", not below ") +
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
};

// 1. The chosen alpha beats alpha = 0 on test accuracy, significant after Holm.
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
        double upper = 0;
        j.verdict = positiveEffect(c, sel->holmP, s.o, r.resolution, &upper);
        j.evidence = s.chosen + ": test accuracy " + comparisonText(c) + "; Holm-adjusted p " +
                     pText(sel->holmP);
        if (j.verdict != Verdict::Held)
            j.evidence +=
                "; " + boundText(upper, s.o) + "; " +
                detectableText(s.familyMde(c, r.family), familyText(s.o, r.family, "alphas"));
        if (r.oracleAlpha && *r.oracleAlpha != sel->alpha)
            if (const AlphaRow* orc = rowAt(r, *r.oracleAlpha); orc && orc->testVsZero)
                j.evidence += "; the test-selected alpha " + alphaText(orc->alpha) +
                              " (optimistic) would show " +
                              signedNum(orc->testVsZero->meanDifference);
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
        // is tested with Bonferroni's correction over those candidates.
        std::size_t candidates = 0;
        for (const auto& row : r.rows)
            candidates += row.alpha > 0 && row.alpha < *r.largestAlpha;
        const double fallP = std::min(
            1.0, r.fall->tTest.pValue * static_cast<double>(std::max<std::size_t>(1, candidates)));
        double fallUpper = 0;
        const Verdict fall = positiveEffect(*r.fall, fallP, s.o, r.resolution, &fallUpper);
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
    }
    return j;
}

// 3. Expert probing rises at the chosen alpha: expert i against expert i of the same seed.
ClaimJudgement judgeProbingRise(const SectionClaims& s) {
    const auto& r = s.r;
    const auto& o = s.o;
    ClaimJudgement j;
    if (!s.zero || !s.sel)
        j.evidence = "needs alpha = 0 and alpha > 0 runs";
    else if (!r.probingChange)
        j.evidence = "no expert probing stored (regression, or no expert allocated samples)";
    else if (r.probingChange->n < 2) {
        j.verdict = Verdict::NotEstablished;
        j.evidence = "fewer than 2 seeds with probing at both alphas";
    } else {
        double upper = 0;
        j.verdict = positiveEffect(*r.probingChange, r.probingHolmP, o, r.resolution, &upper);
        j.evidence = s.chosen +
                     ": per seed, the mean over experts of probing(alpha) - probing(0) for the "
                     "same expert: " +
                     comparisonText(*r.probingChange) + "; Holm-adjusted p " +
                     pText(r.probingHolmP);
        if (j.verdict != Verdict::Held)
            j.evidence += "; " + boundText(upper, o) + "; " +
                          detectableText(s.familyMde(*r.probingChange, r.probingFamily),
                                         familyText(o, r.probingFamily, "alphas"));
        if (r.gapChange && r.similarityChange) {
            j.evidence += ". Beside it: mixture minus probing " +
                          signedNum(r.gapChange->meanDifference) + " " +
                          intervalText(r.gapChange->tInterval) + ", expert similarity " +
                          signedNum(r.similarityChange->meanDifference) + " " +
                          intervalText(r.similarityChange->tInterval);
            if (r.similarityChange->tTest.pValue < o.significance &&
                r.similarityChange->meanDifference > 0 && r.gapChange->meanDifference < 0)
                j.evidence += " (the experts grew alike and closer to the mixture: a probing rise "
                              "is partly homogenisation)";
        }
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

} // namespace

std::vector<ClaimJudgement> judgeSection(const DatasetReport& r, const ReportOptions& o) {
    const SectionClaims section(r, o);
    std::vector<ClaimJudgement> out;
    out.push_back(judgeGainOverZero(section));
    out.push_back(judgeRiseThenFall(section, out[0].verdict));
    out.push_back(judgeProbingRise(section));
    out.push_back(judgeRoutingNotWorse(section));
    return out;
}

std::vector<ClaimVerdict> judgeClaims(const std::vector<DatasetReport>& reports,
                                      const ReportOptions& o) {
    static const char* names[] = {
        "1. A moderate alpha (chosen on validation) beats alpha = 0 on test accuracy",
        "2. The gain rises, then falls as alpha grows",
        "3. Each expert's probing accuracy rises with a moderate alpha",
        "4. Gate routing accuracy does not get worse"};
    std::vector<std::vector<ClaimJudgement>> all;
    for (const auto& r : reports)
        all.push_back(judgeSection(r, o));
    std::vector<ClaimVerdict> out;
    for (std::size_t c = 0; c < 4; ++c) {
        std::map<Verdict, int> count;
        std::string evidence;
        for (std::size_t s = 0; s < reports.size(); ++s) {
            const auto& j = all[s][c];
            if (j.verdict == Verdict::NotMeasured) continue;
            ++count[j.verdict];
            evidence += (evidence.empty() ? "" : "; ") + reports[s].study.label() + ": " +
                        toString(j.verdict);
        }
        const int measured =
            count[Verdict::Held] + count[Verdict::DidNotHold] + count[Verdict::NotEstablished];
        std::string verdict;
        if (measured == 0)
            verdict = c == 3 ? "not measured (no dataset with known sub-tasks)" : "not measured";
        else if (count[Verdict::Held] == measured)
            verdict = "held";
        else if (count[Verdict::DidNotHold] == measured)
            verdict = "did not hold";
        else if (count[Verdict::NotEstablished] == measured)
            verdict = "not established";
        else {
            for (Verdict v : {Verdict::Held, Verdict::DidNotHold, Verdict::NotEstablished})
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
    std::size_t runs = 0;
    for (const auto& r : reports) {
        total += r.wallSeconds;
        runs += r.study.runs();
    }
    md << preamble << "\nThe store holds " << runs << " finished runs in " << reports.size()
       << (reports.size() == 1 ? " configuration" : " configurations")
       << "; their training time adds up to " << num(total, 0) << " s.\n";
}

void writeMethod(std::ostream& md, const ReportOptions& o) {
    md << "\n## How the claims are judged\n\n"
          "Runs are pooled only when every setting but alpha and the seed is the same (one section "
          "per configuration) "
          "and paired by seed: for a seed, alpha = 0 and alpha > 0 share the split, the initial "
          "weights and the "
          "minibatch order. The alpha to report is the one with the best paired validation "
          "difference against alpha = 0 "
          "(last epoch); the test split only measures it, and the alpha chosen on test is shown "
          "apart as optimistic. "
          "Each alpha's paired test-accuracy difference against alpha = 0 is tested with the "
          "paired t-test, "
          "Holm-corrected across the alphas of the configuration (the exact Wilcoxon signed-rank "
          "test, the bootstrap "
          "interval and the share of seeds that improve are shown beside it; with few seeds the "
          "bootstrap interval is "
          "narrower than the t interval and decides nothing). A claim is **held** when its "
          "corrected t-test is "
          "significant at "
       << num(o.significance, 2)
       << " in the claimed direction and the Wilcoxon test agrees (so at least 6 seeds that "
          "differ); **did not hold** "
          "when it is significant the other way, or when the one-sided "
       << num(100 * (1 - o.significance), 0)
       << "% upper bound of the gain is below the effect that matters ("
       << num(o.meaningfulEffect, 3)
       << "; the spread taken as at least one test sample, so that ties cannot make a bound look "
          "certain); and **not "
          "established** otherwise, with the smallest effect the seeds could have detected. Claim "
          "2 needs both the "
          "rise (the chosen alpha against alpha = 0) and the fall (the chosen alpha against the "
          "largest one, "
          "Bonferroni-corrected over the alphas that could have been chosen). Claim 3 compares "
          "expert i with expert i "
          "of the same seed. Claim 4 is a non-inferiority test with a margin of "
       << num(o.routingMargin, 3) << " (one-sided " << num(100 * (1 - o.significance), 0)
       << "%).\n";
}

void writeClaims(std::ostream& md, const std::vector<DatasetReport>& reports,
                 const ReportOptions& o) {
    md << "\n## Claims\n\n| Claim | Verdict | By configuration |\n|---|---|---|\n";
    for (const auto& c : judgeClaims(reports, o))
        md << "| " << c.claim << " | **" << c.verdict << "** | " << c.evidence << " |\n";
}

// A section's heading, its configuration, and each metric's mean and spread by alpha.
void writeAlphaTable(std::ostream& md, const DatasetReport& r) {
    md << "\n## " << r.study.label() << "\n\n";
    md << "Configuration " << r.study.signature << ", " << r.study.runs() << " runs";
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
           << " | " << intervalText(c.tInterval) << " | " << intervalText(c.bootstrapInterval)
           << " | " << pText(c.tTest.pValue) << " | " << pText(row.holmP)
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
       << alphaText(*r.selectedAlpha)
       << ", paired by seed (the same expert number starts from the same weights for a seed):\n\n"
          "| expert | seeds | MoE (alpha 0) | MoDE | difference | 95% CI | t-test p |\n"
          "|---|---|---|---|---|---|---|\n";
    for (const auto& x : r.experts)
        md << "| " << x.expert << " | " << x.difference->n << " | " << num(x.moe) << " | "
           << num(x.mode) << " | " << signedNum(x.difference->meanDifference) << " | "
           << intervalText(x.difference->tInterval) << " | " << pText(x.difference->tTest.pValue)
           << " |\n";
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
                                const ReportOptions& o) {
    std::ostringstream md;
    writeOverview(md, reports, preamble);
    writeMethod(md, o);
    writeClaims(md, reports, o);
    for (const auto& r : reports) {
        writeAlphaTable(md, r);
        writeDifferenceTable(md, r, o);
        writeSelection(md, r, o);
        writeSectionClaims(md, r, o);
        writeExpertTable(md, r);
        writeFigures(md, r, figures);
    }
    return md.str();
}

} // namespace mode

#include "report/SweepReport.h"

#include "analysis/Statistics.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <set>
#include <sstream>

namespace mode {

namespace {

MetricSummary summarise(const std::vector<double>& v) { return {mean(v), sampleStd(v), v.size()}; }

// Mean accuracy of the experts on their own allocated test samples, weighted by allocation.
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

// Probing accuracy of the experts ranked by allocation (largest first); unallocated ones last.
std::vector<double> rankedProbing(const EpochMetrics& e) {
    std::vector<std::pair<std::int64_t, double>> v;
    for (const auto& x : e.experts) v.push_back({x.allocated, x.probingAccuracy ? *x.probingAccuracy : std::nan("")});
    std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<double> out;
    for (const auto& p : v) out.push_back(p.second);
    return out;
}

std::string pm(const MetricSummary& m, int digits = 4) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << m.mean << " \u00b1 " << m.std;
    return s.str();
}
std::string num(double v, int digits = 4) {
    if (!std::isfinite(v)) return "-";
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << v;
    return s.str();
}
std::string alphaText(double a) {
    std::ostringstream s;
    s << a;
    return s.str();
}
std::string pText(double p) {
    std::ostringstream s;
    if (p < 0.001) s << "< 0.001";
    else s << std::fixed << std::setprecision(3) << p;
    return s.str();
}
std::string fileSafe(std::string s) {
    for (char& c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
    return s;
}

std::string verdict(int held, int measured, const std::string& notMeasured = "not measured") {
    if (measured == 0) return notMeasured;
    if (held == measured) return "held";
    if (held == 0) return "did not hold";
    return "held on " + std::to_string(held) + " of " + std::to_string(measured) + " datasets";
}

// The alpha = 0 row and the best alpha's row of a report (either may be missing).
std::pair<const AlphaRow*, const AlphaRow*> baselineAndBest(const DatasetReport& r) {
    const AlphaRow *zero = nullptr, *best = nullptr;
    for (const auto& row : r.rows) {
        if (row.alpha == 0) zero = &row;
        if (r.bestAlpha && row.alpha == *r.bestAlpha) best = &row;
    }
    return {zero, best};
}

} // namespace

std::string figureFile(const std::string& folder, const std::string& dataset, const std::string& metric) {
    return folder + "/" + fileSafe(dataset) + "-" + metric + ".png";
}

std::vector<DatasetReport> buildSweepReport(const RunStore& store, const std::vector<std::string>& datasets) {
    RunFilter finished;
    finished.status = RunStatus::Finished;
    const auto runs = store.listRuns(finished);
    std::set<std::string> names(datasets.begin(), datasets.end());
    if (names.empty())
        for (const auto& r : runs) names.insert(r.dataset);
    std::vector<DatasetReport> out;
    for (const auto& name : names) {
        DatasetReport rep;
        rep.dataset = name;
        // alpha -> seed -> (record, last epoch)
        std::map<double, std::map<std::int64_t, std::pair<RunRecord, EpochMetrics>>> byAlpha;
        for (const auto& r : runs) {
            if (r.dataset != name) continue;
            auto epochs = store.epochs(r.id);
            if (epochs.empty()) continue;
            byAlpha[r.alpha].emplace(r.seed, std::make_pair(r, epochs.back())); // newest first: the newest run of a seed counts
            rep.wallSeconds += r.wallSeconds;
        }
        for (const auto& [alpha, seeds] : byAlpha) {
            AlphaRow row;
            row.alpha = alpha;
            row.runs = seeds.size();
            std::vector<double> acc, sim, probe, route;
            for (const auto& [seed, re] : seeds) {
                acc.push_back(re.second.testAccuracy);
                sim.push_back(re.second.expertSimilarity);
                if (auto p = weightedProbing(re.second)) probe.push_back(*p);
                if (re.second.gateRoutingAccuracy) route.push_back(*re.second.gateRoutingAccuracy);
            }
            row.testAccuracy = summarise(acc);
            row.similarity = summarise(sim);
            row.probing = summarise(probe);
            if (!route.empty()) row.routing = summarise(route);
            rep.rows.push_back(row);
        }
        const AlphaRow* best = nullptr;
        for (const auto& row : rep.rows)
            if (row.alpha > 0 && (!best || row.testAccuracy.mean > best->testAccuracy.mean)) best = &row;
        if (best && byAlpha.count(0.0)) {
            rep.bestAlpha = best->alpha;
            std::vector<double> a, b;
            std::vector<std::vector<double>> pm0, pmB;
            for (const auto& [seed, re] : byAlpha[best->alpha]) {
                auto it = byAlpha[0.0].find(seed);
                if (it == byAlpha[0.0].end()) continue;
                a.push_back(re.second.testAccuracy);
                b.push_back(it->second.second.testAccuracy);
                pmB.push_back(rankedProbing(re.second));
                pm0.push_back(rankedProbing(it->second.second));
            }
            rep.pairs = a.size();
            if (!a.empty()) {
                const auto t = pairedTTest(a, b);
                rep.meanGain = t.meanDifference;
                rep.tTestP = t.pValue;
                rep.wilcoxonP = a.size() <= 25 ? wilcoxonSignedRank(a, b).pValue : 1.0;
                auto average = [](const std::vector<std::vector<double>>& v) {
                    std::vector<double> out;
                    for (std::size_t k = 0; !v.empty() && k < v[0].size(); ++k) {
                        std::vector<double> col;
                        for (const auto& row : v)
                            if (k < row.size() && std::isfinite(row[k])) col.push_back(row[k]);
                        out.push_back(col.empty() ? std::nan("") : mean(col));
                    }
                    return out;
                };
                rep.probingMoe = average(pm0);
                rep.probingBest = average(pmB);
            }
        }
        out.push_back(std::move(rep));
    }
    return out;
}

std::vector<ClaimVerdict> judgeClaims(const std::vector<DatasetReport>& reports, double alpha) {
    std::vector<ClaimVerdict> v;
    auto join = [](const std::vector<std::string>& parts) {
        std::string s;
        for (const auto& p : parts) s += (s.empty() ? "" : "; ") + p;
        return s;
    };
    // 1. a moderate alpha beats alpha = 0, significantly, on every dataset.
    {
        int held = 0, measured = 0;
        std::vector<std::string> ev;
        for (const auto& r : reports) {
            if (!r.bestAlpha || r.pairs < 2) continue;
            ++measured;
            const bool ok = r.meanGain > 0 && r.tTestP < alpha;
            held += ok;
            ev.push_back(r.dataset + ": alpha " + alphaText(*r.bestAlpha) + " gains " + num(r.meanGain) + " (t-test p " +
                         pText(r.tTestP) + ", Wilcoxon p " + pText(r.wilcoxonP) + ", " + std::to_string(r.pairs) + " seeds)");
        }
        v.push_back({"1. A moderate alpha beats alpha = 0",
                     verdict(held, measured),
                     join(ev)});
    }
    // 2. rises then falls: the best alpha is neither the smallest nor the largest alpha > 0, and
    // the largest alpha is worse than the best.
    {
        int held = 0, measured = 0;
        std::vector<std::string> ev;
        for (const auto& r : reports) {
            std::vector<const AlphaRow*> pos;
            for (const auto& row : r.rows)
                if (row.alpha > 0) pos.push_back(&row);
            if (pos.size() < 3 || !r.bestAlpha) continue;
            ++measured;
            const bool interior = *r.bestAlpha != pos.front()->alpha && *r.bestAlpha != pos.back()->alpha;
            held += interior;
            ev.push_back(r.dataset + ": best alpha " + alphaText(*r.bestAlpha) + " of " + alphaText(pos.front()->alpha) + ".." +
                         alphaText(pos.back()->alpha) + ", accuracy at the largest alpha " + num(pos.back()->testAccuracy.mean));
        }
        v.push_back({"2. The gain rises, then falls as alpha grows",
                     verdict(held, measured),
                     join(ev)});
    }
    // 3. expert probing rises with the best moderate alpha.
    {
        int held = 0, measured = 0;
        std::vector<std::string> ev;
        for (const auto& r : reports) {
            const auto [zero, best] = baselineAndBest(r);
            if (!zero || !best || zero->probing.runs == 0) continue;
            ++measured;
            held += best->probing.mean > zero->probing.mean;
            ev.push_back(r.dataset + ": " + num(zero->probing.mean) + " -> " + num(best->probing.mean));
        }
        v.push_back({"3. Expert probing accuracy rises with a moderate alpha (allocation-weighted, mean over seeds)",
                     verdict(held, measured),
                     join(ev)});
    }
    // 4. gate routing accuracy does not get worse (within one standard deviation).
    {
        int held = 0, measured = 0;
        std::vector<std::string> ev;
        for (const auto& r : reports) {
            const auto [zero, best] = baselineAndBest(r);
            if (!zero || !best || !zero->routing || !best->routing) continue;
            ++measured;
            held += best->routing->mean >= zero->routing->mean - zero->routing->std;
            ev.push_back(r.dataset + ": " + pm(*zero->routing, 3) + " -> " + pm(*best->routing, 3));
        }
        v.push_back({"4. Gate routing accuracy does not get worse",
                     verdict(held, measured, "not measured (no dataset with known sub-tasks)"),
                     join(ev)});
    }
    return v;
}

std::string sweepReportMarkdown(const std::vector<DatasetReport>& reports, const std::string& figures,
                                const std::string& preamble) {
    std::ostringstream md;
    double total = 0;
    std::size_t runs = 0;
    for (const auto& r : reports) {
        total += r.wallSeconds;
        for (const auto& row : r.rows) runs += row.runs;
    }
    md << preamble << "\nThe store holds " << runs << " finished runs of " << reports.size()
       << " datasets; their training time adds up to " << num(total, 0) << " s.\n";
    md << "\n## Claims\n\n| Claim | Verdict | Evidence |\n|---|---|---|\n";
    for (const auto& c : judgeClaims(reports)) md << "| " << c.claim << " | **" << c.verdict << "** | " << c.evidence << " |\n";
    for (const auto& r : reports) {
        md << "\n## " << r.dataset << "\n\n";
        md << "| alpha | seeds | test accuracy | gate routing accuracy | expert probing | expert similarity |\n"
              "|---|---|---|---|---|---|\n";
        for (const auto& row : r.rows)
            md << "| " << alphaText(row.alpha) << (row.alpha == 0 ? " (MoE)" : "") << (r.bestAlpha && row.alpha == *r.bestAlpha ? " (best)" : "")
               << " | " << row.runs << " | " << pm(row.testAccuracy) << " | " << (row.routing ? pm(*row.routing, 3) : "-") << " | "
               << (row.probing.runs ? pm(row.probing) : "-") << " | " << pm(row.similarity, 3) << " |\n";
        if (r.bestAlpha) {
            md << "\nBest alpha " << alphaText(*r.bestAlpha) << " against alpha = 0, paired over " << r.pairs
               << " seeds: mean test-accuracy gain " << num(r.meanGain) << ", paired t-test p = " << pText(r.tTestP)
               << ", Wilcoxon signed-rank p = " << pText(r.wilcoxonP) << ".\n";
            md << "\nExpert probing (each expert alone on the test samples routed to it; experts ranked by allocation, mean "
                  "over seeds):\n\n| expert rank | MoE (alpha 0) | MoDE (alpha " << alphaText(*r.bestAlpha) << ") |\n|---|---|---|\n";
            for (std::size_t k = 0; k < std::max(r.probingMoe.size(), r.probingBest.size()); ++k)
                md << "| " << k + 1 << " | " << (k < r.probingMoe.size() ? num(r.probingMoe[k]) : "-") << " | "
                   << (k < r.probingBest.size() ? num(r.probingBest[k]) : "-") << " |\n";
        }
        md << "\n![" << r.dataset << ": test accuracy against alpha](" << figureFile(figures, r.dataset, "test_accuracy") << ")\n";
        if (!r.rows.empty() && r.rows.front().routing)
            md << "![" << r.dataset << ": gate routing accuracy](" << figureFile(figures, r.dataset, "gate_routing_accuracy") << ")\n";
        md << "![" << r.dataset << ": expert similarity](" << figureFile(figures, r.dataset, "expert_similarity") << ")\n";
        md << "\nTraining time of the " << [&] {
            std::size_t n = 0;
            for (const auto& row : r.rows) n += row.runs;
            return n;
        }() << " runs: " << num(r.wallSeconds, 0) << " s.\n";
    }
    return md.str();
}


} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "report/RunSummary.h"

#include <algorithm>
#include <cstdio>
#include <iomanip>
#include <stdexcept>

namespace mode {

using json = nlohmann::json;

json runResultJson(const ExperimentConfig& c, const RunStart& s, const RunResult& r,
                   const json& runId) {
    const EpochMetrics* f = r.final ? &*r.final : nullptr;
    const bool cls = s.classification;
    json j{{"run_id", runId},
           {"name", c.name},
           {"status", toString(r.status)},
           {"message", r.message},
           {"dataset", s.datasetName},
           {"dataset_fingerprint", s.datasetFingerprint},
           {"device", s.device},
           {"task", cls ? "classification" : "regression"},
           {"alpha", c.loss.alpha},
           {"distill", c.loss.distill},
           {"experts_count", c.model.experts},
           {"epochs_completed", r.epochsCompleted},
           {"steps", r.steps},
           {"wall_seconds", r.wallSeconds},
           {"train_samples_per_second", r.trainSamplesPerSecond},
           {"parameters", s.parameters},
           {"test_accuracy", f && cls ? json(f->testAccuracy) : json(nullptr)},
           {"val_accuracy", f && cls ? json(f->valAccuracy) : json(nullptr)},
           {"test_loss", f ? json(f->testLoss) : json(nullptr)},
           {"test_rmse", f ? jsonOrNull(f->testRmse) : json(nullptr)},
           {"test_r2", f ? jsonOrNull(f->testR2) : json(nullptr)},
           {"gate_routing_accuracy", f ? jsonOrNull(f->gateRoutingAccuracy) : json(nullptr)},
           {"gate_entropy", f ? json(f->gateEntropy) : json(nullptr)},
           {"expert_similarity", f ? json(f->expertSimilarity) : json(nullptr)},
           {"experts", f ? expertsJson(f->experts) : json::array()},
           {"final", f ? epochMetricsJson(*f) : json(nullptr)},
           {"config", c.toJson()}};
    return j;
}

void printRunSummary(std::ostream& out, const ExperimentConfig& c, const RunStart& s,
                     const RunResult& r) {
    char buf[256];
    out << "\nrun " << toString(r.status) << ": " << r.epochsCompleted << " epochs, " << r.steps
        << " steps in " << std::fixed << std::setprecision(1) << r.wallSeconds << " s on "
        << s.device << "\n";
    if (!r.final) return;
    const auto& f = *r.final;
    out << "dataset " << s.datasetName << " (" << s.trainRows << " train / " << s.valRows
        << " val / " << s.testRows << " test rows), ";
    const bool baseline = c.model.kind != "moe";
    if (c.model.kind == "dense")
        out << "dense baseline (" << s.parameters << " parameters, sized after " << c.model.experts
            << " experts)\n";
    else if (baseline)
        out << "ensemble baseline of " << c.model.experts << " independent experts\n";
    else
        out << c.model.experts << " experts, alpha " << c.loss.alpha << " (" << c.loss.distill
            << ")\n";
    if (s.classification) {
        std::snprintf(buf, sizeof buf, "test accuracy of the mixture: %.4f   (validation %.4f)\n",
                      f.testAccuracy, f.valAccuracy);
    } else {
        std::snprintf(buf, sizeof buf, "test RMSE of the mixture: %.4f   R^2 %.4f\n",
                      f.testRmse.value_or(0), f.testR2.value_or(0));
    }
    out << buf;
    if (s.classification && !s.classNames.empty()) {
        // What always predicting the test split's most common class scores (the class counts of
        // the routing matrix), else a uniform guess.
        const auto& counts = f.routingByClass.rowCounts;
        std::int64_t total = 0, most = 0;
        for (auto n : counts)
            total += n, most = std::max(most, n);
        const double chance = total > 0 ? static_cast<double>(most) / static_cast<double>(total)
                                        : 1.0 / static_cast<double>(s.classNames.size());
        if (f.testAccuracy <= chance + 1e-9) {
            std::snprintf(buf, sizeof buf,
                          "warning: that is no better than always predicting the most common class "
                          "(%.4f): the model did "
                          "not learn (a learning rate far too high or too low? the training loss "
                          "ended at %.4g)\n",
                          chance, f.trainLoss);
            out << buf;
        }
    }
    if (f.gateRoutingAccuracy) {
        std::snprintf(
            buf, sizeof buf,
            "gate routing accuracy: %.4f   (known sub-tasks matched one-to-one to experts)\n",
            *f.gateRoutingAccuracy);
        out << buf;
    }
    if (baseline) { // no gate: no routing, so no allocation or probing to show
        out << "no gate, so no routing or expert probing (model.kind " << c.model.kind << ")\n";
        return;
    }
    printExpertTable(out, s.classification, f.experts, "the test split");
}

void printExpertTable(std::ostream& out, bool classification,
                      const std::vector<ExpertMetrics>& experts, const std::string& rows) {
    out << "expert probing on " << rows
        << " (each expert alone, on the samples its gate weight is largest for):\n";
    out << (classification ? "  expert  allocated   share  probing acc    load  similarity\n"
                           : "  expert  allocated   share  probing MSE     load  similarity\n");
    char buf[160];
    for (const auto& e : experts) {
        auto probe = classification ? e.probingAccuracy : e.probingError;
        char probeText[32] = "-";
        if (probe) std::snprintf(probeText, sizeof probeText, "%.4f", *probe);
        std::snprintf(buf, sizeof buf, "  %6d  %9lld  %6.3f  %11s  %6.3f  %10.3f\n", e.expert,
                      static_cast<long long>(e.allocated), e.share, probeText, e.load,
                      e.similarity);
        out << buf;
    }
}

} // namespace mode

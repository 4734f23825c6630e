// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/Metrics.h"

#include <cmath>
#include <stdexcept>

namespace mode {
namespace {

// A metric held in a double member (NaN: not measured) or an optional one.
#define MODE_STEP(name, label, member)                                                             \
    StepMetric {                                                                                   \
        name, label, 4, [](const StepMetrics& m) { return m.member; },                             \
            [](StepMetrics& m, double v) { m.member = v; }                                         \
    }
#define MODE_EPOCH(name, label, member)                                                            \
    EpochMetric {                                                                                  \
        name, label, 4, [](const EpochMetrics& m) -> std::optional<double> { return m.member; },   \
            [](EpochMetrics& m, std::optional<double> v) { m.member = v.value_or(std::nan("")); }  \
    }
#define MODE_EPOCH_OPTIONAL(name, label, member)                                                   \
    EpochMetric {                                                                                  \
        name, label, 4, [](const EpochMetrics& m) { return m.member; },                            \
            [](EpochMetrics& m, std::optional<double> v) { m.member = v; }                         \
    }

std::deque<EpochMetric>& epochTable() {
    static std::deque<EpochMetric> t{
        MODE_EPOCH("train_loss", "training loss", trainLoss),
        MODE_EPOCH("train_task_loss", "training task loss", trainTaskLoss),
        MODE_EPOCH("train_distill_loss", "training distillation loss", trainDistillLoss),
        MODE_EPOCH("train_accuracy", "training accuracy (R\u00b2 for regression)", trainAccuracy),
        MODE_EPOCH("val_loss", "validation loss", valLoss),
        MODE_EPOCH("val_accuracy", "validation accuracy", valAccuracy),
        MODE_EPOCH("test_loss", "test loss", testLoss),
        MODE_EPOCH("test_accuracy", "test accuracy", testAccuracy),
        MODE_EPOCH_OPTIONAL("test_rmse", "test RMSE", testRmse),
        MODE_EPOCH_OPTIONAL("test_r2", "test R\u00b2", testR2),
        MODE_EPOCH("gate_entropy", "gate entropy (nats)", gateEntropy),
        MODE_EPOCH("expert_similarity", "expert similarity (mean pairwise cosine)",
                   expertSimilarity),
        MODE_EPOCH_OPTIONAL("gate_routing_accuracy", "gate routing accuracy", gateRoutingAccuracy),
    };
    return t;
}

#undef MODE_EPOCH
#undef MODE_EPOCH_OPTIONAL

bool isColumnName(const std::string& n) {
    if (n.empty() || n.size() > 64 || !(n[0] >= 'a' && n[0] <= 'z')) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

} // namespace

const std::vector<StepMetric>& stepMetrics() {
    static const std::vector<StepMetric> t{
        MODE_STEP("loss", "loss (total)", total),
        MODE_STEP("task_loss", "task loss", task),
        MODE_STEP("distill_loss", "distillation loss", distill),
        MODE_STEP("balance_loss", "load-balancing loss", balance),
        MODE_STEP("samples_per_second", "samples per second", samplesPerSecond),
    };
    return t;
}
#undef MODE_STEP

const std::deque<EpochMetric>& epochMetrics() {
    return epochTable();
}

const StepMetric* findStepMetric(const std::string& name) {
    for (const auto& m : stepMetrics())
        if (m.name == name) return &m;
    return nullptr;
}

const EpochMetric* findEpochMetric(const std::string& name) {
    for (const auto& m : epochMetrics())
        if (m.name == name) return &m;
    return nullptr;
}

void addEpochMetric(EpochMetric metric) {
    if (!isColumnName(metric.name))
        throw std::invalid_argument("metric name '" + metric.name +
                                    "': use lower_snake_case (a-z, 0-9, _)");
    if (findEpochMetric(metric.name) || findStepMetric(metric.name) || metric.name == "epoch" ||
        metric.name == "step" || metric.name == "wall_seconds" || metric.name == "run_id")
        throw std::invalid_argument("metric name '" + metric.name + "' is taken");
    if (static_cast<bool>(metric.get) != static_cast<bool>(metric.set))
        throw std::invalid_argument("metric '" + metric.name +
                                    "': give both get and set, or neither");
    if (!metric.get) {
        metric.get = [name = metric.name](const EpochMetrics& m) -> std::optional<double> {
            auto it = m.extra.find(name);
            if (it == m.extra.end()) return std::nullopt;
            return it->second;
        };
        metric.set = [name = metric.name](EpochMetrics& m, std::optional<double> v) {
            if (v)
                m.extra[name] = *v;
            else
                m.extra.erase(name);
        };
    }
    if (metric.label.empty()) metric.label = metric.name;
    epochTable().push_back(std::move(metric));
}

} // namespace mode

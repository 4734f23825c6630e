// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A run's events as JSON, as the store keeps them and the tools print them: epoch metrics (the
// keys are the metric catalog's names), routing matrices and per-expert metrics.

#include "train/TrainingEvents.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <vector>

namespace mode {

// A value that may be missing: the value, or null.
template <typename T> nlohmann::json jsonOrNull(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json epochMetricsJson(const EpochMetrics& m);
nlohmann::json routingJson(const RoutingMatrix& m);
// The inverse of routingJson; throws nlohmann::json::exception or std::invalid_argument.
RoutingMatrix routingFromJson(const nlohmann::json& j);
nlohmann::json expertsJson(const std::vector<ExpertMetrics>& experts);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/EventsJson.h"

#include "train/Metrics.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mode {

using json = nlohmann::json;

json routingJson(const RoutingMatrix& m) {
    return {{"rows", m.rowNames},
            {"experts", m.experts},
            {"mean_gate", m.meanGate},
            {"argmax_share", m.argmaxShare},
            {"row_counts", m.rowCounts}};
}

RoutingMatrix routingFromJson(const json& j) {
    RoutingMatrix m;
    m.rowNames = j.at("rows").get<std::vector<std::string>>();
    m.experts = j.at("experts").get<int>();
    m.meanGate = j.at("mean_gate").get<std::vector<double>>();
    m.argmaxShare = j.at("argmax_share").get<std::vector<double>>();
    m.rowCounts = j.at("row_counts").get<std::vector<std::int64_t>>();
    const std::size_t cells = m.rowNames.size() * static_cast<std::size_t>(std::max(0, m.experts));
    if (m.meanGate.size() != cells || m.argmaxShare.size() != cells ||
        m.rowCounts.size() != m.rowNames.size())
        throw std::invalid_argument(
            "routing matrix: the sizes of its rows, experts and cells do not match");
    return m;
}

json expertsJson(const std::vector<ExpertMetrics>& experts) {
    json a = json::array();
    for (const auto& e : experts)
        a.push_back({{"expert", e.expert},
                     {"allocated", e.allocated},
                     {"probing_accuracy", jsonOrNull(e.probingAccuracy)},
                     {"probing_error", jsonOrNull(e.probingError)},
                     {"load", e.load},
                     {"share", e.share},
                     {"similarity", e.similarity}});
    return a;
}

json epochMetricsJson(const EpochMetrics& m) {
    json j{{"epoch", m.epoch}, {"step", m.step}, {"wall_seconds", m.wallSeconds}};
    for (const auto& metric : epochMetrics()) {
        const auto v = metric.get(m);
        j[metric.name] = v && std::isfinite(*v) ? json(*v) : json(nullptr);
    }
    j["routing_by_class"] = routingJson(m.routingByClass);
    j["routing_by_subtask"] = m.routingBySubtask ? routingJson(*m.routingBySubtask) : json(nullptr);
    j["experts"] = expertsJson(m.experts);
    return j;
}

} // namespace mode

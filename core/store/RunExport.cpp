// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/RunExport.h"

#include "train/EventsJson.h"
#include "train/Metrics.h"
#include "util/Csv.h"
#include "util/Format.h"

#include <cmath>
#include <ctime>
#include <iomanip>
#include <map>
#include <sstream>

namespace mode {

using json = nlohmann::json;

namespace {

std::string formatTime(double unixSeconds, bool utc, const char* format) {
    std::time_t t = static_cast<std::time_t>(unixSeconds);
    std::tm tm{};
    if (utc)
        gmtime_r(&t, &tm);
    else
        localtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

// A CSV field: numbers with full precision, NaN and missing as empty.
template <typename T> std::string num(const T& v) {
    return formatField(v);
}

// The catalog's metrics of one epoch (or step), in the catalog's order: the headers'.
std::vector<std::string> epochFields(const EpochMetrics& m) {
    std::vector<std::string> out;
    for (const auto& metric : epochMetrics())
        out.push_back(num(metric.get(m)));
    return out;
}
std::vector<std::string> stepFields(const StepMetrics& s) {
    std::vector<std::string> out;
    for (const auto& metric : stepMetrics())
        out.push_back(num(metric.get(s)));
    return out;
}

} // namespace

std::string isoTimeUtc(double s) {
    return formatTime(s, true, "%Y-%m-%dT%H:%M:%SZ");
}
std::string localTimeShort(double s) {
    return formatTime(s, false, "%Y-%m-%d %H:%M");
}

json runRecordJson(const RunRecord& r) {
    return {{"id", r.id},
            {"name", r.name},
            {"status", toString(r.status)},
            {"message", r.message},
            {"dataset", r.dataset},
            {"dataset_fingerprint", r.datasetFingerprint},
            {"alpha", r.alpha},
            {"distill", r.distill},
            {"experts", r.experts},
            {"gate", r.gate},
            {"seed", r.seed},
            {"device", r.device},
            {"test_accuracy", jsonOrNull(r.testAccuracy)},
            {"val_accuracy", jsonOrNull(r.valAccuracy)},
            {"best_val_accuracy", jsonOrNull(r.bestValAccuracy)},
            {"gate_routing_accuracy", jsonOrNull(r.gateRoutingAccuracy)},
            {"epochs_completed", r.epochsCompleted},
            {"epochs", r.start.epochs},
            {"steps", r.steps},
            {"wall_seconds", r.wallSeconds},
            {"started", isoTimeUtc(r.startedAt)},
            {"ended", r.endedAt ? json(isoTimeUtc(*r.endedAt)) : json(nullptr)},
            {"config_hash", r.configHash},
            {"libtorch_version", r.libtorchVersion},
            {"mode_version", r.modeVersion},
            {"tags", r.tags},
            {"notes", r.notes},
            {"has_checkpoint", r.hasCheckpoint}};
}

json exportRunJson(const RunStore& store, std::int64_t id) {
    auto record = store.run(id);
    json j = runRecordJson(record);
    j["config"] = json::parse(record.configJson);
    j["class_names"] = record.start.classNames;
    j["subtask_names"] = record.start.subtaskNames;
    json steps = json::array();
    for (const auto& s : store.steps(id)) {
        json step{{"step", s.step}, {"epoch", s.epoch}, {"wall_seconds", s.wallSeconds}};
        for (const auto& metric : stepMetrics()) {
            const double v = metric.get(s);
            step[metric.name] = std::isfinite(v) ? json(v) : json(nullptr);
        }
        steps.push_back(std::move(step));
    }
    j["steps"] = std::move(steps);
    json epochs = json::array();
    for (const auto& e : store.epochs(id))
        epochs.push_back(epochMetricsJson(e));
    j["epochs"] = std::move(epochs);
    return j;
}

void exportRunCsv(const RunStore& store, std::int64_t id, std::ostream& out) {
    const auto steps = store.steps(id);
    const auto epochs = store.epochs(id);
    std::map<std::int64_t, const EpochMetrics*> atStep;
    for (const auto& e : epochs)
        atStep[e.step] = &e;
    std::vector<std::string> header{"step", "epoch", "wall_seconds"};
    for (const auto& m : stepMetrics())
        header.push_back(m.name);
    for (const auto& m : epochMetrics())
        header.push_back(m.name);
    writeCsvRow(out, header);
    const std::size_t epochCols = epochMetrics().size();
    for (const auto& s : steps) {
        std::vector<std::string> row{std::to_string(s.step), std::to_string(s.epoch),
                                     num(s.wallSeconds)};
        const auto fields = stepFields(s);
        row.insert(row.end(), fields.begin(), fields.end());
        auto it = atStep.find(s.step);
        if (it != atStep.end()) {
            auto f = epochFields(*it->second);
            row.insert(row.end(), f.begin(), f.end());
        } else {
            row.insert(row.end(), epochCols, "");
        }
        writeCsvRow(out, row);
    }
}

void exportEpochsCsv(const RunStore& store, std::int64_t id, std::ostream& out) {
    const auto epochs = store.epochs(id);
    std::size_t experts = 0;
    for (const auto& e : epochs)
        experts = std::max(experts, e.experts.size());
    std::vector<std::string> header{"epoch", "step", "wall_seconds"};
    for (const auto& m : epochMetrics())
        header.push_back(m.name);
    for (std::size_t i = 0; i < experts; ++i)
        for (const char* m :
             {"allocated", "probing_accuracy", "probing_error", "load", "share", "similarity"})
            header.push_back("expert" + std::to_string(i) + "_" + m);
    writeCsvRow(out, header);
    for (const auto& e : epochs) {
        std::vector<std::string> row{std::to_string(e.epoch), std::to_string(e.step),
                                     num(e.wallSeconds)};
        auto f = epochFields(e);
        row.insert(row.end(), f.begin(), f.end());
        for (std::size_t i = 0; i < experts; ++i) {
            if (i < e.experts.size()) {
                const auto& x = e.experts[i];
                for (const auto& v :
                     {std::to_string(x.allocated), num(x.probingAccuracy), num(x.probingError),
                      num(x.load), num(x.share), num(x.similarity)})
                    row.push_back(v);
            } else {
                row.insert(row.end(), 6, "");
            }
        }
        writeCsvRow(out, row);
    }
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "report/StudyCsv.h"

#include "data/CsvReader.h"
#include "train/EventsJson.h"
#include "util/Csv.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <map>

namespace mode {

namespace {

using json = nlohmann::json;

const std::vector<std::string> kEpochColumns{"epoch",
                                             "test_accuracy",
                                             "val_accuracy",
                                             "gate_routing_accuracy",
                                             "probing_accuracy",
                                             "expert_similarity"};

std::vector<std::string> header() {
    std::vector<std::string> h{"run_id",         "dataset",     "config_signature", "mode_version",
                               "alpha",          "seed",        "test_rows",        "val_rows",
                               "classification", "wall_seconds"};
    for (const char* at : {"best_", "last_"})
        for (const auto& c : kEpochColumns)
            h.push_back(at + c);
    for (const char* c : {"data_fingerprint", "config", "best_experts", "last_experts",
                          "best_routing", "last_routing"})
        h.emplace_back(c);
    return h;
}

// Shortest text that reads back as the same double.
std::string number(double v) {
    char buf[40];
    for (int digits = 15; digits <= 17; ++digits) {
        std::snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (std::strtod(buf, nullptr) == v) break;
    }
    return buf;
}
std::string number(const std::optional<double>& v) {
    return v && std::isfinite(*v) ? number(*v) : "";
}

// The per-expert figures the report reads (allocation and probing).
json expertsCell(const std::vector<ExpertMetrics>& experts) {
    json a = json::array();
    for (const auto& e : experts)
        a.push_back({{"expert", e.expert},
                     {"allocated", e.allocated},
                     {"probing_accuracy", jsonOrNull(e.probingAccuracy)}});
    return a;
}

void epochCells(std::vector<std::string>& row, const RunRecord& r, const EpochMetrics* e,
                bool last) {
    if (!e) {
        row.insert(row.end(), kEpochColumns.size(), "");
        return;
    }
    row.push_back(std::to_string(e->epoch));
    // The last epoch's test, validation and routing figures are the run's own (as the store keeps
    // them on the run); the best epoch's are that epoch's.
    row.push_back(number(last ? r.testAccuracy : std::optional<double>(e->testAccuracy)));
    row.push_back(number(last ? r.valAccuracy : std::optional<double>(e->valAccuracy)));
    row.push_back(number(last ? r.gateRoutingAccuracy : e->gateRoutingAccuracy));
    row.push_back(number(weightedProbing(*e)));
    row.push_back(number(e->expertSimilarity));
}

} // namespace

void writeStudyCsv(std::ostream& out, const std::vector<StudyRun>& runs) {
    writeCsvRow(out, header());
    for (const auto& run : runs) {
        const auto& r = run.record;
        std::vector<std::string> row{std::to_string(r.id),
                                     r.dataset,
                                     configSignature(r),
                                     r.modeVersion,
                                     number(r.alpha),
                                     std::to_string(r.seed),
                                     std::to_string(r.start.testRows),
                                     std::to_string(r.start.valRows),
                                     r.start.classification ? "1" : "0",
                                     number(r.wallSeconds)};
        epochCells(row, r, run.best ? &*run.best : nullptr, false);
        epochCells(row, r, run.last ? &*run.last : nullptr, true);
        row.push_back(r.datasetFingerprint);
        row.push_back(r.configJson);
        for (const auto* e : {&run.best, &run.last})
            row.push_back(*e ? expertsCell((*e)->experts).dump() : "");
        for (const auto* e : {&run.best, &run.last})
            row.push_back(*e ? routingJson((*e)->routingByClass).dump() : "");
        writeCsvRow(out, row);
    }
}

namespace {

struct RowReader {
    const CsvReader& csv;
    std::map<std::string, std::size_t> at;

    std::string text(const std::string& column) const {
        return std::string(csv.fields().at(at.at(column)));
    }
    [[noreturn]] void fail(const std::string& column, const std::string& why) const {
        throw DataError(csv.source() + ":" + std::to_string(csv.line()) + ": column '" + column +
                        "': " + why);
    }
    double real(const std::string& column) const {
        const auto t = text(column);
        char* end = nullptr;
        const double v = std::strtod(t.c_str(), &end);
        if (t.empty() || *end != '\0') fail(column, "'" + t + "' is not a number");
        return v;
    }
    std::optional<double> optional(const std::string& column) const {
        return text(column).empty() ? std::nullopt : std::optional<double>(real(column));
    }
    std::int64_t integer(const std::string& column) const {
        const double v = real(column);
        if (v != std::floor(v)) fail(column, "'" + text(column) + "' is not a whole number");
        return static_cast<std::int64_t>(v);
    }
    json cell(const std::string& column) const {
        try {
            return json::parse(text(column));
        } catch (const json::exception& e) {
            fail(column, std::string("not JSON: ") + e.what());
        }
    }
};

std::optional<EpochMetrics> readEpoch(const RowReader& in, const std::string& at) {
    if (in.text(at + "epoch").empty()) return std::nullopt;
    EpochMetrics e;
    e.epoch = static_cast<int>(in.integer(at + "epoch"));
    e.testAccuracy = in.optional(at + "test_accuracy").value_or(0.0);
    e.valAccuracy = in.optional(at + "val_accuracy").value_or(0.0);
    e.gateRoutingAccuracy = in.optional(at + "gate_routing_accuracy");
    e.expertSimilarity = in.optional(at + "expert_similarity").value_or(0.0);
    try {
        for (const auto& x : in.cell(at + "experts")) {
            ExpertMetrics m;
            m.expert = x.at("expert").get<int>();
            m.allocated = x.at("allocated").get<std::int64_t>();
            if (!x.at("probing_accuracy").is_null())
                m.probingAccuracy = x.at("probing_accuracy").get<double>();
            e.experts.push_back(m);
        }
        e.routingByClass = routingFromJson(in.cell(at + "routing"));
    } catch (const DataError&) {
        throw;
    } catch (const std::exception& x) {
        in.fail(at + "experts", x.what());
    }
    return e;
}

} // namespace

std::vector<StudyRun> readStudyCsv(const std::string& path) {
    CsvReader csv(path, ',');
    if (!csv.next()) throw DataError(path + ": empty (no header)");
    RowReader in{csv, {}};
    for (std::size_t i = 0; i < csv.fields().size(); ++i)
        in.at[std::string(csv.fields()[i])] = i;
    for (const auto& column : header())
        if (!in.at.count(column))
            throw DataError(path + ":1: no column '" + column +
                            "' (not a file written by mode-report)");
    std::vector<StudyRun> runs;
    while (csv.next()) {
        if (csv.fields().size() != in.at.size())
            throw DataError(path + ":" + std::to_string(csv.line()) + ": " +
                            std::to_string(csv.fields().size()) + " fields, the header has " +
                            std::to_string(in.at.size()));
        StudyRun run;
        auto& r = run.record;
        r.id = in.integer("run_id");
        r.status = RunStatus::Finished;
        r.dataset = in.text("dataset");
        r.datasetFingerprint = in.text("data_fingerprint");
        r.modeVersion = in.text("mode_version");
        r.configJson = in.text("config");
        r.alpha = in.real("alpha");
        r.seed = in.integer("seed");
        r.start.testRows = in.integer("test_rows");
        r.start.valRows = in.integer("val_rows");
        r.start.classification = in.integer("classification") != 0;
        r.wallSeconds = in.real("wall_seconds");
        r.testAccuracy = in.optional("last_test_accuracy");
        r.valAccuracy = in.optional("last_val_accuracy");
        r.gateRoutingAccuracy = in.optional("last_gate_routing_accuracy");
        run.best = readEpoch(in, "best_");
        run.last = readEpoch(in, "last_");
        if (configSignature(r) != in.text("config_signature"))
            in.fail("config_signature", "does not match the row's config (edited by hand?)");
        runs.push_back(std::move(run));
    }
    return runs;
}

} // namespace mode

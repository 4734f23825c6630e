// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/RunComparison.h"

#include "train/Assignment.h"

#include <algorithm>
#include <set>

namespace mode {

using json = nlohmann::json;

namespace {
void flattenInto(const json& j, const std::string& prefix,
                 std::map<std::string, std::string>& out) {
    if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
            flattenInto(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    } else {
        out[prefix] = j.is_string() ? j.get<std::string>() : j.dump();
    }
}

std::map<std::string, std::string> flatConfigOf(const RunRecord& r) {
    try {
        return flattenConfig(json::parse(r.configJson));
    } catch (const std::exception&) {
        return {};
    }
}
} // namespace

std::map<std::string, std::string> flattenConfig(const json& config) {
    std::map<std::string, std::string> out;
    flattenInto(config, "", out);
    return out;
}

std::vector<ConfigDiffRow> configTable(const std::vector<RunRecord>& runs, bool differencesOnly) {
    std::vector<std::map<std::string, std::string>> flat;
    std::set<std::string> fields;
    for (const auto& r : runs) {
        flat.push_back(flatConfigOf(r));
        for (const auto& [k, v] : flat.back())
            fields.insert(k);
    }
    std::vector<ConfigDiffRow> rows;
    for (const auto& f : fields) {
        ConfigDiffRow row;
        row.field = f;
        for (const auto& m : flat) {
            auto it = m.find(f);
            row.values.push_back(it == m.end() ? std::string() : it->second);
        }
        row.differs = std::adjacent_find(row.values.begin(), row.values.end(),
                                         std::not_equal_to<>()) != row.values.end();
        if (!differencesOnly || row.differs) rows.push_back(std::move(row));
    }
    std::stable_partition(rows.begin(), rows.end(), [](const auto& r) { return r.differs; });
    return rows;
}

std::vector<int> alignExperts(const RoutingMatrix& reference, const RoutingMatrix& other) {
    const int a = reference.experts, b = other.experts;
    std::vector<double> similarity(static_cast<std::size_t>(a) * static_cast<std::size_t>(b), 0);
    for (std::size_t ro = 0; ro < other.rowNames.size(); ++ro) {
        const auto at =
            std::find(reference.rowNames.begin(), reference.rowNames.end(), other.rowNames[ro]);
        if (at == reference.rowNames.end()) continue;
        const auto rr = static_cast<std::size_t>(at - reference.rowNames.begin());
        const double weight =
            ro < other.rowCounts.size() ? static_cast<double>(other.rowCounts[ro]) : 1.0;
        for (int i = 0; i < a; ++i)
            for (int j = 0; j < b; ++j)
                similarity[static_cast<std::size_t>(i * b + j)] +=
                    weight * reference.meanGate[rr * static_cast<std::size_t>(a) + i] *
                    other.meanGate[ro * static_cast<std::size_t>(b) + j];
    }
    const std::vector<int> matched = maxWeightAssignment(similarity, a, b);
    std::vector<int> order;
    std::vector<bool> used(static_cast<std::size_t>(b), false);
    for (int j : matched)
        if (j >= 0) {
            order.push_back(j);
            used[static_cast<std::size_t>(j)] = true;
        }
    for (int j = 0; j < b; ++j)
        if (!used[static_cast<std::size_t>(j)]) order.push_back(j);
    return order;
}

namespace {

// "1-3, 5": sorted whole numbers with their runs folded.
std::string foldedList(std::vector<long long> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::string out;
    for (std::size_t i = 0; i < v.size();) {
        std::size_t j = i;
        while (j + 1 < v.size() && v[j + 1] == v[j] + 1)
            ++j;
        out += (out.empty() ? "" : ", ") + std::to_string(v[i]) +
               (j > i ? (j == i + 1 ? ", " : "-") + std::to_string(v[j]) : "");
        i = j + 1;
    }
    return out;
}

// A seed group named by what it shares that sets it apart from the other groups ("α 0.1,
// experts 8"), then its seeds ("seeds 1-3").
std::string seedGroupLabel(const std::map<std::string, std::string>& shared,
                           const std::set<std::string>& differing,
                           const std::vector<long long>& seeds) {
    std::string out;
    for (const auto& field : differing) {
        const auto it = shared.find(field);
        const std::string value = it == shared.end() ? "-" : it->second;
        const std::string name =
            field == "loss.alpha" ? "\u03b1" : field.substr(field.rfind('.') + 1);
        out += (out.empty() ? "" : ", ") + name + " " + value;
    }
    return out + (out.empty() ? "" : ", ") + (seeds.size() == 1 ? "seed " : "seeds ") +
           foldedList(seeds);
}

} // namespace

std::vector<RunGroup> groupRuns(const std::vector<RunRecord>& runs, const std::string& field) {
    std::vector<RunGroup> groups;
    std::map<std::string, std::size_t> index;
    std::vector<std::map<std::string, std::string>> shared; // each group's settings, seed left out
    std::vector<std::vector<long long>> seeds;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        auto flat = flatConfigOf(runs[i]);
        std::string key;
        std::string label;
        if (field == "all but seed") {
            flat.erase("train.seed");
            flat.erase("name");
            for (const auto& [k, v] : flat)
                key += k + "=" + v + "\n";
        } else {
            auto it = flat.find(field);
            key = it == flat.end() ? "(none)" : it->second;
            label = field + " = " + key;
        }
        auto [it, added] = index.emplace(key, groups.size());
        if (added) {
            groups.push_back({label, {}});
            shared.push_back(flat);
            seeds.emplace_back();
        }
        groups[it->second].members.push_back(i);
        seeds[it->second].push_back(runs[i].seed);
    }
    if (field == "all but seed") {
        std::set<std::string> differing; // the settings whose value is not the same in every group
        for (const auto& g : shared)
            for (const auto& [k, v] : g)
                for (const auto& other : shared) {
                    const auto o = other.find(k);
                    if (o == other.end() || o->second != v) differing.insert(k);
                }
        for (std::size_t g = 0; g < groups.size(); ++g)
            groups[g].label = seedGroupLabel(shared[g], differing, seeds[g]);
    }
    return groups;
}

std::size_t baselineRun(const std::vector<RunRecord>& runs) {
    for (std::size_t i = 0; i < runs.size(); ++i)
        if (runs[i].alpha == 0) return i;
    return 0;
}

} // namespace mode

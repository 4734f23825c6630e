// SPDX-License-Identifier: GPL-3.0-or-later
#include "analysis/RunComparison.h"

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
    return rows;
}

std::vector<RunGroup> groupRuns(const std::vector<RunRecord>& runs, const std::string& field) {
    std::vector<RunGroup> groups;
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        auto flat = flatConfigOf(runs[i]);
        std::string key;
        std::string label;
        if (field == "all but seed") {
            flat.erase("train.seed");
            flat.erase("name");
            for (const auto& [k, v] : flat)
                key += k + "=" + v + "\n";
            label = runs[i].name.empty() ? "run " + std::to_string(runs[i].id) : runs[i].name;
        } else {
            auto it = flat.find(field);
            key = it == flat.end() ? "(none)" : it->second;
            label = field + " = " + key;
        }
        auto [it, added] = index.emplace(key, groups.size());
        if (added) groups.push_back({label, {}});
        groups[it->second].members.push_back(i);
    }
    return groups;
}

} // namespace mode

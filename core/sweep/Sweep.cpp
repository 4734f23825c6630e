// SPDX-License-Identifier: GPL-3.0-or-later
#include "sweep/Sweep.h"

#include "data/DatasetFactory.h"

#include "config/JsonFile.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mode {

namespace {
std::string valueText(const json& v) {
    return v.is_string() ? v.get<std::string>() : v.dump();
}

// The last part of a dotted path, for run names: "loss.alpha" -> "alpha".
std::string shortName(const std::string& path) {
    const auto dot = path.rfind('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
}
} // namespace

void setJsonPath(json& j, const std::string& path, const json& value) {
    json* node = &j;
    std::size_t start = 0;
    for (;;) {
        const auto dot = path.find('.', start);
        const std::string key =
            path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (key.empty()) throw ConfigError("grid field '" + path + "' has an empty part");
        if (!node->is_object())
            throw ConfigError("grid field '" + path + "': '" + key +
                              "' is inside a value, not a section");
        if (dot == std::string::npos) {
            (*node)[key] = value;
            return;
        }
        node = &(*node)[key];
        if (node->is_null()) *node = json::object();
        start = dot + 1;
    }
}

Shard Shard::parse(const std::string& text) {
    Shard s;
    const auto slash = text.find('/');
    try {
        if (slash == std::string::npos) throw std::invalid_argument("no slash");
        // Digits only: stoul reads "-2" as 2^64 - 2, and skips blanks.
        if (text.find_first_not_of("0123456789/") != std::string::npos)
            throw std::invalid_argument("not digits");
        std::size_t used = 0;
        s.index = std::stoul(text.substr(0, slash), &used);
        if (used != slash) throw std::invalid_argument("junk");
        s.count = std::stoul(text.substr(slash + 1), &used);
        if (used != text.size() - slash - 1) throw std::invalid_argument("junk");
    } catch (const std::exception&) {
        throw ConfigError("--shard '" + text +
                          "': write i/n, e.g. 0/4 for the first of four shards");
    }
    if (s.count < 1 || s.index >= s.count)
        throw ConfigError(
            "--shard '" + text +
            "': needs 0 <= i < n (shards are numbered from 0, like Slurm array tasks)");
    return s;
}

Sweep Sweep::fromFile(const std::string& path, const CheckProgress& checking) {
    const std::string text = readConfigText(path, "sweep file");
    const json j = parseJsonText(text, path);
    Sweep s = parsed(j, path, fs::path(path).parent_path().string());
    // The grid varies in the order the file lists its fields (json objects sort their keys).
    const auto ordered = nlohmann::ordered_json::parse(text);
    std::vector<std::string> order;
    for (auto it = ordered["grid"].begin(); it != ordered["grid"].end(); ++it)
        order.push_back(it.key());
    std::stable_sort(s.grid.begin(), s.grid.end(), [&](const auto& a, const auto& b) {
        return std::find(order.begin(), order.end(), a.first) <
               std::find(order.begin(), order.end(), b.first);
    });
    s.checking_ = checking;
    s.points(); // every point must be a valid experiment
    s.checking_ = {};
    return s;
}

Sweep Sweep::fromJson(const json& j, const std::string& source, const std::string& folder) {
    Sweep s = parsed(j, source, folder);
    s.points(); // every point must be a valid experiment
    return s;
}

Sweep Sweep::parsed(const json& j, const std::string& source, const std::string& folder) {
    if (!j.is_object())
        throw ConfigError(source + ": a sweep file is a JSON object with name, base and grid");
    for (auto it = j.begin(); it != j.end(); ++it)
        if (it.key() != "name" && it.key() != "base" && it.key() != "base_file" &&
            it.key() != "grid")
            throw ConfigError(source + ": unknown key '" + it.key() +
                              "' (known: name, base, base_file, grid)");
    Sweep s;
    s.name = j.value("name", fs::path(source).stem().string());
    const fs::path dir = fs::absolute(folder.empty() ? fs::path(".") : fs::path(folder));
    if (j.contains("base_file")) {
        const fs::path base = dir / j.at("base_file").get<std::string>();
        s.base = ExperimentConfig::fromFile(base.string()).toJson();
    }
    if (j.contains("base")) {
        if (!j.at("base").is_object())
            throw ConfigError(source + ": base must be an object (an experiment, or part of one)");
        s.base.merge_patch(j.at("base"));
    }
    if (!j.contains("grid") || !j.at("grid").is_object() || j.at("grid").empty())
        throw ConfigError(
            source +
            ": grid must be an object of field -> list of values, e.g. {\"loss.alpha\": [0, 0.1]}");
    for (auto it = j.at("grid").begin(); it != j.at("grid").end(); ++it) {
        if (!it->is_array() || it->empty())
            throw ConfigError(source + ": grid." + it.key() +
                              " must be a non-empty list of values");
        s.grid.push_back({it.key(), std::vector<json>(it->begin(), it->end())});
    }
    // A data path in the base is relative to the sweep file, as in experiment files.
    if (s.base.contains("data") && s.base["data"].contains("path")) {
        const std::string p = s.base["data"]["path"].get<std::string>();
        if (!p.empty() && fs::path(p).is_relative())
            s.base["data"]["path"] = (dir / p).lexically_normal().string();
    }
    return s;
}

std::string Sweep::toFileText() const {
    nlohmann::ordered_json j;
    j["name"] = name;
    j["base"] = base;
    nlohmann::ordered_json g = nlohmann::ordered_json::object();
    for (const auto& [field, values] : grid)
        g[field] = values;
    j["grid"] = g;
    return j.dump(2) + "\n";
}

std::size_t Sweep::size() const {
    std::size_t n = 1;
    for (const auto& g : grid)
        n *= g.second.size();
    return n;
}

std::string Sweep::fingerprint() const {
    std::string text = name + "\n" + base.dump();
    for (const auto& [field, values] : grid)
        text += "\n" + field + "=" + nlohmann::json(values).dump();
    return text;
}

const std::vector<SweepRun>& Sweep::points() const {
    std::string now = fingerprint();
    if (!checked_ || now != checkedFingerprint_) {
        checked_ = std::make_shared<const std::vector<SweepRun>>(computePoints());
        checkedFingerprint_ = std::move(now);
    }
    return *checked_;
}

std::vector<SweepRun> Sweep::computePoints() const {
    std::vector<SweepRun> points;
    const std::size_t n = size();
    points.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        if (checking_ && i % 50000 == 0) checking_(i, n);
        json j = base;
        SweepRun p;
        p.index = i;
        std::size_t rest = i;
        std::string label = name;
        // Mixed radix, the last field fastest.
        std::vector<std::size_t> digit(grid.size());
        for (std::size_t g = grid.size(); g-- > 0;) {
            digit[g] = rest % grid[g].second.size();
            rest /= grid[g].second.size();
        }
        for (std::size_t g = 0; g < grid.size(); ++g) {
            const json& v = grid[g].second[digit[g]];
            setJsonPath(j, grid[g].first, v);
            p.values.push_back({grid[g].first, valueText(v)});
            label += " " + shortName(grid[g].first) + "=" + valueText(v);
        }
        j["name"] = label;
        try {
            p.config = ExperimentConfig::fromJson(j, "sweep point " + std::to_string(i));
        } catch (const ConfigError& e) {
            throw ConfigError("sweep '" + name + "', point " + std::to_string(i) + " (" + label +
                              "): " + e.what());
        }
        auto issues = validate(p.config, true);
        // A built-in this machine lacks would fail every point at load: said once, before any.
        if (auto problem = builtinDatasetProblem(p.config.data); !problem.empty())
            issues.push_back({"data.dataset", problem});
        if (!issues.empty())
            throw ConfigError("sweep '" + name + "', point " + std::to_string(i) + " (" + label +
                              "): " + describe(issues));
        points.push_back(std::move(p));
    }
    return points;
}

} // namespace mode

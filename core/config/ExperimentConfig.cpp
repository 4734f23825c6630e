// SPDX-License-Identifier: GPL-3.0-or-later
#include "config/ExperimentConfig.h"

#include "config/JsonFile.h"
#include "config/Settings.h"
#include "util/Utf8.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <type_traits>

namespace mode {
namespace {

using json = nlohmann::json;

std::string jsonPointer(const std::string& key) {
    std::string p = "/" + key;
    for (auto& ch : p)
        if (ch == '.') ch = '/';
    return p;
}

// The keys directly under `prefix` ("" for the top level) that the settings table knows:
// settings and the sections that hold them.
const std::set<std::string>& knownKeysUnder(const std::string& prefix) {
    // The sections and their keys, worked out once from the table.
    static const auto sections = [] {
        std::map<std::string, std::set<std::string>> m;
        for (const auto& s : experimentSettings()) {
            // "data.text.min_freq": "" holds data, "data" holds text, "data.text" holds min_freq
            std::string section;
            std::size_t from = 0;
            for (std::size_t dot = s.key.find('.');; dot = s.key.find('.', from)) {
                const std::string part =
                    s.key.substr(from, dot == std::string::npos ? dot : dot - from);
                m[section].insert(part);
                if (dot == std::string::npos) break;
                section += (section.empty() ? "" : ".") + part;
                from = dot + 1;
            }
        }
        return m;
    }();
    static const std::set<std::string> none;
    const auto it = sections.find(prefix);
    return it == sections.end() ? none : it->second;
}

// Reads one object section, refusing keys the table does not know so that a typo is never
// silently ignored (a misspelt "alpha" would otherwise train the default).
void readSection(const json& j, const std::string& prefix, const std::string& source,
                 ExperimentConfig& c) {
    if (!j.is_object())
        throw ConfigError(source + ": '" + (prefix.empty() ? "the top level" : prefix) +
                          "' must be a JSON object");
    const auto& known = knownKeysUnder(prefix);
    for (auto it = j.begin(); it != j.end(); ++it) {
        const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (!known.count(it.key())) {
            std::string allowed;
            for (const auto& k : known)
                allowed += (allowed.empty() ? "" : ", ") + k;
            throw ConfigError(source + ": '" + key +
                              "' is not a known setting (known here: " + allowed + ")");
        }
        if (it->is_null()) // "epochs": null is a mistake more often than a wish for the default
            throw ConfigError(source + ": '" + key +
                              "' is null; give it a value, or leave the key out for the default");
        if (const Setting* s = findSetting(key))
            s->set(c, *it, source);
        else
            readSection(*it, key, source, c);
    }
}

} // namespace

json ExperimentConfig::toJson() const {
    // Each setting's place in the object, parsed once (a sweep writes a million of these).
    static const auto pointers = [] {
        std::vector<json::json_pointer> p;
        for (const auto& s : experimentSettings())
            p.emplace_back(jsonPointer(s.key));
        return p;
    }();
    json j = json::object();
    const auto& settings = experimentSettings();
    for (std::size_t i = 0; i < settings.size(); ++i)
        j[pointers[i]] = settings[i].get(*this);
    return j;
}

ExperimentConfig ExperimentConfig::fromJson(const json& j, const std::string& source) {
    ExperimentConfig c;
    readSection(j, "", source, c);
    return c;
}

ExperimentConfig ExperimentConfig::fromFile(const std::string& path) {
    const json j = readJsonFile(path, "experiment file");
    ExperimentConfig c = fromJson(j, path);
    // Relative data paths are relative to the experiment file, as users expect.
    if (!c.data.path.empty()) {
        std::filesystem::path p(c.data.path);
        if (p.is_relative())
            c.data.path =
                (std::filesystem::absolute(path).parent_path() / p).lexically_normal().string();
    }
    return c;
}

std::string ExperimentConfig::datasetLabel() const {
    if (!data.idxFiles.empty())
        return std::filesystem::path(data.idxFiles.front()).parent_path().filename().string();
    if (!data.path.empty()) return std::filesystem::path(data.path).filename().string();
    return data.dataset;
}

std::string dataPathProblem(const std::string& path, bool folderAllowed) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec && ec.value() == ELOOP) return path + " is a loop of symbolic links";
    if (ec && ec.value() == EACCES)
        return path + " cannot be reached (permission denied on a folder of its path)";
    if (!std::filesystem::exists(st)) {
        const auto resolved = std::filesystem::absolute(path, ec).lexically_normal().string();
        return path + " does not exist" +
               (resolved != path ? " (looked for " + resolved + ")" : "");
    }
    if (std::filesystem::is_regular_file(st) ||
        (folderAllowed && std::filesystem::is_directory(st)))
        return {};
    if (std::filesystem::is_directory(st)) return path + " is a folder; name a data file";
    return path + " is not a regular file (a device, pipe or socket)";
}

std::vector<ConfigIssue> validate(const ExperimentConfig& c, bool checkFiles) {
    std::vector<ConfigIssue> out;
    auto bad = [&](const char* f, std::string m) { out.push_back({f, std::move(m)}); };
    const auto& d = c.data;

    // Each setting against its own declaration: ranges and choices. The dataset's name is only
    // checked where it is used (no path, no IDX files) or where it is given beside a path.
    const bool datasetUsed = d.idxFiles.empty() && (d.path.empty() || !d.dataset.empty());
    for (const auto& s : experimentSettings()) {
        if (s.key == "data.dataset" && !datasetUsed) continue;
        if (s.applies == kRegimes && !(d.path.empty() && d.idxFiles.empty())) continue;
        if (auto problem = settingProblem(s, c))
            out.push_back({s.key, s.key == "data.dataset" && !d.path.empty()
                                      ? *problem + "; with data.path set, leave data.dataset empty"
                                      : *problem});
    }

    // What one setting cannot say alone: files, and settings that depend on each other.
    if (!d.idxFiles.empty()) {
        if (d.idxFiles.size() != 4)
            bad("data.idx_files",
                "names 4 files: train images, train labels, test images, test labels");
        else if (checkFiles)
            for (const auto& f : d.idxFiles)
                if (auto problem = dataPathProblem(f, false); !problem.empty())
                    bad("data.idx_files", problem);
    }
    if (d.idxFiles.empty() && !d.path.empty() && checkFiles) {
        std::error_code ec;
        if (auto problem = dataPathProblem(d.path, true); !problem.empty())
            bad("data.path", problem);
        else if (std::filesystem::is_directory(d.path, ec) && d.format == "csv")
            bad("data.path", "'" + d.path + "' is a folder, not a CSV file");
        else if (!std::filesystem::is_directory(d.path, ec) && d.format == "idx")
            bad("data.path",
                "IDX data is a folder holding train-images-idx3-ubyte and the other three files");
    }
    if (d.valFraction + d.testFraction >= 0.9)
        bad("data.test_fraction", "validation + test must leave at least 10% for training");

    const auto& m = c.model;
    if (m.kind != "moe" && c.loss.alpha > 0)
        bad("loss.alpha",
            (m.kind == "dense" ? std::string("the dense baseline has no experts to distil among")
                               : std::string("the ensemble baseline's experts are trained "
                                             "independently, without distillation")) +
                ": set alpha to 0 (--alpha 0), or model.kind to moe for MoDE");
    if (m.kind == "moe" && m.gate == "topk" && m.topK > m.experts)
        bad("model.top_k",
            "k must be between 1 and the number of experts (" + std::to_string(m.experts) + ")");
    if (m.backbone == "transformer" && m.backboneDim % kTransformerHeads != 0)
        bad("model.backbone_dim", "the transformer's width must be a multiple of its " +
                                      std::to_string(kTransformerHeads) + " attention heads");
    if (c.loss.distill == "kl" && d.task == "regression")
        bad("loss.distill", "kl compares class distributions; a regression target has none (use "
                            "mse-mean or mse-pairwise)");
    if (!isValidUtf8(c.name)) bad("name", "is not valid UTF-8");
    return out;
}

std::string describe(const std::vector<ConfigIssue>& issues) {
    std::ostringstream s;
    for (std::size_t i = 0; i < issues.size(); ++i)
        s << (i ? "\n" : "") << issues[i].field << ": " << issues[i].message;
    return s.str();
}

void requireValid(const ExperimentConfig& c) {
    auto issues = validate(c);
    if (!issues.empty()) throw ConfigError("invalid experiment:\n" + describe(issues));
}

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A sweep: a base experiment and a grid of values for any config fields (dotted paths such as
// "loss.alpha" or "train.seed"), expanded into one experiment per grid point, in a fixed order.
//
//   {
//     "name": "regimes-alpha",
//     "base": { "train": { "epochs": 20 } },          // or "base_file": "regimes.json"
//     "grid": { "loss.alpha": [0, 0.01, 0.1, 1], "train.seed": [1, 2, 3] }
//   }

#include "config/ExperimentConfig.h"

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mode {

struct SweepRun {
    std::size_t index = 0;                                   // in the full grid
    ExperimentConfig config;                                 // named "<sweep> key=value ..."
    std::vector<std::pair<std::string, std::string>> values; // field -> value, in grid order
};

struct Sweep {
    std::string name;
    nlohmann::json base = nlohmann::json::object();
    // Fields in the order of the file (fromFile) or of their names (fromJson).
    std::vector<std::pair<std::string, std::vector<nlohmann::json>>> grid;

    // Parses and checks a sweep file; relative paths (base_file, data.path) are resolved against
    // its folder. Throws ConfigError with the file and what is wrong.
    // `checking` hears how many points have been checked, of how many, every 50,000 (from 0).
    using CheckProgress = std::function<void(std::size_t done, std::size_t total)>;
    static Sweep fromFile(const std::string& path, const CheckProgress& checking = {});
    static Sweep fromJson(const nlohmann::json& j, const std::string& source,
                          const std::string& folder = ".");

    std::size_t size() const;
    // The sweep as a file (name, base, the grid in its order): what fromFile reads back, and
    // what the workbench writes for mode-sweep.
    std::string toFileText() const;
    // Every grid point (the first field varies slowest), each config validated. Worked out once
    // while name, base and grid stay as they are (a million points take seconds).
    const std::vector<SweepRun>& points() const;
    std::vector<SweepRun> expand() const { return points(); }

  private:
    // The file's content without its points checked (fromFile orders the grid first).
    static Sweep parsed(const nlohmann::json& j, const std::string& source,
                        const std::string& folder);
    std::vector<SweepRun> computePoints() const;
    CheckProgress checking_;
    std::string fingerprint() const; // name, base and grid as text: what the points follow
    mutable std::shared_ptr<const std::vector<SweepRun>> checked_;
    mutable std::string checkedFingerprint_;
};

// Sets a dotted path in a JSON object ("loss.alpha" -> j["loss"]["alpha"]).
void setJsonPath(nlohmann::json& j, const std::string& path, const nlohmann::json& value);

// "i/n" with 0 <= i < n: the points whose index % n == i. Throws ConfigError for a bad text.
struct Shard {
    std::size_t index = 0, count = 1;
    static Shard parse(const std::string& text);
    bool contains(std::size_t pointIndex) const { return pointIndex % count == index; }
};

} // namespace mode

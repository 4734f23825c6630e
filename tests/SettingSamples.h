// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A valid value other than the default for each setting, so that a test can see a value travel
// from a flag or a form field into the experiment (a default would pass unnoticed).

#include "config/Settings.h"

#include <nlohmann/json.hpp>

#include <string>

namespace mode::test {

inline nlohmann::json sampleValue(const Setting& s) {
    using json = nlohmann::json;
    const json d = s.defaultValue();
    switch (s.kind) {
    case SettingKind::Integer: { // min + 3 keeps top_k (4) below experts (5)
        double v = (s.min ? *s.min : 0) + 3;
        if (json(static_cast<long long>(v)) == d) v += 1;
        if (s.max && v > *s.max) v = *s.max;
        return static_cast<long long>(v);
    }
    case SettingKind::Real: {
        const double lo = s.min ? *s.min : 0;
        double v = s.max ? lo + (*s.max - lo) * 0.25 : lo + 0.25;
        if (json(v) == d) v += 0.01;
        return v;
    }
    case SettingKind::Switch:
        return !d.get<bool>();
    case SettingKind::Choice:
        for (const auto& c : s.choices)
            if (c.name != d.get<std::string>() && c.name.find(":N") == std::string::npos)
                return c.name;
        return d;
    case SettingKind::IntegerList:
        return json::array({5, 3});
    case SettingKind::TextList:
        return json::array({"a", "b"});
    default:
        return "sample-" + s.key.substr(s.key.rfind('.') + 1);
    }
}

// How a value is typed on the command line or in a form field.
inline std::string sampleText(const nlohmann::json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (!v.is_array()) return v.dump();
    std::string out;
    for (const auto& x : v)
        out += (out.empty() ? "" : ",") + (x.is_string() ? x.get<std::string>() : x.dump());
    return out;
}

// The settings a sample cannot stand for alone: the data source (a file, a folder, a built-in
// that may be missing here).
inline bool isDataSource(const Setting& s) {
    return s.key == "data.path" || s.key == "data.dataset" || s.key == "data.idx_files";
}

} // namespace mode::test

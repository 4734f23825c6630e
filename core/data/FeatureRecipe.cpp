// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/FeatureRecipe.h"

#include "data/CsvLoader.h"
#include "data/CsvReader.h"

#include "util/Utf8.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

namespace mode {

using json = nlohmann::json;

FeatureRecipe FeatureRecipe::of(const Dataset& d, ImputeKind impute) {
    FeatureRecipe r;
    r.inputCount = d.cols;
    r.featureNames = d.featureNames;
    const auto n = static_cast<std::size_t>(d.cols);
    r.mean = d.featureMean.size() == n ? d.featureMean : std::vector<double>(n, 0.0);
    r.scale = d.featureScale.size() == n ? d.featureScale : std::vector<double>(n, 1.0);
    r.fill = d.featureFill.size() == n
                 ? d.featureFill
                 : std::vector<float>(n, std::numeric_limits<float>::quiet_NaN());
    r.categoricals = d.categoricals;
    r.imputes = impute == ImputeKind::Mean;
    r.target = d.targetName;
    r.classification = d.task == TaskType::Classification;
    r.classNames = d.classNames;
    r.imageShape = d.imageShape;
    if (d.isText()) {
        r.vocabulary = d.vocabulary;
        r.textLength = d.cols;
    }
    return r;
}

json FeatureRecipe::toJson() const {
    json groups = json::array();
    for (const auto& g : categoricals)
        groups.push_back(
            {{"column", g.column}, {"first", g.first}, {"levels", g.levels}, {"fill", g.fill}});
    json fills = json::array();
    for (float f : fill) // NaN is not JSON: none
        fills.push_back(std::isnan(f) ? json(nullptr) : json(f));
    return {{"inputs", inputCount},
            {"feature_names", featureNames},
            {"mean", mean},
            {"scale", scale},
            {"fill", fills},
            {"categoricals", groups},
            {"imputes", imputes},
            {"target", target},
            {"classification", classification},
            {"class_names", classNames},
            {"image_shape", imageShape},
            {"vocabulary", vocabulary},
            {"text_length", textLength}};
}

FeatureRecipe FeatureRecipe::fromJson(const json& j) {
    FeatureRecipe r;
    try {
        r.inputCount = j.at("inputs").get<std::int64_t>();
        r.featureNames = j.at("feature_names").get<std::vector<std::string>>();
        r.mean = j.at("mean").get<std::vector<double>>();
        r.scale = j.at("scale").get<std::vector<double>>();
        for (const auto& f : j.at("fill"))
            r.fill.push_back(f.is_null() ? std::numeric_limits<float>::quiet_NaN()
                                         : f.get<float>());
        for (const auto& g : j.at("categoricals"))
            r.categoricals.push_back(
                {g.at("column").get<std::string>(), g.at("first").get<std::int64_t>(),
                 g.at("levels").get<std::vector<std::string>>(), g.at("fill").get<std::int64_t>()});
        r.imputes = j.at("imputes").get<bool>();
        r.target = j.at("target").get<std::string>();
        r.classification = j.at("classification").get<bool>();
        r.classNames = j.at("class_names").get<std::vector<std::string>>();
        r.imageShape = j.at("image_shape").get<std::vector<std::int64_t>>();
        r.vocabulary = j.at("vocabulary").get<std::vector<std::string>>();
        r.textLength = j.at("text_length").get<std::int64_t>();
    } catch (const json::exception& e) {
        throw DataError(std::string("the run's stored preprocessing cannot be read: ") + e.what());
    }
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(r.inputCount, 0));
    if (n == 0 || (!r.featureNames.empty() && r.featureNames.size() != n) || r.mean.size() != n ||
        r.scale.size() != n || r.fill.size() != n)
        throw DataError("the run's stored preprocessing does not hold together (" +
                        std::to_string(n) + " inputs, " + std::to_string(r.mean.size()) +
                        " means)");
    // A standardisation that cannot be applied (a scale of 0, a value that is not a number) would
    // turn every row into NaN, which the model predicts as the first class.
    for (std::size_t i = 0; i < n; ++i)
        if (!std::isfinite(r.mean[i]) || !std::isfinite(r.scale[i]) || !(r.scale[i] > 0))
            throw DataError(
                "the run's stored preprocessing is damaged: input " +
                (r.featureNames.size() == n ? "'" + r.featureNames[i] + "'" : std::to_string(i)) +
                " has mean " + std::to_string(r.mean[i]) + " and scale " +
                std::to_string(r.scale[i]) + " (a scale must be a positive number)");
    for (const auto& g : r.categoricals)
        if (g.first < 0 ||
            g.first + static_cast<std::int64_t>(g.levels.size()) > static_cast<std::int64_t>(n) ||
            g.fill < -1 || g.fill >= static_cast<std::int64_t>(g.levels.size()))
            throw DataError("the run's stored preprocessing names inputs it does not have");
    return r;
}

FeatureRecipe FeatureRecipe::fromJsonText(const std::string& text) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw DataError(std::string("the run's stored preprocessing cannot be read: ") + e.what());
    }
    return fromJson(j);
}

namespace {

[[noreturn]] void fail(const std::string& source, std::int64_t line, const std::string& what) {
    throw DataError(source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
}

// Where each of the recipe's file columns is in this file's header.
struct ColumnMap {
    std::vector<std::size_t> numeric;     // per input that is not one-hot: its file column
    std::vector<bool> isOneHot;           // per input
    std::vector<std::size_t> categorical; // per group: its file column
    std::optional<std::size_t> target;
    std::vector<std::string> ignored;
};

ColumnMap mapColumns(const std::vector<std::string>& header, const FeatureRecipe& r,
                     const std::string& source, std::int64_t headerLine) {
    std::map<std::string, std::size_t> at; // (readCsvHeader refused repeated names)
    for (std::size_t c = 0; c < header.size(); ++c)
        at.emplace(header[c], c);
    auto column = [&](const std::string& name) {
        const auto it = at.find(name);
        if (it == at.end()) {
            std::string all;
            for (const auto& h : header)
                all += (all.empty() ? "" : ", ") + h;
            fail(source, headerLine,
                 "the column '" + name +
                     "' that the run was trained on is missing (the file has: " + all + ")");
        }
        return it->second;
    };
    ColumnMap m;
    m.isOneHot.assign(r.featureNames.size(), false);
    std::set<std::size_t> used;
    for (const auto& g : r.categoricals) {
        for (std::size_t k = 0; k < g.levels.size(); ++k)
            m.isOneHot[static_cast<std::size_t>(g.first) + k] = true;
        m.categorical.push_back(column(g.column));
        used.insert(m.categorical.back());
    }
    for (std::size_t i = 0; i < r.featureNames.size(); ++i)
        if (!m.isOneHot[i]) {
            m.numeric.push_back(column(r.featureNames[i]));
            used.insert(m.numeric.back());
        }
    if (const auto t = at.find(r.target); !r.target.empty() && t != at.end()) {
        m.target = t->second;
        used.insert(t->second);
    }
    for (std::size_t c = 0; c < header.size(); ++c)
        if (!used.count(c)) m.ignored.push_back(header[c]);
    return m;
}

// A missing cell's value in input i, as training filled it; refused where the run refused them.
float filled(const FeatureRecipe& r, std::size_t i, const std::string& column,
             const std::string& source, std::int64_t line) {
    if (!r.imputes)
        fail(source, line,
             "column '" + column +
                 "' is missing a value; the run refused missing cells (impute none), so its model "
                 "has no value for it");
    // Training had no missing cell here: the mean of its training values is the standardisation's.
    return std::isnan(r.fill[i]) ? static_cast<float>(r.mean[i]) : r.fill[i];
}

struct RowWriter {
    const FeatureRecipe& r;
    const ColumnMap& m;
    const std::string& source;
    RecipeRows& out;
    std::vector<std::map<std::string, std::int64_t>> levelIndex; // per group

    void add(const std::vector<std::string_view>& f, std::int64_t line);
    void target(std::string_view v, std::int64_t line);
};

void RowWriter::add(const std::vector<std::string_view>& f, std::int64_t line) {
    std::vector<float> row(r.featureNames.size(), 0.0f);
    std::size_t n = 0;
    for (std::size_t i = 0; i < r.featureNames.size(); ++i) {
        if (m.isOneHot[i]) continue;
        const std::string_view v = f[m.numeric[n++]];
        if (isMissingCsvValue(v)) {
            row[i] = filled(r, i, r.featureNames[i], source, line);
        } else if (const auto x = parseCsvNumber(v)) {
            if (std::abs(*x) > std::numeric_limits<float>::max())
                fail(source, line,
                     "column '" + r.featureNames[i] + "': " + std::string(v.substr(0, 40)) +
                         " is too large for the 32-bit model (at most about 3.4e38 in magnitude)");
            row[i] = static_cast<float>(*x);
        } else {
            fail(source, line,
                 "column '" + r.featureNames[i] + "': '" + std::string(v.substr(0, 40)) +
                     "' is not a number (the run read this column as numbers)");
        }
    }
    for (std::size_t g = 0; g < r.categoricals.size(); ++g) {
        const auto& group = r.categoricals[g];
        const std::string_view v = f[m.categorical[g]];
        std::int64_t level = -1;
        if (isMissingCsvValue(v)) {
            if (!r.imputes)
                fail(source, line,
                     "column '" + group.column +
                         "' is missing a value; the run refused missing cells (impute none)");
            level = group.fill;
        } else if (const auto it = levelIndex[g].find(std::string(v)); it != levelIndex[g].end()) {
            level = it->second;
        } else {
            ++out.unseen[group.column]; // all zeros in its group, as in validation and test
        }
        if (level >= 0) row[static_cast<std::size_t>(group.first + level)] = 1.0f;
    }
    for (std::size_t i = 0; i < row.size(); ++i) {
        const float x = standardised(row[i], r.mean[i], r.scale[i]);
        if (!std::isfinite(x))
            fail(source, line,
                 "column '" + r.featureNames[i] +
                     "': the value is too large for the 32-bit model "
                     "once standardised as in training");
        out.data.features.push_back(x);
    }
    if (m.target) target(f[*m.target], line);
}

void RowWriter::target(std::string_view v, std::int64_t line) {
    if (r.classification) {
        const auto it = std::find(r.classNames.begin(), r.classNames.end(), v);
        if (it == r.classNames.end())
            fail(source, line,
                 "the target '" + r.target + "' has '" + std::string(v.substr(0, 40)) +
                     "', a class the run does not know (it knows " +
                     std::to_string(r.classNames.size()) + " classes)");
        out.data.labels.push_back(it - r.classNames.begin());
    } else {
        const auto x = parseCsvNumber(v);
        if (!x) fail(source, line, "the target '" + r.target + "' is not a number");
        if (std::abs(*x) > std::numeric_limits<float>::max())
            fail(source, line,
                 "the target '" + r.target +
                     "' is too large for the 32-bit model (at most about 3.4e38 in magnitude)");
        out.data.values.push_back(static_cast<float>(*x));
    }
}

} // namespace

RecipeRows applyRecipeToCsv(const std::string& path, const FeatureRecipe& r,
                            const LoadProgress& progress) {
    if (r.isText() || !r.imageShape.empty())
        throw DataError(path + ": the run was trained on " +
                        (r.isText() ? std::string("text") : std::string("images")) +
                        ", not a CSV table");
    checkDataFile(path, kCsvMemoryPerByte);
    CsvReader reader(path, ',', progress);
    std::int64_t headerLine = 0;
    const std::vector<std::string> header = readCsvHeader(reader, &headerLine);
    const ColumnMap m = mapColumns(header, r, path, headerLine);
    RecipeRows out;
    out.ignored = m.ignored;
    out.hasTarget = m.target.has_value();
    RowWriter writer{r, m, path, out, {}};
    for (const auto& g : r.categoricals) {
        auto& index = writer.levelIndex.emplace_back();
        for (std::size_t k = 0; k < g.levels.size(); ++k)
            index.emplace(g.levels[k], static_cast<std::int64_t>(k));
    }
    while (reader.next()) {
        if (reader.fields().size() != header.size())
            fail(path, reader.line(),
                 "ragged row: " + std::to_string(reader.fields().size()) +
                     " fields, but the header has " + std::to_string(header.size()));
        writer.add(reader.fields(), reader.line());
        ++out.data.rows;
    }
    if (out.data.rows == 0) fail(path, 0, "the file has a header but no data rows");
    Dataset& d = out.data;
    d.name = printable(std::filesystem::path(path).filename().string());
    d.source = path;
    d.cols = static_cast<std::int64_t>(r.featureNames.size());
    d.featureNames = r.featureNames;
    d.task = r.classification ? TaskType::Classification : TaskType::Regression;
    d.classNames = r.classNames;
    return out;
}

} // namespace mode

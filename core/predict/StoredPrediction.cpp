// SPDX-License-Identifier: GPL-3.0-or-later
#include "predict/StoredPrediction.h"

#include "config/Choices.h"
#include "data/DatasetFactory.h"
#include "data/TextLoader.h"
#include "train/EventsJson.h"
#include "util/Csv.h"
#include "util/Format.h"
#include "util/SafeOutput.h"
#include "util/Utf8.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace mode {

using json = nlohmann::json;

PredictionInput runSplitRows(const ExperimentConfig& c, const RunStart& start,
                             const std::string& split, const LoadProgress& progress) {
    Dataset d = loadDataset(c.data, progress);
    if (!start.datasetFingerprint.empty() && d.fingerprint() != start.datasetFingerprint)
        throw DataError(c.datasetLabel() + ": the data changed since the run trained on it " +
                        "(fingerprint " + d.fingerprint() + ", stored " + start.datasetFingerprint +
                        "); its split cannot be taken again");
    const Split parts = prepareForTraining(d, c);
    const auto& rows = split == "train" ? parts.train : split == "val" ? parts.val : parts.test;
    PredictionInput in;
    in.recipe = FeatureRecipe::of(d, parseChoice<ImputeKind>(c.data.impute, "data.impute"));
    in.hasTarget = true;
    in.what = "its " + split + " split (" + std::to_string(rows.size()) + " rows)";
    Dataset& s = in.data;
    s.name = d.name;
    s.task = d.task;
    s.classNames = d.classNames;
    s.cols = d.cols;
    s.rows = static_cast<std::int64_t>(rows.size());
    for (auto r : rows) {
        s.features.insert(s.features.end(), d.features.begin() + r * d.cols,
                          d.features.begin() + (r + 1) * d.cols);
        if (d.task == TaskType::Classification)
            s.labels.push_back(d.labels[static_cast<std::size_t>(r)]);
        else
            s.values.push_back(d.values[static_cast<std::size_t>(r)]);
    }
    return in;
}

PredictionInput runSplitRows(const std::string& storePath, std::int64_t run,
                             const std::string& split, const LoadProgress& progress) {
    const RunRecord r = RunStore(storePath, RunStore::Mode::ReadOnly).run(run);
    return runSplitRows(r.config(), r.start, split, progress);
}

SampleRouting sampleRoutingOf(const StoredPrediction& s) {
    const Predictions& p = s.predictions;
    const Dataset& d = s.input.data;
    SampleRouting out;
    out.classification = p.classification;
    out.experts = p.experts;
    for (std::int64_t r = 0; r < p.rows; ++r) {
        const auto i = static_cast<std::size_t>(r);
        const int top = p.topExpert(r);
        out.row.push_back(r);
        out.label.push_back(!d.labels.empty()   ? static_cast<float>(d.labels[i])
                            : !d.values.empty() ? d.values[i]
                                                : std::numeric_limits<float>::quiet_NaN());
        out.topExpert.push_back(static_cast<std::uint8_t>(top));
        out.topWeight.push_back(p.gate[i * static_cast<std::size_t>(p.experts) + top]);
        out.prediction.push_back(p.classification ? static_cast<float>(p.predictedClass(r))
                                                  : p.output[i]);
        out.expertPrediction.push_back(
            p.classification ? static_cast<float>(p.expertClass(r, top))
                             : p.expertOutput[i * static_cast<std::size_t>(p.experts) + top]);
    }
    return out;
}

namespace {

// Labels of a loaded file renumbered by the run's class names (a class it does not know: refused).
void relabel(Dataset& d, const FeatureRecipe& r) {
    for (auto& l : d.labels) {
        const std::string& name = d.classNames[static_cast<std::size_t>(l)];
        const auto it = std::find(r.classNames.begin(), r.classNames.end(), name);
        if (it == r.classNames.end())
            throw DataError(d.source + ": the class '" + printable(name) +
                            "' is not one the run knows");
        l = it - r.classNames.begin();
    }
    d.classNames = r.classNames;
}

// A new file, prepared with the run's stored preprocessing.
PredictionInput newFile(const std::string& path, const FeatureRecipe& recipe,
                        const LoadProgress& progress) {
    PredictionInput in;
    in.recipe = recipe;
    in.what = path;
    if (recipe.isText()) {
        in.data = loadTsvFile(path, progress);
        encodeTextWith(in.data, recipe.vocabulary, recipe.textLength);
        relabel(in.data, recipe);
        in.hasTarget = true;
    } else if (!recipe.imageShape.empty()) {
        DataConfig c;
        c.path = path;
        c.format = "idx";
        in.data = loadDataset(c, progress);
        for (std::int64_t i = 0; i < in.data.rows * in.data.cols; ++i) {
            auto& x = in.data.features[static_cast<std::size_t>(i)];
            const auto c = static_cast<std::size_t>(i % in.data.cols);
            x = standardised(x, recipe.mean[c], recipe.scale[c]);
        }
        relabel(in.data, recipe);
        in.hasTarget = true;
    } else {
        RecipeRows rows = applyRecipeToCsv(path, recipe, progress);
        in.data = std::move(rows.data);
        in.hasTarget = rows.hasTarget;
        in.ignored = std::move(rows.ignored);
        in.unseen = std::move(rows.unseen);
    }
    return in;
}

} // namespace

std::vector<std::string> predictionHeader(const Predictions& p, const FeatureRecipe& r,
                                          bool target) {
    std::vector<std::string> h{"row", "prediction"};
    if (target) h.push_back("target");
    if (p.classification)
        for (const auto& c : r.classNames)
            h.push_back("p_" + c);
    if (p.gated) h.push_back("top_expert"); // a baseline has no gate to route by
    for (int e = 0; e < p.experts; ++e)
        h.push_back("gate_" + std::to_string(e));
    for (int e = 0; e < p.experts; ++e)
        h.push_back("expert_" + std::to_string(e) + "_prediction");
    return h;
}

// One row's fields, in header()'s order.
std::vector<std::string> predictionFields(const Predictions& p, const PredictionInput& in,
                                          std::int64_t r) {
    const auto& names = in.recipe.classNames;
    auto value = [&](float v) { return formatShortest(v); };
    std::vector<std::string> f{std::to_string(r + 1)};
    f.push_back(p.classification ? names[static_cast<std::size_t>(p.predictedClass(r))]
                                 : value(p.output[static_cast<std::size_t>(r)]));
    if (in.hasTarget)
        f.push_back(p.classification ? names[static_cast<std::size_t>(in.data.labels[r])]
                                     : value(in.data.values[static_cast<std::size_t>(r)]));
    if (p.classification)
        for (int k = 0; k < p.outputs; ++k)
            f.push_back(value(p.output[static_cast<std::size_t>(r * p.outputs + k)]));
    if (p.gated) f.push_back(std::to_string(p.topExpert(r)));
    for (int e = 0; e < p.experts; ++e)
        f.push_back(value(p.gate[static_cast<std::size_t>(r * p.experts + e)]));
    for (int e = 0; e < p.experts; ++e)
        f.push_back(p.classification
                        ? names[static_cast<std::size_t>(p.expertClass(r, e))]
                        : value(p.expertOutput[static_cast<std::size_t>(r * p.experts + e)]));
    return f;
}

void writePredictionsCsv(std::ostream& out, const StoredPrediction& s) {
    writeCsvRow(out, predictionHeader(s.predictions, s.input.recipe, s.input.hasTarget));
    for (std::int64_t r = 0; r < s.predictions.rows && out; ++r)
        writeCsvRow(out, predictionFields(s.predictions, s.input, r));
}

std::string predictionsCsv(const StoredPrediction& s) {
    std::ostringstream out;
    writePredictionsCsv(out, s);
    return out.str();
}

// One object, its rows written one line each as they are made: the text of a million rows is
// never held whole (as a json value it took over 1 GB for 300,000 rows).
void writePredictionsJson(std::ostream& out, const StoredPrediction& s) {
    const Predictions& p = s.predictions;
    const PredictionInput& in = s.input;
    const auto h = predictionHeader(p, in.recipe, in.hasTarget);
    const auto dump = [](const json& j) {
        return j.dump(-1, ' ', false, json::error_handler_t::replace);
    };
    out << "{\n \"run_id\": " << s.record.id << ",\n \"epoch\": " << s.epoch << ",\n \"rows\": [";
    for (std::int64_t r = 0; r < p.rows && out; ++r) {
        const auto f = predictionFields(p, in, r);
        json row = json::object();
        for (std::size_t k = 0; k < h.size(); ++k)
            row[h[k]] = f[k];
        out << (r == 0 ? "\n  " : ",\n  ") << dump(row);
    }
    out << "\n ],\n \"ignored_columns\": " << dump(in.ignored)
        << ",\n \"unseen_categories\": " << dump(in.unseen);
    if (s.score)
        out << ",\n \"score\": "
            << dump({{"accuracy", s.score->accuracy},
                     {"loss", s.score->loss},
                     {"experts", expertsJson(s.score->experts)}});
    out << "\n}\n";
}

Checkpoint storedModel(const RunStore& store, std::int64_t run, int epoch) {
    // The last: the checkpoint, read in one statement (a run still training replaces it).
    auto m = epoch > 0 ? store.model(run, epoch) : store.checkpoint(run);
    if (m) return std::move(*m);
    const std::vector<int> kept = store.modelEpochs(run);
    if (kept.empty())
        throw DataError("run " + std::to_string(run) + " has no model (no epoch of it ended)");
    std::vector<std::string> names;
    for (const int e : kept)
        names.push_back(std::to_string(e));
    throw DataError("run " + std::to_string(run) + " keeps the model" +
                    (kept.size() == 1 ? " of epoch " : "s of epochs ") + joinOr(names, "and") +
                    ", not epoch " + std::to_string(epoch) +
                    " (mode-train --keep-models every keeps every epoch's)");
}

StoredPrediction predictStoredRun(const std::string& storePath, std::int64_t run,
                                  const PredictionRequest& request, const LoadProgress& progress) {
    StoredPrediction out;
    const auto begun = std::chrono::steady_clock::now();
    Checkpoint checkpoint;
    {
        const RunStore store(storePath, RunStore::Mode::ReadOnly);
        out.record = store.run(run);
        checkpoint = storedModel(store, run, request.epoch);
    }
    out.epoch = checkpoint.epoch;
    const ExperimentConfig config = out.record.config();
    if (!request.split.empty()) {
        out.input = runSplitRows(config, out.record.start, request.split, progress);
    } else {
        if (out.record.start.preprocessing.empty())
            throw DataError("run " + std::to_string(run) +
                            " was stored without its preprocessing (an older version): predict "
                            "on its own data with --split, or train it again");
        out.input = newFile(request.data,
                            FeatureRecipe::fromJsonText(out.record.start.preprocessing), progress);
    }
    const Predictor predictor(config, out.input.recipe, checkpoint);
    out.readSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begun).count();
    const auto predicting = std::chrono::steady_clock::now();
    out.predictions = predictor.predict(out.input.data, &out.score);
    out.predictSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - predicting).count();
    return out;
}

std::pair<std::string, int> exportStoredModel(const std::string& storePath, std::int64_t run,
                                              const std::string& path, int epoch) {
    // The sidecar is the model's path with .json: a model named *.json would be replaced by it.
    const std::string sidecar = std::filesystem::path(path).replace_extension(".json").string();
    if (std::filesystem::path(path).extension() == ".json")
        throw OutputError("--out " + path + " would be replaced by the model's sidecar (" +
                          sidecar + ", the model's path with .json): name the model .pt");
    // Neither file may be the store (through links too), checked before anything is written.
    refuseKeptTarget(path, {{storePath, "the run store"}});
    refuseKeptTarget(sidecar, {{storePath, "the run store"}}, "the sidecar");
    const RunStore store(storePath, RunStore::Mode::ReadOnly);
    const RunRecord r = store.run(run);
    const auto checkpoint = storedModel(store, run, epoch);
    if (r.start.preprocessing.empty())
        throw DataError("run " + std::to_string(run) +
                        " was stored without its preprocessing (an older version): train it again");
    const Predictor model(r.config(), FeatureRecipe::fromJsonText(r.start.preprocessing),
                          checkpoint);
    nlohmann::json about = model.sidecar();
    about["run_id"] = run;
    about["epoch"] = checkpoint.epoch;
    model.exportTorchScript(path);
    writeFileSafely(sidecar, about.dump(2) + "\n");
    return {sidecar, checkpoint.epoch};
}

} // namespace mode

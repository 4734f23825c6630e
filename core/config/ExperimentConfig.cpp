#include "config/ExperimentConfig.h"

#include "config/JsonFile.h"
#include "util/Utf8.h"

#include "data/DatasetFactory.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <cerrno>
#include <fstream>
#include <cmath>
#include <limits>
#include <type_traits>
#include <set>
#include <sstream>

namespace mode {
namespace {

using json = nlohmann::json;

// Reads one object section, rejecting keys it does not know so that a typo is never silently
// ignored (a misspelt "alpha" would otherwise train the default).
class Section {
public:
    Section(const json& j, std::string path, std::string source)
        : j_(j), path_(std::move(path)), source_(std::move(source)) {
        if (!j_.is_object())
            fail(path_.empty() ? "the top level" : path_, "must be a JSON object");
    }

    template <typename T> void get(const char* key, T& out) {
        known_.insert(key);
        auto it = j_.find(key);
        if (it == j_.end() || it->is_null()) return;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
            out = whole<T>(*it, full(key));
        } else if constexpr (std::is_same_v<T, std::vector<int>>) {
            if (!it->is_array()) fail(full(key), std::string("has the wrong type (") + it->type_name() + ")");
            out.clear();
            for (std::size_t i = 0; i < it->size(); ++i) out.push_back(whole<int>((*it)[i], full(key) + "[" + std::to_string(i) + "]"));
        } else {
            try {
                out = it->template get<T>();
            } catch (const json::exception&) {
                fail(full(key), std::string("has the wrong type (") + it->type_name() + ")");
            }
        }
    }

    Section sub(const char* key) {
        known_.insert(key);
        auto it = j_.find(key);
        static const json empty = json::object();
        return Section(it == j_.end() || it->is_null() ? empty : *it, full(key), source_);
    }

    void finish() const {
        for (auto it = j_.begin(); it != j_.end(); ++it) {
            if (!known_.count(it.key())) {
                std::string allowed;
                for (const auto& k : known_) allowed += (allowed.empty() ? "" : ", ") + k;
                fail(full(it.key().c_str()), "is not a known setting (known here: " + allowed + ")");
            }
        }
    }

private:
    // A whole number that fits T. nlohmann's get<int>() would truncate 2.5 to 2, wrap
    // 4294967300 to 4 and is undefined for 1e300 (found by fuzzing tests/fuzz/fuzz_config).
    template <typename T> T whole(const json& v, const std::string& field) const {
        if (!v.is_number()) fail(field, std::string("has the wrong type (") + v.type_name() + ", expected a whole number)");
        using Limits = std::numeric_limits<T>;
        if (v.is_number_float()) {
            const double d = v.get<double>();
            if (!std::isfinite(d) || d != std::floor(d)) fail(field, "must be a whole number (got " + v.dump() + ")");
            if (d < static_cast<double>(Limits::min()) || d >= std::ldexp(1.0, Limits::digits))
                fail(field, "is out of range (got " + v.dump() + ")");
            return static_cast<T>(d);
        }
        if (v.is_number_unsigned()) {
            const auto u = v.get<std::uint64_t>();
            if (u > static_cast<std::uint64_t>(Limits::max())) fail(field, "is out of range (got " + v.dump() + ")");
            return static_cast<T>(u);
        }
        const auto i = v.get<std::int64_t>();
        if ((Limits::is_signed ? i < static_cast<std::int64_t>(Limits::min()) : i < 0) ||
            (i > 0 && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(Limits::max())))
            fail(field, "is out of range (got " + v.dump() + ")");
        return static_cast<T>(i);
    }

    std::string full(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
    [[noreturn]] void fail(const std::string& field, const std::string& what) const {
        throw ConfigError(source_ + ": '" + field + "' " + what);
    }

    const json& j_;
    std::string path_, source_;
    std::set<std::string> known_;
};

bool oneOf(const std::string& v, std::initializer_list<const char*> allowed) {
    for (const char* a : allowed)
        if (v == a) return true;
    return false;
}

} // namespace

json ExperimentConfig::toJson() const {
    return json{
        {"name", name},
        {"data",
         {{"dataset", data.dataset},
          {"path", data.path},
          {"format", data.format},
          {"target", data.target},
          {"task", data.task},
          {"subtask_column", data.subtaskColumn},
          {"impute", data.impute},
          {"drop_columns", data.dropColumns},
          {"max_rows", data.maxRows},
          {"idx_files", data.idxFiles},
          {"val_fraction", data.valFraction},
          {"test_fraction", data.testFraction},
          {"text", {{"min_freq", data.text.minFrequency}, {"max_vocab", data.text.maxVocabulary}, {"max_length", data.text.maxLength}}},
          {"regimes",
           {{"samples", data.regimes.samples},
            {"subtasks", data.regimes.subtasks},
            {"features", data.regimes.features},
            {"classes", data.regimes.classes},
            {"label_noise", data.regimes.labelNoise},
            {"separation", data.regimes.separation},
            {"seed", data.regimes.seed}}}}},
        {"model",
         {{"experts", model.experts},
          {"gate", model.gate},
          {"top_k", model.topK},
          {"noisy_gate", model.noisyGate},
          {"hidden", model.hidden},
          {"activation", model.activation},
          {"dropout", model.dropout},
          {"backbone", model.backbone},
          {"backbone_dim", model.backboneDim}}},
        {"loss",
         {{"alpha", loss.alpha},
          {"distill", loss.distill},
          {"temperature", loss.temperature},
          {"detach_teacher", loss.detachTeacher},
          {"gate_weighted", loss.gateWeighted},
          {"balance_weight", loss.balanceWeight}}},
        {"train",
         {{"epochs", train.epochs},
          {"batch_size", train.batchSize},
          {"lr", train.lr},
          {"optimizer", train.optimizer},
          {"weight_decay", train.weightDecay},
          {"momentum", train.momentum},
          {"seed", train.seed},
          {"device", train.device},
          {"threads", train.threads}}},
    };
}

ExperimentConfig ExperimentConfig::fromJson(const json& j, const std::string& source) {
    ExperimentConfig c;
    Section top(j, "", source);
    top.get("name", c.name);
    {
        Section d = top.sub("data");
        d.get("dataset", c.data.dataset);
        d.get("path", c.data.path);
        d.get("format", c.data.format);
        d.get("target", c.data.target);
        d.get("task", c.data.task);
        d.get("subtask_column", c.data.subtaskColumn);
        d.get("impute", c.data.impute);
        d.get("drop_columns", c.data.dropColumns);
        d.get("max_rows", c.data.maxRows);
        d.get("idx_files", c.data.idxFiles);
        d.get("val_fraction", c.data.valFraction);
        d.get("test_fraction", c.data.testFraction);
        Section tx = d.sub("text");
        tx.get("min_freq", c.data.text.minFrequency);
        tx.get("max_vocab", c.data.text.maxVocabulary);
        tx.get("max_length", c.data.text.maxLength);
        tx.finish();
        Section r = d.sub("regimes");
        r.get("samples", c.data.regimes.samples);
        r.get("subtasks", c.data.regimes.subtasks);
        r.get("features", c.data.regimes.features);
        r.get("classes", c.data.regimes.classes);
        r.get("label_noise", c.data.regimes.labelNoise);
        r.get("separation", c.data.regimes.separation);
        r.get("seed", c.data.regimes.seed);
        r.finish();
        d.finish();
    }
    {
        Section m = top.sub("model");
        m.get("experts", c.model.experts);
        m.get("gate", c.model.gate);
        m.get("top_k", c.model.topK);
        m.get("noisy_gate", c.model.noisyGate);
        m.get("hidden", c.model.hidden);
        m.get("activation", c.model.activation);
        m.get("dropout", c.model.dropout);
        m.get("backbone", c.model.backbone);
        m.get("backbone_dim", c.model.backboneDim);
        m.finish();
    }
    {
        Section l = top.sub("loss");
        l.get("alpha", c.loss.alpha);
        l.get("distill", c.loss.distill);
        l.get("temperature", c.loss.temperature);
        l.get("detach_teacher", c.loss.detachTeacher);
        l.get("gate_weighted", c.loss.gateWeighted);
        l.get("balance_weight", c.loss.balanceWeight);
        l.finish();
    }
    {
        Section t = top.sub("train");
        t.get("epochs", c.train.epochs);
        t.get("batch_size", c.train.batchSize);
        t.get("lr", c.train.lr);
        t.get("optimizer", c.train.optimizer);
        t.get("weight_decay", c.train.weightDecay);
        t.get("momentum", c.train.momentum);
        t.get("seed", c.train.seed);
        t.get("device", c.train.device);
        t.get("threads", c.train.threads);
        t.finish();
    }
    top.finish();
    return c;
}

ExperimentConfig ExperimentConfig::fromFile(const std::string& path) {
    const json j = readJsonFile(path, "experiment file");
    ExperimentConfig c = fromJson(j, path);
    // Relative data paths are relative to the experiment file, as users expect.
    if (!c.data.path.empty()) {
        std::filesystem::path p(c.data.path);
        if (p.is_relative())
            c.data.path = (std::filesystem::absolute(path).parent_path() / p).lexically_normal().string();
    }
    return c;
}

std::string ExperimentConfig::datasetLabel() const {
    if (!data.idxFiles.empty()) return std::filesystem::path(data.idxFiles.front()).parent_path().filename().string();
    if (!data.path.empty()) return std::filesystem::path(data.path).filename().string();
    return data.dataset;
}

std::string dataPathProblem(const std::string& path, bool folderAllowed) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec && ec.value() == ELOOP) return path + " is a loop of symbolic links";
    if (ec && ec.value() == EACCES) return path + " cannot be reached (permission denied on a folder of its path)";
    if (!std::filesystem::exists(st)) {
        const auto resolved = std::filesystem::absolute(path, ec).lexically_normal().string();
        return path + " does not exist" + (resolved != path ? " (looked for " + resolved + ")" : "");
    }
    if (std::filesystem::is_regular_file(st) || (folderAllowed && std::filesystem::is_directory(st))) return {};
    if (std::filesystem::is_directory(st)) return path + " is a folder; name a data file";
    return path + " is not a regular file (a device, pipe or socket)";
}

std::vector<ConfigIssue> validate(const ExperimentConfig& c, bool checkFiles) {
    std::vector<ConfigIssue> out;
    auto bad = [&](const char* f, std::string m) { out.push_back({f, std::move(m)}); };

    const auto& d = c.data;
    if (!d.idxFiles.empty()) {
        if (d.idxFiles.size() != 4)
            bad("data.idx_files", "names 4 files: train images, train labels, test images, test labels");
        else if (checkFiles)
            for (const auto& f : d.idxFiles)
                if (auto problem = dataPathProblem(f, false); !problem.empty()) bad("data.idx_files", problem);
    } else if (d.path.empty() || !d.dataset.empty()) {
        // A built-in name beside a path is ignored; a wrong one there is still a mistake to name.
        const auto builtins = builtinDatasets();
        if (std::find(builtins.begin(), builtins.end(), d.dataset) == builtins.end()) {
            std::string list;
            for (const auto& b : builtins) list += (list.empty() ? "" : ", ") + b;
            bad("data.dataset", "unknown built-in dataset '" + d.dataset + "' (built-ins here: " + list + ")" +
                                    (d.path.empty() ? "" : "; with data.path set, leave data.dataset empty"));
        }
    }
    if (d.idxFiles.empty() && !d.path.empty() && checkFiles) {
        std::error_code ec;
        if (auto problem = dataPathProblem(d.path, true); !problem.empty()) bad("data.path", problem);
        else if (std::filesystem::is_directory(d.path, ec) && d.format == "csv")
            bad("data.path", "'" + d.path + "' is a folder, not a CSV file");
        else if (!std::filesystem::is_directory(d.path, ec) && d.format == "idx")
            bad("data.path", "IDX data is a folder holding train-images-idx3-ubyte and the other three files");
    }
    if (!oneOf(d.format, {"auto", "csv", "idx", "tsv"}))
        bad("data.format", "must be auto, csv, idx or tsv, not '" + d.format + "'");
    if (d.text.minFrequency < 1) bad("data.text.min_freq", "must be at least 1");
    if (d.text.maxVocabulary < 1) bad("data.text.max_vocab", "must be at least 1");
    if (d.text.maxLength < 1 || d.text.maxLength > 4096) bad("data.text.max_length", "must be between 1 and 4096");
    if (d.maxRows < 0) bad("data.max_rows", "must be >= 0 (0: all rows)");
    if (!oneOf(d.task, {"auto", "classification", "regression"}))
        bad("data.task", "must be auto, classification or regression, not '" + d.task + "'");
    if (!oneOf(d.impute, {"none", "mean"}))
        bad("data.impute", "must be none or mean, not '" + d.impute + "'");
    if (!(d.valFraction >= 0 && d.valFraction < 1))
        bad("data.val_fraction", "must be in [0, 1)");
    if (!(d.testFraction > 0 && d.testFraction < 1))
        bad("data.test_fraction", "must be in (0, 1)");
    if (d.valFraction + d.testFraction >= 0.9)
        bad("data.test_fraction", "validation + test must leave at least 10% for training");
    const auto& r = d.regimes;
    if (d.path.empty()) {
        if (r.samples < 50) bad("data.regimes.samples", "must be at least 50");
        if (r.subtasks < 1) bad("data.regimes.subtasks", "must be at least 1");
        if (r.features < 2) bad("data.regimes.features", "must be at least 2");
        if (r.classes < 2) bad("data.regimes.classes", "must be at least 2");
        if (!(r.labelNoise >= 0 && r.labelNoise < 1)) bad("data.regimes.label_noise", "must be in [0, 1)");
        if (!(r.separation >= 0)) bad("data.regimes.separation", "must be >= 0");
    }

    const auto& m = c.model;
    if (m.experts < 1) bad("model.experts", "needs at least 1 expert");
    if (m.experts > 256) bad("model.experts", "at most 256 experts");
    if (!oneOf(m.gate, {"dense", "topk"})) bad("model.gate", "must be dense or topk, not '" + m.gate + "'");
    if (m.gate == "topk" && (m.topK < 1 || m.topK > m.experts))
        bad("model.top_k", "k must be between 1 and the number of experts (" + std::to_string(m.experts) + ")");
    if (m.noisyGate && m.gate != "topk") bad("model.noisy_gate", "noisy gating needs the topk gate");
    for (int h : m.hidden)
        if (h < 1 || h > 65536) { bad("model.hidden", "every hidden size must be between 1 and 65536"); break; }
    if (!oneOf(m.activation, {"relu", "gelu", "tanh"}))
        bad("model.activation", "must be relu, gelu or tanh, not '" + m.activation + "'");
    if (!(m.dropout >= 0 && m.dropout < 1)) bad("model.dropout", "must be in [0, 1)");
    if (!oneOf(m.backbone, {"auto", "none", "mlp", "cnn", "embedding-bag", "transformer"}))
        bad("model.backbone", "must be auto, none, mlp, cnn, embedding-bag or transformer, not '" + m.backbone + "'");
    if (m.backbone == "transformer" && m.backboneDim % 4 != 0)
        bad("model.backbone_dim", "the transformer's width must be a multiple of its 4 attention heads");
    if (m.backboneDim < 1 || m.backboneDim > 65536) bad("model.backbone_dim", "must be between 1 and 65536");

    const auto& l = c.loss;
    if (!(l.alpha >= 0) || l.alpha > 1e6) bad("loss.alpha", "alpha must be between 0 (the plain MoE) and 1e6");
    if (!oneOf(l.distill, {"mse-mean", "mse-pairwise", "kl"}))
        bad("loss.distill", "must be mse-mean, mse-pairwise or kl, not '" + l.distill + "'");
    if (!(l.temperature > 0)) bad("loss.temperature", "must be > 0");
    if (l.distill == "kl" && c.data.task == "regression")
        bad("loss.distill", "kl compares class distributions; a regression target has none (use mse-mean or mse-pairwise)");
    if (!(l.balanceWeight >= 0)) bad("loss.balance_weight", "must be >= 0");

    if (!isValidUtf8(c.name)) bad("name", "is not valid UTF-8");
    const auto& t = c.train;
    if (t.epochs < 1) bad("train.epochs", "must be at least 1");
    if (t.batchSize < 1) bad("train.batch_size", "must be at least 1");
    if (!(t.lr > 0) || t.lr > 100) bad("train.lr", "the learning rate must be > 0 and at most 100");
    if (!oneOf(t.optimizer, {"adam", "adamw", "sgd"}))
        bad("train.optimizer", "must be adam, adamw or sgd, not '" + t.optimizer + "'");
    if (!(t.weightDecay >= 0)) bad("train.weight_decay", "must be >= 0");
    if (!(t.momentum >= 0 && t.momentum < 1)) bad("train.momentum", "must be in [0, 1)");
    if (!oneOf(t.device, {"auto", "cpu", "cuda"}) && t.device.rfind("cuda:", 0) != 0)
        bad("train.device", "must be auto, cpu, cuda or cuda:N, not '" + t.device + "'");
    if (t.threads < 0 || t.threads > 1024) bad("train.threads", "must be between 0 and 1024 (0: one per core)");
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

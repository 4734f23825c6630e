// SPDX-License-Identifier: GPL-3.0-or-later
#include "config/Settings.h"

#include "config/Choices.h"
#include "util/Format.h"

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <type_traits>
#include <unordered_map>

namespace mode {
namespace {

using json = nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& field,
                       const std::string& what) {
    throw ConfigError(source + ": '" + field + "' " + what);
}

// A whole number that fits T. nlohmann's get<int>() would truncate 2.5 to 2, wrap 4294967300 to
// 4 and is undefined for 1e300 (found by fuzzing tests/fuzz/fuzz_config).
template <typename T> T whole(const json& v, const std::string& field, const std::string& source) {
    if (!v.is_number())
        fail(source, field,
             std::string("has the wrong type (") + v.type_name() + ", expected a whole number)");
    using Limits = std::numeric_limits<T>;
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (!std::isfinite(d) || d != std::floor(d))
            fail(source, field, "must be a whole number (got " + v.dump() + ")");
        if (d < static_cast<double>(Limits::min()) || d >= std::ldexp(1.0, Limits::digits))
            fail(source, field, "is out of range (got " + v.dump() + ")");
        return static_cast<T>(d);
    }
    if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(Limits::max()))
            fail(source, field, "is out of range (got " + v.dump() + ")");
        return static_cast<T>(u);
    }
    const auto i = v.get<std::int64_t>();
    const bool below = Limits::is_signed ? i < static_cast<std::int64_t>(Limits::min()) : i < 0;
    const bool above =
        i > 0 && static_cast<std::uint64_t>(i) > static_cast<std::uint64_t>(Limits::max());
    if (below || above) fail(source, field, "is out of range (got " + v.dump() + ")");
    return static_cast<T>(i);
}

template <typename T>
void assign(T& out, const json& v, const std::string& field, const std::string& source) {
    auto wrongType = [&](const char* expected) {
        fail(source, field,
             std::string("has the wrong type (") + v.type_name() + ", expected " + expected + ")");
    };
    if constexpr (std::is_same_v<T, bool>) {
        if (!v.is_boolean()) wrongType("true or false");
        out = v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
        out = whole<T>(v, field, source);
    } else if constexpr (std::is_floating_point_v<T>) {
        if (!v.is_number()) wrongType("a number");
        out = v.get<double>();
    } else if constexpr (std::is_same_v<T, std::string>) {
        if (!v.is_string()) wrongType("text");
        out = v.get<std::string>();
    } else if constexpr (std::is_same_v<T, std::vector<int>>) {
        if (!v.is_array()) wrongType("a list of whole numbers");
        out.clear();
        for (std::size_t i = 0; i < v.size(); ++i)
            out.push_back(whole<int>(v[i], field + "[" + std::to_string(i) + "]", source));
    } else {
        static_assert(std::is_same_v<T, std::vector<std::string>>,
                      "a setting of an unsupported type");
        if (!v.is_array()) wrongType("a list of text");
        out.clear();
        for (std::size_t i = 0; i < v.size(); ++i) {
            if (!v[i].is_string())
                fail(source, field + "[" + std::to_string(i) + "]", "must be text");
            out.push_back(v[i].get<std::string>());
        }
    }
}

// The member a setting reads and writes, given as a lambda from the experiment to it.
template <typename Ref> Setting bound(Setting s, Ref ref) {
    s.get = [ref](const ExperimentConfig& c) { return json(ref(c)); };
    s.set = [ref, key = s.key](ExperimentConfig& c, const json& v, const std::string& source) {
        assign(ref(c), v, key, source);
    };
    return s;
}

template <class E> std::vector<SettingChoice> choices() {
    std::vector<SettingChoice> out;
    for (const auto& c : choicesOf<E>())
        out.push_back({c.name, c.label});
    return out;
}

// Builders for the table below: the kind and its bounds in a few words.
Setting integer(std::string key, std::string flag, std::optional<double> min,
                std::optional<double> max = {}) {
    Setting s;
    s.key = std::move(key);
    s.flag = std::move(flag);
    s.kind = SettingKind::Integer;
    s.min = min;
    s.max = max;
    return s;
}
Setting real(std::string key, std::string flag, std::optional<double> min,
             std::optional<double> max = {}, bool minOpen = false, bool maxOpen = false) {
    Setting s = integer(std::move(key), std::move(flag), min, max);
    s.kind = SettingKind::Real;
    s.minOpen = minOpen;
    s.maxOpen = maxOpen;
    return s;
}
Setting of(SettingKind kind, std::string key, std::string flag,
           std::vector<SettingChoice> choices = {}) {
    Setting s;
    s.key = std::move(key);
    s.flag = std::move(flag);
    s.kind = kind;
    s.choices = std::move(choices);
    return s;
}
Setting& form(Setting& s, std::string label, std::string widget) {
    s.label = std::move(label);
    s.widget = std::move(widget);
    return s;
}

#define MODE_MEMBER(path)                                                                          \
    [](auto& c) -> auto& {                                                                         \
        return c.path;                                                                             \
    }

// Fills the table; references to its entries stay valid (the table never reallocates).
class TableBuilder {
  public:
    explicit TableBuilder(std::vector<Setting>& t) : t_(t) { t_.reserve(64); }
    template <typename Ref> Setting& operator()(Setting s, Ref ref, std::string help) {
        s.help = std::move(help);
        if (t_.size() == t_.capacity()) throw std::logic_error("settings table: raise its reserve");
        t_.push_back(bound(std::move(s), ref));
        return t_.back();
    }

  private:
    std::vector<Setting>& t_;
};

using K = SettingKind;

void addDataSettings(TableBuilder& add) {
    add(of(K::Choice, "data.dataset", "--dataset",
           {{"regimes", "regimes (built-in)"},
            {"fashion-mnist", "fashion-mnist (built-in)"},
            {"debian-descriptions", "debian-descriptions (built-in)"}}),
        MODE_MEMBER(data.dataset),
        "a built-in dataset: regimes (synthetic sub-tasks), fashion-mnist (Debian's "
        "dataset-fashion-mnist) or "
        "debian-descriptions (text, built by setup.sh); ignored when data.path is set");
    add(of(K::Text, "data.path", "--data"), MODE_MEMBER(data.path),
        "your own data file: CSV with a header row, TSV text (label TAB text) or a folder of IDX "
        "files");
    add(of(K::Choice, "data.format", "--format", choices<DataFormat>()), MODE_MEMBER(data.format),
        "format of the data file")
        .advanced = true;
    auto& target = add(of(K::Text, "data.target", "--target"), MODE_MEMBER(data.target),
                       "the column to predict (default: the last column)");
    target.applies = kTabular;
    auto& task =
        add(of(K::Choice, "data.task", "--task", choices<TaskKind>()), MODE_MEMBER(data.task),
            "what the target is: auto takes text or few integers as classes, other numbers as "
            "regression");
    task.applies = kTabular;
    task.advanced = true;
    auto& subtask = add(
        of(K::Text, "data.subtask_column", "--subtask-column"), MODE_MEMBER(data.subtaskColumn),
        "a column naming each row's known sub-task: kept out of the features, used to measure gate "
        "routing accuracy");
    subtask.applies = kTabular;
    auto& impute = add(
        of(K::Choice, "data.impute", "--impute", choices<ImputeKind>()), MODE_MEMBER(data.impute),
        "missing cells (empty, '?', NA): refuse the file, or fill them from the training rows");
    impute.applies = kTabular;
    form(impute, "Missing values", "impute");
    auto& drop =
        add(of(K::TextList, "data.drop_columns", "--drop-columns"), MODE_MEMBER(data.dropColumns),
            "columns of the file left out of the features, e.g. id,name");
    drop.applies = kTabular;
    drop.advanced = true;
    form(drop, "Drop columns", "dropColumns");
    auto& maxRows = add(integer("data.max_rows", "--max-rows", 0), MODE_MEMBER(data.maxRows),
                        "IDX data: keep the first N training rows and the same share of the test "
                        "rows, for quick runs (data.max_train_rows keeps the whole test split)");
    maxRows.note = "0: all rows";
    maxRows.applies = kImages;
    auto& maxTrain = form(
        add(integer("data.max_train_rows", "--max-train-rows", 0), MODE_MEMBER(data.maxTrainRows),
            "keep N of the rows that are not test rows (a stratified draw by the seed), for "
            "training and validation, and the whole test split: few training rows, measured on "
            "every test row"),
        "Training rows", "maxTrainRows");
    maxTrain.note = "0: all rows";
    maxTrain.advanced = true;
    add(of(K::TextList, "data.idx_files", "--idx-files"), MODE_MEMBER(data.idxFiles),
        "IDX files one by one: TRAIN_IMAGES,TRAIN_LABELS,TEST_IMAGES,TEST_LABELS")
        .applies = kImages;
    form(add(real("data.val_fraction", "--val-fraction", 0, 1, false, true),
             MODE_MEMBER(data.valFraction),
             "share of the rows held out for validation (model selection)"),
         "Validation share", "valFraction")
        .advanced = true;
    form(add(real("data.test_fraction", "--test-fraction", 0, 1, true, true),
             MODE_MEMBER(data.testFraction), "share of the rows held out for the test"),
         "Test share", "testFraction")
        .advanced = true;
    for (auto* s :
         {&add(integer("data.text.min_freq", "--min-freq", 1), MODE_MEMBER(data.text.minFrequency),
               "text: words seen fewer times in the training rows become <unk>"),
          &add(integer("data.text.max_vocab", "--max-vocab", 1),
               MODE_MEMBER(data.text.maxVocabulary),
               "text: the largest vocabulary kept (most frequent words first)"),
          &add(integer("data.text.max_length", "--max-length", 1, 4096),
               MODE_MEMBER(data.text.maxLength), "text: tokens kept per row")})
        s->applies = kText;
}

// The synthetic regimes data's own settings: they apply to it alone.
void addRegimesSettings(TableBuilder& add) {
    const std::vector<Setting*> regimes{
        &add(integer("data.regimes.samples", "--regimes-samples", 50),
             MODE_MEMBER(data.regimes.samples), "regimes: rows generated"),
        &add(integer("data.regimes.subtasks", "--regimes-subtasks", 1),
             MODE_MEMBER(data.regimes.subtasks),
             "regimes: regions of the input space, each with its own labelling rule"),
        &add(integer("data.regimes.features", "--regimes-features", 2),
             MODE_MEMBER(data.regimes.features), "regimes: input dimension"),
        &add(integer("data.regimes.classes", "--regimes-classes", 2),
             MODE_MEMBER(data.regimes.classes), "regimes: classes shared by every sub-task"),
        &add(real("data.regimes.label_noise", "--regimes-label-noise", 0, 1, false, true),
             MODE_MEMBER(data.regimes.labelNoise),
             "regimes: share of labels replaced by a uniformly drawn class"),
        &add(real("data.regimes.separation", "--regimes-separation", 0),
             MODE_MEMBER(data.regimes.separation),
             "regimes: distance of the sub-task centres from the origin"),
        &add(integer("data.regimes.seed", "--regimes-seed", 0), MODE_MEMBER(data.regimes.seed),
             "regimes: the data's own seed (runs with other training seeds see the same data)")};
    for (auto* s : regimes) {
        s->applies = kRegimes;
        s->advanced = true;
        s->onlyWhenKey = "data.dataset";
        s->onlyWhenValue = "regimes";
    }
}

void addModelSettings(TableBuilder& add) {
    form(add(of(K::Choice, "model.kind", "--model", choices<ModelKind>()), MODE_MEMBER(model.kind),
             "moe: the gated mixture of E experts (MoDE with alpha > 0, plain MoE at 0); the "
             "baselines it must beat, without gate or distillation (alpha must be 0): dense, one "
             "network (the backbone and one expert MLP) whose hidden widths are the experts' "
             "scaled by one factor, the first width chosen to bring its parameter count nearest "
             "the mixture's (experts and gate; a linear expert becomes one hidden layer); "
             "ensemble, the E experts (each with its own copy of the backbone) trained "
             "independently, each on its own task loss, and averaged at prediction (the mean "
             "of their class probabilities, or of their values)"),
         "Model", "modelKind");
    form(add(integer("model.experts", "--experts", 1, 256), MODE_MEMBER(model.experts),
             "number of experts E (dense: the mixture it is sized after)"),
         "Experts", "experts");
    form(add(of(K::Choice, "model.backbone", "--backbone", choices<BackboneKind>()),
             MODE_MEMBER(model.backbone),
             "a feature extractor shared by the gate and the experts: none, one MLP layer, a small "
             "CNN for images "
             "(two 3x3 convolutions with pooling), or for text an embedding bag (mean of word "
             "vectors) or a "
             "one-layer Transformer encoder"),
         "Backbone", "backbone");
    form(add(integer("model.backbone_dim", "--backbone-dim", 1, 65536),
             MODE_MEMBER(model.backboneDim),
             "features the backbone hands to the gate and the experts"),
         "Backbone width", "backboneDim")
        .advanced = true;
    auto& gate = form(
        add(of(K::Choice, "model.gate", "--gate", choices<GateKind>()), MODE_MEMBER(model.gate),
            "dense: every expert gets a softmax weight; topk: only the k largest gate logits are "
            "kept (softmax "
            "over them, exact zeros elsewhere)"),
        "Gate", "gate");
    gate.onlyWhenKey = "model.kind"; // the baselines have no gate (top_k and noisy_gate follow)
    gate.onlyWhenValue = "moe";
    auto& topK = form(add(integer("model.top_k", "--top-k", 1, 256), MODE_MEMBER(model.topK),
                          "experts each sample is sent to by the top-k gate (at most E)"),
                      "k", "topK");
    topK.onlyWhenKey = "model.gate";
    topK.onlyWhenValue = "topk";
    auto& noisy =
        form(add(of(K::Switch, "model.noisy_gate", "--noisy-gate"), MODE_MEMBER(model.noisyGate),
                 "noisy top-k gating (Shazeer et al. 2017), in training only"),
             "Noisy gate", "noisyGate");
    noisy.onlyWhenKey = "model.gate";
    noisy.onlyWhenValue = "topk";
    noisy.advanced = true;
    form(add(integer("model.hidden", "--hidden", 1, 65536), MODE_MEMBER(model.hidden),
             "hidden layer widths of each expert MLP, e.g. 64,32; empty: a linear expert"),
         "Expert hidden sizes", "hidden")
        .kind = K::IntegerList;
    form(add(of(K::Choice, "model.activation", "--activation", choices<Activation>()),
             MODE_MEMBER(model.activation), "the experts' (and backbone's) activation"),
         "Activation", "activation")
        .advanced = true;
    form(add(real("model.dropout", "--dropout", 0, 1, false, true), MODE_MEMBER(model.dropout),
             "dropout in the experts' hidden layers"),
         "Dropout", "dropout")
        .advanced = true;
}

void addLossSettings(TableBuilder& add) {
    auto& alpha = form(add(real("loss.alpha", "--alpha", 0, 1e6), MODE_MEMBER(loss.alpha),
                           "weight of the mutual distillation loss among the experts"),
                       "Distillation weight \u03b1", "alpha");
    alpha.note = "0: the plain mixture of experts";
    auto& distill =
        form(add(of(K::Choice, "loss.distill", "--distill", choices<DistillKind>()),
                 MODE_MEMBER(loss.distill),
                 "how each expert is pulled towards the others: squared error to the mean of all "
                 "experts (with detach teacher, the mean of the OTHER experts), the mean over all "
                 "pairs, or KL between temperature-softened distributions (classification only). "
                 "The same alpha is not the same pull across variants: with E experts, "
                 "mse-pairwise pulls 2E/(E-1) times as hard as mse-mean (2.67 for 4 experts), and "
                 "detach teacher makes either pull E/(E-1) times mse-mean's"),
             "Distillation", "distill");
    // The baselines take no distillation and have no gate: the loss settings that shape either
    // apply to the mixture only (the temperature follows the distillation's variant).
    distill.onlyWhenKey = "model.kind";
    distill.onlyWhenValue = "moe";
    auto& temperature =
        form(add(real("loss.temperature", "--temperature", 0, {}, true),
                 MODE_MEMBER(loss.temperature), "softening temperature of the kl variant"),
             "Temperature", "temperature");
    temperature.onlyWhenKey = "loss.distill";
    temperature.onlyWhenValue = "kl";
    auto& detach = form(
        add(of(K::Switch, "loss.detach_teacher", "--detach-teacher"),
            MODE_MEMBER(loss.detachTeacher),
            "teachers get no distillation gradient, only the student (mse-mean: each expert is "
            "pulled towards "
            "the detached mean of the OTHER experts)"),
        "Detach teacher", "detachTeacher");
    auto& gateWeighted = form(
        add(of(K::Switch, "loss.gate_weighted", "--gate-weighted"), MODE_MEMBER(loss.gateWeighted),
            "weight each expert's distillation term by its (detached) gate weight"),
        "Gate-weighted", "gateWeighted");
    gateWeighted.advanced = true;
    auto& balance =
        form(add(real("loss.balance_weight", "--balance", 0), MODE_MEMBER(loss.balanceWeight),
                 "weight of the Switch-Transformer load-balancing loss that keeps the experts "
                 "evenly used"),
             "Balance loss", "balance");
    balance.note = "0: off";
    for (auto* s : {&detach, &gateWeighted, &balance}) {
        s->onlyWhenKey = "model.kind";
        s->onlyWhenValue = "moe";
    }
}

void addTrainingSettings(TableBuilder& add) {
    form(add(integer("train.epochs", "--epochs", 1, 1000000), MODE_MEMBER(train.epochs),
             "passes over the training split"),
         "Epochs", "epochs");
    form(add(integer("train.batch_size", "--batch-size", 1, 1 << 20), MODE_MEMBER(train.batchSize),
             "samples per optimisation step (per process when data-parallel)"),
         "Batch size", "batchSize");
    form(add(real("train.lr", "--lr", 0, 100, true), MODE_MEMBER(train.lr),
             "the optimiser's learning rate"),
         "Learning rate", "lr");
    form(add(of(K::Choice, "train.optimizer", "--optimizer", choices<OptimizerKind>()),
             MODE_MEMBER(train.optimizer),
             "Adam, AdamW (decoupled weight decay) or SGD with momentum"),
         "Optimiser", "optimizer");
    form(add(real("train.weight_decay", "--weight-decay", 0), MODE_MEMBER(train.weightDecay),
             "weight decay"),
         "Weight decay", "weightDecay")
        .advanced = true;
    auto& momentum = form(add(real("train.momentum", "--momentum", 0, 1, false, true),
                              MODE_MEMBER(train.momentum), "momentum of SGD"),
                          "Momentum", "momentum");
    momentum.onlyWhenKey = "train.optimizer";
    momentum.onlyWhenValue = "sgd";
    momentum.advanced = true;
    form(add(integer("train.seed", "--seed", 0), MODE_MEMBER(train.seed),
             "seeds the initialisation, the split and the minibatch order: same seed, same run on "
             "the CPU"),
         "Seed", "seed");
    form(add(of(K::Choice, "train.device", "--device",
                {{"auto", "auto (CUDA when present)"},
                 {"cpu", "cpu"},
                 {"cuda", "cuda"},
                 {"cuda:N", "cuda:N"}}),
             MODE_MEMBER(train.device), "where to train"),
         "Device", "device");
    auto& threads = form(add(integer("train.threads", "--threads", 0, 1024),
                             MODE_MEMBER(train.threads), "LibTorch intra-op threads"),
                         "Threads", "threads");
    threads.note = "0: one per core";
    threads.advanced = true;

    form(add(of(K::Text, "name", "--name"), MODE_MEMBER(name), "a name for the run in the history"),
         "Run name", "runName");
}

std::vector<Setting> makeTable() {
    std::vector<Setting> t;
    TableBuilder add(t);
    addDataSettings(add);
    addRegimesSettings(add);
    addModelSettings(add);
    addLossSettings(add);
    addTrainingSettings(add);
    return t;
}

#undef MODE_MEMBER

} // namespace

bool Setting::isNumber() const {
    return kind == SettingKind::Integer || kind == SettingKind::Real ||
           kind == SettingKind::IntegerList;
}

std::string Setting::rangeText() const {
    if (!min && !max) return {};
    const std::string every = kind == SettingKind::IntegerList ? "every value " : "";
    std::string out;
    if (min && max && !minOpen && !maxOpen)
        out = "must be between " + formatNumber(*min) + " and " + formatNumber(*max);
    else if (min && max)
        out = "must be in " + std::string(minOpen ? "(" : "[") + formatNumber(*min) + ", " +
              formatNumber(*max) + (maxOpen ? ")" : "]");
    else if (min)
        out =
            minOpen ? "must be > " + formatNumber(*min) : "must be at least " + formatNumber(*min);
    else
        out = maxOpen ? "must be < " + formatNumber(*max) : "must be at most " + formatNumber(*max);
    return every + out + (note.empty() ? "" : " (" + note + ")");
}

std::string Setting::choiceText() const {
    std::string out;
    for (const auto& c : choices)
        out += (out.empty() ? "" : " | ") + c.name;
    return out;
}

bool Setting::acceptsChoice(const std::string& value) const {
    for (const auto& c : choices) {
        if (value == c.name) return true;
        const auto pattern = c.name.find(":N");
        if (pattern != std::string::npos && pattern + 2 == c.name.size() &&
            value.size() > pattern + 1 &&
            value.compare(0, pattern + 1, c.name, 0, pattern + 1) == 0 &&
            value.find_first_not_of("0123456789", pattern + 1) == std::string::npos)
            return true;
    }
    return false;
}

std::string Setting::fullHelp() const {
    std::string out = help;
    if (kind == SettingKind::Choice) out += " (" + choiceText() + ")";
    std::string range = rangeText();
    if (!range.empty()) out += "; " + range.substr(range.find("must be ") == 0 ? 8 : 0);
    const json d = defaultValue();
    const bool empty =
        (d.is_string() && d.get<std::string>().empty()) || (d.is_array() && d.empty());
    if (kind != SettingKind::Switch && !empty) {
        auto show = [](const json& v) {
            return v.is_string()   ? v.get<std::string>()
                   : v.is_number() ? formatNumber(v.get<double>())
                                   : v.dump();
        };
        std::string text;
        if (d.is_array())
            for (const auto& v : d)
                text += (text.empty() ? "" : ",") + show(v);
        else
            text = show(d);
        out += "; default " + text;
    }
    return out;
}

const std::vector<Setting>& experimentSettings() {
    static const std::vector<Setting> table = makeTable();
    return table;
}

const Setting* findSetting(const std::string& key) {
    // Looked up for every key of every experiment read (a sweep reads a million): an index.
    static const auto index = [] {
        std::unordered_map<std::string, const Setting*> m;
        for (const auto& s : experimentSettings())
            m.emplace(s.key, &s);
        return m;
    }();
    const auto it = index.find(key);
    return it == index.end() ? nullptr : it->second;
}

const Setting* findSettingByFlag(const std::string& flag) {
    for (const auto& s : experimentSettings())
        if (!s.flag.empty() && s.flag == flag) return &s;
    return nullptr;
}

json settingValueFromText(const Setting& s, const std::string& text, const std::string& where) {
    auto parseNumber = [&](const std::string& item, bool wholeOnly) -> json {
        const char* first = item.data();
        const char* last = first + item.size();
        if (wholeOnly) {
            long long i = 0;
            if (auto r = std::from_chars(first, last, i); r.ec == std::errc() && r.ptr == last)
                return i;
            unsigned long long u = 0;
            if (auto r = std::from_chars(first, last, u); r.ec == std::errc() && r.ptr == last)
                return u;
        }
        double d = 0;
        if (auto r = std::from_chars(first, last, d);
            r.ec == std::errc() && r.ptr == last && std::isfinite(d))
            return wholeOnly && d != std::floor(d) ? json() : json(d);
        return json();
    };
    auto split = [](const std::string& list) { // "64, 32" as well as "64,32"
        std::vector<std::string> items;
        std::stringstream in(list);
        for (std::string item; std::getline(in, item, ',');) {
            const auto first = item.find_first_not_of(" \t");
            if (first == std::string::npos) continue;
            items.push_back(item.substr(first, item.find_last_not_of(" \t") - first + 1));
        }
        return items;
    };
    switch (s.kind) {
    case SettingKind::Integer:
    case SettingKind::Real: {
        json v = parseNumber(text, s.kind == SettingKind::Integer);
        if (v.is_null())
            throw ConfigError(
                where + ": '" + text + "' is not " +
                (s.kind == SettingKind::Integer ? "a whole number" : "a finite number"));
        return v;
    }
    case SettingKind::IntegerList: {
        json out = json::array();
        for (const auto& item : split(text)) {
            json v = parseNumber(item, true);
            if (v.is_null())
                throw ConfigError(where + ": '" + item +
                                  "' is not a whole number (example: " + where + " 64,32)");
            out.push_back(v);
        }
        return out;
    }
    case SettingKind::TextList:
        return split(text);
    case SettingKind::Switch:
        if (text == "true" || text == "1" || text.empty()) return true;
        if (text == "false" || text == "0") return false;
        throw ConfigError(where + ": '" + text + "' is not true or false");
    default:
        return text;
    }
}

bool settingApplies(const Setting& s, const ExperimentConfig& c) {
    if (s.onlyWhenKey.empty()) return true;
    const Setting* other = findSetting(s.onlyWhenKey);
    const json v = other ? other->get(c) : json();
    // A setting applies only where the one it depends on applies too: top_k follows the gate,
    // which follows model.kind.
    return v.is_string() && v.get<std::string>() == s.onlyWhenValue && settingApplies(*other, c);
}

std::optional<std::string> settingProblem(const Setting& s, const ExperimentConfig& c) {
    if (!settingApplies(s, c)) return std::nullopt;
    const json v = s.get(c);
    if (s.kind == SettingKind::Choice) {
        const std::string text = v.get<std::string>();
        if (s.acceptsChoice(text)) return std::nullopt;
        std::vector<std::string> names;
        for (const auto& c : s.choices)
            names.push_back(c.name);
        return "must be " + joinOr(names) + ", not '" + text + "'";
    }
    if (!s.isNumber()) return std::nullopt;
    auto outside = [&](double x) {
        if (!std::isfinite(x)) return true;
        if (s.min && (s.minOpen ? x <= *s.min : x < *s.min)) return true;
        if (s.max && (s.maxOpen ? x >= *s.max : x > *s.max)) return true;
        return false;
    };
    bool bad = false;
    if (v.is_array())
        for (const auto& x : v)
            bad = bad || outside(x.get<double>());
    else
        bad = outside(v.get<double>());
    if (bad) return s.rangeText();
    return std::nullopt;
}

} // namespace mode

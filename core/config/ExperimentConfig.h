// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Every knob of one MoDE experiment, read from and written to JSON, and validated with
// messages that name the field. No LibTorch and no Qt here: the GUI, the CLI and the store
// all share this one description of an experiment.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mode {

struct RegimesOptions {
    int samples = 4000;       // rows generated
    int subtasks = 4;         // K regions of the input space, each with its own labelling rule
    int features = 8;         // input dimension
    int classes = 3;          // classes shared by every sub-task
    double labelNoise = 0.05; // share of labels replaced by a uniformly drawn class
    double separation = 4.0;  // distance of the sub-task centres from the origin
    std::uint64_t seed = 1; // the data's own seed: runs with other training seeds see the same data
};

struct TextConfig {
    int minFrequency = 2; // words seen fewer times in the training rows become <unk>
    int maxVocabulary = 20000;
    int maxLength = 64; // tokens per row
};

struct DataConfig {
    std::string dataset = "regimes"; // a built-in dataset name; ignored when path is set
    std::string path;                // a user's file (CSV); takes precedence over dataset
    std::string format =
        "auto"; // auto | csv | idx | tsv (auto: a folder is idx, .tsv or tab-separated text is tsv)
    std::string target;          // target column by name; empty: the last column
    std::string task = "auto";   // auto | classification | regression
    std::string subtaskColumn;   // optional column naming each row's known sub-task
    std::string impute = "none"; // none | mean (numeric mean, categorical mode)
    std::vector<std::string> dropColumns;
    // IDX files named one by one: train images, train labels, test images, test labels.
    std::vector<std::string> idxFiles;
    std::int64_t maxRows = 0; // IDX data: keep the first N training rows (0: all), for quick runs
    // Caps the rows left for training and validation (0: all), never the test split.
    std::int64_t maxTrainRows = 0;
    double valFraction = 0.15;
    double testFraction = 0.15;
    RegimesOptions regimes;
    TextConfig text;
};

// The Transformer backbone's attention heads (model.backbone_dim must be a multiple of them).
constexpr int kTransformerHeads = 4;

struct ModelConfig {
    // moe | dense | ensemble: the gated mixture, or one of the baselines it must beat (a dense
    // network of about the mixture's parameter count; the E experts trained independently and
    // averaged). The baselines have no gate and take no distillation (loss.alpha must be 0).
    std::string kind = "moe";
    int experts = 4;
    std::string gate = "dense"; // dense | topk
    int topK = 2;
    bool noisyGate = false;          // noisy top-k (Shazeer et al. 2017), training only
    std::vector<int> hidden{32};     // expert MLP hidden sizes
    std::string activation = "relu"; // relu | gelu | tanh
    double dropout = 0.0;
    // A feature extractor shared by gate and experts: auto (embedding-bag for text, none otherwise)
    // | none | mlp | cnn (images) | embedding-bag (text: mean of word vectors) | transformer (text)
    std::string backbone = "auto";
    int backboneDim = 64; // features it hands to the gate and the experts
};

struct LossConfig {
    double alpha = 0.1;               // distillation weight; 0 is the plain MoE
    std::string distill = "mse-mean"; // mse-mean | mse-pairwise | kl
    double temperature = 1.0;         // for kl
    bool detachTeacher = false;       // teachers do not receive the distillation gradient
    bool gateWeighted = false;        // weight each expert's term by its (detached) gate weight
    double balanceWeight = 0.0;       // Switch-Transformer load-balancing loss weight
};

struct TrainConfig {
    int epochs = 20;
    int batchSize = 64;
    double lr = 3e-3;
    std::string optimizer = "adam"; // adam | adamw | sgd
    double weightDecay = 0.0;
    double momentum = 0.9; // sgd only
    std::uint64_t seed = 0;
    std::string device = "auto"; // auto | cpu | cuda
    int threads = 0;             // LibTorch intra-op threads; 0: one per core
};

struct ExperimentConfig {
    std::string name;
    DataConfig data;
    ModelConfig model;
    LossConfig loss;
    TrainConfig train;

    nlohmann::json toJson() const;
    // Throws ConfigError naming the key for unknown keys and wrong types.
    static ExperimentConfig fromJson(const nlohmann::json& j, const std::string& source = "config");
    static ExperimentConfig fromFile(const std::string& path);

    std::string datasetLabel() const; // the file name or the built-in's name
};

struct ConfigIssue {
    std::string field;   // dotted key, e.g. "model.top_k"
    std::string message; // what is wrong and what is allowed
};

// Every impossible setting, each naming its field. Empty means the config can run.
// Checks files only when checkFiles is set (the GUI validates as the user types).
std::vector<ConfigIssue> validate(const ExperimentConfig& c, bool checkFiles = true);

class ConfigError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws ConfigError listing every issue, one per line.
void requireValid(const ExperimentConfig& c);
// What is wrong with a data path from an experiment (which may come from anywhere), or "" if
// nothing: it must exist and be a regular file (or a folder, where allowed), never a device
// (/dev/zero would be read forever), a pipe or a socket (reading would block).
std::string dataPathProblem(const std::string& path, bool folderAllowed);

std::string describe(const std::vector<ConfigIssue>& issues);

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#include "config/Choices.h"

#include <cmath>

namespace mode {

template <> const std::vector<ChoiceName<DataFormat>>& choicesOf() {
    static const std::vector<ChoiceName<DataFormat>> c{
        {DataFormat::Auto, "auto", "auto (a folder is IDX; .tsv or tab-separated text is TSV)"},
        {DataFormat::Csv, "csv", "CSV with a header row"},
        {DataFormat::Idx, "idx", "a folder of IDX files"},
        {DataFormat::Tsv, "tsv", "TSV text: label, TAB, text"}};
    return c;
}
template <> const std::vector<ChoiceName<TaskKind>>& choicesOf() {
    static const std::vector<ChoiceName<TaskKind>> c{
        {TaskKind::Auto, "auto", "auto (text or few integers: classes)"},
        {TaskKind::Classification, "classification", "classification"},
        {TaskKind::Regression, "regression", "regression"}};
    return c;
}
template <> const std::vector<ChoiceName<ImputeKind>>& choicesOf() {
    static const std::vector<ChoiceName<ImputeKind>> c{
        {ImputeKind::None, "none", "none (refuse missing cells)"},
        {ImputeKind::Mean, "mean", "mean (numbers) / most common (categories)"}};
    return c;
}
template <> const std::vector<ChoiceName<ModelKind>>& choicesOf() {
    static const std::vector<ChoiceName<ModelKind>> c{
        {ModelKind::Moe, "moe", "mixture of experts (MoDE when \u03b1 > 0)"},
        {ModelKind::Dense, "dense", "dense network of the mixture's size (baseline)"},
        {ModelKind::Ensemble, "ensemble", "ensemble of independent experts (baseline)"}};
    return c;
}
template <> const std::vector<ChoiceName<GateKind>>& choicesOf() {
    static const std::vector<ChoiceName<GateKind>> c{{GateKind::Dense, "dense", "dense softmax"},
                                                     {GateKind::TopK, "topk", "sparse top-k"}};
    return c;
}
template <> const std::vector<ChoiceName<Activation>>& choicesOf() {
    static const std::vector<ChoiceName<Activation>> c{{Activation::Relu, "relu", "ReLU"},
                                                       {Activation::Gelu, "gelu", "GELU"},
                                                       {Activation::Tanh, "tanh", "tanh"}};
    return c;
}
template <> const std::vector<ChoiceName<BackboneKind>>& choicesOf() {
    static const std::vector<ChoiceName<BackboneKind>> c{
        {BackboneKind::Auto, "auto", "auto (embedding bag for text, else none)"},
        {BackboneKind::None, "none", "none (raw features)"},
        {BackboneKind::Mlp, "mlp", "MLP layer"},
        {BackboneKind::Cnn, "cnn", "small CNN (images)"},
        {BackboneKind::EmbeddingBag, "embedding-bag", "embedding bag (text)"},
        {BackboneKind::Transformer, "transformer", "Transformer encoder (text)"}};
    return c;
}
template <> const std::vector<ChoiceName<DistillKind>>& choicesOf() {
    static const std::vector<ChoiceName<DistillKind>> c{
        {DistillKind::MseMean, "mse-mean", "MSE to the experts' mean"},
        {DistillKind::MsePairwise, "mse-pairwise", "MSE over all pairs"},
        {DistillKind::Kl, "kl", "KL on softened outputs"}};
    return c;
}
template <> const std::vector<ChoiceName<OptimizerKind>>& choicesOf() {
    static const std::vector<ChoiceName<OptimizerKind>> c{
        {OptimizerKind::Adam, "adam", "Adam"},
        {OptimizerKind::AdamW, "adamw", "AdamW"},
        {OptimizerKind::Sgd, "sgd", "SGD with momentum"}};
    return c;
}
template <> const std::vector<ChoiceName<KeepModels>>& choicesOf() {
    static const std::vector<ChoiceName<KeepModels>> c{
        {KeepModels::Last, "last", "The last epoch's"},
        {KeepModels::Best, "best", "Also the best validation epoch's"},
        {KeepModels::Every, "every", "Every epoch's"}};
    return c;
}

double distillationScale(DistillKind kind, bool detachTeacher, int experts) {
    if (kind == DistillKind::Kl || experts < 2) return std::nan("");
    const double e = experts;
    if (detachTeacher) return e / (e - 1);
    return kind == DistillKind::MsePairwise ? 2 * e / (e - 1) : 1.0;
}

} // namespace mode

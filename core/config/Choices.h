// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The enumerated settings: each choice's name (as written in experiment files, flags and the
// form), a short label for the form, and the enum the engine switches on. The engine parses a
// name once, when a model or trainer is built, and never compares text per step.

#include <stdexcept>
#include <string>
#include <vector>

namespace mode {

enum class DataFormat { Auto, Csv, Idx, Tsv };
enum class TaskKind { Auto, Classification, Regression };
enum class ImputeKind { None, Mean };
enum class ModelKind { Moe, Dense, Ensemble };
enum class GateKind { Dense, TopK };
enum class Activation { Relu, Gelu, Tanh };
enum class BackboneKind { Auto, None, Mlp, Cnn, EmbeddingBag, Transformer };
enum class DistillKind { MseMean, MsePairwise, Kl };
enum class OptimizerKind { Adam, AdamW, Sgd };
// What alpha = 1 means for each distillation variant: the gradient it puts on the experts, as a
// multiple of mse-mean's without detach (the unit), for E experts. The variants keep the
// definitions of ../shared/design/mode-method.md (a reader can check each against its formula),
// so alpha is not comparable across them; the form, --help and the report show this factor.
//   mse-mean: 1; with detach teacher E/(E-1) (the pull towards the OTHER experts' mean);
//   mse-pairwise: 2E/(E-1) (each pair pulls on both experts); with detach teacher E/(E-1);
//   kl: none (a divergence of softened distributions, not a squared error).
// The loss tests check each factor against the gradients themselves.
double distillationScale(DistillKind kind, bool detachTeacher, int experts); // NaN for kl, E < 2

// Not of the experiment but of how it is stored (mode-train --keep-models): the models a run's
// store keeps beside the last epoch's (which its checkpoint holds).
enum class KeepModels { Last, Best, Every };

template <class E> struct ChoiceName {
    E value;
    const char* name;  // in files, flags and the store: "mse-mean"
    const char* label; // in the form: "MSE to the experts' mean"
};

// Every choice of E, in the order the form and the help list them (specialised in Choices.cpp).
template <class E> const std::vector<ChoiceName<E>>& choicesOf();
template <> const std::vector<ChoiceName<DataFormat>>& choicesOf<DataFormat>();
template <> const std::vector<ChoiceName<TaskKind>>& choicesOf<TaskKind>();
template <> const std::vector<ChoiceName<ImputeKind>>& choicesOf<ImputeKind>();
template <> const std::vector<ChoiceName<ModelKind>>& choicesOf<ModelKind>();
template <> const std::vector<ChoiceName<GateKind>>& choicesOf<GateKind>();
template <> const std::vector<ChoiceName<Activation>>& choicesOf<Activation>();
template <> const std::vector<ChoiceName<BackboneKind>>& choicesOf<BackboneKind>();
template <> const std::vector<ChoiceName<DistillKind>>& choicesOf<DistillKind>();
template <> const std::vector<ChoiceName<OptimizerKind>>& choicesOf<OptimizerKind>();
template <> const std::vector<ChoiceName<KeepModels>>& choicesOf<KeepModels>();

// "a, b or c" (or "a, b and c") for messages.
inline std::string joinOr(const std::vector<std::string>& names, const std::string& last = "or") {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out += (i == 0 ? "" : i + 1 == names.size() ? " " + last + " " : ", ") + names[i];
    return out;
}
template <class E> std::vector<std::string> choiceNames() {
    std::vector<std::string> names;
    for (const auto& c : choicesOf<E>())
        names.push_back(c.name);
    return names;
}
template <class E> std::string choiceList() {
    return joinOr(choiceNames<E>());
}

// The enum for a name; std::invalid_argument naming `field` and the choices otherwise.
template <class E> E parseChoice(const std::string& name, const std::string& field) {
    for (const auto& c : choicesOf<E>())
        if (name == c.name) return c.value;
    throw std::invalid_argument(field + ": must be " + choiceList<E>() + ", not '" + name + "'");
}

template <class E> const char* choiceName(E value) {
    for (const auto& c : choicesOf<E>())
        if (c.value == value) return c.name;
    throw std::logic_error("choiceName: a value without a name");
}

} // namespace mode

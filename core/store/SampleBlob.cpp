// SPDX-License-Identifier: GPL-3.0-or-later
#include "store/SampleBlob.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace mode {
namespace {

// MSR1: the rows. MSR2: the rows, then the experts' similarity matrix (experts^2 float32), then
// k (uint8) and, for a top-k gate, each row's k experts (uint8) and weights (uint16).
constexpr char kMagic1[4] = {'M', 'S', 'R', '1'};
constexpr char kMagic2[4] = {'M', 'S', 'R', '2'};

template <typename T> void put(std::string& out, T value) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T)); // little-endian, as every machine this builds for
    out.append(bytes, sizeof(T));
}

template <typename T> T take(const std::string& in, std::size_t& at) {
    if (at + sizeof(T) > in.size())
        throw std::runtime_error("the per-sample routing is cut short (" +
                                 std::to_string(in.size()) + " bytes)");
    T value;
    std::memcpy(&value, in.data() + at, sizeof(T));
    at += sizeof(T);
    return value;
}

// A class id (classification) or a value (regression).
void putLabel(std::string& out, float v, bool classification) {
    if (classification)
        put<std::uint16_t>(out, static_cast<std::uint16_t>(v));
    else
        put<float>(out, v);
}
float takeLabel(const std::string& in, std::size_t& at, bool classification) {
    return classification ? static_cast<float>(take<std::uint16_t>(in, at)) : take<float>(in, at);
}

// A gate weight in [0, 1] as 16-bit fixed point.
std::uint16_t weight16(float w) {
    return static_cast<std::uint16_t>(std::lround(std::clamp(w, 0.0f, 1.0f) * 65535.0f));
}

} // namespace

std::string encodeSamples(const SampleRouting& s) {
    const auto n = s.size();
    const bool similarity =
        s.similarity.size() == static_cast<std::size_t>(s.experts) * s.experts && s.experts > 0;
    std::string out(similarity ? kMagic2 : kMagic1, 4);
    put<std::uint8_t>(out, s.classification ? 1 : 0);
    put<std::uint16_t>(out, static_cast<std::uint16_t>(s.experts));
    put<std::uint32_t>(out, static_cast<std::uint32_t>(n));
    out.reserve(out.size() + n * (s.classification ? 13 : 19));
    for (std::size_t i = 0; i < n; ++i) {
        put<std::uint32_t>(out, static_cast<std::uint32_t>(i < s.row.size() ? s.row[i] : i));
        putLabel(out, s.label[i], s.classification);
        put<std::uint8_t>(out, s.topExpert[i]);
        put<std::uint16_t>(out, weight16(s.topWeight[i]));
        putLabel(out, s.prediction[i], s.classification);
        putLabel(out, s.expertPrediction[i], s.classification);
    }
    if (similarity) {
        for (float v : s.similarity)
            put<float>(out, v);
        // A top-k gate's k experts of each row with their weights (k = 0: a dense gate).
        const bool topK = s.k > 0 && s.k < 256 &&
                          s.gateExperts.size() == n * static_cast<std::size_t>(s.k) &&
                          s.gateWeights.size() == s.gateExperts.size();
        put<std::uint8_t>(out, static_cast<std::uint8_t>(topK ? s.k : 0));
        if (topK)
            for (std::size_t i = 0; i < s.gateExperts.size(); ++i) {
                put<std::uint8_t>(out, s.gateExperts[i]);
                put<std::uint16_t>(out, weight16(s.gateWeights[i]));
            }
    }
    return out;
}

SampleRouting decodeSamples(const std::string& in) {
    const bool v2 = in.size() >= 4 && std::memcmp(in.data(), kMagic2, 4) == 0;
    if (in.size() < 11 || (!v2 && std::memcmp(in.data(), kMagic1, 4) != 0))
        throw std::runtime_error("the per-sample routing is not in a format this version reads");
    std::size_t at = 4;
    SampleRouting s;
    s.classification = take<std::uint8_t>(in, at) != 0;
    s.experts = take<std::uint16_t>(in, at);
    const auto n = take<std::uint32_t>(in, at);
    if (n > in.size()) throw std::runtime_error("the per-sample routing is damaged");
    for (std::uint32_t i = 0; i < n; ++i) {
        s.row.push_back(take<std::uint32_t>(in, at));
        s.label.push_back(takeLabel(in, at, s.classification));
        s.topExpert.push_back(take<std::uint8_t>(in, at));
        s.topWeight.push_back(static_cast<float>(take<std::uint16_t>(in, at)) / 65535.0f);
        s.prediction.push_back(takeLabel(in, at, s.classification));
        s.expertPrediction.push_back(takeLabel(in, at, s.classification));
    }
    if (v2) {
        const auto cells = static_cast<std::size_t>(s.experts) * s.experts;
        if (cells * sizeof(float) > in.size())
            throw std::runtime_error("the per-sample routing is damaged");
        for (std::size_t k = 0; k < cells; ++k)
            s.similarity.push_back(take<float>(in, at));
        s.k = take<std::uint8_t>(in, at);
        for (std::size_t i = 0; i < static_cast<std::size_t>(n) * s.k; ++i) {
            s.gateExperts.push_back(take<std::uint8_t>(in, at));
            s.gateWeights.push_back(static_cast<float>(take<std::uint16_t>(in, at)) / 65535.0f);
        }
    }
    if (at != in.size()) throw std::runtime_error("the per-sample routing has trailing bytes");
    return s;
}

void requireSamplesInRange(const SampleRouting& s, int experts, std::size_t classes) {
    auto bad = [](const std::string& what, std::size_t i, double value, const std::string& limit) {
        throw std::runtime_error(
            "the per-sample routing is damaged: sample " + std::to_string(i) + " has " + what +
            " " + std::to_string(static_cast<long long>(value)) + " (" + limit + ")");
    };
    const std::string expertLimit = "the run has " + std::to_string(experts) + " experts";
    if (s.experts != experts)
        throw std::runtime_error("the per-sample routing is damaged: it has " +
                                 std::to_string(s.experts) + " experts, " + expertLimit);
    if (s.k < 0 || s.k > experts)
        throw std::runtime_error("the per-sample routing is damaged: top-" + std::to_string(s.k) +
                                 " of " + std::to_string(experts) + " experts");
    for (std::size_t i = 0; i < s.size(); ++i)
        if (s.topExpert[i] >= experts) bad("top expert", i, s.topExpert[i], expertLimit);
    for (std::size_t j = 0; j < s.gateExperts.size(); ++j)
        if (s.gateExperts[j] >= experts)
            bad("gate expert", j / static_cast<std::size_t>(std::max(s.k, 1)), s.gateExperts[j],
                expertLimit);
    if (!s.classification || classes == 0) return;
    const std::string classLimit = "the run has " + std::to_string(classes) + " classes";
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s.label[i] >= static_cast<float>(classes)) bad("label", i, s.label[i], classLimit);
        if (s.prediction[i] >= static_cast<float>(classes))
            bad("prediction", i, s.prediction[i], classLimit);
        if (s.expertPrediction[i] >= static_cast<float>(classes))
            bad("expert prediction", i, s.expertPrediction[i], classLimit);
    }
}

} // namespace mode

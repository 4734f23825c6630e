// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/TextLoader.h"

#include "util/Utf8.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <unordered_map>

namespace mode {

namespace {
[[noreturn]] void fail(const std::string& source, std::int64_t line, const std::string& what) {
    throw DataError(source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
}
} // namespace

std::vector<std::string> tokenize(const std::string& text) {
    std::vector<std::string> tokens;
    std::string current;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c >= 0x80) {
            current += static_cast<char>(c < 0x80 ? std::tolower(c) : c);
        } else if (!current.empty()) {
            tokens.push_back(std::move(current));
            current.clear();
        }
    }
    if (!current.empty()) tokens.push_back(std::move(current));
    return tokens;
}

Dataset loadTsvText(const std::string& text, const std::string& source) {
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
        fail(source, 0, "the file is empty (expected label<TAB>text lines)");
    const std::size_t probe = std::min<std::size_t>(text.size(), 4096);
    for (std::size_t i = 0; i < probe; ++i)
        if (text[i] == '\0')
            fail(source, 0,
                 "this is a binary file, not text (a NUL byte at offset " + std::to_string(i) +
                     ")");
    requireUtf8Text(text, source);
    Dataset d;
    d.name = printable(
        std::filesystem::path(source).filename().string()); // a file name need not be UTF-8
    d.source = source;
    d.task = TaskType::Classification;
    std::map<std::string, std::int64_t> classIndex;
    std::vector<std::string> rowLabels;
    std::istringstream in(text);
    std::string line;
    std::int64_t lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue; // blank lines are allowed
        const auto tab = line.find('\t');
        if (tab == std::string::npos) fail(source, lineNo, "no TAB: each line is label<TAB>text");
        std::string label = line.substr(0, tab);
        while (!label.empty() && label.back() == ' ')
            label.pop_back();
        while (!label.empty() && label.front() == ' ')
            label.erase(label.begin());
        if (label.empty()) fail(source, lineNo, "the label before the TAB is empty");
        auto tokens = tokenize(line.substr(tab + 1));
        if (tokens.empty()) fail(source, lineNo, "the text after the TAB has no words");
        rowLabels.push_back(label);
        classIndex.emplace(label, 0);
        d.tokens.push_back(std::move(tokens));
    }
    if (classIndex.size() < 2)
        fail(source, 0,
             "only one label ('" + (rowLabels.empty() ? std::string() : rowLabels[0]) +
                 "'): classification needs two or more");
    std::int64_t next = 0;
    for (auto& [name, index] : classIndex) {
        index = next++;
        d.classNames.push_back(name);
    }
    for (const auto& l : rowLabels)
        d.labels.push_back(classIndex[l]);
    d.rows = static_cast<std::int64_t>(d.tokens.size());
    d.sizeBytes = text.size();
    d.contentHash = fnv1a64Hex(text.data(), text.size());
    return d;
}

Dataset loadTsvFile(const std::string& path, const LoadProgress& progress) {
    // Tokens as strings: about ten times the text.
    return loadTsvText(readDataFile(path, 10, progress), path);
}

void encodeText(Dataset& d, const std::vector<std::int64_t>& trainRows, const TextOptions& o) {
    std::unordered_map<std::string, std::int64_t> counts;
    for (auto r : trainRows)
        for (const auto& t : d.tokens[static_cast<std::size_t>(r)])
            ++counts[t];
    std::vector<std::pair<std::string, std::int64_t>> kept;
    for (const auto& [word, n] : counts)
        if (n >= o.minFrequency) kept.emplace_back(word, n);
    std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (static_cast<int>(kept.size()) > o.maxVocabulary)
        kept.resize(static_cast<std::size_t>(o.maxVocabulary));
    std::vector<std::string> vocabulary = {"<pad>", "<unk>"};
    for (const auto& [word, n] : kept)
        vocabulary.push_back(word);
    encodeTextWith(d, std::move(vocabulary), o.maxLength);
}

void encodeTextWith(Dataset& d, std::vector<std::string> vocabulary, std::int64_t maxLength) {
    d.vocabulary = std::move(vocabulary);
    std::unordered_map<std::string, std::int64_t> id;
    for (std::size_t k = 2; k < d.vocabulary.size(); ++k)
        id.emplace(d.vocabulary[k], static_cast<std::int64_t>(k));
    d.cols = maxLength;
    d.features.assign(static_cast<std::size_t>(d.rows * d.cols), static_cast<float>(kPadToken));
    for (std::int64_t r = 0; r < d.rows; ++r) {
        const auto& tokens = d.tokens[static_cast<std::size_t>(r)];
        const std::size_t n =
            std::min<std::size_t>(tokens.size(), static_cast<std::size_t>(maxLength));
        for (std::size_t i = 0; i < n; ++i) {
            auto it = id.find(tokens[i]);
            d.features[static_cast<std::size_t>(r * d.cols) + i] =
                static_cast<float>(it == id.end() ? kUnknownToken : it->second);
        }
    }
    d.standardise.assign(static_cast<std::size_t>(d.cols), false);
    d.featureNames.clear();
    for (std::int64_t i = 0; i < d.cols; ++i)
        d.featureNames.push_back("token" + std::to_string(i));
}

} // namespace mode

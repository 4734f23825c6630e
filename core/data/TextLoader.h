// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Text classification data: `label<TAB>text` lines (.tsv). Text is tokenised (lower case, split
// on anything that is not a letter or a digit; UTF-8 letters are kept); the vocabulary is built
// from the training split only (minimum frequency, maximum size, an unknown token) and each row
// becomes a fixed-length sequence of token ids (0 pads, 1 is unknown).

#include "data/Dataset.h"

#include <string>
#include <vector>

namespace mode {

struct TextOptions {
    int minFrequency = 2;      // words seen fewer times in the training rows are unknown
    int maxVocabulary = 20000; // most frequent words kept (ids 2..), ties broken alphabetically
    int maxLength = 64;        // tokens per row; longer texts are cut
};

std::vector<std::string> tokenize(const std::string& text);

// Reads label<TAB>text lines; `source` names the text in messages. Throws DataError with the
// file, the line and the reason for a malformed file.
Dataset loadTsvText(const std::string& text, const std::string& source);
Dataset loadTsvFile(const std::string& path, const LoadProgress& progress = {});

// Builds the vocabulary from the training rows and encodes every row (fills features, cols,
// vocabulary). Call once, after the split.
void encodeText(Dataset& d, const std::vector<std::int64_t>& trainRows, const TextOptions& options);
// Encodes every row with a vocabulary made before (a stored run's: 0 pads, 1 unknown).
void encodeTextWith(Dataset& d, std::vector<std::string> vocabulary, std::int64_t maxLength);

constexpr std::int64_t kPadToken = 0, kUnknownToken = 1;

} // namespace mode

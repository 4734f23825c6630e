// SPDX-License-Identifier: GPL-3.0-or-later
// Text data: label<TAB>text lines, tokenizing, the vocabulary and encoding.
#include "FuzzSupport.h"
#include "data/TextLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mode;
    const std::string text(reinterpret_cast<const char*>(data), size);
    fuzz::refusedCleanly([&] {
        Dataset d = loadTsvText(text, "fuzz.tsv");
        std::vector<std::int64_t> rows;
        for (std::int64_t r = 0; r < d.rows; r += 2)
            rows.push_back(r);
        TextOptions o;
        o.minFrequency = 1;
        o.maxVocabulary = 50;
        o.maxLength = 8;
        encodeText(d, rows, o);
    });
    return 0;
}

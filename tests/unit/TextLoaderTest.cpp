// SPDX-License-Identifier: GPL-3.0-or-later
// Text data: the tokenizer, label<TAB>text files and their errors, a vocabulary built from the
// training rows only, and the encoding into fixed-length token ids.

#include "data/TextLoader.h"
#include "data/DatasetFactory.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

using namespace mode;

namespace {
std::string errorOf(const std::string& text) {
    try {
        loadTsvText(text, "t.tsv");
    } catch (const DataError& e) {
        return e.what();
    }
    return "no error";
}
} // namespace

TEST(TextLoader, TokenizerLowersAndSplitsOnNonAlphanumerics) {
    EXPECT_EQ(tokenize("Hello, World! C++17 isn't x86_64"),
              (std::vector<std::string>{"hello", "world", "c", "17", "isn", "t", "x86", "64"}));
    EXPECT_EQ(tokenize("Übung   macht\tmeister"), (std::vector<std::string>{"\xC3\x9c"
                                                                            "bung",
                                                                            "macht", "meister"}))
        << "UTF-8 letters stay inside words (only ASCII is lowered)";
    EXPECT_TRUE(tokenize(" ,;. ").empty());
}

TEST(TextLoader, ReadsLabelTabTextLines) {
    Dataset d = loadTsvText("pos\tA fine day\nneg\tawful, awful weather\r\n\npos\tfine\n", "t.tsv");
    EXPECT_EQ(d.rows, 3);
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"neg", "pos"}));
    EXPECT_EQ(d.labels, (std::vector<std::int64_t>{1, 0, 1}));
    EXPECT_EQ(d.tokens[1], (std::vector<std::string>{"awful", "awful", "weather"}));
    EXPECT_TRUE(d.isText());
}

TEST(TextLoader, EachKindOfBadFileNamesTheLine) {
    EXPECT_CONTAINS(errorOf("a\tx y\nno tab here\n"), "t.tsv:2: no TAB");
    EXPECT_CONTAINS(errorOf("a\tx\n\ty z\n"), "t.tsv:2: the label before the TAB is empty");
    EXPECT_CONTAINS(errorOf("a\tx\nb\t ... !!\n"), "t.tsv:2: the text after the TAB has no words");
    EXPECT_CONTAINS(errorOf("a\tx\na\ty\n"), "only one label ('a')");
    EXPECT_CONTAINS(errorOf(""), "t.tsv: the file is empty");
    EXPECT_CONTAINS(errorOf(std::string("a\tb\0c", 5)), "binary file");
}

TEST(TextLoader, VocabularyComesFromTheTrainingRowsOnly) {
    // Rows 0-2 train, row 3 is held out: its word "secret" must be unknown.
    Dataset d = loadTsvText("x\tcat dog cat\ny\tdog bird\nx\tcat fish\ny\tsecret cat\n", "t.tsv");
    TextOptions o;
    o.minFrequency = 2;
    o.maxLength = 4;
    encodeText(d, {0, 1, 2}, o);
    // Training counts: cat 3, dog 2, bird 1, fish 1: with min frequency 2, cat (id 2), dog (id 3).
    EXPECT_EQ(d.vocabulary, (std::vector<std::string>{"<pad>", "<unk>", "cat", "dog"}));
    EXPECT_EQ(d.cols, 4);
    auto row = [&](int r) {
        return std::vector<float>(d.features.begin() + r * 4, d.features.begin() + r * 4 + 4);
    };
    EXPECT_EQ(row(0), (std::vector<float>{2, 3, 2, 0}));
    EXPECT_EQ(row(1), (std::vector<float>{3, 1, 0, 0})) << "bird is rare: unknown";
    EXPECT_EQ(row(3), (std::vector<float>{1, 2, 0, 0})) << "secret is only in a held-out row";
    EXPECT_EQ(d.standardise, std::vector<bool>(4, false));
}

TEST(TextLoader, VocabularyLimitAndTruncation) {
    Dataset d = loadTsvText("x\tb a c a b a\ny\tc c d\n", "t.tsv");
    TextOptions o;
    o.minFrequency = 1;
    o.maxVocabulary = 2;
    o.maxLength = 3;
    encodeText(d, {0, 1}, o);
    // Counts a 3, c 3, b 2, d 1: the two most frequent, ties alphabetical: a, c.
    EXPECT_EQ(d.vocabulary, (std::vector<std::string>{"<pad>", "<unk>", "a", "c"}));
    EXPECT_EQ(std::vector<float>(d.features.begin(), d.features.begin() + 3),
              (std::vector<float>{1, 2, 3}));
}

TEST(TextLoader, FormatIsRecognisedFromTheFile) {
    test::TempDir dir;
    EXPECT_TRUE(looksLikeTsv(dir.file("a.tsv", "x,y\n")));
    EXPECT_FALSE(looksLikeTsv(dir.file("a.csv", "x\ty\n")));
    EXPECT_TRUE(looksLikeTsv(dir.file("a.txt", "pos\tgood film\n")));
    EXPECT_FALSE(looksLikeTsv(dir.file("b.txt", "a,b\n1,2\n")));
    DataConfig c;
    c.path = dir.file("reviews.txt", "pos\tgood film\nneg\tbad film\n");
    EXPECT_TRUE(loadDataset(c).isText());
}

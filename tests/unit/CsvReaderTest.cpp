// SPDX-License-Identifier: GPL-3.0-or-later
// The streaming CSV reader: a file read in blocks must give exactly what the same text gives in
// memory, wherever the block boundaries fall; long loads report progress and can be stopped;
// hostile files are refused at the block that shows it.
#include "data/CsvReader.h"
#include "data/CsvLoader.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

using namespace mode;

namespace {

struct Record {
    std::int64_t line;
    std::vector<std::string> fields;
    bool operator==(const Record& o) const { return line == o.line && fields == o.fields; }
};

std::vector<Record> readAll(CsvReader& reader) {
    std::vector<Record> out;
    while (reader.next())
        out.push_back({reader.line(), {reader.fields().begin(), reader.fields().end()}});
    return out;
}

// A BOM, quoted delimiters, "" pairs, a line end inside quotes, CRLF, a lone CR, blank lines,
// spaces around fields and no line end at the end.
const std::string kTricky = "\xEF\xBB\xBF"
                            "name, note ,y\r\n"
                            "\"a,b\",\"say \"\"hi\"\"\",1\n"
                            "\n"
                            "\"two\nlines\" ,plain,2\r"
                            "c,\"\"\"\",3\n"
                            "  \n"
                            "d,  spaced out  ,4";

} // namespace

TEST(CsvReader, TheTrickyTextReadsAsWorkedOutByHand) {
    CsvReader reader(kTricky, "t.csv", ',');
    const std::vector<Record> expected{
        {1, {"name", "note", "y"}},
        {2, {"a,b", "say \"hi\"", "1"}},
        {4, {"two\nlines", "plain", "2"}},
        {5, {"c", "\"", "3"}}, // a lone CR ends a record without a new line
        {6, {""}},             // spaces alone make one empty field
        {7, {"d", "spaced out", "4"}},
    };
    EXPECT_EQ(readAll(reader), expected);
    EXPECT_EQ(reader.contentHash(), fnv1a64Hex(kTricky.data(), kTricky.size()));
}

TEST(CsvReader, EveryBlockSizeGivesWhatTheWholeTextGives) {
    test::TempDir dir;
    const std::string path = dir.file("t.csv", kTricky);
    CsvReader whole(kTricky, path, ',');
    const auto expected = readAll(whole);
    for (std::size_t block = 1; block <= kTricky.size() + 1; ++block) {
        std::vector<std::uint64_t> done;
        CsvReader reader(
            path, ',',
            [&](std::uint64_t d, std::uint64_t total) {
                EXPECT_EQ(total, kTricky.size());
                done.push_back(d);
                return true;
            },
            block);
        EXPECT_EQ(readAll(reader), expected) << "block of " << block << " bytes";
        EXPECT_EQ(reader.contentHash(), fnv1a64Hex(kTricky.data(), kTricky.size()));
        EXPECT_EQ(reader.bytesRead(), kTricky.size());
        ASSERT_FALSE(done.empty());
        EXPECT_TRUE(std::is_sorted(done.begin(), done.end()));
        EXPECT_EQ(done.back(), kTricky.size());
    }
}

TEST(CsvReader, ErrorsNameTheSameLineWhateverTheBlocks) {
    test::TempDir dir;
    const std::string text = "a,y\n1,p\n\"2,q\n3,p\n";
    const std::string path = dir.file("u.csv", text);
    for (std::size_t block : {1, 2, 3, 5, 64}) {
        CsvReader reader(path, ',', {}, block);
        try {
            readAll(reader);
            FAIL() << "no error";
        } catch (const DataError& e) {
            EXPECT_CONTAINS(e.what(),
                            "u.csv:3: a quoted field opened on this line is never closed");
        }
    }
}

TEST(CsvReader, AStoppedLoadEndsAtTheNextBlock) {
    test::TempDir dir;
    std::string text = "a,b,y\n";
    for (int i = 0; i < 20000; ++i)
        text += std::to_string(i) + "," + std::to_string(i % 7) + "," + (i % 2 ? "p" : "q") + "\n";
    const std::string path = dir.file("big.csv", text);
    int calls = 0;
    try {
        loadCsvFile(path, {}, [&](std::uint64_t, std::uint64_t) { return ++calls < 1; });
        FAIL() << "the load went on";
    } catch (const LoadStopped& e) {
        EXPECT_CONTAINS(e.what(), "big.csv: loading was stopped");
    }
    EXPECT_EQ(calls, 1);
    // Unstopped, the same file loads, and the progress ends at its size.
    std::uint64_t last = 0, size = 0;
    const auto d = loadCsvFile(path, {}, [&](std::uint64_t done, std::uint64_t total) {
        last = done;
        size = total;
        return true;
    });
    EXPECT_EQ(d.rows, 20000);
    EXPECT_EQ(size, text.size());
    EXPECT_EQ(last, text.size());
    EXPECT_EQ(d.contentHash, fnv1a64Hex(text.data(), text.size()));
}

TEST(CsvReader, ABinaryByteLateInTheFileIsRefusedWithItsLineAndOffset) {
    test::TempDir dir;
    std::string text = "a,y\n";
    for (int i = 0; i < 30000; ++i)
        text += i % 2 ? "1,p\n" : "2,q\n";
    // Past the first 64 KiB (checked before reading) and past the first block.
    const std::size_t offset = text.size(); // 4 + 30000 * 4 = 120004, on line 30002
    text += "3,\x01\n";
    const std::string path = dir.file("late.csv", text);
    for (std::size_t block : {4096, 1 << 20}) {
        CsvReader reader(path, ',', {}, block);
        try {
            readAll(reader);
            FAIL() << "no error";
        } catch (const DataError& e) {
            EXPECT_CONTAINS(e.what(), "late.csv:30002: binary data (byte 0x01 at offset " +
                                          std::to_string(offset + 2) + ")");
        }
    }
}

TEST(CsvReader, AFileWithoutLineEndsIsRefusedPastTheRecordLimit) {
    test::TempDir dir;
    const std::string path =
        dir.file("one-line.csv", "a,b\n1," + std::string(CsvReader::kMaxRecordBytes + 16, '7'));
    try {
        loadCsvFile(path);
        FAIL() << "no error";
    } catch (const DataError& e) {
        EXPECT_CONTAINS(e.what(), "one-line.csv:2: a record of more than 64 MiB");
    }
}

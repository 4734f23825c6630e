// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/CsvLoader.h"

#include "TestSupport.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>

using namespace mode;

namespace {
// The message of the DataError that loading `text` raises, or "" when it loads.
std::string errorOf(const std::string& text, CsvOptions o = {}) {
    try {
        loadCsvText(text, "data.csv", o);
    } catch (const DataError& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST(CsvLoader, NumericFeaturesAndStringLabels) {
    auto d = loadCsvText("a,b,label\n1,2.5,cat\n3,-1e2,dog\n5,0,cat\n", "data.csv");
    EXPECT_EQ(d.rows, 3);
    EXPECT_EQ(d.cols, 2);
    EXPECT_EQ(d.task, TaskType::Classification);
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"cat", "dog"}));
    EXPECT_EQ(d.labels, (std::vector<std::int64_t>{0, 1, 0}));
    EXPECT_EQ(d.features, (std::vector<float>{1, 2.5f, 3, -100, 5, 0}));
    EXPECT_EQ(d.standardise, (std::vector<bool>{true, true}));
}

TEST(CsvLoader, IntegerLabelsAreOrderedNumerically) {
    auto d = loadCsvText("x,y\n1,10\n2,2\n3,1\n4,2\n", "data.csv");
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"1", "2", "10"}));
    EXPECT_EQ(d.labels, (std::vector<std::int64_t>{2, 1, 0, 1}));
}

TEST(CsvLoader, TextColumnsAreOneHotEncoded) {
    auto d = loadCsvText("colour,size,y\nred,1,a\nblue,2,b\nred,3,a\n", "data.csv");
    EXPECT_EQ(d.featureNames, (std::vector<std::string>{"colour=blue", "colour=red", "size"}));
    EXPECT_EQ(d.features, (std::vector<float>{0, 1, 1, 1, 0, 2, 0, 1, 3}));
    EXPECT_EQ(d.standardise, (std::vector<bool>{false, false, true}));
}

TEST(CsvLoader, TargetChosenByNameAnywhere) {
    auto d = loadCsvText("species,w,h\nx,1,2\ny,3,4\n", "data.csv", CsvOptions{"species"});
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"x", "y"}));
    EXPECT_EQ(d.featureNames, (std::vector<std::string>{"w", "h"}));
}

TEST(CsvLoader, Rfc4180QuotingWithCommasQuotesNewlinesAndCrlf) {
    auto d = loadCsvText(
        "\"name, full\",v,y\r\n\"a \"\"quoted\"\", b\",1,p\r\n\"multi\nline\",2,q\r\n", "data.csv");
    EXPECT_EQ(d.rows, 2);
    EXPECT_EQ(d.featureNames[0], "name, full=a \"quoted\", b");
    EXPECT_EQ(d.featureNames[1], "name, full=multi\nline");
    auto recs = parseCsvRecords("a,b\n\"x\ny\",2\nz,3\n", "f");
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[2].line, 4) << "a quoted newline advances the line count";
}

TEST(CsvLoader, RegressionTargetDetectedFromNonIntegerValues) {
    auto d = loadCsvText("x,price\n1,2.5\n2,3.75\n3,1.0\n", "data.csv");
    EXPECT_EQ(d.task, TaskType::Regression);
    EXPECT_EQ(d.values, (std::vector<float>{2.5f, 3.75f, 1.0f}));
    CsvOptions o;
    o.task = TaskKind::Classification;
    EXPECT_EQ(loadCsvText("x,y\n1,2.5\n2,3.75\n", "data.csv", o).task, TaskType::Classification);
}

TEST(CsvLoader, SubtaskColumnIsKeptApartFromTheFeatures) {
    CsvOptions o;
    o.subtaskColumn = "group";
    auto d = loadCsvText("x,group,y\n1,g1,a\n2,g2,b\n3,g1,b\n", "data.csv", o);
    EXPECT_EQ(d.cols, 1);
    EXPECT_EQ(d.subtaskNames, (std::vector<std::string>{"g1", "g2"}));
    EXPECT_EQ(d.subtasks, (std::vector<std::int64_t>{0, 1, 0}));
}

TEST(CsvLoader, RaggedRowNamesTheLine) {
    auto m = errorOf("a,b,y\n1,2,p\n3,q\n");
    EXPECT_CONTAINS(m, "data.csv:3: ragged row: 2 fields, but the header has 3");
}

TEST(CsvLoader, TextInANumericColumnNamesLineColumnAndValue) {
    auto m = errorOf("a,b,y\n1,2,p\n3,4,q\n5,oops,p\n6,7,q\n");
    EXPECT_CONTAINS(m, "data.csv:4: column 'b': 'oops' is not a number");
}

TEST(CsvLoader, MissingTargetColumnListsTheColumns) {
    auto m = errorOf("a,b,y\n1,2,p\n", CsvOptions{"label"});
    EXPECT_CONTAINS(m, "the target column 'label' is not in the header (columns: a, b, y)");
}

TEST(CsvLoader, EmptyFile) {
    EXPECT_CONTAINS(errorOf(""), "data.csv: the file is empty");
    EXPECT_CONTAINS(errorOf("\n\n  \n"), "the file is empty");
}

TEST(CsvLoader, HeaderOnly) {
    EXPECT_CONTAINS(errorOf("a,b,y\n"), "data.csv:1: the file has a header but no data rows");
}

TEST(CsvLoader, BinaryJunk) {
    std::string junk("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
    EXPECT_CONTAINS(errorOf(junk), "binary data");
    EXPECT_CONTAINS(errorOf(junk), "not a text CSV file");
}

TEST(CsvLoader, MissingValuesNameRowAndColumnUnlessImputed) {
    const std::string text = "a,b,y\n1,2,p\n3,NA,q\n5,?,p\n";
    EXPECT_CONTAINS(errorOf(text), "data.csv:3: column 'b' is missing a value ('NA')");
    CsvOptions o;
    o.impute = ImputeKind::Mean;
    auto d = loadCsvText(text, "data.csv", o);
    EXPECT_TRUE(std::isnan(d.features[3])) << "filled after the split, from the training rows";
    fitOnTrainingRows(d, {0, 1, 2});
    EXPECT_FLOAT_EQ(d.features[3], 2.0f); // the mean of the one present value
    EXPECT_FLOAT_EQ(d.features[5], 2.0f);
}

TEST(CsvLoader, ImputationAndCategoryLevelsComeFromTheTrainingRowsOnly) {
    // Rows 0-2 train, row 3 is a test row with an extreme value and a level no training row has.
    const std::string text = "a,c,y\n1,u,p\n3,v,q\nNA,NA,p\n100,w,q\n";
    CsvOptions o;
    o.impute = ImputeKind::Mean;
    auto d = loadCsvText(text, "data.csv", o);
    ASSERT_EQ(d.cols, 4) << "a, c=u, c=v, c=w before the split";
    fitOnTrainingRows(d, {0, 1, 2});
    ASSERT_EQ(d.cols, 3) << "c=w, seen in no training row, is dropped";
    EXPECT_EQ(d.featureNames, (std::vector<std::string>{"a", "c=u", "c=v"}));
    // a: training mean (1 + 3) / 2 = 2, not the all-rows mean 104 / 3. c: training levels u, v
    // once each; the tie goes to the first level, u.
    EXPECT_EQ(std::vector<float>(d.features.begin() + 6, d.features.begin() + 9),
              (std::vector<float>{2, 1, 0}));
    // The test row's unseen level: all zeros in the group; its number stays as it is.
    EXPECT_EQ(std::vector<float>(d.features.begin() + 9, d.features.end()),
              (std::vector<float>{100, 0, 0}));
    ASSERT_EQ(d.categoricals.size(), 1u);
    EXPECT_EQ(d.categoricals[0].first, 1);
    EXPECT_EQ(d.categoricals[0].levels, (std::vector<std::string>{"u", "v"}));
    EXPECT_EQ(d.standardise, (std::vector<bool>{true, false, false}));
    // A column with no training value at all cannot be imputed: named.
    auto e = loadCsvText("a,b,y\n1,NA,p\n2,NA,q\n3,4,p\n", "data.csv", o);
    try {
        fitOnTrainingRows(e, {0, 1});
        FAIL() << "expected a DataError";
    } catch (const DataError& err) {
        EXPECT_NE(std::string(err.what()).find("column 'b' has no value in the training rows"),
                  std::string::npos)
            << err.what();
    }
}

TEST(CsvLoader, AValueBeyondFloatRangeIsRefusedNamingTheCell) {
    // 1e308 passed, became infinite in the float tensors, and the run "diverged at step 1".
    EXPECT_CONTAINS(errorOf("a,y\n1,p\n1e308,q\n3,p\n"), "data.csv:3: column 'a':");
    EXPECT_CONTAINS(errorOf("a,y\n1,p\n-1e39,q\n3,p\n"), "too large for 32-bit training");
    EXPECT_EQ(errorOf("a,y\n1,p\n3e38,q\n3,p\n"), "") << "within float's range";
}

TEST(CsvLoader, AFileThatCannotFitInMemoryIsRefusedBeforeItIsRead) {
    // A 1 TiB file (sparse: it takes no disk) with a valid header used to be read whole,
    // growing to the machine's memory with no output.
    test::TempDir dir;
    const std::string path = dir.file("huge.csv", "a,y\n1,p\n2,q\n");
    std::filesystem::resize_file(path, std::uintmax_t(1) << 40);
    const auto started = std::chrono::steady_clock::now();
    try {
        loadCsvFile(path);
        FAIL() << "a 1 TiB file was loaded";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("the file is 1024.0 GiB; loading it takes about"),
                  std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(2))
        << "refused without reading";
    // A binary file is refused from its first bytes, whatever its size.
    const std::string zeros = dir.file("zeros.csv", std::string(100000, '\0'));
    EXPECT_THROW(
        {
            try {
                loadCsvFile(zeros);
            } catch (const DataError& e) {
                EXPECT_NE(std::string(e.what()).find("binary data (a NUL byte at offset 0)"),
                          std::string::npos)
                    << e.what();
                throw;
            }
        },
        DataError);
}

TEST(CsvLoader, AnIdLikeTextTargetIsNotSentToRegression) {
    std::string text = "a,id\n";
    for (int i = 0; i < 1200; ++i)
        text += std::to_string(i % 7) + ",user" + std::to_string(i) + "\n";
    const auto e = errorOf(text);
    EXPECT_CONTAINS(e, "has 1200 classes (at most 1000)");
    EXPECT_CONTAINS(e, "likely an id or free text");
    EXPECT_EQ(e.find("regression"), std::string::npos) << e;
}

TEST(CsvLoader, AHugeClassNameIsRefused) {
    // A 10 MB target cell became a class name, copied into the store at every epoch.
    const std::string text = "a,y\n1,p\n2," + std::string(300, 'x') + "\n3,p\n";
    EXPECT_CONTAINS(errorOf(text), "data.csv:3: the target 'y' has a value of 300 characters");
}

TEST(CsvLoader, MissingTargetValueIsAlwaysAnError) {
    CsvOptions o;
    o.impute = ImputeKind::Mean;
    EXPECT_CONTAINS(errorOf("a,y\n1,p\n2,\n3,q\n", o), "data.csv:3: the target 'y' is missing");
}

TEST(CsvLoader, UnclosedQuoteNamesTheLineItOpensOn) {
    EXPECT_CONTAINS(errorOf("a,y\n1,p\n\"2,q\n3,p\n"),
                    "data.csv:3: a quoted field opened on this line is never closed");
}

TEST(CsvLoader, SingleClassTargetIsRejected) {
    EXPECT_CONTAINS(errorOf("a,y\n1,p\n2,p\n"), "has a single class");
}

TEST(CsvLoader, DuplicateHeaderNames) {
    EXPECT_CONTAINS(errorOf("a,a,y\n1,2,p\n"), "appears twice in the header");
}

TEST(CsvLoader, FileErrorsNameThePathAndTheFingerprintFollowsTheContent) {
    test::TempDir dir;
    auto path = dir.file("iris.csv", "w,species\n1,a\n2,b\n");
    auto d = loadCsvFile(path);
    EXPECT_EQ(d.name, "iris.csv");
    EXPECT_EQ(d.sizeBytes, 18u); // bytes of the file
    auto other = loadCsvFile(dir.file("other.csv", "w,species\n1,a\n3,b\n"));
    EXPECT_NE(d.contentHash, other.contentHash);
    try {
        loadCsvFile(dir / "absent.csv");
        FAIL();
    } catch (const DataError& e) {
        EXPECT_CONTAINS(e.what(), "absent.csv: cannot open the file");
    }
}

TEST(CsvLoader, PreviewReportsColumnsKindsAndRows) {
    test::TempDir dir;
    auto p = previewCsvFile(dir.file("p.csv", "a,b,c\n1,x,\n2,y,\n"));
    EXPECT_EQ(p.columns, (std::vector<std::string>{"a", "b", "c"}));
    EXPECT_EQ(p.kinds, (std::vector<std::string>{"numeric", "text", "empty"}));
    EXPECT_EQ(p.rows, 2);
}

TEST(CsvLoader, PreviewCountsTheValuesOfEachColumn) {
    test::TempDir dir;
    std::string text = "x,label\n";
    for (int i = 0; i < 150; ++i)
        text += std::to_string(i) + "," + (i % 3 == 0 ? "cat" : "dog") + "\n";
    auto p = previewCsvFile(dir.file("v.csv", text));
    ASSERT_EQ(p.values.size(), 2u);
    // 150 distinct numbers: past the limit, so no value list; the labels: 50 cats, 100 dogs.
    EXPECT_GT(p.distinctValues[0], static_cast<std::int64_t>(CsvPreview::kMaxValues));
    EXPECT_TRUE(p.values[0].empty());
    EXPECT_EQ(p.distinctValues[1], 2);
    using V = std::vector<std::pair<std::string, std::int64_t>>;
    EXPECT_EQ(p.values[1], (V{{"cat", 50}, {"dog", 100}}));
}

TEST(CsvLoader, PreviewRefusesARaggedFileNamingTheLine) {
    test::TempDir dir;
    try {
        previewCsvFile(dir.file("r.csv", "a,b\n1,2\n3\n"));
        FAIL() << "no error";
    } catch (const DataError& e) {
        EXPECT_CONTAINS(e.what(), "r.csv:3: ragged row: 1 fields, but the header has 2");
    }
}

// Found by fuzzing (tests/fuzz/corpus/csv/regression-bom-only.csv): a file holding only a UTF-8
// byte-order mark reached the header check with no records and read past an empty vector.
TEST(CsvLoader, AFileOfOnlyAByteOrderMarkIsEmpty) {
    test::TempDir dir;
    const std::string bom = "\xef\xbb\xbf";
    for (const std::string& text : {bom, bom + "\n\n"}) {
        try {
            previewCsvFile(dir.file("bom.csv", text));
            FAIL() << "no error";
        } catch (const DataError& e) {
            EXPECT_CONTAINS(e.what(), "bom.csv: the file is empty");
        }
        EXPECT_THROW(loadCsvText(text, "bom.csv"), DataError);
    }
}

// The preview says what loading would refuse, in the loader's words, for the options of the
// moment (target, impute, dropped columns), and describes each column with the reason for its
// kind.
TEST(CsvLoader, ThePreviewSaysWhatLoadingWouldRefuseAndWhy) {
    test::TempDir dir;
    std::string text = "a,f3,b,y\n";
    for (int i = 0; i < 10; ++i) // line 2 + i
        text += std::to_string(i) + "," + (i == 3 ? "abc" : std::to_string(i * 2)) + "," +
                (i == 1 ? "?" : "1.5") + "," + (i % 2 ? "p" : "q") + "\n";
    const std::string path = dir.file("mixed.csv", text);
    const auto p = previewCsvFile(path);
    EXPECT_EQ(describeCsvColumn(p, 0), "numeric");
    EXPECT_EQ(describeCsvColumn(p, 1), "9 of 10 values numeric; 'abc' at line 5 is not");
    EXPECT_EQ(describeCsvColumn(p, 2), "numeric, 1 missing ('?' at line 3)");
    EXPECT_EQ(describeCsvColumn(p, 3), "text, 2 values");

    const std::string problem = csvLoadProblem(p, {});
    EXPECT_EQ(problem, "line 5: column 'f3': 'abc' is not a number (9 of 10 values in this "
                       "column are numbers)");
    try { // the same words as the loader's, with the file named
        loadCsvFile(path);
        FAIL() << "loaded";
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()),
                  path + ":5: " + problem.substr(std::string("line 5: ").size()));
    }
    CsvOptions o;
    o.dropColumns = {"f3"};
    EXPECT_EQ(csvLoadProblem(p, o),
              "line 3: column 'b' is missing a value ('?'); fix the file or set impute to mean");
    o.impute = ImputeKind::Mean;
    EXPECT_EQ(csvLoadProblem(p, o), "") << "it loads";
    EXPECT_NO_THROW(loadCsvFile(path, o));
    o.target = "nope";
    EXPECT_CONTAINS(csvLoadProblem(p, o), "the target column 'nope' is not in the header");
    o.target = "a"; // ten distinct integers: classes, one row each
    EXPECT_EQ(csvLoadProblem(p, o), "");
}

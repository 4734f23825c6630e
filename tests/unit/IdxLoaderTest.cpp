// SPDX-License-Identifier: GPL-3.0-or-later
// IDX images and labels, raw and gzip: good files, the fixed test split, and each kind of bad file
// with the file, the byte offset and the reason.

#include "data/IdxLoader.h"
#include "data/DatasetFactory.h"

#include "TestSupport.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <filesystem>
#include <set>

using namespace mode;

namespace {

std::string header(int type, std::vector<std::uint32_t> dims) {
    std::string h{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
    for (auto d : dims)
        for (int shift : {24, 16, 8, 0})
            h += static_cast<char>((d >> shift) & 0xff);
    return h;
}

// n images of h x w where image i has every pixel equal to i, and labels i % classes.
std::string images(std::uint32_t n, std::uint32_t h, std::uint32_t w) {
    std::string s = header(0x08, {n, h, w});
    for (std::uint32_t i = 0; i < n; ++i)
        s += std::string(h * w, static_cast<char>(i));
    return s;
}
std::string labels(std::uint32_t n, int classes) {
    std::string s = header(0x08, {n});
    for (std::uint32_t i = 0; i < n; ++i)
        s += static_cast<char>(i % classes);
    return s;
}

std::string gzipFile(const std::string& path, const std::string& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
    return path;
}

std::string errorOf(const std::function<void()>& f) {
    try {
        f();
    } catch (const DataError& e) {
        return e.what();
    }
    return "no error";
}

} // namespace

TEST(IdxLoader, ReadsRawAndGzipFilesAlike) {
    test::TempDir dir;
    const std::string bytes = images(3, 2, 2);
    auto raw = readIdxFile(dir.file("raw-idx3-ubyte", bytes));
    auto gz = readIdxFile(gzipFile(dir / "gz-idx3-ubyte.gz", bytes));
    EXPECT_EQ(raw.dims, (std::vector<std::int64_t>{3, 2, 2}));
    EXPECT_EQ(gz.dims, raw.dims);
    EXPECT_EQ(gz.data, raw.data);
    ASSERT_EQ(raw.data.size(), 12u);
    EXPECT_EQ(raw.data[4], 1) << "image 1, first pixel";
}

TEST(IdxLoader, EachKindOfBadFileIsNamedWithItsOffset) {
    test::TempDir dir;
    auto error = [&](const std::string& name, const std::string& bytes) {
        const std::string path = dir.file(name, bytes);
        return errorOf([&] { readIdxFile(path); });
    };
    EXPECT_CONTAINS(error("short", std::string("\0\0", 2)),
                    "short: offset 0: too short for an IDX header (2 bytes)");
    EXPECT_CONTAINS(error("magic", std::string("\1\0\x08\x01", 4) + std::string("\0\0\0\1x", 5)),
                    "magic: offset 0: not an IDX file");
    EXPECT_CONTAINS(error("type", header(0x0D, {1}) + "abcd"),
                    "type: offset 2: element type float is not supported");
    EXPECT_CONTAINS(error("unknown", header(0x42, {1}) + "a"),
                    "unknown: offset 2: unknown element type");
    EXPECT_CONTAINS(error("dims", header(0x08, {})),
                    "dims: offset 3: an IDX file of images or labels has 1 to 4 dimensions, not 0");
    EXPECT_CONTAINS(
        error("cut", images(3, 2, 2).substr(0, 16 + 7)),
        "cut: offset 23: truncated: the dimensions need 12 bytes of data, the file has 7");
    EXPECT_CONTAINS(error("long", images(1, 2, 2) + "xyz"),
                    "long: offset 20: 3 bytes after the data");
    EXPECT_CONTAINS(error("zero", header(0x08, {0, 2, 2})), "zero: offset 4: dimension 1 is 0");
    EXPECT_CONTAINS(errorOf([&] { readIdxFile(dir / "absent"); }), "absent: cannot open the file");
    // Damaged gzip: a valid start, then junk.
    std::string gz = test::readFile(gzipFile(dir / "ok.gz", images(50, 8, 8)));
    gz.resize(gz.size() / 2);
    EXPECT_CONTAINS(error("broken.gz", gz), "broken.gz");
}

TEST(IdxLoader, AFolderBecomesADatasetWithTheFixedTestSplit) {
    test::TempDir dir;
    dir.file("train-images-idx3-ubyte", images(20, 4, 4));
    dir.file("train-labels-idx1-ubyte", labels(20, 2));
    gzipFile(dir / "t10k-images-idx3-ubyte.gz", images(6, 4, 4));
    gzipFile(dir / "t10k-labels-idx1-ubyte.gz", labels(6, 2));
    Dataset d = loadIdxDataset(findIdxFiles(dir.path().string()), "tiny");
    EXPECT_EQ(d.rows, 26);
    EXPECT_EQ(d.cols, 16);
    EXPECT_EQ(d.imageShape, (std::vector<std::int64_t>{1, 4, 4}));
    EXPECT_EQ(d.classNames, (std::vector<std::string>{"0", "1"}));
    EXPECT_FLOAT_EQ(d.features[5 * 16], 5 / 255.0f) << "pixels scaled to [0, 1]";
    EXPECT_FLOAT_EQ(d.features[(20 + 3) * 16], 3 / 255.0f)
        << "the test images follow the training images";
    EXPECT_EQ(d.labels[21], 1);
    ASSERT_EQ(d.presetTest.size(), 6u);
    EXPECT_EQ(d.presetTest.front(), 20);

    Split s = stratifiedSplit(d, 0.15, 0.15, 1);
    EXPECT_EQ(s.test, d.presetTest) << "the t10k rows are the test split";
    std::set<std::int64_t> seen(s.train.begin(), s.train.end());
    seen.insert(s.val.begin(), s.val.end());
    EXPECT_EQ(seen.size(), 20u);
    EXPECT_EQ(*seen.rbegin(), 19) << "validation and training come from the training files";
    EXPECT_EQ(s.val.size(), 4u) << "15% of the 20 training rows, per class (1.5 -> 2)";

    Dataset small = loadIdxDataset(findIdxFiles(dir.path().string()), "tiny", {}, 10);
    EXPECT_EQ(small.rows, 10 + 3) << "10 training rows and the same share (half) of the test rows";
}

TEST(IdxLoader, MismatchedFilesAreRefused) {
    test::TempDir dir;
    dir.file("train-images-idx3-ubyte", images(20, 4, 4));
    dir.file("train-labels-idx1-ubyte", labels(19, 2));
    dir.file("t10k-images-idx3-ubyte", images(6, 4, 4));
    dir.file("t10k-labels-idx1-ubyte", labels(6, 2));
    EXPECT_CONTAINS(errorOf([&] { loadIdxDataset(findIdxFiles(dir.path().string()), "x"); }),
                    "train-labels-idx1-ubyte: offset 4: 19 labels for 20 images");
    dir.file("train-labels-idx1-ubyte", labels(20, 2));
    dir.file("t10k-images-idx3-ubyte", images(6, 5, 4));
    EXPECT_CONTAINS(errorOf([&] { loadIdxDataset(findIdxFiles(dir.path().string()), "x"); }),
                    "images of 5x4 pixels");
    std::filesystem::remove(dir / "t10k-labels-idx1-ubyte");
    EXPECT_CONTAINS(errorOf([&] { findIdxFiles(dir.path().string()); }),
                    "no t10k-labels-idx1-ubyte");
}

TEST(IdxLoader, FashionMnistFromDebiansPackage) {
    if (!std::filesystem::is_directory(fashionMnistFolder()))
        GTEST_SKIP() << "dataset-fashion-mnist is not installed";
    const auto builtins = builtinDatasets();
    EXPECT_NE(std::find(builtins.begin(), builtins.end(), "fashion-mnist"), builtins.end());
    DataConfig c;
    c.dataset = "fashion-mnist";
    Dataset d = loadDataset(c);
    EXPECT_EQ(d.rows, 70000);
    EXPECT_EQ(d.cols, 784);
    EXPECT_EQ(d.presetTest.size(), 10000u);
    EXPECT_EQ(d.classNames.size(), 10u);
    EXPECT_EQ(d.classNames[9], "Ankle boot");
    std::vector<int> perClass(10, 0);
    for (auto r : d.presetTest)
        ++perClass[static_cast<std::size_t>(d.labels[static_cast<std::size_t>(r)])];
    for (int n : perClass)
        EXPECT_EQ(n, 1000) << "Fashion-MNIST's test set has 1,000 images of each class";
}

TEST(IdxLoader, ExplicitFilesOrOneFileOfTheFolder) {
    test::TempDir dir;
    dir.file("a-images", images(8, 3, 3));
    dir.file("a-labels", labels(8, 2));
    dir.file("b-images", images(4, 3, 3));
    dir.file("b-labels", labels(4, 2));
    DataConfig c;
    c.idxFiles = {dir / "a-images", dir / "a-labels", dir / "b-images", dir / "b-labels"};
    Dataset d = loadDataset(c);
    EXPECT_EQ(d.rows, 12);
    EXPECT_EQ(d.presetTest.size(), 4u);

    dir.file("train-images-idx3-ubyte", images(8, 3, 3));
    dir.file("train-labels-idx1-ubyte", labels(8, 2));
    dir.file("t10k-images-idx3-ubyte", images(2, 3, 3));
    dir.file("t10k-labels-idx1-ubyte", labels(2, 2));
    DataConfig one;
    one.path = dir / "train-images-idx3-ubyte";
    EXPECT_EQ(loadDataset(one).rows, 10) << "a file of the folder stands for the folder";

    ExperimentConfig bad;
    bad.data.idxFiles = {dir / "a-images", dir / "a-labels"};
    EXPECT_EQ(validate(bad).front().field, "data.idx_files");
}

// Few training images and the whole test set: 200 training images (100 of each class) beside
// 1,000 test images. The validation share is a share of the 200 (it used to be rescaled to all
// 1,200 rows: 0.15 x 1,200 / 200 = 0.9, and took 180 of the 200 for validation, silently).
TEST(IdxLoader, TheValidationShareIsOfTheTrainingFilesRowsAndTheTestSetStaysWhole) {
    test::TempDir dir;
    dir.file("train-images-idx3-ubyte", images(200, 4, 4));
    dir.file("train-labels-idx1-ubyte", labels(200, 2));
    dir.file("t10k-images-idx3-ubyte", images(1000, 4, 4));
    dir.file("t10k-labels-idx1-ubyte", labels(1000, 2));
    const Dataset d = loadIdxDataset(findIdxFiles(dir.path().string()), "few");
    Split s = stratifiedSplit(d, 0.15, 0.15, 1);
    EXPECT_EQ(s.test.size(), 1000u);
    EXPECT_EQ(s.val.size(), 30u) << "15 of each class's 100";
    EXPECT_EQ(s.train.size(), 170u);

    // data.max_train_rows 40: 20 of each class, 3 of them (0.15 x 20 = 3) for validation.
    s = stratifiedSplit(d, 0.15, 0.15, 1, 40);
    EXPECT_EQ(s.test.size(), 1000u) << "the cap never touches the test split";
    EXPECT_EQ(s.val.size(), 6u);
    EXPECT_EQ(s.train.size(), 34u);
    for (auto r : s.train)
        EXPECT_LT(r, 200) << "training rows come from the training files";

    // 0.6 of 200 for validation leaves 80 training rows against 120 validation rows: refused.
    EXPECT_EQ(errorOf([&] { stratifiedSplit(d, 0.6, 0.15, 1); }),
              "few: the split leaves 80 training and 120 validation rows of 200 (validation "
              "share 0.6; 1000 test rows): fewer training rows than validation rows; lower "
              "data.val_fraction");
    // A cap of 11: 6 and 5 rows (the tie's extra row to the first class), 1 + 1 for validation,
    // 9 training rows: fewer than the 10 a run needs.
    EXPECT_EQ(errorOf([&] { stratifiedSplit(d, 0.15, 0.15, 1, 11); }),
              "few: the split leaves 9 training and 2 validation rows of 11 (validation share "
              "0.15, data.max_train_rows 11; 1000 test rows): at least 10 training rows are "
              "needed");
    s = stratifiedSplit(d, 0.15, 0.15, 1, 12);
    EXPECT_EQ(s.train.size(), 10u);
}

// SPDX-License-Identifier: GPL-3.0-or-later
#include "data/IdxLoader.h"

#include <zlib.h>

#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace mode {

namespace {

[[noreturn]] void fail(const std::string& path, std::uint64_t offset, const std::string& what) {
    throw DataError(path + ": offset " + std::to_string(offset) + ": " + what);
}

// The whole file, decompressed if it is gzip (zlib reads raw files through as they are).
std::vector<std::uint8_t> readAll(const std::string& path) {
    if (!fs::exists(path)) throw DataError(path + ": cannot open the file: no such file");
    if (fs::is_directory(path)) throw DataError(path + ": is a folder, not an IDX file");
    gzFile f = gzopen(path.c_str(), "rb");
    if (!f) throw DataError(path + ": cannot open the file");
    std::vector<std::uint8_t> out;
    std::uint8_t buf[1 << 16];
    for (;;) {
        const int n = gzread(f, buf, sizeof buf);
        if (n < 0) {
            int err = 0;
            const std::string msg = gzerror(f, &err);
            gzclose(f);
            throw DataError(path + ": offset " + std::to_string(out.size()) +
                            ": the gzip data is damaged (" + msg + ")");
        }
        if (n == 0) break;
        out.insert(out.end(), buf, buf + n);
    }
    gzclose(f);
    return out;
}

} // namespace

IdxArray readIdxFile(const std::string& path) {
    const auto bytes = readAll(path);
    if (bytes.size() < 4)
        fail(path, 0, "too short for an IDX header (" + std::to_string(bytes.size()) + " bytes)");
    if (bytes[0] != 0 || bytes[1] != 0)
        fail(path, 0, "not an IDX file (the magic number must start with two zero bytes)");
    const int type = bytes[2], ndims = bytes[3];
    static const std::map<int, const char*> types{{0x08, "unsigned byte"}, {0x09, "signed byte"},
                                                  {0x0B, "short"},         {0x0C, "int"},
                                                  {0x0D, "float"},         {0x0E, "double"}};
    if (!types.count(type)) fail(path, 2, "unknown element type 0x" + std::to_string(type));
    if (type != 0x08)
        fail(path, 2,
             std::string("element type ") + types.at(type) +
                 " is not supported (images and labels are unsigned bytes)");
    if (ndims < 1 || ndims > 4)
        fail(path, 3,
             "an IDX file of images or labels has 1 to 4 dimensions, not " + std::to_string(ndims));
    const std::size_t header = 4 + 4 * static_cast<std::size_t>(ndims);
    if (bytes.size() < header)
        fail(path, bytes.size(),
             "the header ends early: " + std::to_string(ndims) + " dimensions need " +
                 std::to_string(header) + " bytes");
    IdxArray a;
    std::uint64_t total = 1;
    for (int i = 0; i < ndims; ++i) {
        const std::size_t o = 4 + 4 * static_cast<std::size_t>(i);
        const std::uint32_t d = (std::uint32_t(bytes[o]) << 24) |
                                (std::uint32_t(bytes[o + 1]) << 16) |
                                (std::uint32_t(bytes[o + 2]) << 8) | std::uint32_t(bytes[o + 3]);
        if (d == 0 || d > (1u << 28))
            fail(path, o, "dimension " + std::to_string(i + 1) + " is " + std::to_string(d));
        a.dims.push_back(d);
        total *= d;
        if (total > (1ull << 34)) fail(path, o, "the dimensions describe more than 16 GiB of data");
    }
    const std::uint64_t have = bytes.size() - header;
    if (have < total)
        fail(path, bytes.size(),
             "truncated: the dimensions need " + std::to_string(total) +
                 " bytes of data, the file has " + std::to_string(have));
    if (have > total)
        fail(path, header + total,
             std::to_string(have - total) + " bytes after the data the dimensions describe");
    a.data.assign(bytes.begin() + static_cast<long>(header), bytes.end());
    return a;
}

IdxFiles findIdxFiles(const std::string& folder) {
    if (!fs::is_directory(folder)) throw DataError(folder + ": not a folder of IDX files");
    auto find = [&](const std::string& stem) {
        for (const char* ext : {"", ".gz"}) {
            const fs::path p = fs::path(folder) / (stem + ext);
            if (fs::exists(p)) return p.string();
        }
        throw DataError(folder + ": no " + stem + " (or " + stem + ".gz) in the folder");
    };
    return {find("train-images-idx3-ubyte"), find("train-labels-idx1-ubyte"),
            find("t10k-images-idx3-ubyte"), find("t10k-labels-idx1-ubyte")};
}

Dataset loadIdxDataset(const IdxFiles& files, const std::string& name,
                       std::vector<std::string> classNames, std::int64_t maxTrainRows) {
    const IdxArray trainX = readIdxFile(files.trainImages), trainY = readIdxFile(files.trainLabels);
    const IdxArray testX = readIdxFile(files.testImages), testY = readIdxFile(files.testLabels);
    auto requireImages = [](const IdxArray& x, const std::string& path) {
        if (x.dims.size() != 3)
            fail(path, 3,
                 "images have 3 dimensions (count, height, width), not " +
                     std::to_string(x.dims.size()));
    };
    auto requireLabels = [](const IdxArray& y, const IdxArray& x, const std::string& path,
                            const std::string& imagesPath) {
        if (y.dims.size() != 1)
            fail(path, 3, "labels have 1 dimension, not " + std::to_string(y.dims.size()));
        if (y.dims[0] != x.dims[0])
            fail(path, 4,
                 std::to_string(y.dims[0]) + " labels for " + std::to_string(x.dims[0]) +
                     " images in " + imagesPath);
    };
    requireImages(trainX, files.trainImages);
    requireImages(testX, files.testImages);
    requireLabels(trainY, trainX, files.trainLabels, files.trainImages);
    requireLabels(testY, testX, files.testLabels, files.testImages);
    if (trainX.dims[1] != testX.dims[1] || trainX.dims[2] != testX.dims[2])
        throw DataError(files.testImages + ": images of " + std::to_string(testX.dims[1]) + "x" +
                        std::to_string(testX.dims[2]) + " pixels, the training images have " +
                        std::to_string(trainX.dims[1]) + "x" + std::to_string(trainX.dims[2]));

    std::int64_t nTrain = trainX.dims[0], nTest = testX.dims[0];
    if (maxTrainRows > 0 && maxTrainRows < nTrain) {
        nTest = std::max<std::int64_t>(1, nTest * maxTrainRows / nTrain);
        nTrain = maxTrainRows;
    }
    const std::int64_t pixels = trainX.dims[1] * trainX.dims[2];
    int maxLabel = 0;
    for (std::int64_t i = 0; i < nTrain; ++i)
        maxLabel = std::max<int>(maxLabel, trainY.data[static_cast<std::size_t>(i)]);
    for (std::int64_t i = 0; i < nTest; ++i)
        maxLabel = std::max<int>(maxLabel, testY.data[static_cast<std::size_t>(i)]);
    if (classNames.empty())
        for (int c = 0; c <= maxLabel; ++c)
            classNames.push_back(std::to_string(c));
    if (maxLabel >= static_cast<int>(classNames.size()))
        throw DataError(files.trainLabels + ": label " + std::to_string(maxLabel) + " but only " +
                        std::to_string(classNames.size()) + " classes are named");

    Dataset d;
    d.name = name;
    d.source = fs::path(files.trainImages).parent_path().string();
    d.task = TaskType::Classification;
    d.rows = nTrain + nTest;
    d.cols = pixels;
    d.imageShape = {1, trainX.dims[1], trainX.dims[2]};
    d.features.resize(static_cast<std::size_t>(d.rows * pixels));
    for (std::int64_t i = 0; i < nTrain * pixels; ++i)
        d.features[static_cast<std::size_t>(i)] = trainX.data[static_cast<std::size_t>(i)] / 255.0f;
    for (std::int64_t i = 0; i < nTest * pixels; ++i)
        d.features[static_cast<std::size_t>(nTrain * pixels + i)] =
            testX.data[static_cast<std::size_t>(i)] / 255.0f;
    d.standardise.assign(static_cast<std::size_t>(pixels), false); // pixels stay in [0, 1]
    for (std::int64_t p = 0; p < pixels; ++p)
        d.featureNames.push_back("px" + std::to_string(p / trainX.dims[2]) + "_" +
                                 std::to_string(p % trainX.dims[2]));
    d.labels.resize(static_cast<std::size_t>(d.rows));
    for (std::int64_t i = 0; i < nTrain; ++i)
        d.labels[static_cast<std::size_t>(i)] = trainY.data[static_cast<std::size_t>(i)];
    for (std::int64_t i = 0; i < nTest; ++i)
        d.labels[static_cast<std::size_t>(nTrain + i)] = testY.data[static_cast<std::size_t>(i)];
    d.classNames = std::move(classNames);
    for (std::int64_t i = 0; i < nTest; ++i)
        d.presetTest.push_back(nTrain + i);
    d.sizeBytes = 0;
    for (const auto& f : {files.trainImages, files.trainLabels, files.testImages, files.testLabels})
        d.sizeBytes += fs::file_size(f);
    d.contentHash =
        fnv1a64Hex(d.features.data(), d.features.size() * sizeof(float),
                   std::stoull(fnv1a64Hex(d.labels.data(), d.labels.size() * sizeof(std::int64_t)),
                               nullptr, 16));
    return d;
}

const char* fashionMnistFolder() {
    return "/usr/share/datasets/fashion-mnist";
}

const std::vector<std::string>& fashionMnistClasses() {
    static const std::vector<std::string> names{"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                                "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                                "Bag",         "Ankle boot"};
    return names;
}

} // namespace mode

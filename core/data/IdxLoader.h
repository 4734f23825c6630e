// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Images in the IDX format (MNIST, Fashion-MNIST), raw or gzip-compressed. Every file is
// checked: magic number, element type, dimensions, and the data length against the dimensions;
// a malformed file is refused with the file, the byte offset and the reason.

#include "data/Dataset.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mode {

struct IdxArray {
    std::vector<std::int64_t> dims;
    std::vector<std::uint8_t> data; // unsigned bytes (type 0x08), row-major
};

// Reads one IDX file of unsigned bytes (raw, or gzip: recognised by its content).
IdxArray readIdxFile(const std::string& path);

struct IdxFiles {
    std::string trainImages, trainLabels, testImages, testLabels;
};
// The usual names in a folder: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
// t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]. Throws DataError naming what is
// missing.
IdxFiles findIdxFiles(const std::string& folder);

// Images scaled to [0, 1] as features (one channel), labels as classes; the t10k files become the
// fixed test split. maxTrainRows > 0 keeps only the first rows of the training files (and the
// same share of the test files), for quick runs.
Dataset loadIdxDataset(const IdxFiles& files, const std::string& name,
                       std::vector<std::string> classNames = {}, std::int64_t maxTrainRows = 0);

// Where Debian's dataset-fashion-mnist package puts Fashion-MNIST, and its class names.
const char* fashionMnistFolder();
const std::vector<std::string>& fashionMnistClasses();

} // namespace mode

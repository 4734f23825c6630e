// SPDX-License-Identifier: GPL-3.0-or-later
// IDX (MNIST-style) files, raw and gzip: header, dimensions, lengths, decompression.
#include "FuzzSupport.h"
#include "data/IdxLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mode;
    fuzz::ScratchFile raw(data, size, ".idx");
    fuzz::refusedCleanly([&] { readIdxFile(raw.path()); });
    fuzz::ScratchFile gz(data, size, ".idx.gz"); // read as a gzip stream
    fuzz::refusedCleanly([&] { readIdxFile(gz.path()); });
    // The input as the images of a dataset whose other three files are the input too: the
    // loader's checks that images and labels agree.
    fuzz::refusedCleanly([&] {
        loadIdxDataset({raw.path(), raw.path(), raw.path(), raw.path()}, "fuzz", {}, 0);
    });
    return 0;
}

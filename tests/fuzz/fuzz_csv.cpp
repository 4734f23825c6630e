// SPDX-License-Identifier: GPL-3.0-or-later
// CSV: parsing, type detection, label encoding, imputation, and the workbench's preview.
#include "FuzzSupport.h"
#include "data/CsvLoader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mode;
    const std::string text(reinterpret_cast<const char*>(data), size);
    fuzz::refusedCleanly([&] { loadCsvText(text, "fuzz.csv"); });
    fuzz::refusedCleanly([&] {
        CsvOptions o;
        o.impute = ImputeKind::Mean;
        o.task = TaskKind::Regression;
        loadCsvText(text, "fuzz.csv", o);
    });
    fuzz::refusedCleanly([&] {
        CsvOptions o;
        o.delimiter = ';';
        o.target = "label";
        o.subtaskColumn = "task";
        loadCsvText(text, "fuzz.csv", o);
    });
    fuzz::ScratchFile file(data, size, ".csv");
    fuzz::refusedCleanly([&] { previewCsvFile(file.path()); });
    return 0;
}

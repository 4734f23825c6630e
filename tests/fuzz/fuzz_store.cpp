// SPDX-License-Identifier: GPL-3.0-or-later
// A run store file from anywhere: opened read-only, every run listed and read in full.
#include "FuzzSupport.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mode;
    fuzz::ScratchFile file(data, size, ".sqlite");
    fuzz::refusedCleanly([&] {
        RunStore store(file.path(), RunStore::Mode::ReadOnly);
        std::vector<std::int64_t> ids;
        for (const auto& r : store.listRuns()) {
            ids.push_back(r.id);
            store.steps(r.id);
            store.epochs(r.id);
            store.checkpoint(r.id);
            fuzz::refusedCleanly([&] { r.config(); });
        }
        store.series(ids, "loss", 100);
        store.series(ids, "val_accuracy");
        store.integrityCheck();
    });
    return 0;
}

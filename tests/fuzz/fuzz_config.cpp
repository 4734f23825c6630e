// SPDX-License-Identifier: GPL-3.0-or-later
// Experiment files: JSON, every field's type and range, then the whole experiment's validity.
#include "FuzzSupport.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace mode;
    const auto j = nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0; // not JSON: fromFile reports the parse error with its place
    fuzz::refusedCleanly([&] {
        const auto c = ExperimentConfig::fromJson(j, "fuzz.json");
        requireValid(c);
        ExperimentConfig::fromJson(c.toJson(), "round trip"); // what is written reads back
    });
    return 0;
}

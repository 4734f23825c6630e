// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The test rows' routing of an epoch (SampleRouting) as one compact blob for the store: small
// integers and 16-bit fixed-point weights, about 13 bytes a row for classification (10,000 test
// images: 130 KB an epoch).

#include "train/TrainingEvents.h"

#include <string>

namespace mode {

std::string encodeSamples(const SampleRouting& samples);
// Throws std::runtime_error for a blob that is not one (damaged, or of another version).
SampleRouting decodeSamples(const std::string& blob);

} // namespace mode

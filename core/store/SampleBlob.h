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
// Throws std::runtime_error naming the first value a run with `experts` experts and `classes`
// classes (0: regression) cannot have produced: an expert or a class out of range (a blob
// damaged where no checksum guards it, or written by something else).
void requireSamplesInRange(const SampleRouting& samples, int experts, std::size_t classes);

} // namespace mode

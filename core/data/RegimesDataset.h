// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The built-in default dataset `regimes`: a synthetic tabular mixture of K sub-tasks. Each
// sub-task owns a region of the input space (a Gaussian blob around its own centre) and its own
// labelling rule (the argmax of a linear map of the offset from the centre), so the right
// division of labour is known and gate routing accuracy is measurable. Seeded, made in memory.

#include "config/ExperimentConfig.h"
#include "data/Dataset.h"

namespace mode {

Dataset makeRegimesDataset(const RegimesOptions& options);

} // namespace mode

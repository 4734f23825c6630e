// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// What sets one group of samples (an expert's share of the test rows) apart from all of them,
// for the routing explorer: for tables, each feature's standardised mean difference; for texts,
// the words most over-represented in the group (log-odds with an informative Dirichlet prior,
// Monroe, Colaresi and Quinn 2008, so that rare words do not dominate); for images, the group's
// mean image. Plain arrays in, no LibTorch.

#include <cstdint>
#include <string>
#include <vector>

namespace mode {

// One feature of a group against all rows.
struct FeatureDifference {
    std::size_t feature = 0;
    double groupMean = 0, allMean = 0, allSd = 0;
    double smd = 0; // (groupMean - allMean) / allSd; 0 where allSd is 0
};

// Rows are `cols` floats each, row-major; `group` holds row indices. Sorted by |smd|, largest
// first (ties: lower feature first). Empty for an empty group.
std::vector<FeatureDifference> standardisedMeanDifferences(const std::vector<float>& rows,
                                                           std::size_t cols,
                                                           const std::vector<std::size_t>& group);

// One word of a group against the other texts.
struct WordScore {
    std::int64_t word = 0;          // token id
    std::int64_t inGroup = 0;       // occurrences in the group's texts
    std::int64_t inOthers = 0;      // occurrences in the other texts
    double logOdds = 0, zScore = 0; // delta and delta / sqrt(variance)
};

// Texts are `length` token ids each (0 pads and is not a word; `ignoreBelow` skips ids under it,
// e.g. 2 to drop the unknown word). The group's word counts y_g against the other texts' y_o,
// with the prior a_w = a0 * (y_g + y_o)_w / n (all texts; a0 = priorStrength), n_g and n_o
// their totals (Monroe, Colaresi and Quinn 2008, eq. 22):
//     delta_w = log((y_gw + a_w) / (n_g + a0 - y_gw - a_w))
//               - log((y_ow + a_w) / (n_o + a0 - y_ow - a_w))
//     var_w = 1 / (y_gw + a_w) + 1 / (y_ow + a_w)
// The `top` words by z-score, largest first. Empty where the group or the others have no words.
std::vector<WordScore> overRepresentedWords(const std::vector<float>& texts, std::size_t length,
                                            const std::vector<std::size_t>& group,
                                            std::size_t top = 20, double priorStrength = 1000,
                                            std::int64_t ignoreBelow = 2);

// The mean of the group's rows (cols floats; empty group: zeros).
std::vector<double> meanOfRows(const std::vector<float>& rows, std::size_t cols,
                               const std::vector<std::size_t>& group);

} // namespace mode

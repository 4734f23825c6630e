// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// The collectives of a Distributed group, for the trainer (LibTorch types).

#include "distributed/Distributed.h"

#include <torch/torch.h>

#include <vector>

namespace mode {

struct Distributed::Impl {
    DistributedOptions options;
    std::string backend;
    // Sums `t` over the ranks, in place. Throws DistributedError (a rank died, timed out).
    void allReduceSum(torch::Tensor& t);
    // Overwrites every rank's tensors with rank 0's (initial parameters).
    void broadcastFromRankZero(std::vector<torch::Tensor>& tensors);

    struct Group;
    std::unique_ptr<Group> group;
    ~Impl();
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// How the ranks of a run agree on each step: the gradients and the step's statistics of every
// rank combined into those of the global minibatch. One process alone has nothing to combine
// (LocalGradientSync); a data-parallel group all-reduces them over c10d (C10dGradientSync).
// Internal to core/train (LibTorch types).

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

namespace mode {

class Distributed;

// The profiler scope of the step's one read from the device (see readBack): a test counts it.
inline constexpr const char* kStepReadBackScope = "mode::step_read_back";

// This rank's statistics of a step, as the trainer hands them over: on the device, float64, the
// means over this rank's rows of the total, task, distillation and balance losses, then the
// count of correct predictions (0 for regression). Zeros for a rank without rows.
inline constexpr std::int64_t kLocalStatistics = 5;

// A step's statistics over the global minibatch, on the host.
struct StepStatistics {
    double total = 0, task = 0, distill = 0, balance = 0; // means over the minibatch's rows
    double correct = 0;                                   // correct predictions (classification)
    bool gradientsFinite = true; // the combined gradients hold no NaN or infinity
    int stopRequests = 0;        // ranks that were asked to stop before this step
};

class GradientSync {
  public:
    virtual ~GradientSync() = default;
    virtual int rank() const = 0;
    virtual int worldSize() const = 0;
    // Whether a stop request may end the run before the step. A rank of a group cannot leave
    // alone (the others would wait for it in the next all-reduce): its request travels with the
    // step's exchange, and all ranks stop together after it.
    virtual bool stopsAlone() const = 0;
    // Makes every rank start from rank 0's parameters and buffers.
    virtual void shareInitialState(std::vector<torch::Tensor> parametersAndBuffers) = 0;
    // After this rank's backward pass on `rows` of the minibatch's `globalRows` rows: leaves
    // every rank's gradients equal to those of the minibatch's mean loss and returns the
    // minibatch's statistics. `local` is laid out as kLocalStatistics says. Reads from the
    // device once (readBack).
    virtual StepStatistics combine(const torch::Tensor& local, std::int64_t rows,
                                   std::int64_t globalRows, bool stopAsked) = 0;
    // Whether `flag` is set on any rank (rank 0 tells the others its evaluation diverged).
    virtual bool anyRank(bool flag) = 0;
};

// One process: the gradients are the minibatch's already.
std::unique_ptr<GradientSync> makeLocalGradientSync(std::vector<torch::Tensor> parameters);
// Data-parallel over `group` (not owned; it must outlive the result).
std::unique_ptr<GradientSync> makeC10dGradientSync(Distributed& group,
                                                   std::vector<torch::Tensor> parameters);

// 1 where every defined gradient among `parameters` is finite, else 0 (a float64 scalar on
// their device; 1 when none is defined). The gradients' sums are checked, stacked into one
// tensor: a NaN or infinity anywhere makes its sum non-finite (so does a sum that overflows).
torch::Tensor gradientsFinite(const std::vector<torch::Tensor>& parameters);

// Copies `t` to the host as float64: the step's one synchronisation with the device, recorded
// under kStepReadBackScope.
std::vector<double> readBack(const torch::Tensor& t);

} // namespace mode

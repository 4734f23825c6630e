// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Trains one MoDE experiment and reports it to observers, step by step and epoch by epoch.
// LibTorch stays inside core/train's sources (the trainer, Evaluator, GradientSync): this header
// exposes plain types only, so the GUI and the command-line tools include it without paying for
// <torch/torch.h>.

#include "config/ExperimentConfig.h"
#include "data/Dataset.h"
#include "train/TrainerControl.h"
#include "train/TrainingEvents.h"

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mode {

class Distributed;

class CheckpointError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

class Trainer {
  public:
    // Loads nothing: the dataset is given (see loadDataset). Throws ConfigError for an invalid
    // experiment and DataError for data the experiment cannot use.
    Trainer(ExperimentConfig config, Dataset data);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    void addObserver(TrainingObserver* observer);
    TrainerControl& control();
    // Obey another TrainerControl (one made before the trainer, e.g. by the GUI); not owned.
    void useControl(TrainerControl* control);

    // Continues a run from one of its checkpoints (written by a trainer of the same experiment
    // and data) instead of starting afresh: model, optimiser, minibatch order and generators are
    // restored, and run() trains the epochs after checkpoint.epoch. On the CPU with a fixed seed
    // the result is the one an uninterrupted run gets. lastEpoch, the metrics of the epoch the
    // checkpoint closed, becomes the result's `final` if nothing is left to train. Throws
    // CheckpointError naming what is wrong with a damaged or foreign checkpoint.
    void resumeFrom(const Checkpoint& checkpoint, std::optional<EpochMetrics> lastEpoch = {});

    // Trains data-parallel in `group` (not owned; none or a world of 1: alone): each rank takes
    // its config.train.batch_size rows of every global minibatch (batch x world rows), the
    // gradients are summed over the ranks each step, rank 0 evaluates. All ranks must run the
    // same experiment on the same data. A rank that dies or stops answering ends the run as
    // failed on the others within the group's timeout.
    void useDistributed(Distributed* group);

    // Whether kept epochs carry each test row's routing (EpochMetrics::samples; default on).
    // Off where nothing would keep it (no store, no explorer): the evaluation skips its work.
    void keepSampleRouting(bool on);

    // Runs to the end, a stop request or a failure, on the calling thread. Never throws for a
    // run that fails: the result says how it ended and why.
    RunResult run();

    const ExperimentConfig& config() const;
    std::string device() const;

  private:
    struct Impl;
    std::unique_ptr<Impl> d_;
};

// "cpu", or "cuda" when this LibTorch was built with CUDA and a GPU is present.
std::vector<std::string> availableDevices();
std::string libtorchVersion();
// Applies the thread policy: OpenBLAS on one thread, LibTorch on `threads` (0: one per core).
void configureThreads(int threads);
// The OpenBLAS kernels in use ("SkylakeX", "Haswell", ...; empty without OpenBLAS). OpenBLAS
// 0.3.21 (Debian 12) takes CPUs it does not know, newer ones and those a virtual machine names
// generically, for old ones and uses its SSE3 kernels ("Prescott"): GEMMs run about 2.8x slower
// here. Where it did so on a CPU with AVX-512 (or AVX2 and FMA), a program that links the engine
// has its kernels for SkylakeX (Haswell) chosen before main, as OPENBLAS_CORETYPE would choose
// them; a user's OPENBLAS_CORETYPE is left as it is.
std::string blasKernels();

} // namespace mode

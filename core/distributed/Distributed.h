// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Data-parallel training across processes and machines on PyTorch's own distributed backend
// (c10d): a TCPStore rendezvous and a ProcessGroupGloo (CPU) or ProcessGroupNCCL (CUDA, where
// this LibTorch has it). The trainer all-reduces the gradients every step through it. Launched
// like any PyTorch job: torchrun's variables RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT
// (and LOCAL_RANK for the GPU), or the equivalent mode-train flags.
//
// This header is plain C++ (no LibTorch); the collectives themselves are in DistributedImpl.h.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace mode {

class DistributedError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

struct DistributedOptions {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0; // the GPU of this process on its machine (NCCL)
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::string backend = "auto";             // auto (nccl with CUDA, else gloo) | gloo | nccl
    std::chrono::milliseconds timeout{30000}; // rendezvous and each collective
};

// The options torchrun's variables give (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
// LOCAL_RANK), or nothing when WORLD_SIZE is unset. Throws DistributedError for values that
// are not numbers or out of range, naming the variable.
std::optional<DistributedOptions> distributedFromEnvironment();
// Throws DistributedError naming what is impossible (rank outside the world, bad port, ...).
void requireValid(const DistributedOptions& o);

// One process's membership of the group: rendezvous in the constructor (throws
// DistributedError when the others do not come within the timeout), left in the destructor.
class Distributed {
  public:
    explicit Distributed(const DistributedOptions& options);
    ~Distributed();
    Distributed(const Distributed&) = delete;
    Distributed& operator=(const Distributed&) = delete;

    int rank() const;
    int worldSize() const;
    std::string backend() const; // "gloo" or "nccl"
    const DistributedOptions& options() const;

    struct Impl;
    Impl& impl() { return *d_; }

  private:
    std::unique_ptr<Impl> d_;
};

} // namespace mode

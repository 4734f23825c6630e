// SPDX-License-Identifier: GPL-3.0-or-later
#include "distributed/DistributedImpl.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <cstdlib>

namespace mode {

namespace {

int envInt(const char* name, int fallback, int low, int high) {
    const char* v = std::getenv(name);
    if (!v || !*v) return fallback;
    char* end = nullptr;
    const long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < low || n > high)
        throw DistributedError(std::string(name) + "='" + v + "' is not a whole number from " +
                               std::to_string(low) + " to " + std::to_string(high));
    return static_cast<int>(n);
}

// The first line of a c10d or gloo message (they append stack traces).
std::string firstLine(const std::exception& e) {
    std::string w = e.what();
    return w.substr(0, w.find('\n'));
}

} // namespace

std::optional<DistributedOptions> distributedFromEnvironment() {
    const char* world = std::getenv("WORLD_SIZE");
    if (!world || !*world) return std::nullopt;
    DistributedOptions o;
    o.worldSize = envInt("WORLD_SIZE", 1, 1, 1 << 20);
    o.rank = envInt("RANK", 0, 0, o.worldSize - 1);
    o.localRank = envInt("LOCAL_RANK", 0, 0, 1 << 16);
    if (const char* a = std::getenv("MASTER_ADDR"); a && *a) o.masterAddr = a;
    o.masterPort = envInt("MASTER_PORT", o.masterPort, 1, 65535);
    return o;
}

void requireValid(const DistributedOptions& o) {
    if (o.worldSize < 1)
        throw DistributedError("the world size must be 1 or more (got " +
                               std::to_string(o.worldSize) + ")");
    if (o.rank < 0 || o.rank >= o.worldSize)
        throw DistributedError("rank " + std::to_string(o.rank) + " is outside a world of " +
                               std::to_string(o.worldSize) + " (ranks are 0 to " +
                               std::to_string(o.worldSize - 1) + ")");
    if (o.masterPort < 1 || o.masterPort > 65535)
        throw DistributedError("the master port must be 1 to 65535");
    if (o.masterAddr.empty()) throw DistributedError("the master address is empty");
    if (o.backend != "auto" && o.backend != "gloo" && o.backend != "nccl")
        throw DistributedError("unknown backend '" + o.backend + "' (auto, gloo, nccl)");
    if (o.timeout.count() <= 0) throw DistributedError("the timeout must be positive");
}

struct Distributed::Impl::Group {
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> pg;
};

Distributed::Impl::~Impl() = default;

void Distributed::Impl::allReduceSum(torch::Tensor& t) {
    try {
        std::vector<torch::Tensor> v{t};
        group->pg->allreduce(v)->wait(options.timeout);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(options.rank) +
                               ": an all-reduce with the other ranks failed (a rank "
                               "died, or did not answer within " +
                               std::to_string(options.timeout.count() / 1000) +
                               " s): " + firstLine(e));
    }
}

void Distributed::Impl::broadcastFromRankZero(std::vector<torch::Tensor>& tensors) {
    try {
        for (auto& t : tensors) {
            std::vector<torch::Tensor> v{t};
            group->pg->broadcast(v)->wait(options.timeout);
        }
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(options.rank) +
                               ": the broadcast of the initial parameters failed: " + firstLine(e));
    }
}

Distributed::Distributed(const DistributedOptions& o) : d_(std::make_unique<Impl>()) {
    requireValid(o);
    d_->options = o;
    d_->group = std::make_unique<Impl::Group>();
    const std::string where = o.masterAddr + ":" + std::to_string(o.masterPort);
    std::string backend = o.backend;
#ifdef USE_C10D_NCCL
    if (backend == "auto") backend = torch::cuda::is_available() ? "nccl" : "gloo";
#else
    if (backend == "auto") backend = "gloo";
    if (backend == "nccl")
        throw DistributedError(
            "the nccl backend needs a LibTorch built with CUDA and NCCL; this one has gloo only");
#endif
    d_->backend = backend;
    try {
        c10d::TCPStoreOptions so;
        so.port = static_cast<std::uint16_t>(o.masterPort);
        so.isServer = o.rank == 0;
        so.numWorkers = o.worldSize;
        so.timeout = o.timeout;
        d_->group->store = c10::make_intrusive<c10d::TCPStore>(o.masterAddr, so);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(o.rank) +
                               ": cannot reach the rendezvous at " + where + ": " + firstLine(e));
    }
    try {
#ifdef USE_C10D_NCCL
        if (backend == "nccl") {
            auto opts = c10d::ProcessGroupNCCL::Options::create();
            opts->timeout = o.timeout;
            d_->group->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(d_->group->store, o.rank,
                                                                        o.worldSize, opts);
            return;
        }
#endif
        auto opts = c10d::ProcessGroupGloo::Options::create(o.timeout);
        // Loopback when the rendezvous is local (one machine); the interface that reaches the
        // master's hostname otherwise.
        const bool local = o.masterAddr == "127.0.0.1" || o.masterAddr == "localhost";
        opts->devices.push_back(local ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                      : c10d::ProcessGroupGloo::createDefaultDevice());
        d_->group->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(d_->group->store, o.rank,
                                                                    o.worldSize, opts);
    } catch (const std::exception& e) {
        throw DistributedError("rank " + std::to_string(o.rank) + ": the " +
                               std::to_string(o.worldSize) + " ranks did not all join at " + where +
                               " within " + std::to_string(o.timeout.count() / 1000) +
                               " s: " + firstLine(e));
    }
}

Distributed::~Distributed() = default;
int Distributed::rank() const {
    return d_->options.rank;
}
int Distributed::worldSize() const {
    return d_->options.worldSize;
}
std::string Distributed::backend() const {
    return d_->backend;
}
const DistributedOptions& Distributed::options() const {
    return d_->options;
}

} // namespace mode

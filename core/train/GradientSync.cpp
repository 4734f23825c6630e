// SPDX-License-Identifier: GPL-3.0-or-later
#include "train/GradientSync.h"

#include "distributed/DistributedImpl.h"

#include <ATen/record_function.h>

#include <utility>

namespace mode {

torch::Tensor gradientsFinite(const std::vector<torch::Tensor>& parameters) {
    std::vector<torch::Tensor> sums;
    for (const auto& p : parameters)
        if (p.grad().defined()) sums.push_back(p.grad().sum());
    const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
    if (sums.empty()) return torch::ones({}, f64.device(parameters.front().device()));
    return torch::isfinite(torch::stack(sums)).all().to(torch::kFloat64);
}

std::vector<double> readBack(const torch::Tensor& t) {
    RECORD_USER_SCOPE(kStepReadBackScope);
    const auto host = t.to(torch::kCPU, torch::kFloat64).contiguous();
    return {host.data_ptr<double>(), host.data_ptr<double>() + host.numel()};
}

namespace {

class LocalGradientSync final : public GradientSync {
  public:
    explicit LocalGradientSync(std::vector<torch::Tensor> parameters)
        : parameters_(std::move(parameters)) {}
    int rank() const override { return 0; }
    int worldSize() const override { return 1; }
    bool stopsAlone() const override { return true; }
    void shareInitialState(std::vector<torch::Tensor>) override {}

    StepStatistics combine(const torch::Tensor& local, std::int64_t, std::int64_t,
                           bool stopAsked) override {
        const auto values =
            readBack(torch::cat({local, gradientsFinite(parameters_).reshape({1})}));
        StepStatistics s;
        s.total = values[0];
        s.task = values[1];
        s.distill = values[2];
        s.balance = values[3];
        s.correct = values[4];
        s.gradientsFinite = values[5] != 0;
        s.stopRequests = stopAsked ? 1 : 0;
        return s;
    }

    bool anyRank(bool flag) override { return flag; }

  private:
    std::vector<torch::Tensor> parameters_;
};

// What DistributedDataParallel does, in one all-reduce per step: each rank's gradients,
// weighted by its share of the global minibatch, and its statistics go into one flat buffer
// (as DDP's buckets), which is summed over the ranks. Afterwards every rank holds the gradient
// of the global minibatch's mean loss. The statistics travel in the parameters' precision
// (float32): the logged losses are rounded to it.
class C10dGradientSync final : public GradientSync {
  public:
    C10dGradientSync(Distributed& group, std::vector<torch::Tensor> parameters)
        : group_(group), parameters_(std::move(parameters)) {}
    int rank() const override { return group_.rank(); }
    int worldSize() const override { return group_.worldSize(); }
    bool stopsAlone() const override { return false; }

    void shareInitialState(std::vector<torch::Tensor> parametersAndBuffers) override {
        torch::NoGradGuard noGrad;
        group_.impl().broadcastFromRankZero(parametersAndBuffers);
    }

    StepStatistics combine(const torch::Tensor& local, std::int64_t rows, std::int64_t globalRows,
                           bool stopAsked) override {
        auto buffer = pack(local, rows, globalRows, stopAsked);
        group_.impl().allReduceSum(buffer);
        std::int64_t at = 0;
        for (auto& p : parameters_) {
            auto summed = buffer.narrow(0, at, p.numel()).view_as(p);
            if (p.grad().defined())
                p.mutable_grad().copy_(summed);
            else
                p.mutable_grad() = summed.clone();
            at += p.numel();
        }
        // Summed: the four loss sums, the correct count and the stop requests.
        auto sums = buffer.narrow(0, at, kLocalStatistics + 1);
        const auto values = readBack(
            torch::cat({sums, gradientsFinite(parameters_).to(sums.dtype()).reshape({1})}));
        const auto n = static_cast<double>(globalRows);
        StepStatistics s;
        s.total = values[0] / n;
        s.task = values[1] / n;
        s.distill = values[2] / n;
        s.balance = values[3] / n;
        s.correct = values[4];
        s.stopRequests = static_cast<int>(values[5]);
        s.gradientsFinite = values[6] != 0;
        return s;
    }

    bool anyRank(bool flag) override {
        auto count = torch::tensor({flag ? 1.0 : 0.0});
        group_.impl().allReduceSum(count);
        return count.item<double>() > 0;
    }

  private:
    // This rank's gradients times its share of the minibatch, then its statistics: the losses
    // times its rows (sums), the correct count, and 1 if it was asked to stop.
    torch::Tensor pack(const torch::Tensor& local, std::int64_t rows, std::int64_t globalRows,
                       bool stopAsked) const {
        const auto n = static_cast<double>(rows);
        const double weight = n / static_cast<double>(globalRows);
        std::vector<torch::Tensor> parts;
        for (const auto& p : parameters_)
            parts.push_back(p.grad().defined() ? (p.grad() * weight).flatten()
                                               : torch::zeros({p.numel()}, p.options()));
        auto stop = torch::full({1}, stopAsked ? 1.0 : 0.0, local.options());
        auto statistics = torch::cat({local.narrow(0, 0, 4) * n, local.narrow(0, 4, 1), stop});
        parts.push_back(statistics.to(parameters_.front().options()));
        return torch::cat(parts);
    }

    Distributed& group_;
    std::vector<torch::Tensor> parameters_;
};

} // namespace

std::unique_ptr<GradientSync> makeLocalGradientSync(std::vector<torch::Tensor> parameters) {
    return std::make_unique<LocalGradientSync>(std::move(parameters));
}

std::unique_ptr<GradientSync> makeC10dGradientSync(Distributed& group,
                                                   std::vector<torch::Tensor> parameters) {
    return std::make_unique<C10dGradientSync>(group, std::move(parameters));
}

} // namespace mode

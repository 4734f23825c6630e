// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A growing series held in bounded memory: past `maxPoints`, neighbouring points are merged
// into their mean (halving the series) and later points are averaged in groups of the same
// width, so a run of any length keeps at most maxPoints points and its shape.

#include <cstddef>
#include <vector>

namespace mode {

class BoundedSeries {
  public:
    explicit BoundedSeries(std::size_t maxPoints = 20000) : max_(maxPoints < 2 ? 2 : maxPoints) {}

    void add(double key, double value) {
        accKey_ += key;
        accValue_ += value;
        if (++accCount_ < stride_) return;
        keys_.push_back(accKey_ / accCount_);
        values_.push_back(accValue_ / accCount_);
        accKey_ = accValue_ = 0;
        accCount_ = 0;
        if (keys_.size() > max_) halve();
    }
    void clear() {
        keys_.clear();
        values_.clear();
        stride_ = 1;
        accKey_ = accValue_ = 0;
        accCount_ = 0;
    }
    const std::vector<double>& keys() const { return keys_; }
    const std::vector<double>& values() const { return values_; }
    std::size_t size() const { return keys_.size(); }
    std::size_t stride() const { return stride_; } // raw points per kept point

  private:
    void halve() {
        std::size_t n = keys_.size() / 2;
        for (std::size_t i = 0; i < n; ++i) {
            keys_[i] = (keys_[2 * i] + keys_[2 * i + 1]) / 2;
            values_[i] = (values_[2 * i] + values_[2 * i + 1]) / 2;
        }
        if (keys_.size() % 2) { // an odd last point stays as it is
            keys_[n] = keys_.back();
            values_[n] = values_.back();
            ++n;
        }
        keys_.resize(n);
        values_.resize(n);
        stride_ *= 2;
    }

    std::size_t max_;
    std::size_t stride_ = 1;
    std::vector<double> keys_, values_;
    double accKey_ = 0, accValue_ = 0;
    std::size_t accCount_ = 0;
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// A small seeded generator with portable output (std::normal_distribution differs between
// standard libraries; this does not), for data generation and splits.

#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace mode {

class Rng {
  public:
    explicit Rng(std::uint64_t seed) : s_(seed ^ 0x9E3779B97F4A7C15ULL) { next(); }

    // splitmix64
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; } // [0, 1)
    std::uint64_t below(std::uint64_t n) { return n ? next() % n : 0; }
    double normal() { // Box-Muller
        double u1 = uniform(), u2 = uniform();
        if (u1 < 1e-300) u1 = 1e-300;
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    }
    template <typename T> void shuffle(std::vector<T>& v) {
        for (std::size_t i = v.size(); i > 1; --i)
            std::swap(v[i - 1], v[below(i)]);
    }

    // The whole state, for checkpoints.
    std::uint64_t state() const { return s_; }
    void setState(std::uint64_t s) { s_ = s; }

  private:
    std::uint64_t s_;
};

} // namespace mode

// SPDX-License-Identifier: GPL-3.0-or-later
// bench-csv-load: loads a CSV file as mode-train does (parse, types, one-hot, checks) and prints
// the time and the peak resident memory; experiments/bench/csv-vs-pandas compares it with
// pandas.read_csv on the same file.

#include "data/CsvLoader.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace {
long statusKiB(const char* key) {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind(key, 0) == 0) return std::stol(line.substr(std::string(key).size()));
    return 0;
}
} // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench-csv-load FILE.csv\n");
        return 2;
    }
    const long beforeKiB = statusKiB("VmRSS:"); // the program and its libraries
    const auto start = std::chrono::steady_clock::now();
    const auto d = mode::loadCsvFile(argv[1]);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const long peakKiB = statusKiB("VmHWM:");
    // What training keeps: the feature matrix and one label or value per row.
    const double finalMiB = (static_cast<double>(d.features.size()) * sizeof(float) +
                             static_cast<double>(d.labels.size()) * sizeof(std::int64_t) +
                             static_cast<double>(d.values.size()) * sizeof(float)) /
                            (1024.0 * 1024.0);
    const double loadMiB = static_cast<double>(peakKiB - beforeKiB) / 1024.0;
    std::printf("%lld rows x %lld features in %.3f s, peak %ld MiB; loading took %.0f MiB over "
                "the %ld MiB before it, %.2f times the final data (%.0f MiB)\n",
                static_cast<long long>(d.rows), static_cast<long long>(d.cols), seconds,
                peakKiB / 1024, loadMiB, beforeKiB / 1024, loadMiB / finalMiB, finalMiB);
    return 0;
}

// SPDX-License-Identifier: GPL-3.0-or-later
// bench-csv-load: loads a CSV file as mode-train does (parse, types, one-hot, checks) and prints
// the time and the peak resident memory; experiments/bench/csv-vs-pandas compares it with
// pandas.read_csv on the same file.

#include "data/CsvLoader.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: bench-csv-load FILE.csv\n");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    const auto d = mode::loadCsvFile(argv[1]);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::ifstream status("/proc/self/status");
    std::string line;
    long peakKiB = 0;
    while (std::getline(status, line))
        if (line.rfind("VmHWM:", 0) == 0) peakKiB = std::stol(line.substr(6));
    std::printf("%lld rows x %lld features in %.3f s, peak %ld MiB\n",
                static_cast<long long>(d.rows), static_cast<long long>(d.cols), seconds,
                peakKiB / 1024);
    return 0;
}

// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Small things every command-line tool shares: exit codes, terminal detection, file output.

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

namespace mode {

constexpr int kExitRunFailed = 1; // the run failed or diverged
constexpr int kExitBadInput = 2;  // bad flags, experiment, data or store

inline bool isTerminal(std::FILE* f) {
    return ::isatty(::fileno(f)) == 1;
}

// The process's peak resident memory so far, in MiB (Linux reports ru_maxrss in KiB).
inline double peakResidentMiB() {
    rusage u{};
    ::getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

inline bool writeTextFile(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    return static_cast<bool>(out.flush());
}

} // namespace mode

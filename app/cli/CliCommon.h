// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Small things every command-line tool shares: exit codes, terminal detection, file output.

#include "util/SafeOutput.h"

#include <cstdio>
#include <iostream>
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

// `write(stream)` into the file `path`, whole or not at all (util/SafeOutput.h), or to standard
// output where `path` is empty, checked: OutputError where it could not be written.
template <class Write> void writeOutput(const std::string& path, Write&& write) {
    if (path.empty()) {
        write(std::cout);
        flushStandardOutput();
        return;
    }
    SafeOutputFile file(path);
    write(file.stream());
    file.commit();
}

// A program's exit code once its standard output is flushed: where a write to it failed (a full
// disk, /dev/full), a message and exit 1, whatever the command returned.
inline int exitAfterFlushingStdout(const char* program, int code) {
    if (code != 0) return code; // the command said what failed
    try {
        flushStandardOutput();
    } catch (const OutputError& e) {
        std::cerr << program << ": " << e.what() << "\n";
        return kExitRunFailed;
    }
    return code;
}

} // namespace mode

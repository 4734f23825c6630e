// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once
// Shared by the fuzz targets. A target feeds its input to a parser; the parser may refuse it
// with the project's documented errors (DataError, ConfigError, RunStoreError, all naming what
// and where). Anything else escapes on purpose: an uncaught exception, a crash,
// a sanitizer report or a hang is a finding.

#include "config/ExperimentConfig.h"
#include "data/Dataset.h"
#include "store/RunStore.h"

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

namespace mode::fuzz {

template <typename F> void refusedCleanly(F&& parse) {
    try {
        parse();
    } catch (const DataError&) {
    } catch (const ConfigError&) {
    } catch (const RunStoreError&) {
    }
}

// A scratch file holding the input, for parsers that read files; removed when it goes.
class ScratchFile {
  public:
    ScratchFile(const std::uint8_t* data, std::size_t size, const char* suffix)
        : path_("/tmp/mode-fuzz-" + std::to_string(::getpid()) + suffix) {
        std::ofstream(path_, std::ios::binary | std::ios::trunc)
            .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    ~ScratchFile() {
        std::remove(path_.c_str());
        std::remove((path_ + "-wal").c_str());
        std::remove((path_ + "-shm").c_str());
    }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

} // namespace mode::fuzz
